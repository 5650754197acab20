/**
 * The evaluation runtime in the browser: onnxruntime-web's WebGPU build (native WebGPU EP, plus the
 * multi-threaded wasm EP), loaded from our own origin. Runs inside our evaluation worker, never
 * through ORT's proxy. Node placement is read from ORT's own log while a session is created, so the
 * report can name the nodes that fell back to the CPU.
 */
import { serialOrt } from './serial';
import type * as OrtWeb from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { modelFiles, type CreatedSession, type EvalBackend, type EvalModel, type EvalRuntime, type ModelFiles } from '../core/eval/types';
import { cpuNodesFromLog, logMessage, ORT_LINE } from './ort-log';
import { wrapSession } from './ort-tensors';
import { identityModel } from './warm-start';
import { wasmThreads } from '../core/eval/threads';

export interface WebGpuInfo {
  available: boolean;
  /** Why there is no adapter, when there is none. */
  reason?: string;
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** A software (CPU) implementation such as SwiftShader: correct, but its timings mean nothing. */
  isFallbackAdapter?: boolean;
  shaderF16?: boolean;
  maxBufferSize?: number;
}

export async function probeWebGpu(): Promise<WebGpuInfo> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { available: false, reason: 'This browser has no WebGPU (navigator.gpu is missing).' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { available: false, reason: 'WebGPU exists but offered no adapter (no usable GPU or driver).' };
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
    const fallback =
      (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (info as unknown as { isFallbackAdapter?: boolean })?.isFallbackAdapter;
    return {
      available: true,
      vendor: info?.vendor || undefined,
      architecture: info?.architecture || undefined,
      device: info?.device || undefined,
      description: info?.description || undefined,
      isFallbackAdapter: !!fallback || /swiftshader/i.test(`${info?.vendor} ${info?.architecture} ${info?.description}`),
      shaderF16: adapter.features.has('shader-f16'),
      maxBufferSize: adapter.limits.maxBufferSize,
    };
  } catch (err) {
    return { available: false, reason: `requestAdapter failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

type Ort = typeof OrtWeb;

/**
 * onnxruntime-web is imported on first use, as its own chunk: its threaded wasm starts pthread workers from its
 * own module URL, so that module must be ORT alone, not this worker's bundle. Its thread count is fixed once it
 * starts, so a different count needs a fresh worker.
 */
async function loadOrt(requestedThreads: number | undefined): Promise<{ ort: Ort; threads: number }> {
  const ort = await import('onnxruntime-web/webgpu');
  ort.env.wasm.wasmPaths = { wasm: wasmUrl };
  ort.env.wasm.numThreads = wasmThreads(requestedThreads, navigator.hardwareConcurrency, globalThis.crossOriginIsolated);
  ort.env.logLevel = 'error';
  return { ort, threads: ort.env.wasm.numThreads };
}

/**
 * ORT's C++ log reaches console.* through functions emscripten binds once, when the wasm module starts.
 * So the console is wrapped here, before that: lines go to the active capture while a session is being
 * created, and otherwise through (ORT's warnings and info as console.warn, not as errors).
 */
let capture: string[] | undefined;
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    const ort = ORT_LINE.exec(text);
    if (capture && ort) capture.push(text);
    else if (ort && ort[1] !== 'E' && ort[1] !== 'F') console.warn === console[method] ? original(...args) : console.warn(...args);
    else original(...args);
  };
}

async function withCapturedLog<T>(create: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  capture = lines;
  try {
    return { value: await create(), lines };
  } finally {
    capture = undefined;
  }
}

async function create(ort: Ort, model: ModelFiles, backend: EvalBackend, logSeverityLevel: 0 | 3): Promise<OrtWeb.InferenceSession> {
  try {
    return await serialOrt(() =>
      ort.InferenceSession.create(model.bytes, {
        ...(model.externalData?.length ? { externalData: model.externalData } : {}),
        executionProviders: [backend],
        graphOptimizationLevel: 'all',
        logSeverityLevel,
        logVerbosityLevel: 0,
      }),
    );
  } catch (err) {
    throw new Error(`onnxruntime-web (${backend}) could not load the model: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function createWebRuntime(requestedThreads?: number): Promise<EvalRuntime & { threads: number }> {
  const { ort, threads } = await loadOrt(requestedThreads);
  let started = false;
  return {
    threads,
    name: `onnxruntime-web ${ort.env.versions.web ?? ''} (wasm ${threads} thread${threads === 1 ? '' : 's'}${globalThis.crossOriginIsolated ? '' : ', not cross-origin isolated'}; webgpu EP)`,
    async createSession(input: EvalModel, backend: EvalBackend): Promise<CreatedSession> {
      const model = modelFiles(input);
      if (backend === 'cpu') throw new Error('In the browser the CPU backend is "wasm".');
      // WebGPU: a first session with ORT's verbose log tells where each node runs; it is released and a quiet one
      // is timed (verbose logging would slow every run).
      let cpuNodes: string[] = [];
      let notes: string[] = [];
      if (backend === 'webgpu') {
        const probe = await withCapturedLog(() => create(ort, model, backend, 0));
        await serialOrt(() => probe.value.release());
        cpuNodes = cpuNodesFromLog(probe.lines);
        notes = probe.lines
          .filter((l) => /\[W:onnxruntime/.test(l) && !/Removing initializer/.test(l))
          .map((l) => logMessage(l).trim())
          .slice(0, 3);
      }
      if (!started) {
        // Start onnxruntime-web on a one-node model first, so the first model's load time is its own.
        const first = await create(ort, { bytes: identityModel() }, 'wasm', 3);
        await serialOrt(() => first.release());
        started = true;
      }
      const t0 = performance.now();
      const session = await create(ort, model, backend, 3);
      const loadMs = performance.now() - t0;
      const wrapped = wrapSession(session as never, (type, data, dims) => new ort.Tensor(type, data as never, dims), serialOrt);
      return { session: wrapped, backend, loadMs, cpuNodes, notes };
    },
  };
}
