import type { SimHandle } from './core/simulator.types.js';
import { startBinanceFuturesSim, startBinanceSpotSim, type BinanceSimOptions } from './protocols/binance.js';
import { startBybitSim, type BybitCategory, type BybitSimOptions } from './protocols/bybit.js';
import { startOkxSim, type OkxSimOptions } from './protocols/okx.js';

/** Protocol names accepted by startSimulator and the CLI (`binance-futures` = `binance-usdm`). */
export const SIM_PROTOCOLS = [
  'binance-spot',
  'binance-usdm',
  'binance-futures',
  'bybit',
  'bybit-spot',
  'bybit-linear',
  'okx',
] as const;
export type SimProtocol = (typeof SIM_PROTOCOLS)[number];

export type AnySimOptions = BinanceSimOptions & BybitSimOptions & OkxSimOptions;

/** Default ports of the CLI, one per protocol so that several simulators can run side by side. */
export const DEFAULT_PORTS: Record<SimProtocol, number> = {
  'binance-spot': 9101,
  'binance-usdm': 9102,
  'binance-futures': 9102,
  bybit: 9103,
  'bybit-spot': 9103,
  'bybit-linear': 9103,
  okx: 9104,
};

export function isSimProtocol(name: string): name is SimProtocol {
  return (SIM_PROTOCOLS as readonly string[]).includes(name);
}

/** Starts the simulator of `protocol`. */
export function startSimulator(protocol: SimProtocol, options: AnySimOptions = {}): Promise<SimHandle> {
  switch (protocol) {
    case 'binance-spot':
      return startBinanceSpotSim(options);
    case 'binance-usdm':
    case 'binance-futures':
      return startBinanceFuturesSim(options);
    case 'bybit':
      return startBybitSim(options);
    case 'bybit-spot':
    case 'bybit-linear': {
      const category: BybitCategory = protocol === 'bybit-spot' ? 'spot' : 'linear';
      return startBybitSim({
        ...options,
        categories: options.categories ?? [category],
      });
    }
    case 'okx':
      return startOkxSim(options);
  }
}
