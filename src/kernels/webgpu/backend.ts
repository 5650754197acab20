/**
 * WebGPU (WGSL compute) implementation of the kernel layer. Works in browsers (navigator.gpu) and in
 * Node with Dawn (npm `webgpu`): pass the GPU object explicitly there.
 *
 * Design
 * - Tensors live in GPU storage buffers as raw u32 words (exact bits). A tensor larger than one storage
 *   binding (min(maxStorageBufferBindingSize, maxBufferSize)) is split into segments, one buffer each;
 *   every kernel runs one dispatch per segment. A tensor that fits is one buffer and one writeBuffer.
 * - Grids larger than 65535 workgroups are laid out 2-D and flattened in the shader.
 * - moments: per-workgroup partials, finished on the CPU in float64 (counts exact u32).
 * - histogram: workgroup-private atomic bins (bins <= 4096), else global atomics.
 * - channelStats: three strategies by layout (see shaders/channel-stats.wgsl.ts), partials finished on the CPU.
 * - gatherBins: GPU compaction (histogram for the sizes, then an atomic-cursor scatter), so only the
 *   gathered values come back, never the whole tensor.
 * - decodeHalf: integer bit manipulation on the GPU, exact for every pattern.
 * - quant (groupMinMax, quantizeGroups, candidateErrors, packNibbles): see quant-gpu.ts.
 * - prune (channelNorms on the channelStats strategies, maskBelow, nmMask): see prune-gpu.ts.
 * Each public call is a single submit + one readback (per buffer segment for quantizeGroups' per-element
 * outputs, per window for maskBelow / nmMask). Validation and out-of-memory errors are turned into rejected promises (error scopes) rather than
 * console noise.
 */
import type { NMView, PruneKernels } from '../prune';
import type { GroupView, Grouping, QuantKernels } from '../quant';
import { histogramParams, type ChannelLayout, type ChannelStats, type DeviceTensor, type KernelBackend, type MomentStats } from '../types';
import type { LinalgKernels } from '../linalg';
import { gpuLinalgKernels } from './linalg-gpu';
import { gpuPruneKernels, nmWindow, planMaskBelow, planNmMask, type PrunePlan } from './prune-gpu';
import { gpuQuantKernels, gpuQuantSafe, planQuantize, QUANT_CHUNK_BYTES, type QuantGpuContext } from './quant-gpu';
import { channelKernelWgsl, type ChannelMode } from './shaders/channel-stats.wgsl';
import { WG } from './shaders/common.wgsl';
import { DECODE_HALF_WGSL } from './shaders/decode-half.wgsl';
import { GATHER_K, GATHER_SLOTS, GATHER_WGSL } from './shaders/gather.wgsl';
import { histogramWgsl } from './shaders/histogram.wgsl';
import { MOMENTS_WGSL } from './shaders/moments.wgsl';

// GPUBufferUsage / GPUMapMode values, so this module does not need Dawn's globals installed in Node.
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

const MAX_DIM = 65535;
/** Moments: at most this many workgroups (partials) per segment; threads grid-stride beyond. */
const MOMENTS_MAX_WG = 8192;
/** Histogram: at most this many workgroups per segment (each flushes its private bins once). */
const HISTOGRAM_MAX_WG = 1024;
/** Largest histogram kept in workgroup memory (16 KiB of u32, the WebGPU default limit). */
const LOCAL_BINS_MAX = 4096;
const MAX_BINS = 1 << 24;

export interface WebGpuProbe {
  available: boolean;
  /** True for a software adapter: the adapter's own flag, or a known software rasterizer by name (SwiftShader, llvmpipe, lavapipe). */
  isFallbackAdapter: boolean;
  vendor?: string;
  architecture?: string;
  description?: string;
  shaderF16: boolean;
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
  reason?: string;
}

export interface WebGpuBackendOptions {
  /** Split tensors into buffers of at most this many elements (tests use it to exercise the multi-buffer path). */
  maxSegmentElements?: number;
  /** Target size of the quantization kernels' temporary buffers (tests use a small one to exercise chunking). */
  maxChunkBytes?: number;
  /** Power preference passed to requestAdapter. */
  powerPreference?: GPUPowerPreference;
}

export interface WebGpuBackend extends KernelBackend {
  readonly name: 'webgpu';
  readonly device: GPUDevice;
  readonly probe: WebGpuProbe;
  /** Elements per segment buffer. */
  readonly segmentElements: number;
  /** Destroys the device (pending work is abandoned). Node processes using Dawn should call this, then exit. */
  destroy(): void;
  /** Internal, for benchmarks: GPU work of one kernel call without readback. */
  readonly jobs: JobFactory;
  readonly quant: QuantKernels;
  readonly prune: PruneKernels;
  readonly linalg: LinalgKernels;
}

/** A prepared unit of GPU work: encode it (any number of times), read `result`, then finish on the CPU. */
export interface Job<T> {
  encode(encoder: GPUCommandEncoder): void;
  /** Buffer holding the result after the encoded work, and how many bytes of it to read. */
  result?: { buffer: GPUBuffer; bytes: number };
  finish(data: ArrayBuffer): T;
  destroy(): void;
}

export interface JobFactory {
  moments(t: DeviceTensor): Promise<Job<MomentStats>>;
  histogram(t: DeviceTensor, bins: number, lo: number, hi: number): Promise<Job<Uint32Array>>;
  channelStats(t: DeviceTensor, layout: ChannelLayout): Promise<Job<ChannelStats>>;
  /** quantizeGroups' GPU work (every segment's dispatch; outputs stay on the GPU). Needs GPU-safe parameters. */
  quantizeGroups(
    t: DeviceTensor,
    view: GroupView,
    grouping: Grouping,
    params: { scales: Float32Array; invScales: Float32Array; zeroPoints: Int32Array; qmin: number; qmax: number },
  ): Promise<Job<void>>;
  /** channelNorms' GPU work (the channelStats grid with a norm accumulator). */
  channelNorms(t: DeviceTensor, layout: ChannelLayout, norm: 'l1' | 'l2'): Promise<Job<Float64Array>>;
  /** maskBelow's GPU work: every window's dispatch into one output buffer (no readback). */
  maskBelow(t: DeviceTensor, threshold: number): Promise<Job<void>>;
  /** nmMask's GPU work: window copies, group dispatches and zero counts (no readback); throws where the host path applies. */
  nmMask(t: DeviceTensor, view: NMView, n: number, m: number): Promise<Job<void>>;
  run<T>(job: Job<T>): Promise<T>;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|warp|basic render/i;

function navigatorGpu(): GPU | undefined {
  return typeof navigator !== 'undefined' ? (navigator as Navigator & { gpu?: GPU }).gpu : undefined;
}

async function adapterProbe(adapter: GPUAdapter): Promise<WebGpuProbe> {
  const a = adapter as GPUAdapter & { isFallbackAdapter?: boolean; requestAdapterInfo?: () => Promise<GPUAdapterInfo> };
  let info: (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined = a.info;
  if (!info && a.requestAdapterInfo) info = await a.requestAdapterInfo().catch(() => undefined);
  const vendor = info?.vendor || undefined;
  const architecture = info?.architecture || undefined;
  const description = info?.description || undefined;
  const flagged = info?.isFallbackAdapter ?? a.isFallbackAdapter ?? false;
  const named = SOFTWARE.test(`${vendor ?? ''} ${architecture ?? ''} ${description ?? ''} ${info?.device ?? ''}`);
  return {
    available: true,
    isFallbackAdapter: flagged || named,
    vendor,
    architecture,
    description,
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/** What WebGPU offers here, without creating a device. Never throws. */
export async function probeWebGpu(gpu?: GPU): Promise<WebGpuProbe> {
  const g = gpu ?? navigatorGpu();
  const none = (reason: string): WebGpuProbe => ({ available: false, isFallbackAdapter: false, shaderF16: false, reason });
  if (!g) return none('WebGPU is not available (no navigator.gpu)');
  try {
    const adapter = await g.requestAdapter();
    if (!adapter) return none('no WebGPU adapter (requestAdapter returned null)');
    return await adapterProbe(adapter);
  } catch (error) {
    return none(`requestAdapter failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The WebGPU kernel backend, or undefined when there is no adapter/device. */
export async function createWebGpuBackend(gpu?: GPU, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend | undefined> {
  const g = gpu ?? navigatorGpu();
  if (!g) return undefined;
  const adapter = await g.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined).catch(() => null);
  if (!adapter) return undefined;
  const probe = await adapterProbe(adapter);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  } catch {
    return undefined;
  }
  return new GpuKernels(device, probe, options);
}

class GpuTensor implements DeviceTensor {
  disposed = false;
  constructor(
    readonly owner: GpuKernels,
    readonly length: number,
    readonly segments: { buffer: GPUBuffer; start: number; length: number }[],
  ) {}
  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.segments) s.buffer.destroy();
  }
}

/** Workgroup grid for `count` workgroups: 1-D up to 65535, else 2-D (the shader flattens and skips the excess). */
export function gridFor(count: number): [number, number] {
  if (count <= MAX_DIM) return [Math.max(count, 1), 1];
  const y = Math.ceil(count / MAX_DIM);
  if (y > MAX_DIM) throw new Error(`grid of ${count} workgroups is too large`);
  return [Math.ceil(count / y), y];
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function floatBits(x: number): number {
  f32[0] = x;
  return u32[0]!;
}
function orderedKey(bits: number): number {
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}
function keyToFloat(key: number): number {
  u32[0] = key & 0x80000000 ? key ^ 0x80000000 : ~key;
  return f32[0]!;
}
/** Histogram range parameters as the shaders take them: integer keys of lo/hi with -0 folded onto +0, plus the
 * exact rescaled constants of the flush-to-zero-safe paths (see HIST_BIN_WGSL). */
function histUniform(bins: number, lo: number, hi: number) {
  const p = histogramParams(bins, lo, hi);
  const key = (x: number) => orderedKey(x === 0 ? 0 : floatBits(x));
  const tinyLo = Math.abs(p.lo) < 2 ** -100;
  const subScale = p.scale !== 0 && p.scale < 2 ** -126;
  const words = (n: number, wgCount: number, nslots = 0) => [
    n,
    wgCount,
    bins,
    key(p.lo),
    key(p.hi),
    floatBits(p.lo),
    floatBits(p.scale),
    nslots,
    floatBits(p.lo * 2 ** 64),
    floatBits(p.scale * 2 ** -64),
    tinyLo ? 1 : 0,
    subScale ? 1 : 0,
    floatBits(p.scale * 2 ** 64),
    0,
    0,
    0,
  ];
  return { ...p, words };
}

type ChannelKind = 'runs' | 'columns' | 'serial';
type Pipelines = 'moments' | 'decode' | 'gather' | ChannelKind | `${ChannelKind}:norms` | `hist${number}`;

class GpuKernels implements WebGpuBackend {
  readonly name = 'webgpu' as const;
  readonly segmentElements: number;
  readonly jobs: JobFactory;
  readonly quant: QuantKernels;
  readonly prune: PruneKernels;
  readonly linalg: LinalgKernels;
  /** What quant-gpu.ts uses of this backend. */
  private readonly quantContext: QuantGpuContext;
  private readonly pipelines = new Map<Pipelines, Promise<GPUComputePipeline>>();
  private readonly codePipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private lost: string | undefined;
  private queueTail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly device: GPUDevice,
    readonly probe: WebGpuProbe,
    options: WebGpuBackendOptions,
  ) {
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    // multiple of 4 elements (vec4 loads); segment elements < 2^30 so shader index math stays in u32
    let seg = Math.min(Math.floor(limit / 16) * 4, 1 << 30);
    if (options.maxSegmentElements) seg = Math.max(4, Math.min(seg, Math.floor(options.maxSegmentElements / 4) * 4));
    this.segmentElements = seg;
    void device.lost.then((info) => {
      this.lost = `WebGPU device lost: ${info.message || info.reason}`;
    });
    this.quantContext = {
      device: this.device,
      chunkBytes: Math.max(256, options.maxChunkBytes ?? QUANT_CHUNK_BYTES),
      segmentsOf: (t) => this.tensor(t).segments,
      pipelineFor: (code) => this.pipelineFor(code),
      buffer: (size, usage, label) => this.buffer(size, usage, label),
      uniform: (words) => this.uniform(words),
      bind: (pipeline, buffers) => this.bind(pipeline, buffers),
      dispatch: (encoder, pipeline, group, workgroups) => this.dispatch(encoder, pipeline, group, workgroups),
      scoped: (fn) => this.scoped(fn),
      readMany: (encoder, parts) => this.readMany(encoder, parts),
      download: (t) => this.download(this.tensor(t)),
      channelStats: async (t, layout) => this.run(await this.channelStatsJob(this.tensor(t), layout)),
    };
    this.jobs = {
      moments: (t) => this.momentsJob(this.tensor(t)),
      histogram: (t, bins, lo, hi) => this.histogramJob(this.tensor(t), bins, lo, hi),
      channelStats: (t, layout) => this.channelStatsJob(this.tensor(t), layout),
      quantizeGroups: async (t, view, grouping, params) => {
        if (!gpuQuantSafe(params, params.scales.length)) throw new Error('quantizeGroups job: parameters need the host path');
        const plan = await planQuantize(this.quantContext, this.tensor(t), view, grouping, params);
        return {
          encode: (encoder) => plan.steps.forEach((s) => this.dispatch(encoder, plan.pipeline, s.group, s.wg)),
          finish: () => undefined,
          destroy: () => plan.destroy(),
        };
      },
      channelNorms: (t, layout, norm) => this.channelNormsJob(this.tensor(t), layout, norm),
      maskBelow: async (t, threshold) => this.planJob(await planMaskBelow(this.quantContext, this.tensor(t), threshold)),
      nmMask: async (t, view, n, m) => {
        const C = nmWindow(this.quantContext, this.tensor(t).length, view, m);
        if (C === undefined) throw new Error('nmMask job: this view or M needs the host path');
        return this.planJob(await planNmMask(this.quantContext, this.tensor(t), view, n, m, C));
      },
      run: (job) => this.run(job),
    };
    this.quant = gpuQuantKernels(this.quantContext);
    this.prune = gpuPruneKernels({
      ...this.quantContext,
      channelNorms: async (t, layout, norm) => this.run(await this.channelNormsJob(this.tensor(t), layout, norm)),
    });
    this.linalg = gpuLinalgKernels(this.quantContext);
  }

  destroy() {
    this.device.destroy();
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private tensor(t: DeviceTensor): GpuTensor {
    if (!(t instanceof GpuTensor) || t.owner !== this) throw new Error('tensor was uploaded to another backend');
    if (t.disposed) throw new Error('tensor was disposed');
    return t;
  }

  private check() {
    if (this.lost) throw new Error(this.lost);
  }

  private module(code: string): GPUShaderModule {
    let m = this.modules.get(code);
    if (!m) {
      m = this.device.createShaderModule({ code });
      this.modules.set(code, m);
    }
    return m;
  }

  private pipeline(key: Pipelines): Promise<GPUComputePipeline> {
    let p = this.pipelines.get(key);
    if (!p) {
      let code: string;
      let entryPoint = 'main';
      if (key === 'moments') code = MOMENTS_WGSL;
      else if (key === 'decode') code = DECODE_HALF_WGSL;
      else if (key === 'gather') code = GATHER_WGSL;
      else if (/^(runs|columns|serial)/.test(key)) {
        const [kind, mode] = key.split(':') as [ChannelKind, ChannelMode | undefined];
        code = channelKernelWgsl(mode ?? 'stats');
        entryPoint = kind;
      } else code = histogramWgsl(Number(key.slice(4)));
      p = this.device.createComputePipelineAsync({ layout: 'auto', compute: { module: this.module(code), entryPoint } });
      p.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Pipeline of a generated shader's `main` entry point, cached by source text. */
  private pipelineFor(code: string): Promise<GPUComputePipeline> {
    let p = this.codePipelines.get(code);
    if (!p) {
      p = this.device.createComputePipelineAsync({ layout: 'auto', compute: { module: this.module(code), entryPoint: 'main' } });
      p.catch(() => this.codePipelines.delete(code));
      this.codePipelines.set(code, p);
    }
    return p;
  }

  private buffer(size: number, usage: number, label?: string): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage, label });
  }

  private uniform(words: number[]): GPUBuffer {
    const b = this.device.createBuffer({ size: Math.max(64, Math.ceil(words.length / 4) * 16), usage: UNIFORM, mappedAtCreation: true });
    const view = new Uint32Array(b.getMappedRange());
    words.forEach((w, i) => (view[i] = w >>> 0));
    b.unmap();
    return b;
  }

  private bind(pipeline: GPUComputePipeline, buffers: GPUBuffer[]): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  private dispatch(encoder: GPUCommandEncoder, pipeline: GPUComputePipeline, group: GPUBindGroup, workgroups: number) {
    if (workgroups <= 0) return;
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    const [x, y] = gridFor(workgroups);
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  /**
   * Runs fn inside validation + out-of-memory error scopes; rejects with the first error. Calls are
   * serialised (the GPU queue is serial anyway), so concurrent callers cannot interleave error scopes.
   */
  private scoped<T>(fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      this.check();
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      let result: T | undefined;
      let thrown: unknown;
      try {
        result = await fn();
      } catch (error) {
        thrown = error ?? new Error('unknown error');
      }
      const validation = await this.device.popErrorScope();
      const oom = await this.device.popErrorScope();
      if (thrown) throw thrown;
      const error = validation ?? oom;
      if (error) throw new Error(`WebGPU error: ${error.message}`);
      this.check();
      return result as T;
    };
    const next = this.queueTail.then(run, run);
    this.queueTail = next.catch(() => undefined);
    return next;
  }

  private async readback(buffer: GPUBuffer, bytes: number, encoder: GPUCommandEncoder): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: MAP_READ | COPY_DST });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(MAP_MODE_READ);
      return staging.getMappedRange(0, size).slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  /** Copies each part into its own staging buffer after the encoded work, submits once, maps them all. */
  private async readMany(encoder: GPUCommandEncoder, parts: { buffer: GPUBuffer; bytes: number }[]): Promise<ArrayBuffer[]> {
    const staging = parts.map(({ buffer, bytes }) => {
      const size = Math.max(4, Math.ceil(bytes / 4) * 4);
      const b = this.device.createBuffer({ size, usage: MAP_READ | COPY_DST });
      encoder.copyBufferToBuffer(buffer, 0, b, 0, size);
      return b;
    });
    this.device.queue.submit([encoder.finish()]);
    try {
      await Promise.all(staging.map((b) => b.mapAsync(MAP_MODE_READ)));
      return staging.map((b, k) => b.getMappedRange().slice(0, parts[k]!.bytes));
    } finally {
      staging.forEach((b) => b.destroy());
    }
  }

  /** A tensor's values back on the host (the quantization kernels' exact fallback path). */
  private async download(t: GpuTensor): Promise<Float32Array> {
    const out = new Float32Array(t.length);
    for (const s of t.segments) {
      const [data] = await this.readMany(this.device.createCommandEncoder(), [{ buffer: s.buffer, bytes: s.length * 4 }]);
      out.set(new Float32Array(data!), s.start);
    }
    return out;
  }

  private async run<T>(job: Job<T>): Promise<T> {
    try {
      const encoder = this.device.createCommandEncoder();
      job.encode(encoder);
      if (!job.result) {
        this.device.queue.submit([encoder.finish()]);
        return job.finish(new ArrayBuffer(0));
      }
      return job.finish(await this.readback(job.result.buffer, job.result.bytes, encoder));
    } finally {
      job.destroy();
    }
  }

  // ---- KernelBackend --------------------------------------------------------------------------

  upload(data: Float32Array): Promise<DeviceTensor> {
    return this.scoped(async () => {
      const segments: GpuTensor['segments'] = [];
      for (let start = 0; start < data.length; start += this.segmentElements) {
        const length = Math.min(this.segmentElements, data.length - start);
        const buffer = this.buffer(length * 4, STORAGE | COPY_DST | COPY_SRC, 'tensor');
        // (typed as ArrayBuffer-backed; WebGPU accepts SharedArrayBuffer-backed views too)
        this.device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>, start, length);
        segments.push({ buffer, start, length });
      }
      return new GpuTensor(this, data.length, segments);
    });
  }

  moments(t: DeviceTensor): Promise<MomentStats> {
    return this.scoped(async () => this.run(await this.momentsJob(this.tensor(t))));
  }

  histogram(t: DeviceTensor, bins: number, lo: number, hi: number): Promise<Uint32Array> {
    return this.scoped(async () => this.run(await this.histogramJob(this.tensor(t), bins, lo, hi)));
  }

  channelStats(t: DeviceTensor, layout: ChannelLayout): Promise<ChannelStats> {
    return this.scoped(async () => this.run(await this.channelStatsJob(this.tensor(t), layout)));
  }

  gatherBins(t: DeviceTensor, bins: number, lo: number, hi: number, wanted: Int32Array): Promise<Float32Array[]> {
    return this.scoped(() => this.gather(this.tensor(t), bins, lo, hi, wanted));
  }

  decodeHalf(bits: Uint16Array, kind: 'fp16' | 'bf16'): Promise<Float32Array> {
    return this.scoped(() => this.decode(bits, kind));
  }

  // ---- kernels --------------------------------------------------------------------------------

  private async momentsJob(t: GpuTensor): Promise<Job<MomentStats>> {
    const pipeline = await this.pipeline('moments');
    const plan = t.segments.map((s) => ({ s, wg: Math.min(MOMENTS_MAX_WG, Math.max(1, ceilDiv(s.length, WG * 4 * 4))) }));
    const totalWg = plan.reduce((a, p) => a + p.wg, 0);
    const part = this.buffer(totalWg * 32, STORAGE | COPY_SRC, 'moments partials');
    const temps: GPUBuffer[] = [part];
    let base = 0;
    const steps = plan.map(({ s, wg }) => {
      const u = this.uniform([s.length, wg, base, 0]);
      temps.push(u);
      base += wg;
      return { group: this.bind(pipeline, [s.buffer, part, u]), wg };
    });
    return {
      encode: (encoder) => steps.forEach((s) => this.dispatch(encoder, pipeline, s.group, s.wg)),
      result: totalWg ? { buffer: part, bytes: totalWg * 32 } : undefined,
      finish: (data) => finishMoments(t.length, new Uint32Array(data)),
      destroy: () => temps.forEach((b) => b.destroy()),
    };
  }

  private async histogramJob(t: GpuTensor, bins: number, lo: number, hi: number): Promise<Job<Uint32Array>> {
    if (!Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) throw new Error(`histogram: bins must be an integer in [1, 2^24], got ${bins}`);
    const p = histUniform(bins, lo, hi);
    const counts = this.buffer(bins * 4, STORAGE | COPY_SRC | COPY_DST, 'histogram');
    const temps: GPUBuffer[] = [counts];
    const nothing = t.length === 0 || Number.isNaN(p.lo) || Number.isNaN(p.hi) || !(p.lo <= p.hi);
    const local = bins <= 256 ? 256 : bins <= 1024 ? 1024 : bins <= LOCAL_BINS_MAX ? LOCAL_BINS_MAX : 0;
    const pipeline = nothing ? undefined : await this.pipeline(`hist${local}`);
    const steps = nothing
      ? []
      : t.segments.map((s) => {
          const wg = Math.min(HISTOGRAM_MAX_WG, Math.max(1, ceilDiv(s.length, WG * 4 * 8)));
          const u = this.uniform(p.words(s.length, wg));
          temps.push(u);
          return { group: this.bind(pipeline!, [s.buffer, counts, u]), wg };
        });
    return {
      encode: (encoder) => {
        encoder.clearBuffer(counts);
        steps.forEach((s) => this.dispatch(encoder, pipeline!, s.group, s.wg));
      },
      result: { buffer: counts, bytes: bins * 4 },
      finish: (data) => new Uint32Array(data),
      destroy: () => temps.forEach((b) => b.destroy()),
    };
  }

  private channelStatsJob(t: GpuTensor, layout: ChannelLayout): Promise<Job<ChannelStats>> {
    return this.channelJob(t, layout, 'stats', (plan, w) => finishChannelStats(layout, plan, w));
  }

  private async channelNormsJob(t: GpuTensor, layout: ChannelLayout, norm: 'l1' | 'l2'): Promise<Job<Float64Array>> {
    if (norm !== 'l1' && norm !== 'l2') throw new Error(`channelNorms: unknown norm ${String(norm)}`);
    return this.channelJob(t, layout, 'norms', (plan, w) => finishChannelNorms(layout, plan, w, norm), norm === 'l2');
  }

  /** A channelStats-grid job: per-channel partials of the accumulator `mode`, finished by `finish`. */
  private async channelJob<T>(
    t: GpuTensor,
    layout: ChannelLayout,
    mode: ChannelMode,
    finish: (plan: ChannelPlan, w: Uint32Array) => T,
    squared = false,
  ): Promise<Job<T>> {
    const { outer, channels, inner } = layout;
    const what = mode === 'stats' ? 'channelStats' : 'channelNorms';
    if (![outer, channels, inner].every((v) => Number.isInteger(v) && v >= 0) || outer * channels * inner !== t.length) {
      throw new Error(`${what}: layout ${outer}×${channels}×${inner} does not match ${t.length} elements`);
    }
    const plan = planChannelStats(layout);
    const partBytes = plan.partials * 16;
    const part = this.buffer(partBytes, STORAGE | COPY_SRC | COPY_DST, 'channel partials');
    const temps: GPUBuffer[] = [part];
    const pipeline = t.length ? await this.pipeline(mode === 'stats' ? plan.kind : `${plan.kind}:${mode}`) : undefined;
    const steps = t.length
      ? t.segments.map((s) => {
          const [wgBase, wgCount] = channelSegmentGrid(plan, layout, s.start, s.length);
          const u = this.uniform([
            outer,
            channels,
            inner,
            s.start,
            s.length,
            wgCount,
            plan.oSlices,
            plan.iBlocks,
            plan.oPer,
            plan.iLen,
            plan.rowsPer,
            plan.colBlocks,
            plan.rowsPerPass,
            plan.cols,
            wgBase,
            squared ? 1 : 0,
          ]);
          temps.push(u);
          return { group: this.bind(pipeline!, [s.buffer, part, u]), wgCount };
        })
      : [];
    return {
      encode: (encoder) => {
        encoder.clearBuffer(part);
        steps.forEach((g) => this.dispatch(encoder, pipeline!, g.group, g.wgCount));
      },
      result: t.length ? { buffer: part, bytes: partBytes } : undefined,
      finish: (data) => finish(plan, new Uint32Array(data)),
      destroy: () => temps.forEach((b) => b.destroy()),
    };
  }

  /** A maskBelow / nmMask plan as one job (all windows, no readback), for benchmarks. */
  private planJob(plan: PrunePlan): Job<void> {
    return {
      encode: (encoder) => {
        plan.prologue(encoder);
        plan.windows.forEach((w) => w.encode(encoder));
      },
      finish: () => undefined,
      destroy: () => plan.destroy(),
    };
  }

  private async gather(t: GpuTensor, bins: number, lo: number, hi: number, wanted: Int32Array): Promise<Float32Array[]> {
    // slot of every wanted bin, last occurrence wins (as the reference); out-of-range bins gather nothing
    const slotOfBin = new Map<number, number>();
    wanted.forEach((b, k) => {
      if (b >= 0 && b < bins) slotOfBin.set(b, k);
    });
    const out: Float32Array[] = Array.from({ length: wanted.length }, () => new Float32Array(0));
    if (slotOfBin.size === 0 || t.length === 0) return out;
    const counts = await this.run(await this.histogramJob(t, bins, lo, hi));
    // output layout: slot k's values at [start[k], start[k] + counts[wanted[k]])
    const start = new Uint32Array(wanted.length);
    let total = 0;
    const active: number[] = [];
    wanted.forEach((b, k) => {
      if (slotOfBin.get(b) !== k) return;
      start[k] = total;
      total += counts[b]!;
      if (counts[b]) active.push(k);
    });
    if (total === 0) return out;
    if (total * 4 > this.device.limits.maxStorageBufferBindingSize) throw new Error(`gatherBins: ${total} values exceed one storage buffer`);
    const pipeline = await this.pipeline('gather');
    const p = histUniform(bins, lo, hi);
    const values = this.buffer(total * 4, STORAGE | COPY_SRC, 'gathered');
    const slotBuf = this.buffer(bins * 4, STORAGE | COPY_DST, 'slotOf');
    const cursor = this.buffer(GATHER_SLOTS * 4, STORAGE | COPY_DST, 'cursor');
    const temps: GPUBuffer[] = [values, slotBuf, cursor];
    try {
      // passes of up to GATHER_SLOTS wanted bins (each: slot table + cursors, one dispatch per segment)
      for (let g = 0; g < active.length; g += GATHER_SLOTS) {
        const group = active.slice(g, g + GATHER_SLOTS);
        const slotOf = new Int32Array(bins).fill(-1);
        const cursors = new Uint32Array(GATHER_SLOTS);
        group.forEach((k, s) => {
          slotOf[wanted[k]!] = s;
          cursors[s] = start[k]!;
        });
        this.device.queue.writeBuffer(slotBuf, 0, slotOf);
        this.device.queue.writeBuffer(cursor, 0, cursors);
        const encoder = this.device.createCommandEncoder();
        for (const s of t.segments) {
          const wg = ceilDiv(s.length, WG * GATHER_K);
          const u = this.uniform(p.words(s.length, wg, group.length));
          temps.push(u);
          this.dispatch(encoder, pipeline, this.bind(pipeline, [s.buffer, slotBuf, cursor, values, u]), wg);
        }
        this.device.queue.submit([encoder.finish()]);
      }
      const data = new Float32Array(await this.readback(values, total * 4, this.device.createCommandEncoder()));
      wanted.forEach((b, k) => {
        if (slotOfBin.get(b) === k && counts[b]) out[k] = data.slice(start[k]!, start[k]! + counts[b]!);
      });
      return out;
    } finally {
      temps.forEach((b) => b.destroy());
    }
  }

  private async decode(bits: Uint16Array, kind: 'fp16' | 'bf16'): Promise<Float32Array> {
    const n = bits.length;
    const out = new Float32Array(n);
    if (n === 0) return out;
    const pipeline = await this.pipeline('decode');
    // chunks of halves (even) whose float32 output fits one storage binding
    const chunk = Math.max(2, Math.floor(Math.min(this.segmentElements, 1 << 28) / 2) * 2);
    const words = ceilDiv(Math.min(chunk, n), 2);
    const src = this.buffer(words * 4, STORAGE | COPY_DST, 'halves');
    const dst = this.buffer(words * 8, STORAGE | COPY_SRC, 'decoded');
    try {
      for (let at = 0; at < n; at += chunk) {
        const len = Math.min(chunk, n - at);
        const w = ceilDiv(len, 2);
        const packed = new Uint16Array(w * 2);
        packed.set(bits.subarray(at, at + len));
        this.device.queue.writeBuffer(src, 0, packed.buffer, 0, w * 4);
        const u = this.uniform([w, kind === 'bf16' ? 1 : 0, 0, 0]);
        const encoder = this.device.createCommandEncoder();
        this.dispatch(encoder, pipeline, this.bind(pipeline, [src, dst, u]), ceilDiv(w, WG));
        const data = await this.readback(dst, len * 4, encoder);
        u.destroy();
        out.set(new Float32Array(data), at);
      }
      return out;
    } finally {
      src.destroy();
      dst.destroy();
    }
  }
}

function finishMoments(count: number, w: Uint32Array): MomentStats {
  let mn = 0xffffffff;
  let mx = 0;
  let sum = 0;
  let sumSq = 0;
  let nanCount = 0;
  let posInfCount = 0;
  let negInfCount = 0;
  let zeroCount = 0;
  const f = new Float32Array(w.buffer, w.byteOffset, w.length);
  for (let b = 0; b + 8 <= w.length; b += 8) {
    if (w[b]! < mn) mn = w[b]!;
    if (w[b + 1]! > mx) mx = w[b + 1]!;
    sum += f[b + 2]!;
    sumSq += f[b + 3]!;
    nanCount += w[b + 4]!;
    posInfCount += w[b + 5]!;
    negInfCount += w[b + 6]!;
    zeroCount += w[b + 7]!;
  }
  const finite = count - nanCount - posInfCount - negInfCount;
  const min = finite ? keyToFloat(mn) : NaN;
  const max = finite ? keyToFloat(mx) : NaN;
  return { count, nanCount, posInfCount, negInfCount, zeroCount, min, max, sum, sumSq, absMax: finite ? Math.max(-min, max) : NaN };
}

export interface ChannelPlan {
  kind: 'runs' | 'columns' | 'serial';
  wgCount: number;
  partials: number;
  oSlices: number;
  iBlocks: number;
  oPer: number;
  iLen: number;
  rowsPer: number;
  colBlocks: number;
  rowsPerPass: number;
  cols: number;
}

/** Chooses the channelStats strategy and its grid (exported for tests and benchmarks). */
export function planChannelStats({ outer, channels, inner }: ChannelLayout): ChannelPlan {
  const n = outer * channels * inner;
  const cols = channels * inner;
  const base: ChannelPlan = {
    kind: 'serial',
    wgCount: 0,
    partials: channels,
    oSlices: 1,
    iBlocks: 1,
    oPer: 1,
    iLen: 1,
    rowsPer: 1,
    colBlocks: 1,
    rowsPerPass: 1,
    cols,
  };
  if (inner >= 64) {
    // elements per workgroup: enough workgroups to fill a big GPU, few partials for big tensors
    const target = Math.min(16384, Math.max(1024, 2 ** Math.ceil(Math.log2(Math.max(1, n / 4096)))));
    const iLen = Math.ceil(inner / Math.ceil(inner / target));
    const iBlocks = Math.ceil(inner / iLen);
    const oPer = Math.max(1, Math.floor(target / iLen));
    const oSlices = Math.ceil(outer / oPer);
    const wgCount = channels * oSlices * iBlocks;
    return { ...base, kind: 'runs', wgCount, partials: wgCount, oSlices, iBlocks, oPer, iLen };
  }
  if (outer * inner <= 512) return { ...base, kind: 'serial', wgCount: ceilDiv(channels, WG) };
  const rowsPerPass = cols >= WG ? 1 : Math.floor(WG / cols);
  const colBlocks = cols >= WG ? ceilDiv(cols, WG) : 1;
  // row slices: aim for ~256K threads, at least 64 rows per thread pass
  const passes = ceilDiv(outer, rowsPerPass);
  let rowSlices = Math.max(1, Math.min(ceilDiv(262144, colBlocks * WG), ceilDiv(passes, 64)));
  const rowsPer = ceilDiv(outer, rowSlices);
  rowSlices = ceilDiv(outer, rowsPer);
  return { ...base, kind: 'columns', wgCount: rowSlices * colBlocks, partials: rowSlices * cols, rowsPer, colBlocks, rowsPerPass };
}

/** The workgroups [first, first + count) of a channelStats grid that can touch elements [start, start + length). */
export function channelSegmentGrid(plan: ChannelPlan, { channels, inner }: ChannelLayout, start: number, length: number): [number, number] {
  const end = start + length - 1; // last element
  const cols = channels * inner;
  let first = 0;
  let last = plan.wgCount - 1;
  if (plan.kind === 'runs') {
    const B = plan.iBlocks;
    if (plan.oPer === 1) {
      const at = (g: number) => Math.floor(g / inner) * B + Math.floor((g % inner) / plan.iLen);
      first = at(start);
      last = at(end);
    } else {
      const span = plan.oPer * cols;
      first = Math.floor(start / span) * channels * B;
      last = (Math.floor(end / span) + 1) * channels * B - 1;
    }
  } else if (plan.kind === 'columns') {
    first = Math.floor(Math.floor(start / cols) / plan.rowsPer) * plan.colBlocks;
    last = (Math.floor(Math.floor(end / cols) / plan.rowsPer) + 1) * plan.colBlocks - 1;
  } else if (Math.floor(start / cols) === Math.floor(end / cols)) {
    first = Math.floor(Math.floor((start % cols) / inner) / WG);
    last = Math.floor(Math.floor((end % cols) / inner) / WG);
  }
  last = Math.min(last, plan.wgCount - 1);
  return [first, Math.max(0, last - first + 1)];
}

/** The channel of partial q of a channelStats grid. */
function channelOfPartial(plan: ChannelPlan, { channels, inner }: ChannelLayout, q: number): number {
  return plan.kind === 'runs' ? Math.floor(q / plan.iBlocks) % channels : plan.kind === 'columns' ? Math.floor((q % plan.cols) / inner) : q;
}

/** Norms from the range-split partials [plain, big · 2^-80, small · 2^88] (see channel-stats.wgsl.ts, norms). */
function finishChannelNorms(layout: ChannelLayout, plan: ChannelPlan, w: Uint32Array, norm: 'l1' | 'l2'): Float64Array {
  const out = new Float64Array(layout.channels);
  const f = new Float32Array(w.buffer, w.byteOffset, w.length);
  const [big, small] = norm === 'l1' ? [2 ** 80, 2 ** -88] : [2 ** 160, 2 ** -176];
  for (let q = 0; q < plan.partials && q * 4 < w.length; q++) {
    const b = q * 4;
    out[channelOfPartial(plan, layout, q)]! += f[b]! + f[b + 1]! * big + f[b + 2]! * small;
  }
  if (norm === 'l2') for (let c = 0; c < out.length; c++) out[c] = Math.sqrt(out[c]!);
  return out;
}

function finishChannelStats(layout: ChannelLayout, plan: ChannelPlan, w: Uint32Array): ChannelStats {
  const { channels } = layout;
  const mnKey = new Uint32Array(channels); // stored inverted: ~minKey, 0 = empty
  const mxKey = new Uint32Array(channels);
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  const f = new Float32Array(w.buffer, w.byteOffset, w.length);
  for (let q = 0; q < plan.partials && q * 4 < w.length; q++) {
    const c = channelOfPartial(plan, layout, q);
    const b = q * 4;
    if (w[b]! > mnKey[c]!) mnKey[c] = w[b]!;
    if (w[b + 1]! > mxKey[c]!) mxKey[c] = w[b + 1]!;
    sum[c]! += f[b + 2]!;
    sumSq[c]! += f[b + 3]!;
  }
  const min = new Float32Array(channels);
  const max = new Float32Array(channels);
  const absMax = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    if (mnKey[c] === 0) {
      min[c] = max[c] = absMax[c] = NaN;
    } else {
      min[c] = keyToFloat(~mnKey[c]! >>> 0);
      max[c] = keyToFloat(mxKey[c]!);
      absMax[c] = Math.max(-min[c]!, max[c]!);
    }
  }
  return { min, max, absMax, sum, sumSq };
}
