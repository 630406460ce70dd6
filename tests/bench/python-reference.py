#!/usr/bin/env python3
"""The "straightforward Python" reference row of docs/benchmarks.md.

Raw Binance aggTrade JSON frames into footprints the plain way: json.loads per frame, Decimal for
price and quantity, dicts for candles and price levels. The frames are those of the raw-JSON bench
(libs/normalizers/bench/binance-json.bench.ts), written to a file by it:

    npm run bench-python-reference -w tests      # both steps, the frames in $TMPDIR or /tmp
    # or step by step:
    BENCH_WRITE_FRAMES=/tmp/frames.jsonl npm run bench -w @orderflow/normalizers
    python3 tests/bench/python-reference.py /tmp/frames.jsonl

It does what that bench's engine does: every timeframe (1m ... 1d) kept, prices grouped to 10
ticks of 0.01 (the nearest multiple, ties to the even one), per level the aggressor's buy and sell
volume and trade counts. Binance's `m` = true means the buyer was the maker, so the aggressor was
the seller. As the engine does, only 1m candles are updated per trade; the larger timeframes are
the closed minutes added up. One warm-up run, then BENCH_RUNS measured runs (default 5): prints
their median and every run in trades/s (reading the file is not timed, as the JS bench does not
time making its frames), then the totals of the last run per timeframe in the format the JS bench
prints with BENCH_WRITE_FRAMES, so that `diff` can compare them.

Standard library only; run on demand, never from `npm test`.
"""
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

TICK = Decimal("0.01")
STEP = Decimal("0.00001")
GROUPING_TICKS = 10
LEVEL = TICK * GROUPING_TICKS
TIMEFRAMES = [("1m", 60_000), ("5m", 300_000), ("15m", 900_000), ("30m", 1_800_000),
              ("1h", 3_600_000), ("4h", 14_400_000), ("1d", 86_400_000)]


def new_level():
    # buy volume, sell volume, buy trades, sell trades
    return [Decimal(0), Decimal(0), 0, 0]


def aggregate(frames):
    """Footprints of every timeframe: {timeframe: {candle start ms: {level price: [buy, sell, buys, sells]}}}."""
    out = {name: defaultdict(lambda: defaultdict(new_level)) for name, _ in TIMEFRAMES}
    minutes = out["1m"]
    higher = TIMEFRAMES[1:]
    open_minute = None
    for frame in frames:
        trade = json.loads(frame)["data"]
        price = Decimal(trade["p"])
        quantity = Decimal(trade["q"])
        minute = trade["T"] // 60_000 * 60_000
        if minute != open_minute:
            if open_minute is not None:
                roll_up(out, higher, open_minute, minutes[open_minute])
            open_minute = minute
        level = (price / LEVEL).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * LEVEL
        cell = minutes[minute][level]
        if trade["m"]:  # the buyer was the maker: a seller hit the bid
            cell[1] += quantity
            cell[3] += 1
        else:
            cell[0] += quantity
            cell[2] += 1
    if open_minute is not None:
        roll_up(out, higher, open_minute, minutes[open_minute])
    return out


def roll_up(out, higher, minute, cells):
    """Adds a closed minute's cells to the candle of every larger timeframe it belongs to."""
    for name, ms in higher:
        candle = out[name][minute - minute % ms]
        for level, (buy, sell, buys, sells) in cells.items():
            c = candle[level]
            c[0] += buy
            c[1] += sell
            c[2] += buys
            c[3] += sells


def totals(out):
    lines = []
    for name, _ in TIMEFRAMES:
        candles = out[name]
        cells = [(level, c) for levels in candles.values() for level, c in levels.items()]
        buy = sum((c[0] for _, c in cells), Decimal(0))
        sell = sum((c[1] for _, c in cells), Decimal(0))
        notional = sum((level * (c[0] + c[1]) for level, c in cells), Decimal(0))
        lines.append(
            f"{name} candles {len(candles)} cells {len(cells)} buy {buy.quantize(STEP)} sell {sell.quantize(STEP)} "
            f"buy_trades {sum(c[2] for _, c in cells)} sell_trades {sum(c[3] for _, c in cells)} "
            f"level_notional {notional.quantize(TICK * STEP)}"
        )
    return lines


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python3 tests/bench/python-reference.py FRAMES.jsonl  (write them with BENCH_WRITE_FRAMES, see the header)")
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    with open(sys.argv[1], encoding="utf-8") as f:
        frames = f.read().splitlines()
    print(f"straightforward Python (json.loads + Decimal + dict) -> footprints: {len(frames):,} frames, "
          f"{len(TIMEFRAMES)} timeframes, {GROUPING_TICKS}-tick grouping, Python {sys.version.split()[0]}")
    aggregate(frames)  # warm-up, not counted, as in the JS benches
    rates = []
    out = None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = aggregate(frames)
        rates.append(len(frames) / (time.perf_counter() - t0))
    rates.sort()
    print(f"  median of {runs} {statistics.median(rates) / 1e6:.3f} M trades/s, best {rates[-1] / 1e6:.3f} "
          f"(runs: {' '.join(f'{r / 1e6:.3f}' for r in rates)})")
    print("totals of the last run:")
    for line in totals(out):
        print(line)


if __name__ == "__main__":
    main()
