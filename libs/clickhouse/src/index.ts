/**
 * @orderflow/clickhouse: the client, SQL helpers, the versioned schema migrations, the footprint writer and the history
 * reader.
 */
export * from './clickhouse.connection.js';
export * from './migrations.js';
export * from './sql.js';
export * from './footprint.rows.js';
export * from './footprint.store.js';
export * from './analyst.js';
export * from './cluster.variant.js';
export * from './roles.js';
export * from './history/history.sql.js';
export * from './history/int-tsv.parser.js';
export * from './history/cell-transcoder.js';
export * from './history/stored-candle.js';
export * from './history/wire-rows.js';
export * from './history/in-order.js';
export * from './history/history.reader.js';
export * from './clickhouse.probe.js';
