import { describe, expect, it } from 'vitest';
import { gptq, gridOf, Hessian, layerSqnrDb, prepareHessian, quantizeOne, type Grid } from './gptq';
import { blockShare, rowTargets, sparseGpt, type SparsityPattern } from './sparsegpt';
import { codeRange, paramsForRange } from '../compress/quantize/math';
import { nmMaskOf } from '../../kernels/ts/prune-reference';
import { pruneSmallest } from '../compress/prune/masks';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** Inputs [samples, k] mixed from 3 strong and k − 3 weak sources, with an offset: a strongly correlated Hessian. */
function correlatedInputs(samples: number, k: number, seed: number): Float32Array {
  const r = rng(seed);
  const mix = Float32Array.from({ length: k * k }, () => gauss(r));
  const x = new Float32Array(samples * k);
  for (let s = 0; s < samples; s++) {
    const z = Float32Array.from({ length: k }, () => gauss(r));
    for (let i = 0; i < k; i++) {
      let v = 0;
      for (let j = 0; j < k; j++) v += mix[i * k + j]! * z[j]! * (j < 3 ? 4 : 0.3);
      x[s * k + i] = v + 0.5;
    }
  }
  return x;
}

function hessianOf(x: Float32Array, samples: number, k: number): Float64Array {
  const hs = new Hessian(k);
  hs.addRows(x, samples);
  return hs.finish();
}

/** Per-row symmetric min-max grid. */
function rowGrid(w: Float32Array, rows: number, cols: number, bits: number): Grid {
  const { qmin, qmax } = codeRange(bits, true);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let j = 0; j < cols; j++) m = Math.max(m, Math.abs(w[r * cols + j]!));
    scales[r] = paramsForRange(-m, m, bits, true).scale;
  }
  return gridOf({ outer: 1, axisLength: rows, inner: cols }, { granularity: 'channel', blockSize: 0 }, scales, new Int32Array(rows), qmin, qmax);
}

function gaussJordanInverse(h: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(h);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    const p = a[c * n + c]!;
    for (let j = 0; j < n; j++) {
      a[c * n + j]! /= p;
      inv[c * n + j]! /= p;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c]!;
      for (let j = 0; j < n; j++) {
        a[r * n + j]! -= f * a[c * n + j]!;
        inv[r * n + j]! -= f * inv[c * n + j]!;
      }
    }
  }
  return inv;
}

/**
 * Direct OBS, no Cholesky, no lazy blocks: the explicit inverse Hessian, column by column in order; each column's
 * pruned (or rounded) weights have their error spread over the later columns with the OBS update
 * δw = −(w − q) / [H⁻¹]ᵢᵢ · H⁻¹[i, :], then column i leaves H⁻¹ by Gaussian elimination. Masks are chosen as the
 * algorithm states: unstructured per block of B columns (that block's share of the count, smallest w² / [H⁻¹]ⱼⱼ over
 * the block, [H⁻¹]ⱼⱼ being column j's pivot when its turn comes), N:M when the sweep reaches each group.
 */
function naive(
  w: Float32Array,
  rows: number,
  cols: number,
  hRaw: Float64Array,
  pattern: SparsityPattern,
  B: number,
  grid?: Grid,
  scope: 'row' | 'block' = 'row',
): Float32Array {
  const n = cols;
  const inv = gaussJordanInverse(prepareHessian(hRaw, n, 0.01).h, n);
  // Every column's pivot [H⁻¹]ⱼⱼ at its turn (elimination on a copy: it does not depend on W).
  const pivots = new Float64Array(n);
  const tmp = Float64Array.from(inv);
  for (let i = 0; i < n; i++) {
    const d = tmp[i * n + i]!;
    pivots[i] = d;
    const col = Float64Array.from({ length: n }, (_, k) => tmp[k * n + i]!);
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) tmp[r * n + c]! -= (col[r]! * col[c]!) / d;
  }
  const W = Float64Array.from(w);
  const mask = new Uint8Array(rows * cols);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < n; i++) {
    if (pattern.kind === 'unstructured' && i % B === 0 && scope === 'row') {
      // Each row: its even share of the count, that share's part for this block, smallest saliency in the row's block.
      const i2 = Math.min(i + B, n);
      for (let r = 0; r < rows; r++) {
        const k = blockShare(rowTargets(new Int32Array(rows), n, pattern.count)[r]!, n, i, i2);
        const order = Array.from({ length: i2 - i }, (_, j) => i + j).sort(
          (a, b) => W[r * n + a]! ** 2 / pivots[a]! - W[r * n + b]! ** 2 / pivots[b]! || a - b,
        );
        for (const j of order.slice(0, k)) mask[r * n + j] = 1;
      }
    }
    if (pattern.kind === 'unstructured' && i % B === 0 && scope === 'block') {
      const i2 = Math.min(i + B, n);
      const k = blockShare(pattern.count, n, i, i2);
      const cand: [number, number][] = [];
      for (let r = 0; r < rows; r++) for (let j = i; j < i2; j++) cand.push([W[r * n + j]! ** 2 / pivots[j]!, r * n + j]);
      // Same tie order as the block's element order (row, then column).
      cand.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      for (const [, e] of cand.slice(0, k)) mask[e] = 1;
    }
    if (pattern.kind === 'nm' && i % pattern.m === 0) {
      const size = Math.min(pattern.m, n - i);
      const keep = size === pattern.m ? pattern.n : Math.ceil((pattern.n * size) / pattern.m);
      for (let r = 0; r < rows; r++) {
        const order = Array.from({ length: size }, (_, j) => j).sort(
          (a, b) => W[r * n + i + b]! ** 2 / pivots[i + b]! - W[r * n + i + a]! ** 2 / pivots[i + a]! || a - b,
        );
        for (const j of order.slice(keep)) mask[r * n + i + j] = 1;
      }
    }
    const d = inv[i * n + i]!;
    for (let r = 0; r < rows; r++) {
      const e = r * n + i;
      const q = mask[e] ? 0 : grid ? quantizeOne(W[e]!, grid.scale[e]!, grid.invScale[e]!, grid.zeroPoint[e]!, grid.qmin, grid.qmax) : W[e]!;
      out[e] = q;
      const err = (W[e]! - q) / d;
      for (let j = i + 1; j < n; j++) W[r * n + j]! -= err * inv[i * n + j]!;
    }
    const col = Float64Array.from({ length: n }, (_, k) => inv[k * n + i]!);
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) inv[r * n + c]! -= (col[r]! * col[c]!) / d;
  }
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
const zerosOf = (a: Float32Array) => a.reduce((n, x) => n + (x === 0 ? 1 : 0), 0);

function setup(rows: number, cols: number, seed: number) {
  const r = rng(seed);
  const w = Float32Array.from({ length: rows * cols }, () => gauss(r));
  const h = hessianOf(correlatedInputs(256, cols, seed + 1), 256, cols);
  return { w, h };
}

describe('SparseGPT reference', () => {
  it('matches direct OBS with the explicit inverse Hessian (unstructured 50 %, per row and per block masks, blocks of 4 over 11 columns and one block)', () => {
    const rows = 6;
    const cols = 11;
    const { w, h } = setup(rows, cols, 7);
    const pattern: SparsityPattern = { kind: 'unstructured', count: Math.floor(0.5 * rows * cols) };
    for (const maskScope of ['row', 'block'] as const)
      for (const B of [4, 128]) {
        const got = sparseGpt(w, rows, cols, h, pattern, { blockSize: B, maskScope });
        const want = naive(w, rows, cols, h, pattern, B, undefined, maskScope);
        // Same mask, same compensated weights.
        expect(Array.from(got, (x) => x === 0)).toEqual(Array.from(want, (x) => x === 0));
        expect(maxDiff(got, want)).toBeLessThan(1e-5);
      }
  });

  it('matches direct OBS for 2:4 and 4:8 (with a tail group), and jointly quantized at 4 bits', () => {
    const rows = 5;
    const cols = 18;
    const { w, h } = setup(rows, cols, 21);
    const g = rowGrid(w, rows, cols, 4);
    for (const pattern of [
      { kind: 'nm', n: 2, m: 4 },
      { kind: 'nm', n: 4, m: 8 },
      { kind: 'unstructured', count: 40 },
    ] as SparsityPattern[]) {
      for (const B of [8, 128]) {
        const got = sparseGpt(w, rows, cols, h, pattern, { blockSize: B });
        expect(maxDiff(got, naive(w, rows, cols, h, pattern, B))).toBeLessThan(1e-5);
        const joint = sparseGpt(w, rows, cols, h, pattern, { blockSize: B, grid: g });
        const wantJoint = naive(w, rows, cols, h, pattern, B, g);
        expect(maxDiff(joint, wantJoint)).toBeLessThan(1e-5);
      }
    }
  });

  it('prunes exactly the requested count (unstructured) and exactly N of every M along the inputs', () => {
    const rows = 7;
    const cols = 40;
    const { w, h } = setup(rows, cols, 3);
    for (const s of [0.1, 0.5, 0.73, 0.9]) {
      const count = Math.floor(s * rows * cols);
      for (const B of [7, 16, 128]) {
        expect(zerosOf(sparseGpt(w, rows, cols, h, { kind: 'unstructured', count }, { blockSize: B, maskScope: 'block' }))).toBe(count);
        // Per row: the count exactly, each row within one weight of the others.
        const got = sparseGpt(w, rows, cols, h, { kind: 'unstructured', count }, { blockSize: B });
        expect(zerosOf(got)).toBe(count);
        const perRow = Array.from({ length: rows }, (_, r) => zerosOf(got.subarray(r * cols, (r + 1) * cols)));
        expect(Math.max(...perRow) - Math.min(...perRow)).toBeLessThanOrEqual(1);
      }
    }
    for (const [n, m] of [
      [2, 4],
      [4, 8],
    ] as const) {
      const got = sparseGpt(w, rows, cols, h, { kind: 'nm', n, m }, { blockSize: 12 });
      for (let r = 0; r < rows; r++)
        for (let g = 0; g < cols; g += m) {
          let kept = 0;
          for (let j = g; j < g + m; j++) if (got[r * cols + j] !== 0) kept++;
          expect(kept).toBe(n);
        }
    }
  });

  it('row targets: an even share, rows already holding more zeros keep them and the others share the rest', () => {
    expect(Array.from(rowTargets(new Int32Array(4), 10, 22))).toEqual([6, 6, 5, 5]);
    expect(Array.from(rowTargets(Int32Array.of(9, 0, 0, 1), 10, 20))).toEqual([9, 4, 4, 3]);
    // More zeros than the count: nothing more is pruned.
    expect(Array.from(rowTargets(Int32Array.of(8, 7, 0, 0), 10, 10))).toEqual([8, 7, 0, 0]);
    expect(Array.from(rowTargets(Int32Array.of(2, 0), 4, 8))).toEqual([4, 4]);
  });

  it('keeps weights that are zero already at zero (filterbank-like rows), unstructured and 2:4', () => {
    const rows = 6;
    const cols = 16;
    const { w, h } = setup(rows, cols, 17);
    for (let c = 0; c < 12; c++) w[c] = 0; // row 0: 12 of 16 zero
    w[cols + 3] = 0;
    for (let c = 10; c < 16; c++) w[2 * cols + c] = 0; // row 2: 6 zeros at the end (the last block)
    for (const pattern of [
      { kind: 'unstructured', count: 48 },
      { kind: 'nm', n: 2, m: 4 },
    ] as SparsityPattern[]) {
      const got = sparseGpt(w, rows, cols, h, pattern);
      for (let e = 0; e < w.length; e++) if (w[e] === 0) expect(got[e], `${pattern.kind} ${e}`).toBe(0);
      if (pattern.kind === 'unstructured') expect(zerosOf(got)).toBe(48);
    }
    // Per row exactly its target, whatever block its zeros fall in (blocks of 4).
    const zeros = Int32Array.from({ length: rows }, (_, r) => zerosOf(w.subarray(r * cols, (r + 1) * cols)));
    const target = rowTargets(zeros, cols, 48);
    const got = sparseGpt(w, rows, cols, h, { kind: 'unstructured', count: 48 }, { blockSize: 4 });
    for (let r = 0; r < rows; r++) expect(zerosOf(got.subarray(r * cols, (r + 1) * cols)), `row ${r}`).toBe(target[r]);
  });

  it('with nothing to prune it leaves the weights unchanged, and with a grid it is GPTQ', () => {
    const rows = 6;
    const cols = 20;
    const { w, h } = setup(rows, cols, 5);
    expect(Array.from(sparseGpt(w, rows, cols, h, { kind: 'unstructured', count: 0 }))).toEqual(Array.from(w));
    const g = rowGrid(w, rows, cols, 4);
    for (const blockSize of [8, 128]) {
      expect(Array.from(sparseGpt(w, rows, cols, h, { kind: 'unstructured', count: 0 }, { grid: g, blockSize }))).toEqual(
        Array.from(gptq(w, rows, cols, h, g, { blockSize })),
      );
    }
  });

  it('with a diagonal Hessian it is magnitude pruning weighted by H_jj (no compensation)', () => {
    const rows = 4;
    const cols = 10;
    const r = rng(9);
    const w = Float32Array.from({ length: rows * cols }, () => gauss(r));
    const h = new Float64Array(cols * cols);
    const diag = Array.from({ length: cols }, () => 0.1 + 3 * r());
    diag.forEach((d, j) => (h[j * cols + j] = d));
    const count = 20;
    const got = sparseGpt(w, rows, cols, h, { kind: 'unstructured', count }, { blockSize: 128, maskScope: 'block' });
    // Expected: the `count` smallest w² · H_jj zeroed (damping shifts every diagonal term alike: nearly the same order), the rest untouched.
    const lambda = (0.01 * diag.reduce((a, b) => a + b, 0)) / cols;
    const weighted = Float32Array.from(w, (x, e) => Math.sqrt(x * x * (diag[e % cols]! + lambda)));
    pruneSmallest(weighted, count);
    const want = w.map((x, e) => (weighted[e] === 0 ? 0 : x));
    expect(Array.from(got)).toEqual(Array.from(want));
    // Per row (the default): the same within each row (5 of 10 each).
    const rowsGot = sparseGpt(w, rows, cols, h, { kind: 'unstructured', count });
    for (let r = 0; r < rows; r++) {
      const wr = Float32Array.from(w.subarray(r * cols, (r + 1) * cols), (x, j) => Math.sqrt(x * x * (diag[j]! + lambda)));
      pruneSmallest(wr, count / rows);
      expect(Array.from(rowsGot.subarray(r * cols, (r + 1) * cols)), `row ${r}`).toEqual(
        Array.from(w.subarray(r * cols, (r + 1) * cols), (x, j) => (wr[j] === 0 ? 0 : x)),
      );
    }
    // 2:4 with H = I is exactly magnitude 2:4 (the studio's kernel).
    const eye = new Float64Array(cols * cols);
    for (let j = 0; j < cols; j++) eye[j * cols + j] = 1;
    const nm = sparseGpt(w, rows, cols, eye, { kind: 'nm', n: 2, m: 4 });
    expect(Array.from(nm)).toEqual(Array.from(nmMaskOf(w, { lines: rows, length: cols, lineStride: cols, kStride: 1 }, 2, 4).values));
  });

  it('reconstruction error ‖WX − ŴX‖² is below magnitude pruning’s on correlated inputs (50 %, 2:4, 4:8)', () => {
    const rows = 24;
    const cols = 64;
    const { w, h } = setup(rows, cols, 13);
    const magnitude = Float32Array.from(w);
    pruneSmallest(magnitude, rows * cols * 0.5);
    const cases: [SparsityPattern, Float32Array][] = [
      [{ kind: 'unstructured', count: rows * cols * 0.5 }, magnitude],
      [{ kind: 'nm', n: 2, m: 4 }, nmMaskOf(w, { lines: rows, length: cols, lineStride: cols, kStride: 1 }, 2, 4).values],
      [{ kind: 'nm', n: 4, m: 8 }, nmMaskOf(w, { lines: rows, length: cols, lineStride: cols, kStride: 1 }, 4, 8).values],
    ];
    for (const [pattern, mag] of cases) {
      const s = layerSqnrDb(w, sparseGpt(w, rows, cols, h, pattern, { blockSize: 16 }), rows, cols, h);
      const m = layerSqnrDb(w, mag, rows, cols, h);
      expect(s, JSON.stringify(pattern)).toBeGreaterThan(m + 3);
    }
  });
});
