/**
 * Why an exchange frame could not be turned into trades. Collectors count these by `code`, log the
 * reason and publish the raw text to the dead-letter subject; the stream goes on.
 */
export type NormalizeErrorCode = 'MALFORMED_JSON' | 'UNEXPECTED_SHAPE' | 'INVALID_FIELD' | 'UNKNOWN_SYMBOL';

export class NormalizeError extends Error {
  override readonly name = 'NormalizeError';
  constructor(
    readonly code: NormalizeErrorCode,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${reason}`, options);
  }
}
