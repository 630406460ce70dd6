-- rollups 5m..1d: one AggregatingMergeTree + one MATERIALIZED VIEW per timeframe and kind

CREATE TABLE IF NOT EXISTS {db}.footprint_5m
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    price    Int64,
    cells    AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, UInt64, UInt64, UInt32, UInt32))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket, price);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.footprint_5m_mv TO {db}.footprint_5m AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 300) * 300, 'UTC') AS bucket,
    price,
    groupUniqArrayState(tuple(minute, version, buy_volume, sell_volume, buy_trades, sell_trades)) AS cells
FROM {db}.footprint_1m
GROUP BY exchange, symbol, bucket, price;

CREATE TABLE IF NOT EXISTS {db}.candles_5m
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_5m_mv TO {db}.candles_5m AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 300) * 300, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.footprint_15m
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    price    Int64,
    cells    AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, UInt64, UInt64, UInt32, UInt32))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket, price);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.footprint_15m_mv TO {db}.footprint_15m AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 900) * 900, 'UTC') AS bucket,
    price,
    groupUniqArrayState(tuple(minute, version, buy_volume, sell_volume, buy_trades, sell_trades)) AS cells
FROM {db}.footprint_1m
GROUP BY exchange, symbol, bucket, price;

CREATE TABLE IF NOT EXISTS {db}.candles_15m
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_15m_mv TO {db}.candles_15m AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 900) * 900, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.footprint_30m
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    price    Int64,
    cells    AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, UInt64, UInt64, UInt32, UInt32))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket, price);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.footprint_30m_mv TO {db}.footprint_30m AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 1800) * 1800, 'UTC') AS bucket,
    price,
    groupUniqArrayState(tuple(minute, version, buy_volume, sell_volume, buy_trades, sell_trades)) AS cells
FROM {db}.footprint_1m
GROUP BY exchange, symbol, bucket, price;

CREATE TABLE IF NOT EXISTS {db}.candles_30m
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_30m_mv TO {db}.candles_30m AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 1800) * 1800, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.footprint_1h
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    price    Int64,
    cells    AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, UInt64, UInt64, UInt32, UInt32))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket, price);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.footprint_1h_mv TO {db}.footprint_1h AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 3600) * 3600, 'UTC') AS bucket,
    price,
    groupUniqArrayState(tuple(minute, version, buy_volume, sell_volume, buy_trades, sell_trades)) AS cells
FROM {db}.footprint_1m
GROUP BY exchange, symbol, bucket, price;

CREATE TABLE IF NOT EXISTS {db}.candles_1h
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_1h_mv TO {db}.candles_1h AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 3600) * 3600, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.footprint_4h
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    price    Int64,
    cells    AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, UInt64, UInt64, UInt32, UInt32))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYear(bucket)
ORDER BY (exchange, symbol, bucket, price);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.footprint_4h_mv TO {db}.footprint_4h AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 14400) * 14400, 'UTC') AS bucket,
    price,
    groupUniqArrayState(tuple(minute, version, buy_volume, sell_volume, buy_trades, sell_trades)) AS cells
FROM {db}.footprint_1m
GROUP BY exchange, symbol, bucket, price;

CREATE TABLE IF NOT EXISTS {db}.candles_4h
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYear(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_4h_mv TO {db}.candles_4h AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 14400) * 14400, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;

CREATE TABLE IF NOT EXISTS {db}.footprint_1d
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    price    Int64,
    cells    AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, UInt64, UInt64, UInt32, UInt32))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYear(bucket)
ORDER BY (exchange, symbol, bucket, price);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.footprint_1d_mv TO {db}.footprint_1d AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 86400) * 86400, 'UTC') AS bucket,
    price,
    groupUniqArrayState(tuple(minute, version, buy_volume, sell_volume, buy_trades, sell_trades)) AS cells
FROM {db}.footprint_1m
GROUP BY exchange, symbol, bucket, price;

CREATE TABLE IF NOT EXISTS {db}.candles_1d
(
    exchange String,
    symbol   String,
    bucket   DateTime('UTC'),
    minutes  AggregateFunction(groupUniqArray, Tuple(DateTime('UTC'), UInt64, Int64, Int64, Int64, Int64, UInt64, UInt64, UInt32, UInt32, Int64, Int64))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYear(bucket)
ORDER BY (exchange, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.candles_1d_mv TO {db}.candles_1d AS
SELECT
    exchange,
    symbol,
    toDateTime(intDiv(toUInt32(minute), 86400) * 86400, 'UTC') AS bucket,
    groupUniqArrayState(tuple(minute, version, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta)) AS minutes
FROM {db}.candles_1m
GROUP BY exchange, symbol, bucket;
