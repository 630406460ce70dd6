-- The tables the aggregator writes (issue 5). `{db}` is the platform's database (CLICKHOUSE_DATABASE).
-- Prices and quantities are integer units of the instrument's scales (orderflow.instruments).

CREATE TABLE IF NOT EXISTS {db}.instruments
(
    exchange       String,
    symbol         String,
    price_scale    UInt8,
    quantity_scale UInt8,
    tick_units     UInt64,
    updated_at     DateTime('UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (exchange, symbol);

-- Raw trades, deduplicated by (exchange, symbol, trade id) when parts merge; read with FINAL
-- (or argMax) where exact counts matter before merges.
CREATE TABLE IF NOT EXISTS {db}.trades
(
    exchange         String,
    symbol           String,
    trade_id         String,
    price            Int64,
    quantity         UInt64,
    side             Enum8('b' = 1, 's' = 2),
    exchange_time_us UInt64,
    receive_time_ms  UInt64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(toDateTime(intDiv(exchange_time_us, 1000000), 'UTC'))
ORDER BY (exchange, symbol, trade_id);
