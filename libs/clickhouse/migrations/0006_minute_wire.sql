-- Schema v3 (docs/design/clickhouse-storage.md §10): each stored minute's footprint, ready to serve.
-- footprint_1m_wire holds, per version of a minute (FootprintStore.insertMinutes writes it with the
-- footprint_1m cells and the candles_1m summary of the same version):
--   cells_json    the minute's cells at native ticks as JSON, `[[price,buy_volume,sell_volume,
--                 buy_trades,sell_trades],...]` ascending by price, in the instrument's integer units
--                 (exactly JSON.stringify of them);
--   poc, vah, val its point of control and 70 % value area at native ticks (libs/footprint
--                 pocAndValueArea).
-- Why: a day of 1m footprints at native ticks is ~10^5-10^6 cells; read from footprint_1m it costs
-- ClickHouse a FINAL merge and the formatting of every number, and the gateway the parsing and
-- re-serialising of each; read from here it is 1,440 strings. It is derived data: footprint_1m stays
-- the analysts' table and the source of every grouped, merged and rolled-up read, and a minute
-- missing here (written before v3, a dropped partition) is read from footprint_1m instead.
-- Small granules (64 rows, ~0.4 MB of text at 300 levels a minute): one symbol's day reads its own
-- rows, not 8,192-row granules of its neighbours' text.
CREATE TABLE IF NOT EXISTS {db}.footprint_1m_wire
(
    exchange   String,
    symbol     String,
    minute     DateTime('UTC'),
    version    UInt64,
    poc        Int64,
    vah        Int64,
    val        Int64,
    cells_json String
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(minute)
ORDER BY (exchange, symbol, minute)
SETTINGS index_granularity = 64;
