/**
 * ASCII text to bytes and back with the Encoding API (no Node Buffer: this library runs on any
 * ES2022 runtime). The text must be ASCII (JSON of numbers and nulls is), where UTF-8, Latin-1 and
 * ASCII agree byte for byte.
 *
 * A candle made from stored bytes keeps its head's JSON as bytes for as long as the history cache
 * holds it. Small byte strings are therefore cut from shared 8 KiB slabs, as Node's Buffer pool
 * does: a cache of 10^5 candles then holds ~10^3 ArrayBuffers for the GC to track, not 10^5.
 */
const SLAB_BYTES = 8192;
let slab = new Uint8Array(SLAB_BYTES);
let used = 0;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes of ASCII `text` (a slice of a shared slab when small: never written to afterwards). */
export function asciiBytes(text: string): Uint8Array {
  const n = text.length;
  if (n > SLAB_BYTES >>> 1) return encoder.encode(text);
  if (used + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  encoder.encodeInto(text, out);
  // 8-byte aligned, as Buffer's pool is
  used += (n + 7) & ~7;
  return out;
}

/** The text of ASCII bytes given in parts, concatenated. */
export function asciiText(parts: readonly Uint8Array[]): string {
  if (parts.length === 1) return decoder.decode(parts[0]);
  let n = 0;
  for (const p of parts) n += p.length;
  const all = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return decoder.decode(all);
}
