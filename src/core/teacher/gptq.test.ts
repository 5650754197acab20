import { describe, expect, it } from 'vitest';
import { accumulateConv, gptq, Hessian, layerSqnrDb, prepareHessian, quantizeOne, type Grid } from './gptq';
import { correlatedInputs, gauss, gaussJordanInverse, obsColumnStep, rng, rowGrid } from './test-helpers';

function rtn(w: Float32Array, g: Grid): Float32Array {
  return w.map((x, e) => quantizeOne(x, g.scale[e]!, g.invScale[e]!, g.zeroPoint[e]!, g.qmin, g.qmax));
}

/**
 * The naïve algorithm (Optimal Brain Quantization order, no Cholesky, no lazy blocks): quantize column i, spread
 * its error with the explicit inverse Hessian over the remaining columns, then remove i from H⁻¹ by Gaussian
 * elimination. O(n³) per column set; the reference GPTQ must match it.
 */
function naive(w: Float32Array, rows: number, cols: number, hRaw: Float64Array, grid: Grid, damp: number): Float32Array {
  const { h } = prepareHessian(hRaw, cols, damp);
  const n = cols;
  const inv = gaussJordanInverse(h, n);
  const W = Float64Array.from(w);
  for (let j = 0; j < n; j++) if (hRaw[j * n + j] === 0) for (let r = 0; r < rows; r++) W[r * n + j] = 0;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < n; i++)
    obsColumnStep(W, inv, out, rows, n, i, (e) => quantizeOne(W[e]!, grid.scale[e]!, grid.invScale[e]!, grid.zeroPoint[e]!, grid.qmin, grid.qmax));
  return out;
}

describe('GPTQ reference', () => {
  it('with a diagonal Hessian it is exactly round-to-nearest (2×3 weight)', () => {
    const w = Float32Array.of(0.3, -0.71, 0.52, 1.1, 0.05, -0.4);
    const h = new Float64Array(9);
    h[0] = 2;
    h[4] = 5;
    h[8] = 0.7;
    const g = rowGrid(w, 2, 3, 3);
    const q = gptq(w, 2, 3, h, g, { dampening: 0.01 });
    expect(Array.from(q)).toEqual(Array.from(rtn(w, g)));
    // Hand-checked: row 0 scale 0.71/3, codes round(0.3/s)=1, −3, round(0.52/s)=2.
    const s0 = g.scale[0]!;
    expect(q[0]).toBeCloseTo(s0, 6);
    expect(q[1]).toBeCloseTo(-3 * s0, 6);
    expect(q[2]).toBeCloseTo(2 * s0, 6);
  });

  it('matches the naïve O(n³) algorithm (lazy blocks of 4 over 11 columns, and one block)', () => {
    const rows = 5;
    const cols = 11;
    const r = rng(7);
    const w = Float32Array.from({ length: rows * cols }, () => gauss(r));
    const hs = new Hessian(cols);
    hs.addRows(correlatedInputs(64, cols, 3), 64);
    const h = hs.finish();
    const g = rowGrid(w, rows, cols, 4);
    const expected = naive(w, rows, cols, h, g, 0.01);
    for (const blockSize of [4, 128]) {
      const got = gptq(w, rows, cols, h, g, { dampening: 0.01, blockSize });
      let diff = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) diff++;
      expect(diff).toBe(0);
    }
  });

  it('handles dead columns (diag 0): they come out zero', () => {
    const w = Float32Array.of(0.5, 0.9, -0.2, 0.1, 0.3, -0.8);
    const h = Float64Array.of(2, 0, 0.5, 0, 0, 0, 0.5, 0, 1);
    const g = rowGrid(w, 2, 3, 4);
    const q = gptq(w, 2, 3, h, g);
    expect(q[1]).toBe(0);
    expect(q[4]).toBe(0);
  });

  it('layer-output error ≤ round-to-nearest on correlated inputs (4 and 3 bits, with and without act-order)', () => {
    const rows = 16;
    const cols = 48;
    const r = rng(11);
    const w = Float32Array.from({ length: rows * cols }, () => gauss(r));
    const hs = new Hessian(cols);
    hs.addRows(correlatedInputs(512, cols, 5), 512);
    const h = hs.finish();
    for (const bits of [4, 3]) {
      const g = rowGrid(w, rows, cols, bits);
      const base = layerSqnrDb(w, rtn(w, g), rows, cols, h);
      for (const actOrder of [false, true]) {
        const got = layerSqnrDb(w, gptq(w, rows, cols, h, g, { actOrder, blockSize: 16 }), rows, cols, h);
        expect(got).toBeGreaterThanOrEqual(base);
      }
    }
  });

  it('im2col Hessian equals a hand-built one (2×4 input, 1×2 kernel, stride 2, pad 1, 2 groups)', () => {
    // Input [1, 2, 1, 4]: channel 0 = 1 2 3 4, channel 1 = 5 6 7 8; pads [0,1,0,1] on width.
    const x = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const hs = [new Hessian(2), new Hessian(2)];
    accumulateConv(hs, x, [1, 2, 1, 4], { kernel: [1, 2], strides: [1, 2], dilations: [1, 1], pads: [0, 1, 0, 1], group: 2 });
    // Width 4 + 2 pad, kernel 2, stride 2 → 3 positions: patches (0,1) (2,3) (4,0) for channel 0.
    const patches0 = [
      [0, 1],
      [2, 3],
      [4, 0],
    ];
    const patches1 = [
      [0, 5],
      [6, 7],
      [8, 0],
    ];
    for (const [h, p] of [
      [hs[0]!, patches0],
      [hs[1]!, patches1],
    ] as const) {
      expect(h.rows).toBe(3);
      const want = [0, 0, 0, 0];
      for (const [a, b] of p) {
        want[0]! += a! * a!;
        want[1]! += a! * b!;
        want[3]! += b! * b!;
      }
      want[2] = want[1]!;
      const got = h.finish();
      want.forEach((v, i) => expect(got[i]).toBeCloseTo((2 * v) / 3, 12));
    }
  });
});

describe('recipe quantize.gptq', () => {
  it('validates enabled, dampening, blockSize and actOrder', async () => {
    const { validateQuantize } = await import('../recipe');
    expect(validateQuantize({ gptq: { enabled: true, dampening: 0.05, blockSize: 64, actOrder: true } }).gptq).toEqual({
      enabled: true,
      dampening: 0.05,
      blockSize: 64,
      actOrder: true,
    });
    expect(validateQuantize({}).gptq).toBeUndefined();
    expect(() => validateQuantize({ gptq: { enabled: 'yes' } })).toThrow(/quantize.gptq.enabled must be true or false/);
    expect(() => validateQuantize({ gptq: { enabled: true, dampening: 2 } })).toThrow(/dampening must be in \(0, 1\]/);
    expect(() => validateQuantize({ gptq: { enabled: true, blockSize: 0 } })).toThrow(/quantize.gptq.blockSize/);
    expect(() => validateQuantize({ gptq: { enabled: true, actOrder: 1 } })).toThrow(/actOrder must be true or false/);
  });
});
