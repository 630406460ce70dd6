import type { CandleSummary } from '@orderflow/contracts';
import type { FootprintCandle } from '@orderflow/footprint';

/** A candle's summary as the aggregator publishes it (for tests that play the aggregator). */
export function summaryOf(c: FootprintCandle): CandleSummary {
  const { levels: _levels, ...rest } = c.toData();
  return rest;
}
