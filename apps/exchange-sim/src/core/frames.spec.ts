import { describe, expect, it } from 'vitest';
import { ascii, encodeGeneral, encodeTextFrames, FrameWriter } from './frames.js';

/** Decodes server (unmasked) text frames; checks FIN, opcode and the minimal length encoding. */
function decode(buf: Buffer): string[] {
  const out: string[] = [];
  let o = 0;
  while (o < buf.length) {
    expect(buf[o]).toBe(0x81);
    let len = buf[o + 1]!;
    expect(len & 0x80).toBe(0); // unmasked
    o += 2;
    if (len === 126) {
      len = buf.readUInt16BE(o);
      expect(len).toBeGreaterThanOrEqual(126);
      o += 2;
    } else if (len === 127) {
      len = buf.readUInt32BE(o) * 2 ** 32 + buf.readUInt32BE(o + 4);
      expect(len).toBeGreaterThanOrEqual(65536);
      o += 8;
    }
    out.push(buf.toString('utf8', o, o + len));
    o += len;
  }
  expect(o).toBe(buf.length);
  return out;
}

const SAMPLES = [
  '',
  'x',
  'a'.repeat(125),
  'b'.repeat(126),
  'c'.repeat(255),
  'd'.repeat(256),
  'e'.repeat(65_535),
  'f'.repeat(65_536),
  'g'.repeat(70_000),
  '{"e":"aggTrade","s":"LTCUSDT","p":"80.12000000"}',
  'prix: 80,12 € — ¼ ✓ 𝄞',
  'é'.repeat(63), // 126 bytes from 63 characters
];

describe('WebSocket frame encoding', () => {
  it('encodeTextFrames and encodeGeneral give the same valid frames for ASCII, non-ASCII and every length class', () => {
    for (const texts of [
      SAMPLES,
      SAMPLES.slice(0, 7),
      SAMPLES.filter((s) => Buffer.byteLength(s) === s.length && s.length < 65536),
      [],
    ]) {
      const a = encodeTextFrames(texts);
      expect(decode(a)).toEqual(texts);
      expect(a.equals(encodeGeneral(texts))).toBe(true);
    }
  });

  it('FrameWriter writes the same bytes as a string per frame', () => {
    const w = new FrameWriter(64); // grows
    const texts: string[] = [];
    const P = ascii('{"a":');
    for (let i = 0; i < 300; i++) {
      const n = [0, 9, 10, 99, 1_000_000_007, 1_764_134_400_123, Number.MAX_SAFE_INTEGER, -5, 1.5][i % 9]!;
      const s = SAMPLES[i % SAMPLES.length]!;
      w.begin();
      w.bytes(P);
      w.int(n);
      w.bytes(ascii(',"s":"'));
      w.string(s);
      w.bytes(ascii('"}'));
      w.end();
      texts.push(`{"a":${n},"s":"${s}"}`);
    }
    expect(w.frames).toBe(300);
    const buf = w.take();
    expect(decode(buf)).toEqual(texts);
    expect(buf.equals(encodeGeneral(texts))).toBe(true);
    expect(w.frames).toBe(0);
    w.begin();
    w.end();
    expect(decode(w.take())).toEqual(['']);
    expect(() => w.end()).toThrow();
  });
});
