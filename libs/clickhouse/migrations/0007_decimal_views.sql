-- Schema v4: the analyst views `footprint` and `candles` also carry every price and volume as an
-- exact decimal of the instrument's currency (`price_decimal` = price / 10^price_scale, volumes /
-- 10^quantity_scale), so that an analyst reads prices without a join or a division. The integer unit
-- columns stay as they were.
--
-- Decimal(38, 15): the engine's scales go up to 15 (MAX_SCALE in libs/footprint), so the quotient
-- of any figure below 10^23 units is exact; NULL when the instrument's scales are not in
-- `instruments`. vwap_decimal is vwap / 10^price_scale: vwap has 8 decimals of price units, so it is
-- exact up to price_scale 7 and truncated at 15 decimals above.
--
-- Each branch of the UNION ALL joins the (small) instruments table itself, so that a filter on
-- exchange, symbol and timeframe still reaches the one branch and the stored rows it needs (on
-- 18.16 with enable_optimize_predicate_expression = 1, the analyst profile's setting).
-- The joined subqueries are named: current ClickHouse versions refuse an unnamed one.

DROP TABLE IF EXISTS {db}.footprint;

CREATE VIEW IF NOT EXISTS {db}.footprint AS
SELECT exchange, symbol, timeframe, bucket, price, buy_volume, sell_volume, buy_trades, sell_trades, delta, volume,
       if(scaled = 1, toDecimal128(price, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS price_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, price, buy_volume, sell_volume, buy_trades, sell_trades, delta, volume,
       if(scaled = 1, toDecimal128(price, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS price_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, price, buy_volume, sell_volume, buy_trades, sell_trades, delta, volume,
       if(scaled = 1, toDecimal128(price, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS price_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, price, buy_volume, sell_volume, buy_trades, sell_trades, delta, volume,
       if(scaled = 1, toDecimal128(price, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS price_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, price, buy_volume, sell_volume, buy_trades, sell_trades, delta, volume,
       if(scaled = 1, toDecimal128(price, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS price_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, price, buy_volume, sell_volume, buy_trades, sell_trades, delta, volume,
       if(scaled = 1, toDecimal128(price, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS price_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, price, buy_volume, sell_volume, buy_trades, sell_trades, delta, volume,
       if(scaled = 1, toDecimal128(price, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS price_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
;

DROP TABLE IF EXISTS {db}.candles;

CREATE VIEW IF NOT EXISTS {db}.candles AS
SELECT exchange, symbol, timeframe, bucket, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, trades, delta, volume, max_delta, min_delta, notional, vwap, complete,
       if(scaled = 1, toDecimal128(open, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS open_decimal,
       if(scaled = 1, toDecimal128(high, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS high_decimal,
       if(scaled = 1, toDecimal128(low, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS low_decimal,
       if(scaled = 1, toDecimal128(close, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS close_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal,
       if(scaled = 1, toDecimal128(max_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS max_delta_decimal,
       if(scaled = 1, toDecimal128(min_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS min_delta_decimal,
       if(scaled = 1, toDecimal128(vwap, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS vwap_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, trades, delta, volume, max_delta, min_delta, notional, vwap, complete,
       if(scaled = 1, toDecimal128(open, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS open_decimal,
       if(scaled = 1, toDecimal128(high, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS high_decimal,
       if(scaled = 1, toDecimal128(low, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS low_decimal,
       if(scaled = 1, toDecimal128(close, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS close_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal,
       if(scaled = 1, toDecimal128(max_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS max_delta_decimal,
       if(scaled = 1, toDecimal128(min_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS min_delta_decimal,
       if(scaled = 1, toDecimal128(vwap, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS vwap_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, trades, delta, volume, max_delta, min_delta, notional, vwap, complete,
       if(scaled = 1, toDecimal128(open, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS open_decimal,
       if(scaled = 1, toDecimal128(high, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS high_decimal,
       if(scaled = 1, toDecimal128(low, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS low_decimal,
       if(scaled = 1, toDecimal128(close, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS close_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal,
       if(scaled = 1, toDecimal128(max_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS max_delta_decimal,
       if(scaled = 1, toDecimal128(min_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS min_delta_decimal,
       if(scaled = 1, toDecimal128(vwap, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS vwap_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, trades, delta, volume, max_delta, min_delta, notional, vwap, complete,
       if(scaled = 1, toDecimal128(open, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS open_decimal,
       if(scaled = 1, toDecimal128(high, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS high_decimal,
       if(scaled = 1, toDecimal128(low, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS low_decimal,
       if(scaled = 1, toDecimal128(close, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS close_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal,
       if(scaled = 1, toDecimal128(max_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS max_delta_decimal,
       if(scaled = 1, toDecimal128(min_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS min_delta_decimal,
       if(scaled = 1, toDecimal128(vwap, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS vwap_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, trades, delta, volume, max_delta, min_delta, notional, vwap, complete,
       if(scaled = 1, toDecimal128(open, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS open_decimal,
       if(scaled = 1, toDecimal128(high, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS high_decimal,
       if(scaled = 1, toDecimal128(low, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS low_decimal,
       if(scaled = 1, toDecimal128(close, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS close_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal,
       if(scaled = 1, toDecimal128(max_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS max_delta_decimal,
       if(scaled = 1, toDecimal128(min_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS min_delta_decimal,
       if(scaled = 1, toDecimal128(vwap, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS vwap_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, trades, delta, volume, max_delta, min_delta, notional, vwap, complete,
       if(scaled = 1, toDecimal128(open, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS open_decimal,
       if(scaled = 1, toDecimal128(high, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS high_decimal,
       if(scaled = 1, toDecimal128(low, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS low_decimal,
       if(scaled = 1, toDecimal128(close, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS close_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal,
       if(scaled = 1, toDecimal128(max_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS max_delta_decimal,
       if(scaled = 1, toDecimal128(min_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS min_delta_decimal,
       if(scaled = 1, toDecimal128(vwap, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS vwap_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
UNION ALL
SELECT exchange, symbol, timeframe, bucket, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, trades, delta, volume, max_delta, min_delta, notional, vwap, complete,
       if(scaled = 1, toDecimal128(open, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS open_decimal,
       if(scaled = 1, toDecimal128(high, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS high_decimal,
       if(scaled = 1, toDecimal128(low, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS low_decimal,
       if(scaled = 1, toDecimal128(close, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS close_decimal,
       if(scaled = 1, toDecimal128(buy_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS buy_volume_decimal,
       if(scaled = 1, toDecimal128(sell_volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS sell_volume_decimal,
       if(scaled = 1, toDecimal128(delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS delta_decimal,
       if(scaled = 1, toDecimal128(volume, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS volume_decimal,
       if(scaled = 1, toDecimal128(max_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS max_delta_decimal,
       if(scaled = 1, toDecimal128(min_delta, 15) / toDecimal128(intExp10(quantity_scale), 0), NULL) AS min_delta_decimal,
       if(scaled = 1, toDecimal128(vwap, 15) / toDecimal128(intExp10(price_scale), 0), NULL) AS vwap_decimal
FROM
(
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
) AS f
ANY LEFT JOIN
(
    SELECT exchange, symbol,
           argMax(price_scale, updated_at) AS price_scale, argMax(quantity_scale, updated_at) AS quantity_scale,
           toUInt8(1) AS scaled
    FROM {db}.instruments
    GROUP BY exchange, symbol
) AS i USING (exchange, symbol)
;
