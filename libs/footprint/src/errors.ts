/**
 * Typed errors of the footprint engine. Each carries a stable `code` so that callers (collectors,
 * the aggregator, the gateway) can count and route rejects without parsing messages.
 */
export type FootprintErrorCode =
  | 'INVALID_DECIMAL'
  | 'PRECISION_LOSS'
  | 'UNSAFE_INTEGER'
  | 'INVALID_TRADE'
  | 'INVALID_ARGUMENT'
  | 'OVERFLOW'
  | 'INCOMPATIBLE_CANDLES';

export class FootprintError extends Error {
  override readonly name: string = 'FootprintError';
  readonly code: FootprintErrorCode;
  constructor(code: FootprintErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Thrown when an exchange decimal string cannot be represented exactly at the requested scale. */
export class DecimalError extends FootprintError {
  override readonly name = 'DecimalError';
}

/** Thrown (or returned) when a trade breaks the engine's invariants; `reason` is for logs and dead letters. */
export class TradeError extends FootprintError {
  override readonly name = 'TradeError';
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super('INVALID_TRADE', `invalid trade: ${reason}`, options);
  }
}

/** An accumulated figure left the range where doubles hold integers exactly (2^53). Never silent. */
export class OverflowError extends FootprintError {
  override readonly name = 'OverflowError';
  constructor(what: string) {
    super('OVERFLOW', `${what} exceeds 2^53 - 1 units: use a coarser quantity scale or a shorter range`);
  }
}

export function invalidArgument(message: string): FootprintError {
  return new FootprintError('INVALID_ARGUMENT', message);
}
