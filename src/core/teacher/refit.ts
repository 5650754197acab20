/**
 * Least-squares recovery after structured channel pruning (channel-pruning reconstruction): when channels are cut
 * from a layer's input, the layer that reads them is refit so that, on the teacher's captured inputs X, its output
 * from the kept inputs reproduces the original output:
 *
 *   W' = argmin ‖X_k W' − X W‖² + λ‖W'‖²  =  (H_kk + λI)⁻¹ H_k· W      with H = XᵀX (im2col rows for Conv)
 *
 * H is the Hessian GPTQ already accumulates from the teacher (teacher/gptq-layers.ts `collectHessians`), so the
 * refit needs no other capture. The ridge-damped normal equations are solved by Cholesky (once per layer, every
 * output row at once). The layer-output SQNR on the calibration inputs before (kept columns as they were) and after
 * the refit is read from the same quadratic forms.
 */
import { cholesky } from './gptq';
import type { GptqLayer } from './gptq-layers';

export interface RefitOptions {
  /** The teacher's layers with their Hessians, keyed by weight name (collectHessians on the original model). */
  layers: Map<string, GptqLayer>;
  /** Ridge λ as a fraction of the mean diagonal of H_kk (default 1e-3). */
  dampening?: number;
}

export interface RefitLayerReport {
  weight: string;
  layer: string;
  op: string;
  /** Inputs (columns of the reduction axis, im2col for Conv) kept of those the layer had. */
  inputsBefore: number;
  inputsAfter: number;
  /** Layer-output SQNR on the calibration inputs (bias left out) with the kept weights as they were, and refit. */
  sqnrBeforeDb: number;
  sqnrAfterDb: number;
  /** Why the layer was left as pruned. */
  reason?: string;
}

export const DEFAULT_REFIT_DAMPENING = 1e-3;

/** Solves L Lᵀ x = b in place (L lower, n×n). */
function cholSolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
}

export interface RefitResult {
  /** Refit rows, [rows, keep.length] row-major. */
  weights: Float64Array;
  /** Σ over rows of ‖XW‖², ‖XW − X_k W_k‖² (pruned as is) and ‖XW − X_k W'‖² (refit), from H. */
  signal: number;
  noiseBefore: number;
  noiseAfter: number;
}

/**
 * The refit of `rows` output rows of length k (row-major `w`, the original full weights) onto the columns `keep`,
 * with H (k×k, symmetric) the layer-input Hessian. Dead inputs (zero diagonal) get a unit diagonal.
 */
export function refitRows(
  w: ArrayLike<number>,
  rows: number,
  k: number,
  h: Float64Array,
  keep: readonly number[],
  dampening = DEFAULT_REFIT_DAMPENING,
): RefitResult {
  const m = keep.length;
  const a = new Float64Array(m * m);
  let diag = 0;
  for (let i = 0; i < m; i++) diag += h[keep[i]! * k + keep[i]!]!;
  const lambda = (dampening * diag) / Math.max(1, m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) a[i * m + j] = h[keep[i]! * k + keep[j]!]!;
    if (a[i * m + i] === 0) a[i * m + i] = 1;
    a[i * m + i]! += lambda;
  }
  const l = cholesky(a, m);
  const weights = new Float64Array(rows * m);
  const hw = new Float64Array(k);
  const b = new Float64Array(m);
  let signal = 0;
  let noiseBefore = 0;
  let noiseAfter = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    // hw = H w_r; wHw = w_rᵀ H w_r.
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += h[i * k + j]! * w[o + j]!;
      hw[i] = s;
    }
    let wHw = 0;
    for (let i = 0; i < k; i++) wHw += w[o + i]! * hw[i]!;
    for (let i = 0; i < m; i++) b[i] = hw[keep[i]!]!;
    // Error of a kept-column vector v: vᵀH_kk v − 2 vᵀ(H w)_k + wᵀHw.
    const err = (v: (i: number) => number) => {
      let quad = 0;
      let cross = 0;
      for (let i = 0; i < m; i++) {
        const vi = v(i);
        if (vi === 0) continue;
        cross += vi * b[i]!;
        let s = 0;
        for (let j = 0; j < m; j++) s += h[keep[i]! * k + keep[j]!]! * v(j);
        quad += vi * s;
      }
      return Math.max(0, quad - 2 * cross + wHw);
    };
    noiseBefore += err((i) => w[o + keep[i]!]!);
    const x = Float64Array.from(b);
    cholSolve(l, m, x);
    weights.set(x, r * m);
    noiseAfter += err((i) => x[i]!);
    signal += wHw;
  }
  return { weights, signal, noiseBefore, noiseAfter };
}

export const sqnrDb = (signal: number, noise: number): number => (noise <= 0 ? Infinity : signal <= 0 ? -Infinity : 10 * Math.log10(signal / noise));

/** One cut weight as channel pruning reports it: its original values and dims, and the indices kept per cut axis. */
export interface CutWeight {
  name: string;
  original: Float32Array;
  dims: number[];
  cuts: { axis: number; keep: number[] }[];
}

/**
 * The refit of one consumer weight whose reduction axis was cut: the new values in the pruned layout, or why it is
 * left as pruned. Conv [O, C, k…] reduces over C·k… (group 1 only), Gemm transB [N, K] over axis 1, MatMul and
 * Gemm [K, N] over axis 0; a cut of the output axis too keeps only the kept rows.
 */
export function refitCut(cut: CutWeight, layer: GptqLayer | undefined, dampening?: number): { values?: Float32Array; report: RefitLayerReport } {
  const base = { weight: cut.name, layer: layer?.node ?? '', op: layer?.op ?? '', inputsBefore: 0, inputsAfter: 0, sqnrBeforeDb: NaN, sqnrAfterDb: NaN };
  if (cut.dims.length < 2) return { report: { ...base, reason: 'its inputs were not cut' } };
  if (!layer) return { report: { ...base, reason: 'no captured input (not a Conv/Gemm/MatMul with its own weight, or not reachable)' } };
  const d = cut.dims;
  let reduceAxis: number;
  let rowAxis: number;
  if (layer.op === 'Conv') {
    reduceAxis = 1;
    rowAxis = 0;
  } else if (layer.transB) {
    reduceAxis = 1;
    rowAxis = 0;
  } else {
    reduceAxis = 0;
    rowAxis = 1;
  }
  const reduce = cut.cuts.find((c) => c.axis === reduceAxis);
  if (!reduce) return { report: { ...base, reason: 'its inputs were not cut' } };
  if (layer.conv && layer.conv.group !== 1) return { report: { ...base, reason: 'grouped Conv: each output sees only its own group of channels' } };
  const rowsKeep = cut.cuts.find((c) => c.axis === rowAxis)?.keep ?? Array.from({ length: d[rowAxis]! }, (_, i) => i);
  const inner = d.slice(2).reduce((a, b) => a * b, 1); // Conv kernel positions (1 otherwise)
  const k = layer.op === 'Conv' ? d[1]! * inner : d[reduceAxis]!;
  const keep = layer.op === 'Conv' ? reduce.keep.flatMap((c) => Array.from({ length: inner }, (_, p) => c * inner + p)) : reduce.keep;
  const h = layer.hessians[0]!;
  if (h.k !== k) return { report: { ...base, reason: `the captured input has ${h.k} features, the weight ${k}` } };
  if (h.rows === 0) return { report: { ...base, reason: 'no captured input' } };
  // Rows of the original weight as [row, k].
  const rows = rowsKeep.length;
  const w = new Float64Array(rows * k);
  rowsKeep.forEach((r, i) => {
    for (let j = 0; j < k; j++) {
      const at = layer.op === 'Conv' || layer.transB ? r * k + j : j * d[1]! + r;
      w[i * k + j] = cut.original[at]!;
    }
  });
  const fit = refitRows(w, rows, k, h.finish(), keep, dampening);
  const m = keep.length;
  const measured = { inputsBefore: k, inputsAfter: m, sqnrBeforeDb: sqnrDb(fit.signal, fit.noiseBefore) };
  // The ridge can cost a little where pruning lost nothing (removed inputs that were always zero): keep the better.
  if (fit.noiseAfter >= fit.noiseBefore)
    return {
      report: {
        ...base,
        ...measured,
        sqnrAfterDb: measured.sqnrBeforeDb,
        reason: 'kept as pruned: the refit did not lower the error on the calibration inputs',
      },
    };
  const values = new Float32Array(rows * m);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < m; j++) {
      const at = layer.op === 'Conv' || layer.transB ? i * m + j : j * rows + i;
      values[at] = fit.weights[i * m + j]!;
    }
  return {
    values,
    report: {
      ...base,
      inputsBefore: k,
      inputsAfter: m,
      sqnrBeforeDb: sqnrDb(fit.signal, fit.noiseBefore),
      sqnrAfterDb: sqnrDb(fit.signal, fit.noiseAfter),
    },
  };
}
