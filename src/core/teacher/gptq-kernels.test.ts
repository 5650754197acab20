/**
 * GPTQ and SparseGPT on the host linear-algebra kernels (kernels/linalg.ts): the Hessian's Gram accumulation and the
 * lazy block updates give the same bits on the TypeScript reference and on WASM SIMD, so the results are identical.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hostLinalg, installHostLinalg } from '../../kernels/host';
import { referenceLinalg } from '../../kernels/ts/linalg-reference';
import { createWasmBackend } from '../../kernels/wasm/backend';
import { accumulateConv, gptq, Hessian } from './gptq';
import { sparseGpt } from './sparsegpt';
import { gauss, rng, rowGrid } from './test-helpers';

function inputs(samples: number, k: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(samples * k);
  for (let s = 0; s < samples; s++) {
    const a = gauss(r);
    for (let i = 0; i < k; i++) x[s * k + i] = Math.max(0, a * (i % 5) * 0.3 + gauss(r));
  }
  return x;
}

function run(seed: number) {
  const rows = 24;
  const cols = 67; // not a multiple of 4 or of the block
  const r = rng(seed);
  const w = Float32Array.from({ length: rows * cols }, () => gauss(r) * 0.1);
  w[5] = 0;
  const hs = new Hessian(cols);
  hs.addRows(inputs(200, cols, seed + 1), 200);
  const convH = [new Hessian(2 * 3 * 3)];
  accumulateConv(convH, inputs(2 * 2 * 9 * 9, 1, seed + 2), [2, 2, 9, 9], { kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 1 });
  const h = hs.finish();
  const g = rowGrid(w, rows, cols, 4);
  return {
    h,
    conv: convH[0]!.finish(),
    gptq: gptq(w, rows, cols, h, g, { blockSize: 16 }),
    gptqAct: gptq(w, rows, cols, h, g, { blockSize: 32, actOrder: true, keepZeros: true }),
    sparse: sparseGpt(w, rows, cols, h, { kind: 'unstructured', count: 800 }, { blockSize: 16 }),
    nm: sparseGpt(w, rows, cols, h, { kind: 'nm', n: 2, m: 4 }, { blockSize: 12, grid: g }),
  };
}

describe('GPTQ / SparseGPT on the host kernels', () => {
  afterAll(() => installHostLinalg(referenceLinalg));

  it('give the same bits on the TypeScript reference and on WASM SIMD (Hessians, im2col Hessian, GPTQ, SparseGPT)', async () => {
    installHostLinalg(referenceLinalg);
    const ts = run(7);
    installHostLinalg((await createWasmBackend()).hostLinalg);
    expect(hostLinalg().name).toBe('wasm');
    const wasm = run(7);
    for (const key of Object.keys(ts) as (keyof typeof ts)[]) expect(wasm[key], key).toEqual(ts[key]);
  });
});
