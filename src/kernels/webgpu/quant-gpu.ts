/**
 * Quantization kernels (../quant.ts) on WebGPU. Shaders: ./shaders/quant.wgsl.ts.
 *
 * - groupMinMax: whole tensor and channels reuse the channelStats kernels (runs / columns / serial, chosen by
 *   layout); blocks use one invocation per block walking its ≤ B elements (coalesced across invocations when
 *   inner > 1; contiguous per invocation when inner = 1). Exact (integer keys of the float bits).
 * - quantizeGroups: element-parallel (4 elements per invocation, grid-stride), group index from the element index.
 *   Codes come back packed (1 byte per code when [qmin, qmax] fits int8 or uint8, else 2 bytes), dequantized
 *   values as raw bits, plus per-workgroup partials: Σx² and Σ(x−y)² in f32 (summed here in float64) and the
 *   (x, y) bits of the workgroup's largest |x − y|, from which max|x − y| is computed here in float64 (exact).
 * - candidateErrors: one invocation per (group, slice of ≤ 1024 elements, candidate), f32 partials summed here in
 *   float64; groups are processed in chunks so the candidate parameters fit one storage binding.
 * - packNibbles: 8 codes per invocation.
 *
 * Parameters the GPU path cannot reproduce exactly on a flush-to-zero device (a scale or invScale that is not a
 * normal float, e.g. the Infinity invScale of a subnormal scale, |zp| >= 2^22, |qmin|/|qmax| > 2^16, a product
 * (q − zp)·scale that could overflow) make quantizeGroups / candidateErrors download the tensor and run the
 * TypeScript reference instead: always the reference's answer, only slower.
 */
import { groupCount, type GroupView, type Grouping, type QuantKernels, type QuantizedGroups } from '../quant';
import { candidateErrorsOf, quantizeGroupsOf } from '../ts/quant-reference';
import type { ChannelLayout, ChannelStats, DeviceTensor } from '../types';
import { WG } from './shaders/common.wgsl';
import { BLOCK_MINMAX_WGSL, CANDIDATES_WGSL, PACK_NIBBLES_WGSL, quantizeWgsl } from './shaders/quant.wgsl';

const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const STORAGE = 0x0080;

/** quantizeGroups: at most this many workgroups (partials) per segment; invocations grid-stride beyond. */
const QUANT_MAX_WG = 8192;
/** candidateErrors: elements per slice of a whole-tensor or channel group (f32 partial per slice). */
const SLICE = 1024;
/** Default size of the temporary buffers for parameters / partials / packed codes (groups are processed in chunks). */
export const QUANT_CHUNK_BYTES = 64 << 20;

export interface Segment {
  buffer: GPUBuffer;
  start: number;
  length: number;
}

/** What the quantization kernels need from the backend (see backend.ts). */
export interface QuantGpuContext {
  readonly device: GPUDevice;
  /** Target size of temporary buffers (QUANT_CHUNK_BYTES unless a test asks for small chunks). */
  readonly chunkBytes: number;
  segmentsOf(t: DeviceTensor): Segment[];
  pipelineFor(code: string): Promise<GPUComputePipeline>;
  buffer(size: number, usage: number, label?: string): GPUBuffer;
  uniform(words: number[]): GPUBuffer;
  bind(pipeline: GPUComputePipeline, buffers: GPUBuffer[]): GPUBindGroup;
  dispatch(encoder: GPUCommandEncoder, pipeline: GPUComputePipeline, group: GPUBindGroup, workgroups: number): void;
  /** Serialised, error-scoped public call. */
  scoped<T>(fn: () => Promise<T>): Promise<T>;
  /** Copies the parts to staging buffers after the encoded work, submits, maps; one ArrayBuffer per part. */
  readMany(encoder: GPUCommandEncoder, parts: { buffer: GPUBuffer; bytes: number }[]): Promise<ArrayBuffer[]>;
  /** The tensor's values (unscoped; call inside scoped). */
  download(t: DeviceTensor): Promise<Float32Array>;
  /** channelStats (unscoped; call inside scoped). */
  channelStats(t: DeviceTensor, layout: ChannelLayout): Promise<ChannelStats>;
}

type QuantParams = { scales: Float32Array; invScales: Float32Array; zeroPoints: Int32Array; qmin: number; qmax: number };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsToFloat = (bits: number) => {
  u32[0] = bits;
  return f32[0]!;
};
/** Float of an inverted-order key as channel-stats / block min-max store it (see common.wgsl.ts okey). */
const keyToFloat = (key: number) => bitsToFloat(key & 0x80000000 ? key ^ 0x80000000 : ~key >>> 0);
const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
const ceil4 = (bytes: number) => Math.ceil(bytes / 4) * 4;

const GRAN = { tensor: 0, channel: 1, block: 2 } as const;

function checkView(n: number, view: GroupView, grouping: Grouping, what: string): void {
  const { outer, axisLength, inner } = view;
  if (![outer, axisLength, inner].every((v) => Number.isInteger(v) && v >= 0) || outer * axisLength * inner !== n) {
    throw new Error(`${what}: view ${outer}×${axisLength}×${inner} does not match ${n} elements`);
  }
  if (!(grouping.granularity in GRAN)) throw new Error(`${what}: unknown granularity ${String(grouping.granularity)}`);
  if (grouping.granularity === 'block' && !(Number.isInteger(grouping.blockSize) && grouping.blockSize >= 1)) {
    throw new Error(`${what}: block size must be a positive integer, got ${grouping.blockSize}`);
  }
  if (n >= 2 ** 32) throw new Error(`${what}: tensors of 2^32 elements or more are not supported on WebGPU`);
}

const isNormalF32 = (x: number) => {
  const a = Math.abs(x);
  return a >= 2 ** -126 && a < Infinity; // false for NaN
};

/** True when the GPU kernels reproduce the reference exactly for these parameters (entries [0, count)). */
export function gpuQuantSafe(p: QuantParams, count: number): boolean {
  const { qmin, qmax } = p;
  if (!Number.isInteger(qmin) || !Number.isInteger(qmax) || Math.abs(qmin) > 65536 || Math.abs(qmax) > 65536) return false;
  for (let k = 0; k < count; k++) {
    const s = p.scales[k]!;
    const zp = p.zeroPoints[k]!;
    if (!isNormalF32(s) || !isNormalF32(p.invScales[k]!) || Math.abs(zp) >= 2 ** 22) return false;
    if (Math.abs(s) * Math.max(Math.abs(qmin - zp), Math.abs(qmax - zp)) >= 2 ** 127) return false;
  }
  return true;
}

function checkParams(p: QuantParams, count: number, what: string): void {
  if (p.scales.length < count || p.invScales.length < count || p.zeroPoints.length < count) {
    throw new Error(`${what}: expected ${count} scales / invScales / zero points, got ${p.scales.length} / ${p.invScales.length} / ${p.zeroPoints.length}`);
  }
}

/** Group parameters as the shaders read them: vec4<u32>(scale bits, invScale bits, zp, 0) for entries [from, to). */
function paramWords(p: QuantParams, from: number, to: number): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(Math.max(4, (to - from) * 4));
  const f = new Float32Array(words.buffer);
  for (let k = from; k < to; k++) {
    const b = (k - from) * 4;
    f[b] = p.scales[k]!;
    f[b + 1] = p.invScales[k]!;
    words[b + 2] = p.zeroPoints[k]! >>> 0;
  }
  return words;
}

interface QUniform {
  seg: Segment;
  n: number;
  view: GroupView;
  grouping: Grouping;
  wgCount?: number;
  qmin?: number;
  qmax?: number;
  C?: number;
  S?: number;
  L?: number;
  threads?: number;
  outBase?: number;
  gBase?: number;
}

/** The QParams uniform (see QUANT_PARAMS_WGSL). */
function qWords(u: QUniform): number[] {
  const { outer, axisLength: D, inner } = u.view;
  const B = u.grouping.granularity === 'block' ? u.grouping.blockSize : 1;
  return [
    u.seg.start,
    u.seg.length,
    u.wgCount ?? 0,
    GRAN[u.grouping.granularity],
    outer,
    D,
    inner,
    B,
    ceilDiv(D, B),
    u.qmin ?? 0,
    u.qmax ?? 0,
    0,
    u.C ?? 1,
    u.S ?? 1,
    u.L ?? 1,
    u.threads ?? 0,
    u.n,
    u.outBase ?? 0,
    u.gBase ?? 0,
    0,
  ];
}

type CodeMode = 'i8' | 'u8' | 'i16';
const codeMode = (qmin: number, qmax: number): CodeMode =>
  qmin >= -128 && qmax <= 127 && qmin <= qmax ? 'i8' : qmin >= 0 && qmax <= 255 && qmin <= qmax ? 'u8' : 'i16';

/** Prepared GPU work of one quantizeGroups call (buffers and bind groups); encode per segment. */
export interface QuantizePlan {
  steps: { seg: Segment; group: GPUBindGroup; wg: number }[];
  pipeline: GPUComputePipeline;
  y: GPUBuffer;
  codes: GPUBuffer;
  part: GPUBuffer;
  totalWg: number;
  mode: CodeMode;
  destroy(): void;
}

export async function planQuantize(ctx: QuantGpuContext, t: DeviceTensor, view: GroupView, grouping: Grouping, p: QuantParams): Promise<QuantizePlan> {
  checkView(t.length, view, grouping, 'quantizeGroups');
  const segments = ctx.segmentsOf(t);
  const groups = groupCount(view, grouping);
  checkParams(p, groups, 'quantizeGroups');
  const mode = codeMode(p.qmin, p.qmax);
  const bindingLimit = ctx.device.limits.maxStorageBufferBindingSize;
  if (groups * 16 > bindingLimit) throw new Error(`quantizeGroups: ${groups} groups' parameters exceed one storage buffer on this device`);
  const pipeline = await ctx.pipelineFor(quantizeWgsl(mode === 'i16'));
  const maxLen = Math.max(4, ...segments.map((s) => s.length));
  const temps: GPUBuffer[] = [];
  const gp = ctx.buffer(groups * 16, STORAGE | COPY_DST, 'quant params');
  temps.push(gp);
  ctx.device.queue.writeBuffer(gp, 0, paramWords(p, 0, groups));
  const y = ctx.buffer(ceilDiv(maxLen, 4) * 16, STORAGE | COPY_SRC, 'dequantized');
  const codes = ctx.buffer(ceilDiv(maxLen, 4) * (mode === 'i16' ? 8 : 4), STORAGE | COPY_SRC, 'codes');
  temps.push(y, codes);
  const plan = segments.map((s) => ({ s, wg: Math.min(QUANT_MAX_WG, Math.max(1, ceilDiv(ceilDiv(s.length, 4), WG))) }));
  const totalWg = plan.reduce((a, q) => a + q.wg, 0);
  const part = ctx.buffer(totalWg * 32, STORAGE | COPY_SRC, 'quant partials');
  temps.push(part);
  let outBase = 0;
  const steps = plan.map(({ s, wg }) => {
    const u = ctx.uniform(qWords({ seg: s, n: t.length, view, grouping, wgCount: wg, qmin: p.qmin, qmax: p.qmax, outBase }));
    temps.push(u);
    outBase += wg;
    return { seg: s, group: ctx.bind(pipeline, [s.buffer, gp, y, codes, part, u]), wg };
  });
  return { steps, pipeline, y, codes, part, totalWg, mode, destroy: () => temps.forEach((b) => b.destroy()) };
}

export function gpuQuantKernels(ctx: QuantGpuContext): QuantKernels {
  const groupMinMax = async (t: DeviceTensor, view: GroupView, grouping: Grouping): Promise<{ min: Float32Array; max: Float32Array }> => {
    const n = t.length;
    checkView(n, view, grouping, 'groupMinMax');
    const groups = groupCount(view, grouping);
    const min = new Float32Array(groups).fill(Infinity);
    const max = new Float32Array(groups).fill(-Infinity);
    if (n === 0 || groups === 0) return { min, max };
    if (grouping.granularity !== 'block') {
      const layout: ChannelLayout =
        grouping.granularity === 'tensor' ? { outer: 1, channels: 1, inner: n } : { outer: view.outer, channels: view.axisLength, inner: view.inner };
      const s = await ctx.channelStats(t, layout);
      for (let g = 0; g < groups; g++) {
        if (!Number.isNaN(s.min[g]!)) {
          min[g] = s.min[g]!;
          max[g] = s.max[g]!;
        }
      }
      return { min, max };
    }
    const pipeline = await ctx.pipelineFor(BLOCK_MINMAX_WGSL);
    const chunk = Math.max(1, Math.floor(Math.min(ctx.chunkBytes, ctx.device.limits.maxStorageBufferBindingSize) / 8));
    for (let g0 = 0; g0 < groups; g0 += chunk) {
      const count = Math.min(chunk, groups - g0);
      const part = ctx.buffer(count * 8, STORAGE | COPY_SRC | COPY_DST, 'block min/max');
      const temps: GPUBuffer[] = [part];
      try {
        const encoder = ctx.device.createCommandEncoder();
        encoder.clearBuffer(part);
        for (const seg of ctx.segmentsOf(t)) {
          const u = ctx.uniform(qWords({ seg, n, view, grouping, L: grouping.blockSize, threads: count, gBase: g0 }));
          temps.push(u);
          ctx.dispatch(encoder, pipeline, ctx.bind(pipeline, [seg.buffer, part, u]), ceilDiv(count, WG));
        }
        const [data] = await ctx.readMany(encoder, [{ buffer: part, bytes: count * 8 }]);
        const w = new Uint32Array(data!);
        for (let k = 0; k < count; k++) {
          if (w[2 * k] === 0) continue; // no finite value
          min[g0 + k] = keyToFloat(~w[2 * k]! >>> 0);
          max[g0 + k] = keyToFloat(w[2 * k + 1]!);
        }
      } finally {
        temps.forEach((b) => b.destroy());
      }
    }
    return { min, max };
  };

  const quantizeGroups = async (t: DeviceTensor, view: GroupView, grouping: Grouping, p: QuantParams): Promise<QuantizedGroups> => {
    const n = t.length;
    checkView(n, view, grouping, 'quantizeGroups');
    const groups = groupCount(view, grouping);
    checkParams(p, groups, 'quantizeGroups');
    if (n === 0) return { codes: new Int16Array(0), dequantized: new Float32Array(0), signal: 0, noise: 0, maxAbsError: 0 };
    if (!gpuQuantSafe(p, groups)) return quantizeGroupsOf(await ctx.download(t), view, grouping, p);
    const plan = await planQuantize(ctx, t, view, grouping, p);
    try {
      const codes = new Int16Array(n);
      const dequantized = new Float32Array(n);
      const codeBytes = plan.mode === 'i16' ? 2 : 1;
      let partData: ArrayBuffer | undefined;
      for (const [k, step] of plan.steps.entries()) {
        const encoder = ctx.device.createCommandEncoder();
        ctx.dispatch(encoder, plan.pipeline, step.group, step.wg);
        const len = step.seg.length;
        const parts = [
          { buffer: plan.y, bytes: len * 4 },
          { buffer: plan.codes, bytes: ceil4(len * codeBytes) },
        ];
        if (k === plan.steps.length - 1) parts.push({ buffer: plan.part, bytes: plan.totalWg * 32 });
        const [yData, codeData, part] = await ctx.readMany(encoder, parts);
        dequantized.set(new Float32Array(yData!), step.seg.start);
        const c =
          plan.mode === 'i8' ? new Int8Array(codeData!, 0, len) : plan.mode === 'u8' ? new Uint8Array(codeData!, 0, len) : new Int16Array(codeData!, 0, len);
        codes.set(c, step.seg.start);
        partData = part;
      }
      const w = new Uint32Array(partData!);
      const f = new Float32Array(partData!);
      let signal = 0;
      let noise = 0;
      let maxAbsError = 0;
      for (let b = 0; b + 8 <= w.length; b += 8) {
        signal += f[b]! + f[b + 6]! * 2 ** 192;
        noise += f[b + 1]! + f[b + 7]! * 2 ** 192;
        const e = Math.abs(f[b + 4]! - f[b + 5]!);
        if (e > maxAbsError) maxAbsError = e;
      }
      return { codes, dequantized, signal, noise, maxAbsError };
    } finally {
      plan.destroy();
    }
  };

  const candidateErrors = async (t: DeviceTensor, view: GroupView, grouping: Grouping, p: QuantParams & { candidates: number }): Promise<Float64Array> => {
    const n = t.length;
    checkView(n, view, grouping, 'candidateErrors');
    const C = p.candidates;
    if (!Number.isInteger(C) || C < 0) throw new Error(`candidateErrors: candidates must be a non-negative integer, got ${C}`);
    const groups = groupCount(view, grouping);
    checkParams(p, groups * C, 'candidateErrors');
    const errors = new Float64Array(groups * C);
    if (n === 0 || groups * C === 0) return errors;
    if (!gpuQuantSafe(p, groups * C)) return candidateErrorsOf(await ctx.download(t), view, grouping, p);
    const size = grouping.granularity === 'tensor' ? n : grouping.granularity === 'channel' ? view.outer * view.inner : grouping.blockSize;
    const limit = Math.min(ctx.chunkBytes, ctx.device.limits.maxStorageBufferBindingSize);
    // slices of ≤ SLICE elements (longer only when a huge group's partials would not fit a buffer)
    const S = grouping.granularity === 'block' ? 1 : Math.max(1, Math.min(ceilDiv(size, SLICE), Math.floor(limit / (4 * C))));
    const L = ceilDiv(size, S);
    const chunk = Math.max(1, Math.min(Math.floor(limit / (16 * C)), Math.floor(limit / (4 * S * C))));
    const pipeline = await ctx.pipelineFor(CANDIDATES_WGSL);
    for (let g0 = 0; g0 < groups; g0 += chunk) {
      const count = Math.min(chunk, groups - g0);
      const threads = count * S * C;
      const gp = ctx.buffer(count * C * 16, STORAGE | COPY_DST, 'candidate params');
      const part = ctx.buffer(threads * 4, STORAGE | COPY_SRC | COPY_DST, 'candidate partials');
      const temps: GPUBuffer[] = [gp, part];
      try {
        ctx.device.queue.writeBuffer(gp, 0, paramWords(p, g0 * C, (g0 + count) * C));
        const encoder = ctx.device.createCommandEncoder();
        encoder.clearBuffer(part);
        for (const seg of ctx.segmentsOf(t)) {
          const u = ctx.uniform(qWords({ seg, n, view, grouping, qmin: p.qmin, qmax: p.qmax, C, S, L, threads, gBase: g0 }));
          temps.push(u);
          ctx.dispatch(encoder, pipeline, ctx.bind(pipeline, [seg.buffer, gp, part, u]), ceilDiv(threads, WG));
        }
        const [data] = await ctx.readMany(encoder, [{ buffer: part, bytes: threads * 4 }]);
        const f = new Float32Array(data!);
        for (let gl = 0; gl < count; gl++) {
          for (let s = 0; s < S; s++) {
            const b = (gl * S + s) * C;
            for (let c = 0; c < C; c++) errors[(g0 + gl) * C + c]! += f[b + c]!;
          }
        }
      } finally {
        temps.forEach((b) => b.destroy());
      }
    }
    return errors;
  };

  const packNibbles = async (codes: Int16Array): Promise<Uint8Array> => {
    const n = codes.length;
    const out = new Uint8Array(ceilDiv(n, 2));
    if (n === 0) return out;
    const pipeline = await ctx.pipelineFor(PACK_NIBBLES_WGSL);
    // chunks of whole 8-code words whose int16 input fits one storage binding
    const chunk = Math.max(8, Math.floor(Math.min(ctx.chunkBytes, ctx.device.limits.maxStorageBufferBindingSize) / 16) * 8);
    const first = Math.min(chunk, ceilDiv(n, 8) * 8);
    const src = ctx.buffer(first * 2, STORAGE | COPY_DST, 'codes');
    const dst = ctx.buffer(first / 2, STORAGE | COPY_SRC, 'nibbles');
    try {
      for (let at = 0; at < n; at += chunk) {
        const len = Math.min(chunk, n - at);
        const padded = new Int16Array(ceilDiv(len, 8) * 8);
        padded.set(codes.subarray(at, at + len));
        ctx.device.queue.writeBuffer(src, 0, padded);
        const words = padded.length / 8;
        const u = ctx.uniform([words, 0, 0, 0]);
        try {
          const encoder = ctx.device.createCommandEncoder();
          ctx.dispatch(encoder, pipeline, ctx.bind(pipeline, [src, dst, u]), ceilDiv(words, WG));
          const [data] = await ctx.readMany(encoder, [{ buffer: dst, bytes: words * 4 }]);
          out.set(new Uint8Array(data!, 0, ceilDiv(len, 2)), at / 2);
        } finally {
          u.destroy();
        }
      }
      return out;
    } finally {
      src.destroy();
      dst.destroy();
    }
  };

  return {
    groupMinMax: (t, view, grouping) => ctx.scoped(() => groupMinMax(t, view, grouping)),
    quantizeGroups: (t, view, grouping, params) => ctx.scoped(() => quantizeGroups(t, view, grouping, params)),
    candidateErrors: (t, view, grouping, params) => ctx.scoped(() => candidateErrors(t, view, grouping, params)),
    packNibbles: (codes) => ctx.scoped(() => packNibbles(codes)),
  };
}
