/**
 * SparseGPT and quantization in one pass (sparsegpt-quant.ts): against direct OBS with the explicit inverse Hessian
 * (no Cholesky, no lazy blocks) on small matrices, and on one stored weight.
 */
import { describe, expect, it } from 'vitest';
import { Hessian, layerSqnrDb, quantizeOne, type Grid } from './gptq';
import { sparseGpt, type SparsityPattern } from './sparsegpt';
import { sparseGptQuantize, sparseGptQuantizeWeight } from './sparsegpt-quant';
import type { GptqLayer } from './gptq-layers';
import { correlatedInputs, gauss, maxDiff, naiveSparseGpt, rng, rowGrid, setup, zerosOf } from './test-helpers';

const onGrid = (x: Float32Array, g: Grid) => x.every((v, i) => v === 0 || v === quantizeOne(v, g.scale[i]!, g.invScale[i]!, g.zeroPoint[i]!, g.qmin, g.qmax));

describe('sparseGptQuantize', () => {
  // (Against prune-then-quantize on random layers it is within about 1 dB either way; on real models see sparsegpt-quant-model.test.ts.)
  it('matches direct OBS with the explicit inverse Hessian: unstructured 50 % (blocks of 4 over 11 columns, one block), 2:4 and 4:8, at 4 and 3 bits', () => {
    const rows = 6;
    const cols = 11;
    for (const seed of [3, 11, 29]) {
      const { w, h } = setup(rows, cols, seed);
      for (const bits of [4, 3]) {
        const g = rowGrid(w, rows, cols, bits);
        const patterns: SparsityPattern[] = [
          { kind: 'unstructured', count: Math.floor(0.5 * rows * cols) },
          { kind: 'nm', n: 2, m: 4 },
          { kind: 'nm', n: 4, m: 8 },
        ];
        for (const pattern of patterns)
          for (const B of pattern.kind === 'nm' ? [pattern.m, 128] : [4, 128]) {
            const got = sparseGptQuantize(w, rows, cols, h, pattern, g, { blockSize: B });
            const want = naiveSparseGpt(w, rows, cols, h, pattern, Math.min(B, cols), g);
            expect(maxDiff(got, want), `seed ${seed}, ${bits} bits, ${JSON.stringify(pattern)}, B ${B}`).toBeLessThan(1e-5);
            expect(onGrid(got, g)).toBe(true);
            if (pattern.kind === 'unstructured') expect(zerosOf(got)).toBeGreaterThanOrEqual(pattern.count);
          }
      }
    }
  });

  it('on a stored Gemm weight (transB = 0, [K, N]): the layout, the grid from SparseGPT’s float result, the report', async () => {
    const K = 12;
    const N = 5;
    const r = rng(9);
    const values = Float32Array.from({ length: K * N }, () => gauss(r));
    const hs = new Hessian(K);
    hs.addRows(correlatedInputs(128, K, 10), 128);
    const layer: GptqLayer = { weight: 'w', input: 'x', node: 'n', op: 'MatMul', shape: [K, N], transB: false, hessians: [hs] };
    // Per output channel (axis 1 of [K, N]) symmetric 4-bit: the view the qdq emitter would use.
    const source = {
      view: { outer: K, axisLength: N, inner: 1 },
      spec: { bits: 4, symmetric: true, granularity: 'channel' as const, blockSize: 0, range: 'minmax' as const, percentile: 99.99 },
    };
    const magnitude = Float32Array.from(values);
    const { adjusted, report } = await sparseGptQuantizeWeight(values, layer, { kind: 'unstructured', count: 30 }, source, {}, magnitude);
    expect(report.joint).toBe(true);
    expect(zerosOf(adjusted)).toBeGreaterThanOrEqual(30);
    // The same computation by hand in W's [rows = N, cols = K] layout.
    const w = new Float32Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) w[n * K + k] = values[k * N + n]!;
    // The grid's ranges from SparseGPT's float result (the kept weights grow to make up for the pruned ones).
    const g = rowGrid(sparseGpt(w, N, K, hs.finish(), { kind: 'unstructured', count: 30 }), N, K, 4);
    const want = sparseGptQuantize(w, N, K, hs.finish(), { kind: 'unstructured', count: 30 }, g);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) expect(adjusted[k * N + n]).toBe(want[n * K + k]);
    expect(report.layerSqnrDb).toBeCloseTo(layerSqnrDb(w, want, N, K, hs.finish()), 6);
  });
});
