/** The collector's runtime, for system tests and tools that run it in-process (the app is main.ts). */
export { CollectorRuntime } from './collector.runtime.js';
export { type CollectorConfig, loadCollectorConfig } from './config/collector.config.js';
export type { FeedStatus, FeedLogger } from './feeds/feed.types.js';
export { importBinanceArchives } from './import/archive.import.js';
