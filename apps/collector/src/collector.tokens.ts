/** Injection tokens: explicit, so that DI needs no emitted type metadata (and tests need no SWC). */
export const COLLECTOR_CONFIG = Symbol('COLLECTOR_CONFIG');
export const COLLECTOR_RUNTIME = Symbol('COLLECTOR_RUNTIME');
