/** Small pieces every normaliser uses; the exchange-specific reading stays in each exchange's file. */
import { NormalizeError } from './normalize.error.js';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON.parse of a frame or response that must be an object; `what` names it in errors. */
export function parseJsonObject(text: string, what = 'frame'): Record<string, unknown> {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new NormalizeError(
      'MALFORMED_JSON',
      `${what === 'frame' ? '' : `${what} is `}not JSON: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!isObject(root)) throw new NormalizeError('UNEXPECTED_SHAPE', `${what} is not a JSON object`);
  return root;
}

/**
 * A short, safe description of an input value for a reject reason: scalars as JSON (strings cut to
 * 40 characters), anything else by its kind. Never stringifies a structure, which for hostile
 * input could be megabytes or nested deep enough to overflow the stack.
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}...` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return `a ${typeof v}`;
}
