/**
 * Shared by the GPTQ and SparseGPT unit tests: seeded random layers with a correlated Hessian, a per-row grid, and
 * SparseGPT by direct OBS with the explicit inverse Hessian.
 */
import { gridOf, Hessian, prepareHessian, quantizeOne, type Grid } from './gptq';
import { blockShare, rowTargets, type SparsityPattern } from './sparsegpt';
import { codeRange, paramsForRange } from '../compress/quantize/math';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** Inputs [samples, k] mixed from 3 strong and k − 3 weak sources, with an offset: a strongly correlated Hessian. */
export function correlatedInputs(samples: number, k: number, seed: number): Float32Array {
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

export function hessianOf(x: Float32Array, samples: number, k: number): Float64Array {
  const hs = new Hessian(k);
  hs.addRows(x, samples);
  return hs.finish();
}

/** Per-row symmetric min-max grid. */
export function rowGrid(w: Float32Array, rows: number, cols: number, bits: number): Grid {
  const { qmin, qmax } = codeRange(bits, true);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let j = 0; j < cols; j++) m = Math.max(m, Math.abs(w[r * cols + j]!));
    scales[r] = paramsForRange(-m, m, bits, true).scale;
  }
  return gridOf({ outer: 1, axisLength: rows, inner: cols }, { granularity: 'channel', blockSize: 0 }, scales, new Int32Array(rows), qmin, qmax);
}

export function gaussJordanInverse(h: Float64Array, n: number): Float64Array {
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

/** Removes column i from H⁻¹ [n, n]: H⁻¹ ← H⁻¹ − H⁻¹[:, i] H⁻¹[i, :] / H⁻¹[i, i]. */
export function removeFromInverse(inv: Float64Array, n: number, i: number): void {
  const d = inv[i * n + i]!;
  const col = Float64Array.from({ length: n }, (_, k) => inv[k * n + i]!);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) inv[r * n + c]! -= (col[r]! * col[c]!) / d;
}

/**
 * One column of direct OBS on W [rows, n]: each row's W[r][i] becomes `target(e)` in `out`, its error is spread over
 * the later columns with the explicit H⁻¹, then column i leaves H⁻¹.
 */
export function obsColumnStep(W: Float64Array, inv: Float64Array, out: Float32Array, rows: number, n: number, i: number, target: (e: number) => number): void {
  const d = inv[i * n + i]!;
  for (let r = 0; r < rows; r++) {
    const e = r * n + i;
    const q = target(e);
    out[e] = q;
    const err = (W[e]! - q) / d;
    for (let j = i + 1; j < n; j++) W[r * n + j]! -= err * inv[i * n + j]!;
  }
  removeFromInverse(inv, n, i);
}

/**
 * Direct OBS, no Cholesky, no lazy blocks: the explicit inverse Hessian, column by column in order; each column's
 * pruned (or rounded) weights have their error spread over the later columns with the OBS update
 * δw = −(w − q) / [H⁻¹]ᵢᵢ · H⁻¹[i, :], then column i leaves H⁻¹ by Gaussian elimination. Masks are chosen as the
 * algorithm states: unstructured per block of B columns (that block's share of the count, smallest w² / [H⁻¹]ⱼⱼ over
 * the block, [H⁻¹]ⱼⱼ being column j's pivot when its turn comes), N:M when the sweep reaches each group.
 */
export function naiveSparseGpt(
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
    pivots[i] = tmp[i * n + i]!;
    removeFromInverse(tmp, n, i);
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
    obsColumnStep(W, inv, out, rows, n, i, (e) =>
      mask[e] ? 0 : grid ? quantizeOne(W[e]!, grid.scale[e]!, grid.invScale[e]!, grid.zeroPoint[e]!, grid.qmin, grid.qmax) : W[e]!,
    );
  }
  return out;
}

export function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
export const zerosOf = (a: Float32Array) => a.reduce((n, x) => n + (x === 0 ? 1 : 0), 0);

export function setup(rows: number, cols: number, seed: number) {
  const r = rng(seed);
  const w = Float32Array.from({ length: rows * cols }, () => gauss(r));
  const h = hessianOf(correlatedInputs(256, cols, seed + 1), 256, cols);
  return { w, h };
}
