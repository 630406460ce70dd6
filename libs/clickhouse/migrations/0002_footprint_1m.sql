-- 1-minute footprint cells and candles as the aggregator writes them (issue 5): every row is the
-- complete state of its cell or candle, `version` = its trade count, so a retry (same version)
-- or a replay that found more trades (higher version) replaces rather than adds.

CREATE TABLE IF NOT EXISTS {db}.footprint_1m
(
    exchange    String,
    symbol      String,
    minute      DateTime('UTC'),
    price       Int64,
    buy_volume  UInt64,
    sell_volume UInt64,
    buy_trades  UInt32,
    sell_trades UInt32,
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(minute)
ORDER BY (exchange, symbol, minute, price);

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
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(minute)
ORDER BY (exchange, symbol, minute);
