/** @orderflow/normalizers: pure exchange-frame translators, one file per exchange. */
export * from './normalize.error.js';
export * from './binance.normalizer.js';
export * from './bybit.normalizer.js';
export * from './okx.normalizer.js';
export * from './binance-archive.normalizer.js';
export * from './instruments.normalizer.js';
