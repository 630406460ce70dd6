export * from './config/aggregator.config.js';
export * from './aggregator.runtime.js';
export * from './aggregator.module.js';
export * from './symbol.actor.js';
export * from './snapshot.controller.js';
export type * from './store.port.js';
export * from './app.js';
