import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { binanceFrameScanner } from './binance.normalizer.js';

// The compiler script is plain JS outside this project: load it by URL.
const BUILD_WASM = new URL('../../../scripts/build-wasm.mjs', import.meta.url).href;

describe('the WebAssembly frame scanner', () => {
  it('is the fast path on Node', () => {
    expect(binanceFrameScanner).toBe('wasm');
  });

  it('is compiled from the .wat as committed (run `node scripts/build-wasm.mjs` after editing it)', async () => {
    const { compileWat, wasmModuleSource } = (await import(BUILD_WASM)) as {
      compileWat(path: string): Promise<Uint8Array>;
      wasmModuleSource(bytes: Uint8Array): string;
    };
    const bytes = await compileWat(new URL('../wasm/binance-frame.wat', import.meta.url).pathname);
    expect(readFileSync(new URL('./binance-frame.wasm.ts', import.meta.url), 'utf8')).toBe(wasmModuleSource(bytes));
  });
});
