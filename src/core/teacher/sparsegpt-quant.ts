/**
 * SparseGPT and quantization in one pass (Frantar & Alistarh, 2023, §"Joint sparsification & quantization"): one
 * sweep over the input columns chooses each block's mask by OBS saliency, sets the pruned weights to exactly 0 and
 * rounds the kept ones to the quantization grid, and feeds every column's error (the whole weight when pruned, the
 * rounding error when kept) to the columns not yet visited — so later kept weights make up for both the pruning and
 * the rounding of earlier ones. Prune-then-quantize instead fixes the mask and the compensating updates first, then
 * rounds the already-updated weights, whose rounding error nothing compensates for any more (unless GPTQ runs
 * again afterwards, on a mask it cannot change).
 *
 * The grid is the studio's own (scales and zero points from the original weights, in the layout the format's
 * emitter groups them, as GPTQ's in gptq-layers.ts), so the emitter, given the original weights as its range
 * source, writes exactly these codes.
 */
import { quantizeOne, type Grid } from './gptq';
import { emitterGrid, groupWithGrid, type GptqLayer, type GridSource } from './gptq-layers';
import {
  groupPattern,
  sparseGpt,
  sparseGptGroups,
  sparseGptWeight,
  type SparseGptOptions,
  type SparseGptTensorReport,
  type SparsityPattern,
} from './sparsegpt';

/**
 * The joint pass on W [rows, cols] (row-major) with H [cols, cols] and a per-element grid: pruned weights are 0,
 * kept weights are on the grid. (The column loop is SparseGPT's, sparsegpt.ts, with its grid switched on.)
 */
export function sparseGptQuantize(
  w: Float32Array,
  rows: number,
  cols: number,
  h: Float64Array,
  pattern: SparsityPattern,
  grid: Grid,
  options: Omit<SparseGptOptions, 'grid'> = {},
): Float32Array {
  return sparseGpt(w, rows, cols, h, pattern, { ...options, grid });
}

export interface SparseGptQuantTensorReport extends SparseGptTensorReport {
  /** Pruned and quantized in one pass; layerSqnrDb is of the written (pruned and rounded) weights against the original. */
  joint: true;
}

/**
 * The joint pass on one stored weight (Conv per group, Gemm, MatMul): the grid is computed from the original values
 * as the emitter will (same view and spec), `pattern` counts over the whole tensor (unstructured counts shared out
 * over the conv groups). `magnitude` (the same tensor pruned by magnitude, not rounded) only feeds the report.
 * Returns the pruned and quantized weights (dequantized) in the stored layout.
 */
export async function sparseGptQuantizeWeight(
  values: Float32Array,
  layer: GptqLayer,
  pattern: SparsityPattern,
  source: GridSource,
  options: Omit<SparseGptOptions, 'grid'> = {},
  magnitude?: Float32Array,
): Promise<{ adjusted: Float32Array; rangeFrom: Float32Array; report: SparseGptQuantTensorReport }> {
  // The grid's ranges from SparseGPT's float result (the kept weights grow as they make up for the pruned ones: ranges
  // from the original weights would clip them), as prune-then-quantize chooses them.
  const rangeFrom = sparseGptWeight(values, layer, pattern, options).adjusted;
  const stored = await emitterGrid(rangeFrom, source);
  const { adjusted, report } = sparseGptGroups(values, layer, options.dampening, magnitude, (g, index, h) => {
    const { w, grid } = groupWithGrid(values, stored, index, g);
    const out = sparseGptQuantize(w, index.rows, index.cols, h, groupPattern(pattern, index.groups, g), grid, options);
    // The magnitude mask, kept weights rounded to the same grid: what prune-then-round-to-nearest writes.
    const magnitudeWritten = (m: number, i: number) =>
      m === 0 ? 0 : quantizeOne(m, grid.scale[i]!, grid.invScale[i]!, grid.zeroPoint[i]!, grid.qmin, grid.qmax);
    return { w, out, magnitudeWritten };
  });
  return { adjusted, rangeFrom, report: { ...report, joint: true } };
}
