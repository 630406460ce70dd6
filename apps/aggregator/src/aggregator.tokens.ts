/** Injection tokens: explicit, so that DI needs no emitted type metadata (and tests need no SWC). */
export const AGGREGATOR_CONFIG = Symbol('AGGREGATOR_CONFIG');
export const AGGREGATOR_RUNTIME = Symbol('AGGREGATOR_RUNTIME');
