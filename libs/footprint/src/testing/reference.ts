/**
 * An independent, deliberately naive reference for tests: bigint arithmetic, no caches, no
 * roll-ups, rounding written from its definition. The engine must agree with it to the last unit.
 * (Lives under src/testing so that specs share it; not exported from the package index.)
 */
export interface RefTrade {
  price: number;
  quantity: number;
  side: 'buy' | 'sell';
  timeUs: number;
}

export interface RefLevel {
  price: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
}

export interface RefCandle {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  maxDelta: number;
  minDelta: number;
  levels: RefLevel[];
}

/** Round price/step to an integer, ties to even, then times step: by definition on bigints. */
export function refGroup(price: number, step: number, mode: 'nearest' | 'down'): number {
  const p = BigInt(price);
  const s = BigInt(step);
  const floor = p / s; // p >= 0
  if (mode === 'down') return Number(floor * s);
  const rem2 = 2n * (p - floor * s);
  let q = floor;
  if (rem2 > s) q = floor + 1n;
  else if (rem2 === s) q = floor % 2n === 0n ? floor : floor + 1n;
  return Number(q * s);
}

export function refCandles(trades: RefTrade[], tfMs: number, step: number, mode: 'nearest' | 'down'): RefCandle[] {
  const byBucket = new Map<number, RefTrade[]>();
  for (const t of trades) {
    const ms = BigInt(t.timeUs) / 1000n;
    const bucket = Number((ms / BigInt(tfMs)) * BigInt(tfMs));
    if (!byBucket.has(bucket)) byBucket.set(bucket, []);
    byBucket.get(bucket)!.push(t);
  }
  const out: RefCandle[] = [];
  for (const bucket of [...byBucket.keys()].sort((a, b) => a - b)) {
    const ts = byBucket.get(bucket)!;
    const levels = new Map<number, { b: bigint; s: bigint; bt: number; st: number }>();
    let buy = 0n;
    let sell = 0n;
    let maxD: bigint | null = null;
    let minD: bigint | null = null;
    for (const t of ts) {
      const g = refGroup(t.price, step, mode);
      const l = levels.get(g) ?? { b: 0n, s: 0n, bt: 0, st: 0 };
      if (t.side === 'buy') {
        l.b += BigInt(t.quantity);
        l.bt += 1;
        buy += BigInt(t.quantity);
      } else {
        l.s += BigInt(t.quantity);
        l.st += 1;
        sell += BigInt(t.quantity);
      }
      levels.set(g, l);
      const d = buy - sell;
      if (maxD === null || d > maxD) maxD = d;
      if (minD === null || d < minD) minD = d;
    }
    out.push({
      openTime: bucket,
      open: ts[0]!.price,
      high: Math.max(...ts.map((t) => t.price)),
      low: Math.min(...ts.map((t) => t.price)),
      close: ts[ts.length - 1]!.price,
      buyVolume: Number(buy),
      sellVolume: Number(sell),
      buyTrades: ts.filter((t) => t.side === 'buy').length,
      sellTrades: ts.filter((t) => t.side === 'sell').length,
      maxDelta: Number(maxD),
      minDelta: Number(minD),
      levels: [...levels.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([price, l]) => ({
          price,
          buyVolume: Number(l.b),
          sellVolume: Number(l.s),
          buyTrades: l.bt,
          sellTrades: l.st,
        })),
    });
  }
  return out;
}
