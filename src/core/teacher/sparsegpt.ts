/**
 * SparseGPT (Frantar & Alistarh, 2023) for pruning, TypeScript reference.
 *
 * Same setting as GPTQ (gptq.ts): a layer y = W·x, W [rows = outputs, cols = inputs], H = 2·E[x·xᵀ] from the
 * teacher's layer inputs (damped), U the upper Cholesky factor of H⁻¹. Columns are swept left to right in blocks;
 * each block's mask is chosen by the OBS saliency w² / U_jj² (the weight's squared value over the diagonal of the
 * inverse Hessian of the columns still to come — the output error removing it costs), then every column's error
 * (pruned: the whole weight; kept: nothing, or its rounding error when a grid is given) is fed back to the columns
 * not yet visited exactly as GPTQ does, so the kept weights compensate for the pruned ones.
 *
 *   unstructured — per block of columns, each row prunes its share of the layer's target count (smallest saliency
 *                  within the row's block: the mask adapts to where pruning is cheap as the sweep goes, every output
 *                  channel keeps the same share of weights, and the layer ends with exactly the requested count);
 *   N:M          — in every group of M consecutive inputs of a row, the M − N of smallest saliency are pruned,
 *                  chosen when the sweep reaches the group (with the updates of the columns before it).
 *
 * With a grid the same pass quantizes the kept weights (joint sparsify + quantize, as the original algorithm):
 * pruned weights are exactly 0, kept weights are on the grid.
 */
import { errorForm, lazyUpdate, obsSetup, quadraticForm, quantizeOne, type Grid } from './gptq';
import { scatterGroup, storedIndex, type GptqLayer, type StoredIndex } from './gptq-layers';

/** `count` weights of the layer pruned anywhere, or N kept in every M along the input axis (the tail group keeps ⌈N·size/M⌉). */
export type SparsityPattern = { kind: 'unstructured'; count: number } | { kind: 'nm'; n: number; m: number };

export interface SparseGptOptions {
  /** λ = dampening · mean(diag H) added to the diagonal. Default 0.01. */
  dampening?: number;
  /** Columns per lazy block, also the unstructured mask's block. Default 128 (rounded up to a multiple of M for N:M). */
  blockSize?: number;
  /** Quantize the kept weights in the same pass (joint sparsify + quantize). */
  grid?: Grid;
  /**
   * Unstructured: 'row' (default) — every row (output channel) loses its share of the count, spread evenly over the
   * blocks, the weights within a row's block chosen by saliency; 'block' — one saliency threshold over all rows of a
   * block (rows can lose very different shares; on the openWakeWord embedding model it kept 6 dB less than 'row').
   */
  maskScope?: 'row' | 'block';
}

/** Indices of the `k` smallest of `values` (ties: lower index first). */
function smallest(values: Float64Array, k: number): Int32Array {
  const idx = Int32Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[a]! - values[b]! || a - b);
  return idx.subarray(0, k);
}

/** An even share of `count` for the part [i1, i2) of `cols` (cumulative rounding: the shares add up to `count`). */
export function blockShare(count: number, cols: number, i1: number, i2: number): number {
  return Math.round((count * i2) / cols) - Math.round((count * i1) / cols);
}

/**
 * How many weights each row loses so that the layer loses `count`: every row the same share t, except that a row
 * keeps all the zeros it has already (max(zeros, t), t as large as the count allows; the remainder one each to the
 * first rows at t). A filterbank row that is mostly zeros loses nothing more while the others share the rest.
 */
export function rowTargets(zeros: Int32Array, cols: number, count: number): Int32Array {
  const sum = (t: number) => zeros.reduce((a, z) => a + Math.max(z, t), 0);
  let lo = 0;
  let hi = cols;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(mid) <= count) lo = mid;
    else hi = mid - 1;
  }
  const out = Int32Array.from(zeros, (z) => Math.max(z, lo));
  let rest = count - sum(lo);
  for (let r = 0; r < out.length && rest > 0; r++)
    if (out[r]! === lo && lo < cols) {
      out[r]!++;
      rest--;
    }
  return out;
}

/**
 * SparseGPT on W [rows, cols] (row-major) with H [cols, cols]. Returns the pruned (and, with a grid, quantized)
 * weights in W's layout. Dead columns (no input reaches them) are pruned first (saliency 0); their kept weights stay as they were.
 */
export function sparseGpt(
  w: Float32Array,
  rows: number,
  cols: number,
  hRaw: Float64Array,
  pattern: SparsityPattern,
  options: SparseGptOptions = {},
): Float32Array {
  const m = pattern.kind === 'nm' ? pattern.m : 1;
  const B = Math.ceil(Math.max(1, options.blockSize ?? 128) / m) * m;
  const { W, L, dead } = obsSetup(w, rows, cols, hRaw, options.dampening ?? 0.01);
  const grid = options.grid;
  const out = new Float32Array(rows * cols);
  const err = new Float64Array(rows * B);
  const pruned = new Uint8Array(rows * B);
  // U_jj² = [H⁻¹]_jj of the columns j… still to come: the OBS denominator.
  const pivot = Float64Array.from({ length: cols }, (_, j) => L[j * cols + j]! ** 2);
  const count = pattern.kind === 'unstructured' ? Math.min(rows * cols, Math.max(0, Math.floor(pattern.count))) : 0;
  // Weights that are zero already (a filterbank's, an earlier mask's) stay zero and count towards the target.
  const blockScope = options.maskScope === 'block';
  const rowZeros = new Int32Array(rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (w[r * cols + c] === 0) rowZeros[r]!++;
  const rowCount = rowTargets(rowZeros, cols, count);
  const zerosLeft = Int32Array.from(rowZeros);
  const done = new Int32Array(rows);
  for (let i1 = 0; i1 < cols; i1 += B) {
    const i2 = Math.min(i1 + B, cols);
    const bw = i2 - i1;
    pruned.fill(0);
    if (pattern.kind === 'unstructured') {
      const saliency = new Float64Array(rows * bw);
      const zeros = new Int32Array(rows);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < bw; c++) {
          const e = r * cols + i1 + c;
          if (w[e] === 0) zeros[r]!++;
          saliency[r * bw + c] = w[e] === 0 ? -1 : W[e]! ** 2 / pivot[i1 + c]!;
        }
      if (blockScope) {
        // The block's share of the count over all its rows (what earlier blocks took beyond theirs is made up here).
        const z = zeros.reduce((a, b) => a + b, 0);
        const k = Math.min(rows * bw, Math.max(z, Math.round((count * i2) / cols) - done[0]!));
        for (const e of smallest(saliency, k)) pruned[Math.floor(e / bw) * B + (e % bw)] = 1;
        done[0]! += k;
      } else {
        // Every row its share of the count, spread evenly over the blocks, leaving room for the zeros of later blocks.
        for (let r = 0; r < rows; r++) {
          zerosLeft[r]! -= zeros[r]!;
          const even = Math.min(Math.round((rowCount[r]! * i2) / cols) - done[r]!, rowCount[r]! - done[r]! - zerosLeft[r]!);
          const k = Math.min(bw, Math.max(zeros[r]!, even));
          for (const c of smallest(saliency.slice(r * bw, (r + 1) * bw), k)) pruned[r * B + c] = 1;
          done[r]! += k;
        }
      }
    }
    for (let i = i1; i < i2; i++) {
      if (pattern.kind === 'nm' && (i - i1) % m === 0) {
        // This group's mask, from the weights as the sweep has updated them so far.
        const size = Math.min(m, cols - i);
        const keep = size === m ? pattern.n : Math.ceil((pattern.n * size) / m);
        const s = new Float64Array(size);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < size; j++) s[j] = w[r * cols + i + j] === 0 ? Infinity : -(W[r * cols + i + j]! ** 2 / pivot[i + j]!);
          // Keep the `keep` largest saliencies (the smallest negatives), lower index first on ties; prune the rest
          // (weights zero already stay pruned).
          const kept = smallest(s, keep);
          for (let j = 0; j < size; j++) pruned[r * B + (i - i1) + j] = 1;
          for (const j of kept) if (w[r * cols + i + j] !== 0) pruned[r * B + (i - i1) + j] = 0;
        }
      }
      const d = L[i * cols + i]!;
      for (let r = 0; r < rows; r++) {
        const row = r * cols;
        const e = row + i;
        const wv = W[e]!;
        const q = pruned[r * B + (i - i1)] ? 0 : grid ? quantizeOne(wv, grid.scale[e]!, grid.invScale[e]!, grid.zeroPoint[e]!, grid.qmin, grid.qmax) : wv;
        // A kept weight of a dead column (no calibration input reaches it; W holds 0 there) keeps its own value.
        out[e] =
          dead[i] && q === 0 && !pruned[r * B + (i - i1)]
            ? grid
              ? quantizeOne(w[e]!, grid.scale[e]!, grid.invScale[e]!, grid.zeroPoint[e]!, grid.qmin, grid.qmax)
              : w[e]!
            : q;
        const e1 = (wv - q) / d;
        err[r * B + (i - i1)] = e1;
        if (e1 !== 0) for (let j = i + 1; j < i2; j++) W[row + j]! -= e1 * L[j * cols + i]!;
      }
    }
    lazyUpdate(W, err, L, rows, cols, i1, i2, B);
  }
  return out;
}

export interface SparseGptTensorReport {
  /** Layer-output SQNR on the calibration inputs (bias left out) of SparseGPT's weights, and of the magnitude mask when given. */
  layerSqnrDb: number;
  magnitudeLayerSqnrDb?: number;
  dampening: number;
}

/** Conv group g's part of `pattern` (an unstructured count is shared out over the groups; N:M applies as is). */
export function groupPattern(pattern: SparsityPattern, groups: number, g: number): SparsityPattern {
  return pattern.kind === 'unstructured' ? { kind: 'unstructured', count: blockShare(pattern.count, groups, g, g + 1) } : pattern;
}

/**
 * A SparseGPT pass over each conv group of a stored weight: `solveGroup` gets the group's H and returns its W and result
 * [rows, cols] (and what the magnitude-pruned value m is written as); the results go back in the stored layout and
 * the layer-output SQNR (of the result, and of `magnitude` when given) is summed over the groups.
 */
export function sparseGptGroups(
  values: Float32Array,
  layer: GptqLayer,
  dampening: number | undefined,
  magnitude: Float32Array | undefined,
  solveGroup: (g: number, index: StoredIndex, h: Float64Array) => { w: Float32Array; out: Float32Array; magnitudeWritten: (m: number, i: number) => number },
): { adjusted: Float32Array; report: SparseGptTensorReport } {
  const index = storedIndex(layer);
  const { groups, rows, cols, at } = index;
  const adjusted = new Float32Array(values.length);
  let signal = 0;
  let noise = 0;
  let noiseM = 0;
  for (let g = 0; g < groups; g++) {
    const h = layer.hessians[g]!.finish();
    const { w, out, magnitudeWritten } = solveGroup(g, index, h);
    signal += quadraticForm(w, rows, cols, h);
    noise += errorForm(w, out, rows, cols, h);
    if (magnitude) {
      const d = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          d[i] = w[i]! - magnitudeWritten(magnitude[at(g, r, c)]!, i);
        }
      noiseM += quadraticForm(d, rows, cols, h);
    }
    scatterGroup(adjusted, out, index, g);
  }
  const db = (n: number) => (n <= 0 ? Infinity : 10 * Math.log10(signal / n));
  return { adjusted, report: { layerSqnrDb: db(noise), ...(magnitude ? { magnitudeLayerSqnrDb: db(noiseM) } : {}), dampening: dampening ?? 0.01 } };
}

/**
 * SparseGPT on one stored weight (Conv per group, Gemm, MatMul) with the layer's Hessians: `pattern` counts over the
 * whole tensor (unstructured counts are shared out over the conv groups). `magnitude`, the same tensor pruned by
 * magnitude, only feeds the report. Returns the weights in the stored layout.
 */
export function sparseGptWeight(
  values: Float32Array,
  layer: GptqLayer,
  pattern: SparsityPattern,
  options: Omit<SparseGptOptions, 'grid'> = {},
  magnitude?: Float32Array,
): { adjusted: Float32Array; report: SparseGptTensorReport } {
  return sparseGptGroups(values, layer, options.dampening, magnitude, (g, index, h) => {
    const { groups, rows, cols, at } = index;
    const w = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = values[at(g, r, c)]!;
    return { w, out: sparseGpt(w, rows, cols, h, groupPattern(pattern, groups, g), options), magnitudeWritten: (m) => m };
  });
}
