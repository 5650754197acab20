import { describe, expect, it } from 'vitest';
import { defaultWasmThreads, wasmThreads } from './threads';

describe('wasm thread policy', () => {
  it('uses half the cores, at least 1 and at most 4 (onnxruntime-web’s own default)', () => {
    expect([0, 1, 2, 3, 4, 6, 8, 16, 64].map(defaultWasmThreads)).toEqual([1, 1, 1, 2, 2, 3, 4, 4, 4]);
  });
  it('takes a chosen count when the page is isolated, and one thread when it is not', () => {
    expect(wasmThreads(undefined, 8, true)).toBe(4);
    expect(wasmThreads(2, 2, true)).toBe(2);
    expect(wasmThreads(6, 2, true)).toBe(6);
    expect(wasmThreads(0, 8, true)).toBe(4);
    expect(wasmThreads(4, 8, false)).toBe(1);
    expect(wasmThreads(undefined, 8, false)).toBe(1);
  });
});
