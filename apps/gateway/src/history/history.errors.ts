import { UnitsOverflowError } from '@orderflow/clickhouse';
import { RequestError } from '../request.error.js';

/**
 * A history read's failure as the API reports it: a value beyond 2^53 - 1 units is the request's
 * (a coarser range or grouping helps: `bad-request`); anything else (HistoryError, a connection
 * error) goes on as it is.
 */
export function requestErrorOf(e: unknown): unknown {
  return e instanceof UnitsOverflowError ? new RequestError('bad-request', e.message) : e;
}

/** `reads`, their failures as requestErrorOf reports them. */
export async function* requestReads<T>(reads: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* reads;
  } catch (e) {
    throw requestErrorOf(e);
  }
}

/** `read`, its failure as requestErrorOf reports it. */
export async function requestRead<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (e) {
    throw requestErrorOf(e);
  }
}
