/** Injection tokens: explicit, so that DI needs no emitted type metadata. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const GATEWAY_RUNTIME = Symbol('GATEWAY_RUNTIME');
export const GATEWAY_OPS = Symbol('GATEWAY_OPS');
