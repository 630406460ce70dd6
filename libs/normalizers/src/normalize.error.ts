/**
 * Why an exchange frame could not be turned into trades. Collectors count these by `code`, log the
 * reason and publish the raw text to the dead-letter subject; the stream goes on.
 */
export type NormalizeErrorCode = 'MALFORMED_JSON' | 'UNEXPECTED_SHAPE' | 'INVALID_FIELD' | 'UNKNOWN_SYMBOL';

/** Reasons are cut to this many characters: a reason names the problem, it never carries the input. */
export const MAX_REASON_LENGTH = 500;

export class NormalizeError extends Error {
  override readonly name = 'NormalizeError';
  readonly reason: string;
  constructor(
    readonly code: NormalizeErrorCode,
    reason: string,
    options?: ErrorOptions,
  ) {
    const r = reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 3)}...` : reason;
    super(`${code}: ${r}`, options);
    this.reason = r;
  }
}
