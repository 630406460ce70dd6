-- Schema v2 (docs/design/clickhouse-storage.md §9): raw trades with their delivery order, candles
-- with notional (for VWAP), collector gaps and which buckets they leave incomplete, and the analyst
-- view `candles` with trades, notional, vwap and complete.
--
-- Re-runnable: a statement after a `-- @if <SELECT>` line runs only when that query returns a
-- non-zero value (see migrations.ts), so a run that died midway is completed by the next one.
-- 18.16 has no ADD COLUMN IF NOT EXISTS; and the two tables that change are rebuilt instead of
-- altered anyway (trades needs a new engine version column, candles_1m a backfilled notional):
-- the old table is renamed to *_v1, the new one created, the rows copied over, *_v1 dropped.
-- Stop the writers while it runs (an insert in between would land in *_v1 or fail).

-- 1. Raw trades: + ingest_seq; the first ingest of a trade id wins on merge (the engine keeps the
--    highest first_ingest = bitNot(ingest_seq), i.e. the lowest ingest_seq); the hour of the
--    exchange time is in the sorting key so that time ranges read only their hours.
-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'trades') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'trades' AND name = 'ingest_seq') = 0
RENAME TABLE {db}.trades TO {db}.trades_v1;

CREATE TABLE IF NOT EXISTS {db}.trades
(
    exchange         String,
    symbol           String,
    trade_id         String,
    price            Int64,
    quantity         UInt64,
    side             Enum8('b' = 1, 's' = 2),
    exchange_time_us UInt64,
    receive_time_ms  UInt64,
    ingest_seq       UInt64,
    first_ingest     UInt64 MATERIALIZED bitNot(ingest_seq)
)
ENGINE = ReplacingMergeTree(first_ingest)
PARTITION BY toYYYYMM(toDateTime(intDiv(exchange_time_us, 1000000), 'UTC'))
ORDER BY (exchange, symbol, intDiv(exchange_time_us, 3600000000), trade_id);

-- v1 rows get ingest_seq 0 (before anything the aggregator writes), one row per trade id.
-- @if SELECT count() = 1 FROM system.tables WHERE database = '{db}' AND name = 'trades_v1'
INSERT INTO {db}.trades (exchange, symbol, trade_id, price, quantity, side, exchange_time_us, receive_time_ms, ingest_seq)
SELECT exchange, symbol, trade_id, t.1, t.2, t.3, t.4, t.5, 0
FROM
(
    SELECT exchange, symbol, trade_id, max(tuple(price, quantity, side, exchange_time_us, receive_time_ms)) AS t
    FROM {db}.trades_v1
    GROUP BY exchange, symbol, trade_id
);

DROP TABLE IF EXISTS {db}.trades_v1;

-- 2. Collector gaps (GapEvent), the latest event of a gap wins: version = detected_at_ms * 4 +
--    status, so of two events in the same millisecond the terminal one wins (unfilled over filled).
--    from_time_us / to_time_us = 0: unknown.
CREATE TABLE IF NOT EXISTS {db}.gaps
(
    exchange       String,
    symbol         String,
    from_id        String,
    to_id          String,
    missing        UInt64,
    from_time_us   UInt64,
    to_time_us     UInt64,
    status         Enum8('detected' = 1, 'filled' = 2, 'unfilled' = 3),
    detected_at_ms UInt64,
    reason         String,
    version        UInt64 MATERIALIZED detected_at_ms * 4 + toUInt8(status)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (exchange, symbol, from_id, to_id);

-- The minutes a gap's time range [from_time_us, to_time_us] touches, one row each (written by
-- FootprintStore.insertGaps with every event that has both times; capped, see the design doc).
-- 18.16 joins only on equality, so "bucket overlaps a gap" becomes "bucket holds a gap minute".
CREATE TABLE IF NOT EXISTS {db}.gap_minutes
(
    exchange String,
    symbol   String,
    minute   DateTime('UTC'),
    from_id  String,
    to_id    String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (exchange, symbol, minute, from_id, to_id);

-- The latest state of every gap.
CREATE VIEW IF NOT EXISTS {db}.gap_status AS
SELECT exchange, symbol, from_id, to_id,
       g.1 AS missing, g.2 AS from_time_us, g.3 AS to_time_us, g.4 AS status, g.5 AS detected_at_ms, g.6 AS reason
FROM
(
    SELECT exchange, symbol, from_id, to_id,
           argMax(tuple(missing, from_time_us, to_time_us, status, detected_at_ms, reason), version) AS g
    FROM {db}.gaps
    GROUP BY exchange, symbol, from_id, to_id
);

-- Minutes touched by a gap whose latest status is 'unfilled'.
CREATE VIEW IF NOT EXISTS {db}.incomplete_minutes AS
SELECT DISTINCT exchange, symbol, minute
FROM {db}.gap_minutes
WHERE (exchange, symbol, from_id, to_id) IN
(
    SELECT exchange, symbol, from_id, to_id
    FROM {db}.gaps
    GROUP BY exchange, symbol, from_id, to_id
    HAVING argMax(status, version) = 'unfilled'
);

-- 3. Candles: candles_1m + notional (sum of price * quantity units over the minute's trades), and
--    new 5m..1d rollups whose per-minute tuples carry it. The old candle view, MVs and rollups go
--    first (only while candles_1m is still the v1 table: a re-run never drops the new ones).

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_5m_mv;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_15m_mv;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_30m_mv;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_1h_mv;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_4h_mv;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_1d_mv;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_5m;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_15m;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_30m;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_1h;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_4h;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
DROP TABLE IF EXISTS {db}.candles_1d;

-- @if SELECT (SELECT count() FROM system.tables WHERE database = '{db}' AND name = 'candles_1m') = 1 AND (SELECT count() FROM system.columns WHERE database = '{db}' AND table = 'candles_1m' AND name = 'notional') = 0
RENAME TABLE {db}.candles_1m TO {db}.candles_1m_v1;

CREATE TABLE IF NOT EXISTS {db}.candles_1m
(
    exchange      String,
    symbol        String,
    minute        DateTime('UTC'),
    open          Int64,
    high          Int64,
    low           Int64,
    close         Int64,
    buy_volume    UInt64,
    sell_volume   UInt64,
    buy_trades    UInt32,
    sell_trades   UInt32,
    max_delta     Int64,
    min_delta     Int64,
    first_time_us UInt64,
    last_time_us  UInt64,
    version       UInt64,
    notional      UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(minute)
ORDER BY (exchange, symbol, minute);

CREATE TABLE IF NOT EXISTS {db}.candles_5m
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64, UInt64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_5m_mv TO {db}.candles_5m AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 300) * 300, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, notional)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.candles_15m
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64, UInt64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_15m_mv TO {db}.candles_15m AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 900) * 900, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, notional)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.candles_30m
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64, UInt64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_30m_mv TO {db}.candles_30m AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 1800) * 1800, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, notional)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.candles_1h
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64, UInt64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_1h_mv TO {db}.candles_1h AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 3600) * 3600, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, notional)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.candles_4h
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64, UInt64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYear(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_4h_mv TO {db}.candles_4h AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 14400) * 14400, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, notional)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.candles_1d
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64, UInt64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYear(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_1d_mv TO {db}.candles_1d AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 86400) * 86400, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, notional)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

-- v1 candles: the latest version of each minute, its notional summed (exactly, in Decimal, refused
-- by toUInt64 above 2^64 - 1) from that version's footprint cells (native-tick prices are the trade
-- prices, so this is the sum over the trades). A minute without cells at that version gets 0.
-- The insert feeds the rollup MVs above.
-- @if SELECT count() = 1 FROM system.tables WHERE database = '{db}' AND name = 'candles_1m_v1'
INSERT INTO {db}.candles_1m (exchange, symbol, minute, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, first_time_us, last_time_us, version, notional)
SELECT exchange, symbol, minute, c.1, c.2, c.3, c.4, c.5, c.6, c.7, c.8, c.9, c.10, c.11, c.12, last_version, notional
FROM
(
    SELECT exchange, symbol, minute, max(version) AS last_version,
           argMax(tuple(open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, first_time_us, last_time_us), version) AS c
    FROM {db}.candles_1m_v1
    GROUP BY exchange, symbol, minute
) AS v1
ANY LEFT JOIN
(
    SELECT exchange, symbol, minute, version AS last_version, toUInt64(sum(cell)) AS notional
    FROM
    (
        SELECT exchange, symbol, minute, price, version,
               any(toDecimal128(price, 0) * toDecimal128(buy_volume + sell_volume, 0)) AS cell
        FROM {db}.footprint_1m
        GROUP BY exchange, symbol, minute, price, version
    )
    GROUP BY exchange, symbol, minute, version
) AS cells USING (exchange, symbol, minute, last_version);

DROP TABLE IF EXISTS {db}.candles_1m_v1;

-- 4. The analyst view of candles, every timeframe: v1's columns + trades, notional (Decimal(38,0)
--    price units * quantity units), vwap = notional / volume in price units, Decimal(38, 8)
--    truncated towards zero, and complete = 0 when a minute of the bucket lies in an unfilled gap.
DROP TABLE IF EXISTS {db}.candles;

CREATE VIEW IF NOT EXISTS {db}.candles AS
SELECT exchange, symbol, '1m' AS timeframe, minute AS bucket,
       c.1 AS open, c.2 AS high, c.3 AS low, c.4 AS close,
       toDecimal128(c.5, 0) AS buy_volume, toDecimal128(c.6, 0) AS sell_volume,
       toUInt64(c.7) AS buy_trades, toUInt64(c.8) AS sell_trades, buy_trades + sell_trades AS trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       c.9 AS max_delta, c.10 AS min_delta,
       toDecimal128(c.11, 0) AS notional,
       toDecimal128(notional, 8) / if(volume = 0, toDecimal128(1, 0), volume) AS vwap,
       materialize((exchange, symbol, bucket) NOT IN (SELECT exchange, symbol, minute FROM {db}.incomplete_minutes)) AS complete
FROM
(
    SELECT exchange, symbol, minute,
           argMax(tuple(open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, notional), version) AS c
    FROM {db}.candles_1m
    GROUP BY exchange, symbol, minute
)
UNION ALL
SELECT exchange, symbol, '5m' AS timeframe, bucket,
       ms[1].3 AS open, arrayReduce('max', arrayMap(x -> x.4, ms)) AS high,
       arrayReduce('min', arrayMap(x -> x.5, ms)) AS low, ms[-1].6 AS close,
       buy_volume, sell_volume, buy_trades, sell_trades, buy_trades + sell_trades AS trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta,
       notional,
       toDecimal128(notional, 8) / if(volume = 0, toDecimal128(1, 0), volume) AS vwap,
       materialize((exchange, symbol, bucket) NOT IN (SELECT exchange, symbol, toDateTime(intDiv(toUInt32(minute), 300) * 300, 'UTC') FROM {db}.incomplete_minutes)) AS complete
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades,
           sum(toDecimal128(c.13, 0)) AS notional
    FROM
    (
        SELECT exchange, symbol, bucket, argMax(m, m.2) AS c
        FROM {db}.candles_5m
        ARRAY JOIN finalizeAggregation(minutes) AS m
        GROUP BY exchange, symbol, bucket, m.1
    )
    GROUP BY exchange, symbol, bucket
)
UNION ALL
SELECT exchange, symbol, '15m' AS timeframe, bucket,
       ms[1].3 AS open, arrayReduce('max', arrayMap(x -> x.4, ms)) AS high,
       arrayReduce('min', arrayMap(x -> x.5, ms)) AS low, ms[-1].6 AS close,
       buy_volume, sell_volume, buy_trades, sell_trades, buy_trades + sell_trades AS trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta,
       notional,
       toDecimal128(notional, 8) / if(volume = 0, toDecimal128(1, 0), volume) AS vwap,
       materialize((exchange, symbol, bucket) NOT IN (SELECT exchange, symbol, toDateTime(intDiv(toUInt32(minute), 900) * 900, 'UTC') FROM {db}.incomplete_minutes)) AS complete
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades,
           sum(toDecimal128(c.13, 0)) AS notional
    FROM
    (
        SELECT exchange, symbol, bucket, argMax(m, m.2) AS c
        FROM {db}.candles_15m
        ARRAY JOIN finalizeAggregation(minutes) AS m
        GROUP BY exchange, symbol, bucket, m.1
    )
    GROUP BY exchange, symbol, bucket
)
UNION ALL
SELECT exchange, symbol, '30m' AS timeframe, bucket,
       ms[1].3 AS open, arrayReduce('max', arrayMap(x -> x.4, ms)) AS high,
       arrayReduce('min', arrayMap(x -> x.5, ms)) AS low, ms[-1].6 AS close,
       buy_volume, sell_volume, buy_trades, sell_trades, buy_trades + sell_trades AS trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta,
       notional,
       toDecimal128(notional, 8) / if(volume = 0, toDecimal128(1, 0), volume) AS vwap,
       materialize((exchange, symbol, bucket) NOT IN (SELECT exchange, symbol, toDateTime(intDiv(toUInt32(minute), 1800) * 1800, 'UTC') FROM {db}.incomplete_minutes)) AS complete
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades,
           sum(toDecimal128(c.13, 0)) AS notional
    FROM
    (
        SELECT exchange, symbol, bucket, argMax(m, m.2) AS c
        FROM {db}.candles_30m
        ARRAY JOIN finalizeAggregation(minutes) AS m
        GROUP BY exchange, symbol, bucket, m.1
    )
    GROUP BY exchange, symbol, bucket
)
UNION ALL
SELECT exchange, symbol, '1h' AS timeframe, bucket,
       ms[1].3 AS open, arrayReduce('max', arrayMap(x -> x.4, ms)) AS high,
       arrayReduce('min', arrayMap(x -> x.5, ms)) AS low, ms[-1].6 AS close,
       buy_volume, sell_volume, buy_trades, sell_trades, buy_trades + sell_trades AS trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta,
       notional,
       toDecimal128(notional, 8) / if(volume = 0, toDecimal128(1, 0), volume) AS vwap,
       materialize((exchange, symbol, bucket) NOT IN (SELECT exchange, symbol, toDateTime(intDiv(toUInt32(minute), 3600) * 3600, 'UTC') FROM {db}.incomplete_minutes)) AS complete
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades,
           sum(toDecimal128(c.13, 0)) AS notional
    FROM
    (
        SELECT exchange, symbol, bucket, argMax(m, m.2) AS c
        FROM {db}.candles_1h
        ARRAY JOIN finalizeAggregation(minutes) AS m
        GROUP BY exchange, symbol, bucket, m.1
    )
    GROUP BY exchange, symbol, bucket
)
UNION ALL
SELECT exchange, symbol, '4h' AS timeframe, bucket,
       ms[1].3 AS open, arrayReduce('max', arrayMap(x -> x.4, ms)) AS high,
       arrayReduce('min', arrayMap(x -> x.5, ms)) AS low, ms[-1].6 AS close,
       buy_volume, sell_volume, buy_trades, sell_trades, buy_trades + sell_trades AS trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta,
       notional,
       toDecimal128(notional, 8) / if(volume = 0, toDecimal128(1, 0), volume) AS vwap,
       materialize((exchange, symbol, bucket) NOT IN (SELECT exchange, symbol, toDateTime(intDiv(toUInt32(minute), 14400) * 14400, 'UTC') FROM {db}.incomplete_minutes)) AS complete
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades,
           sum(toDecimal128(c.13, 0)) AS notional
    FROM
    (
        SELECT exchange, symbol, bucket, argMax(m, m.2) AS c
        FROM {db}.candles_4h
        ARRAY JOIN finalizeAggregation(minutes) AS m
        GROUP BY exchange, symbol, bucket, m.1
    )
    GROUP BY exchange, symbol, bucket
)
UNION ALL
SELECT exchange, symbol, '1d' AS timeframe, bucket,
       ms[1].3 AS open, arrayReduce('max', arrayMap(x -> x.4, ms)) AS high,
       arrayReduce('min', arrayMap(x -> x.5, ms)) AS low, ms[-1].6 AS close,
       buy_volume, sell_volume, buy_trades, sell_trades, buy_trades + sell_trades AS trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta,
       notional,
       toDecimal128(notional, 8) / if(volume = 0, toDecimal128(1, 0), volume) AS vwap,
       materialize((exchange, symbol, bucket) NOT IN (SELECT exchange, symbol, toDateTime(intDiv(toUInt32(minute), 86400) * 86400, 'UTC') FROM {db}.incomplete_minutes)) AS complete
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades,
           sum(toDecimal128(c.13, 0)) AS notional
    FROM
    (
        SELECT exchange, symbol, bucket, argMax(m, m.2) AS c
        FROM {db}.candles_1d
        ARRAY JOIN finalizeAggregation(minutes) AS m
        GROUP BY exchange, symbol, bucket, m.1
    )
    GROUP BY exchange, symbol, bucket
)
;
