/**
 * Pruning kernels (../prune.ts) on WebGPU. Shaders: ./shaders/prune.wgsl.ts; channel norms run on the channelStats
 * strategies with a norm accumulator (./shaders/channel-stats.wgsl.ts, backend.ts channelNormsJob).
 *
 * - maskBelow: one invocation per 4 elements, |x| bits against the bits of the smallest float32 >= threshold
 *   (exact for every float64 threshold: NaN or <= 0 masks nothing, +Inf masks every finite value). Works in
 *   windows of ≤ chunk elements inside each buffer segment (one output buffer of that size, read back per window);
 *   the zero count is a GPU atomic.
 * - nmMask: one invocation per group. The tensor is copied window by window (C elements of the global index
 *   space, assembled from however many segments overlap it) into a ring of two buffers; window w's dispatch handles
 *   the groups that start in it, reading and clearing in windows w and w + 1, so a run of M may cross a window or
 *   segment boundary as long as (M − 1)·kStride <= C (C grows up to one storage binding to make that hold). Then the
 *   window's zeros are counted and it is read back. The host reference (download + nmMaskOf: the same answer,
 *   only slower) is used when M > 32, when (M − 1)·kStride exceeds one storage binding, or when the view is neither
 *   row-like (lineStride >= (length − 1)·kStride + 1) nor column-like (kStride >= (lines − 1)·lineStride + 1):
 *   such views may overlap themselves, and the reference's sequential order then matters.
 * - channelNorms: channelStats' grids (runs / columns / serial by layout) with range-split f32 accumulators,
 *   finished in float64 on the host.
 */
import type { MaskedValues, NMView, PruneKernels } from '../prune';
import { nmMaskOf } from '../ts/prune-reference';
import type { ChannelLayout, DeviceTensor } from '../types';
import type { QuantGpuContext, Segment } from './quant-gpu';
import { WG } from './shaders/common.wgsl';
import { MASK_BELOW_WGSL, NM_MASK_WGSL, NM_MAX_M } from './shaders/prune.wgsl';

const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const STORAGE = 0x0080;

export interface PruneGpuContext extends QuantGpuContext {
  /** channelNorms (unscoped; call inside scoped). */
  channelNorms(t: DeviceTensor, layout: ChannelLayout, norm: 'l1' | 'l2'): Promise<Float64Array>;
}

/** Prepared GPU work of a maskBelow / nmMask call: per window, its commands and the part to read back. */
export interface PrunePlan {
  /** Commands that must run once before the first window (clearing the zero counter, the first window copy). */
  prologue(encoder: GPUCommandEncoder): void;
  windows: { at: number; len: number; encode(encoder: GPUCommandEncoder): void; out: GPUBuffer }[];
  count: GPUBuffer;
  destroy(): void;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/**
 * Bits b such that, for every non-NaN float32 x, |x| < threshold ⇔ (bits(x) & 0x7fffffff) < b: the bits of the
 * smallest float32 >= threshold (no float32 lies in [threshold, that value)). 0 (nothing masked) for NaN or
 * threshold <= 0; 0x7f800000 (+Inf) for thresholds above the largest float32. NaN bits exceed 0x7f800000, so a
 * NaN is never masked, as Math.abs(NaN) < threshold is false.
 */
export function thresholdBits(threshold: number): number {
  if (!(threshold > 0)) return 0;
  f32[0] = threshold;
  let b = u32[0]!;
  if (f32[0]! < threshold) b += 1; // next float32 up (0x7f7fffff + 1 = +Inf)
  return b;
}

/** Elements per window: the context's chunk size, a multiple of 4, at least 1024 and at most one storage binding. */
function chunkElements(ctx: QuantGpuContext): number {
  return Math.max(1024, Math.floor(Math.min(ctx.chunkBytes, bindingLimitBytes(ctx)) / 16) * 4);
}

function bindingLimitBytes(ctx: QuantGpuContext): number {
  return Math.min(ctx.device.limits.maxStorageBufferBindingSize, ctx.device.limits.maxBufferSize);
}

export async function planMaskBelow(ctx: QuantGpuContext, t: DeviceTensor, threshold: number): Promise<PrunePlan> {
  const pipeline = await ctx.pipelineFor(MASK_BELOW_WGSL);
  const chunk = chunkElements(ctx);
  const thr = thresholdBits(threshold);
  const segments = ctx.segmentsOf(t);
  const maxLen = Math.min(chunk, Math.max(4, ...segments.map((s) => s.length)));
  const temps: GPUBuffer[] = [];
  const count = ctx.buffer(16, STORAGE | COPY_SRC | COPY_DST, 'zero count');
  const out = ctx.buffer(ceilDiv(maxLen, 4) * 16, STORAGE | COPY_SRC, 'masked');
  temps.push(count, out);
  const windows: PrunePlan['windows'] = [];
  for (const s of segments) {
    for (let off = 0; off < s.length; off += chunk) {
      const len = Math.min(chunk, s.length - off);
      const wg = ceilDiv(ceilDiv(len, 4), WG);
      const u = ctx.uniform([off / 4, len, wg, thr, 1, 0, 0, 0]);
      temps.push(u);
      const group = ctx.bind(pipeline, [s.buffer, count, u, out]);
      windows.push({ at: s.start + off, len, out, encode: (e) => ctx.dispatch(e, pipeline, group, wg) });
    }
  }
  return { prologue: (e) => e.clearBuffer(count), windows, count, destroy: () => temps.forEach((b) => b.destroy()) };
}

function checkNm(n: number, view: NMView, nn: number, m: number): void {
  const { lines, length, lineStride, kStride } = view;
  if (![lines, length, lineStride, kStride].every((v) => Number.isInteger(v) && v >= 0))
    throw new Error(`nmMask: view fields must be non-negative integers, got ${JSON.stringify(view)}`);
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(nn) || nn < 0) throw new Error(`nmMask: need integers m >= 1 and n >= 0, got ${nn}:${m}`);
  if (lines > 0 && length > 0 && (lines - 1) * lineStride + (length - 1) * kStride >= n)
    throw new Error(`nmMask: view ${JSON.stringify(view)} reaches past ${n} elements`);
  if (n >= 2 ** 32) throw new Error('nmMask: tensors of 2^32 elements or more are not supported on WebGPU');
}

/**
 * How the GPU orders groups so that their first elements increase with the group index (and groups are disjoint),
 * or undefined when the view is neither row-like nor column-like.
 */
export function nmOrder({ lines, length, lineStride, kStride }: NMView): 'lineFast' | 'runFast' | undefined {
  if (lines <= 1 && length <= 1) return 'runFast';
  if (lines <= 1) return kStride >= 1 ? 'runFast' : undefined;
  if (length <= 1) return lineStride >= 1 ? 'lineFast' : undefined;
  if (lineStride >= 1 && kStride >= (lines - 1) * lineStride + 1) return 'lineFast';
  if (kStride >= 1 && lineStride >= (length - 1) * kStride + 1) return 'runFast';
  return undefined;
}

/** Window size for nmMask, or undefined when the GPU path does not apply (the caller uses the host reference). */
export function nmWindow(ctx: QuantGpuContext, n: number, view: NMView, m: number): number | undefined {
  if (m > NM_MAX_M || !nmOrder(view)) return undefined;
  const need = (Math.min(m, view.length) - 1) * view.kStride; // a group spans need + 1 elements
  const limit = Math.floor(bindingLimitBytes(ctx) / 16) * 4;
  const c = Math.min(Math.max(chunkElements(ctx), Math.ceil(need / 4) * 4), Math.ceil(n / 4) * 4);
  return need <= c && c <= limit ? c : undefined;
}

export async function planNmMask(ctx: QuantGpuContext, t: DeviceTensor, view: NMView, nn: number, m: number, C: number): Promise<PrunePlan> {
  const n = t.length;
  const [nmPipe, countPipe] = await Promise.all([ctx.pipelineFor(NM_MASK_WGSL), ctx.pipelineFor(MASK_BELOW_WGSL)]);
  const segments = ctx.segmentsOf(t);
  const { lines, length, lineStride, kStride } = view;
  const order = nmOrder(view)!;
  const runs = ceilDiv(length, m);
  const groups = lines * runs;
  const startOf = (g: number) => {
    if (order === 'lineFast') return (g % lines) * lineStride + Math.floor(g / lines) * m * kStride;
    return Math.floor(g / runs) * lineStride + (g % runs) * m * kStride;
  };
  /** First group whose first element is >= x (group starts increase with g). */
  const firstFrom = (x: number) => {
    let lo = 0;
    let hi = groups;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (startOf(mid) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const temps: GPUBuffer[] = [];
  const count = ctx.buffer(16, STORAGE | COPY_SRC | COPY_DST, 'zero count');
  const ring = [0, 1].map(() => ctx.buffer(C * 4, STORAGE | COPY_SRC | COPY_DST, 'nm window'));
  const dummy = ctx.buffer(16, STORAGE, 'nm no next window / no output');
  temps.push(count, ...ring, dummy);
  const W = ceilDiv(n, C);
  const lenOf = (w: number) => Math.min(C, n - w * C);
  const copyWindow = (e: GPUCommandEncoder, w: number) => {
    const from = w * C;
    const to = from + lenOf(w);
    for (const s of segments as Segment[]) {
      const a = Math.max(from, s.start);
      const b = Math.min(to, s.start + s.length);
      if (a < b) e.copyBufferToBuffer(s.buffer, (a - s.start) * 4, ring[w % 2]!, (a - from) * 4, (b - a) * 4);
    }
  };
  const windows: PrunePlan['windows'] = [];
  for (let w = 0; w < W; w++) {
    const at = w * C;
    const len = lenOf(w);
    const g0 = firstFrom(at);
    const g1 = firstFrom(at + len);
    const wa = ring[w % 2]!;
    const wb = w + 1 < W ? ring[(w + 1) % 2]! : dummy;
    const nmWg = ceilDiv(g1 - g0, WG);
    let nmGroup: GPUBindGroup | undefined;
    if (g1 > g0) {
      const u = ctx.uniform([lines, length, lineStride, kStride, Math.min(nn, m), m, runs, order === 'lineFast' ? 1 : 0, g0, g1 - g0, nmWg, at, len, 0, 0, 0]);
      temps.push(u);
      nmGroup = ctx.bind(nmPipe, [wa, wb, u]);
    }
    const countWg = ceilDiv(ceilDiv(len, 4), WG);
    const cu = ctx.uniform([0, len, countWg, 0, 0, 0, 0, 0]); // count only: nothing masked, nothing written
    temps.push(cu);
    const countGroup = ctx.bind(countPipe, [wa, count, cu, dummy]);
    windows.push({
      at,
      len,
      out: wa,
      encode: (e) => {
        if (w + 1 < W) copyWindow(e, w + 1);
        if (nmGroup) ctx.dispatch(e, nmPipe, nmGroup, nmWg);
        ctx.dispatch(e, countPipe, countGroup, countWg);
      },
    });
  }
  return {
    prologue: (e) => {
      e.clearBuffer(count);
      copyWindow(e, 0);
    },
    windows,
    count,
    destroy: () => temps.forEach((b) => b.destroy()),
  };
}

/** Runs a plan window by window: one submit and readback per window (the count read with the last). */
async function runPlan(ctx: QuantGpuContext, n: number, plan: PrunePlan): Promise<MaskedValues> {
  const values = new Float32Array(n);
  let zeros = 0;
  for (const [k, w] of plan.windows.entries()) {
    const encoder = ctx.device.createCommandEncoder();
    if (k === 0) plan.prologue(encoder);
    w.encode(encoder);
    const last = k === plan.windows.length - 1;
    const parts = [{ buffer: w.out, bytes: w.len * 4 }];
    if (last) parts.push({ buffer: plan.count, bytes: 4 });
    const [data, c] = await ctx.readMany(encoder, parts);
    values.set(new Float32Array(data!), w.at);
    if (last) zeros = new Uint32Array(c!)[0]!;
  }
  return { values, zeros };
}

export function gpuPruneKernels(ctx: PruneGpuContext): PruneKernels {
  const maskBelow = async (t: DeviceTensor, threshold: number): Promise<MaskedValues> => {
    if (t.length === 0) return { values: new Float32Array(0), zeros: 0 };
    if (t.length >= 2 ** 32) throw new Error('maskBelow: tensors of 2^32 elements or more are not supported on WebGPU');
    const plan = await planMaskBelow(ctx, t, threshold);
    try {
      return await runPlan(ctx, t.length, plan);
    } finally {
      plan.destroy();
    }
  };

  const nmMask = async (t: DeviceTensor, view: NMView, nn: number, m: number): Promise<MaskedValues> => {
    const n = t.length;
    checkNm(n, view, nn, m);
    if (n === 0) return { values: new Float32Array(0), zeros: 0 };
    const C = nmWindow(ctx, n, view, m);
    if (C === undefined) return nmMaskOf(await ctx.download(t), view, nn, m);
    const plan = await planNmMask(ctx, t, view, nn, m, C);
    try {
      return await runPlan(ctx, n, plan);
    } finally {
      plan.destroy();
    }
  };

  return {
    channelNorms: (t, layout, norm) => ctx.scoped(() => ctx.channelNorms(t, layout, norm)),
    maskBelow: (t, threshold) => ctx.scoped(() => maskBelow(t, threshold)),
    nmMask: (t, view, n, m) => ctx.scoped(() => nmMask(t, view, n, m)),
  };
}
