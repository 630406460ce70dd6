import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type SnapshotError, type SnapshotRequest, type SymbolSnapshot, snapshotPattern } from '@orderflow/contracts';
import { AGGREGATOR_RUNTIME } from './aggregator.tokens.js';
import type { AggregatorRuntime } from './aggregator.runtime.js';

/**
 * Answers a gateway's snapshot request for a symbol this shard owns, over the Nest NATS transport
 * on `orderflow.agg.<shard>.snapshot` (see libs/contracts live.ts). The pattern depends on the
 * shard index, so it is attached by bindSnapshotPattern() before the app is created.
 */
@Controller()
export class SnapshotController {
  constructor(@Inject(AGGREGATOR_RUNTIME) private readonly runtime: AggregatorRuntime) {}

  snapshot(@Payload() req: SnapshotRequest): SymbolSnapshot | SnapshotError {
    const reply = this.runtime.snapshot(req);
    // a reply larger than the server's max_payload would never arrive: say so instead
    const bytes = Buffer.byteLength(JSON.stringify(reply));
    const max = this.runtime.nc?.info?.max_payload ?? 1_048_576;
    if (bytes > max - 4096)
      return {
        error: 'too-large',
        message: `the snapshot of ${req.exchange} ${req.symbol} is ${bytes} bytes, over the NATS max_payload ${max}: ask for fewer timeframes`,
      };
    return reply;
  }
}

let bound: number | null = null;

/** Attaches @MessagePattern(snapshotPattern(shard)) to SnapshotController.snapshot (once per process). */
export function bindSnapshotPattern(shard: number): void {
  if (bound !== null) {
    if (bound !== shard) throw new Error(`the snapshot handler is already bound to shard ${bound}`);
    return;
  }
  const d = Object.getOwnPropertyDescriptor(SnapshotController.prototype, 'snapshot')!;
  MessagePattern(snapshotPattern(shard))(SnapshotController.prototype, 'snapshot', d);
  bound = shard;
}
