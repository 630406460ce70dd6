/** @orderflow/normalizers: pure exchange-frame translators, one file per exchange. */
export * from './normalize.error.js';
export * from './binance.normalizer.js';
