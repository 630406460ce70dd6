CREATE VIEW IF NOT EXISTS {db}.footprint AS
SELECT exchange, symbol, '1m' AS timeframe, minute AS bucket, price,
       toDecimal128(c.1, 0) AS buy_volume, toDecimal128(c.2, 0) AS sell_volume,
       toUInt64(c.3) AS buy_trades, toUInt64(c.4) AS sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume
FROM
(
    SELECT exchange, symbol, minute, price,
           argMax(tuple(buy_volume, sell_volume, buy_trades, sell_trades), version) AS c
    FROM {db}.footprint_1m
    GROUP BY exchange, symbol, minute, price
)
UNION ALL
SELECT exchange, symbol, '5m' AS timeframe, bucket, price,
       sum(toDecimal128(c.3, 0)) AS buy_volume, sum(toDecimal128(c.4, 0)) AS sell_volume,
       sum(toUInt64(c.5)) AS buy_trades, sum(toUInt64(c.6)) AS sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume
FROM
(
    SELECT exchange, symbol, bucket, price, argMax(cell, cell.2) AS c
    FROM {db}.footprint_5m
    ARRAY JOIN finalizeAggregation(cells) AS cell
    GROUP BY exchange, symbol, bucket, price, cell.1
)
GROUP BY exchange, symbol, bucket, price
UNION ALL
SELECT exchange, symbol, '15m' AS timeframe, bucket, price,
       sum(toDecimal128(c.3, 0)) AS buy_volume, sum(toDecimal128(c.4, 0)) AS sell_volume,
       sum(toUInt64(c.5)) AS buy_trades, sum(toUInt64(c.6)) AS sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume
FROM
(
    SELECT exchange, symbol, bucket, price, argMax(cell, cell.2) AS c
    FROM {db}.footprint_15m
    ARRAY JOIN finalizeAggregation(cells) AS cell
    GROUP BY exchange, symbol, bucket, price, cell.1
)
GROUP BY exchange, symbol, bucket, price
UNION ALL
SELECT exchange, symbol, '30m' AS timeframe, bucket, price,
       sum(toDecimal128(c.3, 0)) AS buy_volume, sum(toDecimal128(c.4, 0)) AS sell_volume,
       sum(toUInt64(c.5)) AS buy_trades, sum(toUInt64(c.6)) AS sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume
FROM
(
    SELECT exchange, symbol, bucket, price, argMax(cell, cell.2) AS c
    FROM {db}.footprint_30m
    ARRAY JOIN finalizeAggregation(cells) AS cell
    GROUP BY exchange, symbol, bucket, price, cell.1
)
GROUP BY exchange, symbol, bucket, price
UNION ALL
SELECT exchange, symbol, '1h' AS timeframe, bucket, price,
       sum(toDecimal128(c.3, 0)) AS buy_volume, sum(toDecimal128(c.4, 0)) AS sell_volume,
       sum(toUInt64(c.5)) AS buy_trades, sum(toUInt64(c.6)) AS sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume
FROM
(
    SELECT exchange, symbol, bucket, price, argMax(cell, cell.2) AS c
    FROM {db}.footprint_1h
    ARRAY JOIN finalizeAggregation(cells) AS cell
    GROUP BY exchange, symbol, bucket, price, cell.1
)
GROUP BY exchange, symbol, bucket, price
UNION ALL
SELECT exchange, symbol, '4h' AS timeframe, bucket, price,
       sum(toDecimal128(c.3, 0)) AS buy_volume, sum(toDecimal128(c.4, 0)) AS sell_volume,
       sum(toUInt64(c.5)) AS buy_trades, sum(toUInt64(c.6)) AS sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume
FROM
(
    SELECT exchange, symbol, bucket, price, argMax(cell, cell.2) AS c
    FROM {db}.footprint_4h
    ARRAY JOIN finalizeAggregation(cells) AS cell
    GROUP BY exchange, symbol, bucket, price, cell.1
)
GROUP BY exchange, symbol, bucket, price
UNION ALL
SELECT exchange, symbol, '1d' AS timeframe, bucket, price,
       sum(toDecimal128(c.3, 0)) AS buy_volume, sum(toDecimal128(c.4, 0)) AS sell_volume,
       sum(toUInt64(c.5)) AS buy_trades, sum(toUInt64(c.6)) AS sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume
FROM
(
    SELECT exchange, symbol, bucket, price, argMax(cell, cell.2) AS c
    FROM {db}.footprint_1d
    ARRAY JOIN finalizeAggregation(cells) AS cell
    GROUP BY exchange, symbol, bucket, price, cell.1
)
GROUP BY exchange, symbol, bucket, price
;

CREATE VIEW IF NOT EXISTS {db}.candles AS
SELECT exchange, symbol, '1m' AS timeframe, minute AS bucket,
       c.1 AS open, c.2 AS high, c.3 AS low, c.4 AS close,
       toDecimal128(c.5, 0) AS buy_volume, toDecimal128(c.6, 0) AS sell_volume,
       toUInt64(c.7) AS buy_trades, toUInt64(c.8) AS sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       c.9 AS max_delta, c.10 AS min_delta
FROM
(
    SELECT exchange, symbol, minute,
           argMax(tuple(open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta), version) AS c
    FROM {db}.candles_1m
    GROUP BY exchange, symbol, minute
)
UNION ALL
SELECT exchange, symbol, '5m' AS timeframe, bucket,
       ms[1].3 AS open, arrayReduce('max', arrayMap(x -> x.4, ms)) AS high,
       arrayReduce('min', arrayMap(x -> x.5, ms)) AS low, ms[-1].6 AS close,
       buy_volume, sell_volume, buy_trades, sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades
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
       buy_volume, sell_volume, buy_trades, sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades
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
       buy_volume, sell_volume, buy_trades, sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades
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
       buy_volume, sell_volume, buy_trades, sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades
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
       buy_volume, sell_volume, buy_trades, sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades
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
       buy_volume, sell_volume, buy_trades, sell_trades,
       buy_volume - sell_volume AS delta, buy_volume + sell_volume AS volume,
       arrayReduce('max', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.11, ms))) AS max_delta,
       arrayReduce('min', arrayMap((cum, d, m) -> cum - d + m, arrayCumSum(ds), ds, arrayMap(x -> x.12, ms))) AS min_delta
FROM
(
    SELECT exchange, symbol, bucket,
           arraySort(groupArray(c)) AS ms,
           arrayMap(x -> toInt64(x.7) - toInt64(x.8), ms) AS ds,
           sum(toDecimal128(c.7, 0)) AS buy_volume, sum(toDecimal128(c.8, 0)) AS sell_volume,
           sum(toUInt64(c.9)) AS buy_trades, sum(toUInt64(c.10)) AS sell_trades
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
