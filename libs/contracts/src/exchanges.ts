/**
 * Exchange ids used everywhere: NATS subjects, ClickHouse rows, the API and the dashboard.
 * A venue's spot and derivatives markets get separate ids when their symbols collide
 * (Binance "BTCUSDT" is both a spot pair and a USDT-M perpetual). Symbols are the exchange's own.
 *
 * Simulated feeds have ids of their own (`sim-...`) so that nobody can take them for a market.
 */
export type ExchangeProtocol = 'binance-spot' | 'binance-usdm' | 'bybit-spot' | 'bybit-linear' | 'okx';

export interface ExchangeInfo {
  readonly id: string;
  readonly protocol: ExchangeProtocol;
  readonly label: string;
  readonly simulated: boolean;
}

const REAL: readonly ExchangeInfo[] = [
  { id: 'binance', protocol: 'binance-spot', label: 'Binance spot', simulated: false },
  { id: 'binance-futures', protocol: 'binance-usdm', label: 'Binance USDT-M futures', simulated: false },
  { id: 'bybit', protocol: 'bybit-spot', label: 'Bybit spot', simulated: false },
  { id: 'bybit-linear', protocol: 'bybit-linear', label: 'Bybit USDT perpetuals (linear)', simulated: false },
  { id: 'okx', protocol: 'okx', label: 'OKX (SPOT and SWAP instruments)', simulated: false },
];

export const EXCHANGES: readonly ExchangeInfo[] = [
  ...REAL,
  ...REAL.map((e) => ({
    id: `sim-${e.id}`,
    protocol: e.protocol,
    label: `SIMULATED market (${e.label} protocol)`,
    simulated: true,
  })),
];

const BY_ID = new Map(EXCHANGES.map((e) => [e.id, e]));

export function exchangeInfo(id: string): ExchangeInfo | undefined {
  return BY_ID.get(id);
}

/** The exchange's info, or an error naming the known ids. */
export function requireExchange(id: string): ExchangeInfo {
  const e = BY_ID.get(id);
  if (!e) throw new Error(`unknown exchange "${id}": expected one of ${EXCHANGES.map((x) => x.id).join(', ')}`);
  return e;
}
