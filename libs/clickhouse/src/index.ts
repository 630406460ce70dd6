/** @orderflow/clickhouse: the client, SQL helpers and the versioned schema migrations. */
export * from './clickhouse.connection.js';
export * from './migrations.js';
export * from './sql.js';
export * from './footprint.rows.js';
export * from './footprint.store.js';
export * from './analyst.js';
export * from './cluster.variant.js';
export * from './roles.js';
