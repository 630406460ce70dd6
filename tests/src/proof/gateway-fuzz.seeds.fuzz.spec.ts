/**
 * The gateway fuzzer's inputs (gateway-fuzz.ts) are fast-check's alone: one seed gives the same
 * inputs every time, so the seed a failure prints (gateway.fuzz.spec.ts) replays it. A generator
 * that drew from Math.random or the clock would make two samples of one seed differ.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hostileJson,
  httpCase,
  socketInput,
  subscribePayload,
  unknownEventName,
  unsubscribePayload,
} from './gateway-fuzz.js';

/** A value's full text (Buffers as their bytes, bigints, deep nesting), for comparing two samples. */
const text = (v: unknown) =>
  JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'bigint'
      ? `${x}n`
      : x === undefined
        ? '<undefined>'
        : x instanceof ArrayBuffer
          ? [...new Uint8Array(x)]
          : x,
  ) ?? '<undefined>';

describe('gateway fuzz inputs: a seed reproduces them', () => {
  const arbitraries: [string, fc.Arbitrary<unknown>][] = [
    ['hostileJson', hostileJson],
    ['subscribePayload', subscribePayload],
    ['unsubscribePayload', unsubscribePayload],
    ['unknownEventName', unknownEventName],
    ['httpCase', httpCase],
    ...Object.entries(socketInput(2000)).map(([k, a]): [string, fc.Arbitrary<unknown>] => [`socketInput.${k}`, a]),
  ];
  it.each(arbitraries)('%s: two samples of one seed are the same, another seed differs', (_name, arb) => {
    const first = fc.sample(arb, { seed: 9, numRuns: 200 }).map(text);
    expect(fc.sample(arb, { seed: 9, numRuns: 200 }).map(text)).toEqual(first);
    expect(fc.sample(arb, { seed: 10, numRuns: 200 }).map(text)).not.toEqual(first);
  });
});
