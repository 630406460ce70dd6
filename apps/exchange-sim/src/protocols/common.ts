import type { TimingOptions } from '../core/simulator.types.js';

/** Options merged over defaults, ignoring explicitly undefined values. */
export function withDefaults<T extends object>(defaults: Partial<T>, options: T): T {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as T;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export type Timing = Required<TimingOptions>;
