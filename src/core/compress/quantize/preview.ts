/**
 * What quantization does to one layer, for the studio's layer view: the original histogram with the
 * quantization grid and clipping range of one group (the whole tensor, or the channel/block with the widest
 * range), and the histogram of the error (original − dequantized).
 */
import { readTensorFloat32, type OpenedModel } from '../../onnx/open';
import type { QuantizeRecipe } from '../../recipe';
import type { KernelBackend } from '../../../kernels/types';
import { histogramOf } from '../../../kernels/ts/reference';
import { channelLayout } from '../../analysis/stats';
import { groupOf } from '../../../kernels/quant';
import { errorFromSums, quantizeWithBackend } from './emit/common';
import { planQuantization, specFor } from './plan';
import type { GroupView } from './math';

export interface LayerQuantPreview {
  tensorId: number;
  name: string;
  /** Why it is not quantized under this recipe, when it is not. */
  skipped?: string;
  bits: number;
  storedBits: number;
  format: string;
  granularity: string;
  groups: number;
  /** Original values: histogram over [lo, hi]. */
  histogram: { lo: number; hi: number; counts: number[] };
  /** The group shown: its index and the values its grid can represent (sorted). */
  shownGroup: number;
  gridLevels: number[];
  /** The range the shown group's grid covers: values outside are clipped. */
  clipRange: [number, number];
  /** Fraction of all values that were clipped (outside their group's range). */
  clippedFraction: number;
  errorHistogram: { lo: number; hi: number; counts: number[] };
  sqnrDb: number;
  relError: number;
  maxAbsError: number;
}

const MAX_LEVELS_SHOWN = 256;

export async function layerQuantPreview(
  opened: OpenedModel,
  tensorId: number,
  recipe: QuantizeRecipe,
  backend: KernelBackend,
  bins = 128,
): Promise<LayerQuantPreview> {
  const plan = planQuantization(opened, recipe).tensors.find((t) => t.entryId === tensorId);
  const entry = opened.catalog.entries[tensorId];
  if (!entry) throw new Error(`no tensor #${tensorId}`);
  const values = await readTensorFloat32(opened, entry);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values)
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const histogram = { lo, hi, counts: [...histogramOf(values, bins, lo, hi)] };
  const base = { tensorId, name: entry.name, histogram };
  if (!plan || plan.action !== 'quantize' || plan.format === 'dynamic' || plan.format === 'fp16') {
    return {
      ...base,
      skipped: plan?.reason ?? 'not a weight that is quantized',
      bits: 32,
      storedBits: 32,
      format: 'float',
      granularity: '-',
      groups: 0,
      shownGroup: 0,
      gridLevels: [],
      clipRange: [lo, hi],
      clippedFraction: 0,
      errorHistogram: { lo: 0, hi: 0, counts: [] },
      sqnrDb: Infinity,
      relError: 0,
      maxAbsError: 0,
    };
  }
  const spec = specFor(recipe, plan);
  const shape = plan.flattenTo2d ? [entry.shape[0]!, entry.shape.slice(1).reduce((a, b) => a * b, 1)] : entry.shape;
  // MatMulNBits quantizes W [K, N] as rows of N along K: show it the same way (blocks along axis 0 of [K, N]).
  const axis = plan.format === 'matmulnbits' ? (entry.consumers[0]?.node.attribute.some((a) => a.name === 'transB' && a.i === 1n) ? 1 : 0) : plan.axis;
  const view: GroupView =
    plan.granularity === 'tensor' || axis === undefined
      ? { outer: 1, axisLength: values.length, inner: 1 }
      : { ...channelLayout(shape, axis), axisLength: shape[axis]! };
  const q = await quantizeWithBackend(backend, values, view, {
    ...spec,
    granularity: view.outer === 1 && view.inner === 1 && plan.granularity !== 'tensor' && axis === undefined ? 'tensor' : spec.granularity,
  });
  // Show the group whose grid spans the widest range (the one per-tensor quantization would be sized for).
  let shownGroup = 0;
  let widest = -1;
  q.scales.forEach((s, g) => {
    if (s > widest) {
      widest = s;
      shownGroup = g;
    }
  });
  const scale = q.scales[shownGroup]!;
  const zp = q.zeroPoints[shownGroup]!;
  const levels: number[] = [];
  const step = Math.max(1, Math.ceil((q.qmax - q.qmin + 1) / MAX_LEVELS_SHOWN));
  for (let c = q.qmin; c <= q.qmax; c += step) levels.push(Math.fround((c - zp) * scale));
  const clipRange: [number, number] = [Math.fround((q.qmin - zp) * scale), Math.fround((q.qmax - zp) * scale)];
  // Clipped values: outside their own group's representable range.
  let clipped = 0;
  const { outer, axisLength: D, inner } = view;
  const grouping = { granularity: q.groups === 1 ? ('tensor' as const) : spec.granularity, blockSize: spec.blockSize };
  for (let o = 0; o < outer; o++)
    for (let d = 0; d < D; d++)
      for (let i = 0; i < inner; i++) {
        const idx = (o * D + d) * inner + i;
        const g = groupOf(view, grouping, o, d, i);
        const x = values[idx]!;
        const s = q.scales[g]!;
        const z = q.zeroPoints[g]!;
        if (x < (q.qmin - z) * s - s / 2 || x > (q.qmax - z) * s + s / 2) clipped++;
      }
  const errors = new Float32Array(values.length);
  let eMax = 0;
  for (let i = 0; i < values.length; i++) {
    errors[i] = values[i]! - q.dequantized[i]!;
    eMax = Math.max(eMax, Math.abs(errors[i]!));
  }
  const eHi = eMax || 1e-12;
  const err = errorFromSums(q.signal, q.noise);
  return {
    ...base,
    bits: plan.bits,
    storedBits: plan.storedBits,
    format: plan.format,
    granularity: plan.granularity === 'block' ? `block ${plan.blockSize}` : plan.granularity,
    groups: q.groups,
    shownGroup,
    gridLevels: levels,
    clipRange,
    clippedFraction: clipped / values.length,
    errorHistogram: { lo: -eHi, hi: eHi, counts: [...histogramOf(errors, bins, -eHi, eHi)] },
    ...err,
    maxAbsError: q.maxAbsError,
  };
}
