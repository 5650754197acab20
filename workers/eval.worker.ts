/// <reference lib="webworker" />
/**
 * Evaluation worker: onnxruntime-web (wasm + WebGPU) in our own worker, never ORT's proxy. It holds the
 * original model's bytes and the evaluation data; candidates arrive as transferred buffers. comlink glue
 * around src/core/eval and src/runtime/ort-web — no algorithm lives here.
 */
import * as Comlink from 'comlink';
import { CandidateEvaluator, type CandidateMeasure, type CandidateOptions } from '../src/core/eval/candidate';
import { loadDataset, type DataFile, type LoadOptions } from '../src/core/eval/data/load';
import { parseDemoDigits } from '../src/core/eval/data/json';
import type { RgbaImage } from '../src/core/eval/data/png';
import { evaluateModels, type EvalProgress, type EvaluationOptions, type EvaluationReport } from '../src/core/eval/evaluate';
import type { LatencyStats } from '../src/core/eval/latency';
import { syntheticDataset, type SyntheticOptions } from '../src/core/eval/synthetic';
import type { EvalDataset, ModelFiles } from '../src/core/eval/types';
import type { ValueInfo } from '../src/core/onnx/types';
import { createWebRuntime, probeWebGpu, type WebGpuInfo } from '../src/runtime/ort-web';
import { captureActivations, splitCalibration } from '../src/core/teacher/capture';
import { collectHessians, type PlainGptqLayer } from '../src/core/teacher/gptq-layers';
import type { ActivationStats } from '../src/core/teacher/histogram';
import { teacherStudentReport, type TeacherStudentReport } from '../src/core/teacher/report';

/** Static int8's calibration: the teacher's statistics, and where they came from. */
export interface CalibrationOutcome {
  stats: Map<string, ActivationStats>;
  samples: number;
  dataset: string;
  synthetic: boolean;
  unreachable: string[];
  peakBytes: number;
  /** GPTQ: each layer's Hessian by weight name (when asked). */
  gptq?: Map<string, PlainGptqLayer>;
}

/** onnxruntime-web, started on first use with the thread count the page asked for (fixed for this worker's life). */
let runtimeStarted: ReturnType<typeof createWebRuntime> | undefined;
let requestedThreads: number | undefined;
const runtime = () => (runtimeStarted ??= createWebRuntime(requestedThreads));
let original: { model: ModelFiles; name: string } | undefined;
let dataset: EvalDataset | undefined;
let evaluator: CandidateEvaluator | undefined;
/** The samples the last calibration ran on (held out of a static candidate's evaluation). */
let calibratedIds: Set<string> | undefined;
/** The job in flight; Cancel aborts it (checked between samples and runs). */
let job: AbortController | undefined;

/** Peak size of onnxruntime's wasm heap: WebAssembly memories created here are tracked (ORT's grows, never shrinks). */
const memories: WebAssembly.Memory[] = [];
const NativeMemory = WebAssembly.Memory;
WebAssembly.Memory = new Proxy(NativeMemory, {
  construct(target, args: [WebAssembly.MemoryDescriptor]) {
    const memory = new target(...args);
    memories.push(memory);
    return memory;
  },
});
function wasmHeapBytes(): number {
  return memories.reduce((n, m) => n + m.buffer.byteLength, 0);
}

export interface DatasetSummary {
  name: string;
  description: string;
  samples: number;
  labelled: number;
  classNames?: string[];
  synthetic: boolean;
  /** Input shapes of the first sample, e.g. { input: [1, 1, 28, 28] }. */
  shapes: Record<string, number[]>;
}

function summary(d: EvalDataset): DatasetSummary {
  const first = d.samples[0]?.feeds ?? {};
  return {
    name: d.name,
    description: d.description,
    samples: d.samples.length,
    labelled: d.samples.filter((s) => s.label !== undefined).length,
    classNames: d.classNames,
    synthetic: d.synthetic,
    shapes: Object.fromEntries(Object.entries(first).map(([k, t]) => [k, t.dims])),
  };
}

function plain(err: unknown, context: string): Error {
  if (err instanceof Error && (err.name === 'EvalInputError' || err.name === 'AbortError')) return Object.assign(new Error(err.message), { name: err.name });
  return new Error(`${context}: ${err instanceof Error ? err.message : String(err)}`);
}

function requireOriginal() {
  if (!original) throw new Error('No model to evaluate: open a model first.');
  return original;
}
function requireData(): EvalDataset {
  if (!dataset) throw new Error('Choose evaluation data first.');
  return dataset;
}

/** The evaluation data without the samples the last calibration ran on (all of it when none did). */
function heldOutData(): EvalDataset {
  const data = requireData();
  if (!calibratedIds) return data;
  const seen = calibratedIds;
  const samples = data.samples.filter((s) => !seen.has(s.id));
  if (samples.length === 0)
    throw new Error(`all ${data.samples.length} samples calibrated the model: lower Calibration samples or choose more data, so some are left to evaluate on`);
  return { ...data, name: `${data.name}, ${samples.length} held out from calibration`, samples };
}

async function startJob(): Promise<AbortController> {
  job?.abort();
  const controller = new AbortController();
  job = controller;
  return controller;
}

/** Other image formats (webp, gif, bmp) through the browser's own decoder. */
async function browserDecode(name: string, bytes: Uint8Array): Promise<RgbaImage> {
  const bitmap = await createImageBitmap(new Blob([bytes as BlobPart]));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error(`Could not decode ${name}: no 2D canvas in this worker.`);
  ctx.drawImage(bitmap, 0, 0);
  const pixels = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  bitmap.close();
  return { width: canvas.width, height: canvas.height, data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength), channels: 4 };
}

export interface EvalEnvironment {
  runtime: string;
  crossOriginIsolated: boolean;
  /** Logical cores the browser reports. */
  cores: number;
  /** Threads onnxruntime-web's wasm runs on. */
  threads: number;
  webgpu: WebGpuInfo;
}

const api = {
  /** Starts onnxruntime-web (with `threads` wasm threads, or the default) and describes the environment. */
  async environment(threads?: number): Promise<EvalEnvironment> {
    if (!runtimeStarted) requestedThreads = threads;
    const started = await runtime();
    return {
      runtime: started.name,
      crossOriginIsolated: globalThis.crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
      threads: started.threads,
      webgpu: await probeWebGpu(),
    };
  },

  /** The original model's files (transferred). Forgets evaluators built on the previous one. */
  async setOriginal(model: ModelFiles, name: string): Promise<void> {
    await evaluator?.release();
    evaluator = undefined;
    original = { model, name };
  },

  async loadDemoData(url: string, inputs: ValueInfo[]): Promise<DatasetSummary> {
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      const samples = parseDemoDigits(await response.json(), inputs[0]);
      dataset = {
        name: `MNIST demo digits (${samples.length}, labelled)`,
        description: 'Held-out MNIST test digits shipped with the studio (50 per class, never used for training the demo model); pixel/255, 1×28×28.',
        samples,
        synthetic: false,
      };
      return summary(dataset);
    } catch (err) {
      throw plain(err, 'Could not load the demo digits');
    }
  },

  async loadSyntheticData(inputs: ValueInfo[], options: SyntheticOptions): Promise<DatasetSummary> {
    try {
      dataset = syntheticDataset(inputs, options);
      return summary(dataset);
    } catch (err) {
      throw plain(err, 'Could not generate inputs');
    }
  },

  /** Files the person chose (a folder of images, .npy files, a JSON file, a labels CSV); read here, never uploaded. */
  async loadFileData(
    files: { file: File; path: string }[],
    inputs: ValueInfo[],
    options: Omit<LoadOptions, 'fallbackDecode' | 'labelsCsv'>,
  ): Promise<DatasetSummary> {
    try {
      const dataFiles: DataFile[] = files.map(({ file, path }) => ({ path, bytes: async () => new Uint8Array(await file.arrayBuffer()) }));
      dataset = await loadDataset(dataFiles, inputs, { ...options, fallbackDecode: browserDecode });
      return summary(dataset);
    } catch (err) {
      throw plain(err, 'Could not load the evaluation data');
    }
  },

  /**
   * Static int8's calibration in onnxruntime-web (wasm): the original run on the first `count` samples of the
   * evaluation data with `names` as extra outputs. Resolves to null when cancelled.
   */
  async calibrate(names: string[], count: number, onProgress?: (done: number, total: number) => void, gptq = false): Promise<CalibrationOutcome | null> {
    const controller = await startJob();
    try {
      const data = requireData();
      const { calibration } = splitCalibration(data, count, false);
      calibratedIds = new Set(calibration.samples.map((x) => x.id));
      const options = {
        backend: 'wasm' as const,
        signal: controller.signal,
        onProgress: onProgress ? (done: number, total: number) => void onProgress(done, total) : undefined,
      };
      const capture = names.length
        ? await captureActivations(await runtime(), requireOriginal().model, names, calibration.samples, options)
        : { stats: new Map(), samples: calibration.samples.length, unreachable: [], peakBytes: 0 };
      // GPTQ: the layers' inputs streamed into their Hessians (a few tensors per pass).
      const hessians = gptq
        ? await collectHessians(await runtime(), requireOriginal().model, calibration.samples, { ...options, maxTensorsPerRun: 16 })
        : undefined;
      return {
        stats: capture.stats,
        samples: capture.samples,
        dataset: data.name,
        synthetic: data.synthetic,
        unreachable: [...capture.unreachable, ...(hessians?.unreachable ?? [])],
        peakBytes: Math.max(capture.peakBytes, hessians?.peakBytes ?? 0),
        ...(hessians ? { gptq: hessians.layers as Map<string, PlainGptqLayer> } : {}),
      };
    } catch (err) {
      if (controller.signal.aborted) return null;
      throw plain(err, 'Could not calibrate');
    } finally {
      if (job === controller) job = undefined;
    }
  },

  /**
   * The teacher–student report: each stage's layer outputs against the original's on the first `count` samples of the
   * evaluation data (the calibration samples), onnxruntime-web wasm. Resolves to null when cancelled.
   */
  async teacherReport(
    stages: { id: string; label: string; bytes: Uint8Array }[],
    count: number,
    layers: string[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<TeacherStudentReport | null> {
    const controller = await startJob();
    try {
      const { calibration } = splitCalibration(requireData(), count, false);
      return await teacherStudentReport(
        await runtime(),
        requireOriginal().model,
        stages.map((s) => ({ id: s.id, label: s.label, model: s.bytes })),
        calibration.samples,
        {
          layers,
          backend: 'wasm',
          maxTensorsPerRun: 16,
          signal: controller.signal,
          onProgress: onProgress ? (done, total) => void onProgress(done, total) : undefined,
        },
      );
    } catch (err) {
      if (controller.signal.aborted) return null;
      throw plain(err, 'Could not compare the layers with the original');
    } finally {
      if (job === controller) job = undefined;
    }
  },

  /** Original vs candidate side by side on each backend. Resolves to null when cancelled. */
  async evaluate(
    candidate: Uint8Array,
    options: Omit<EvaluationOptions, 'signal' | 'onProgress'> & { heldOut?: boolean },
    onProgress?: (p: EvalProgress) => void,
  ): Promise<(EvaluationReport & { wasmHeapBytes: number }) | null> {
    const controller = await startJob();
    try {
      // A statically quantized candidate is judged on the samples its calibration did not see.
      const data = options.heldOut ? heldOutData() : requireData();
      const report = await evaluateModels(await runtime(), requireOriginal().model, candidate, data, {
        ...options,
        signal: controller.signal,
        onProgress: onProgress ? (p) => void onProgress(p) : undefined,
      });
      return { ...report, wasmHeapBytes: wasmHeapBytes() };
    } catch (err) {
      if (controller.signal.aborted) return null;
      throw plain(err, 'Evaluation failed');
    } finally {
      if (job === controller) job = undefined;
    }
  },

  /** Prepares repeated measurements against the original (sweeps, sensitivity): runs the original on every sample once. */
  async prepareCandidates(options: CandidateOptions, heldOut = false): Promise<{ samples: number; originalAccuracy?: number; originalBytes: number }> {
    const controller = await startJob();
    try {
      await evaluator?.release();
      evaluator = undefined;
      // Points compressed with a calibration (teacher-guided sweeps, sensitivity) are measured on the samples it did not see.
      const data = heldOut ? heldOutData() : requireData();
      evaluator = await CandidateEvaluator.create(await runtime(), requireOriginal().model, data, options, controller.signal);
      return { samples: evaluator.sampleCount, originalAccuracy: evaluator.originalAccuracy?.value, originalBytes: evaluator.originalBytes };
    } catch (err) {
      throw plain(err, 'Could not run the original model');
    } finally {
      if (job === controller) job = undefined;
    }
  },

  async originalLatency(): Promise<LatencyStats | undefined> {
    if (!evaluator) throw new Error('prepareCandidates first');
    const controller = await startJob();
    try {
      return await evaluator.originalLatency(controller.signal);
    } catch (err) {
      throw plain(err, 'Could not time the original model');
    } finally {
      if (job === controller) job = undefined;
    }
  },

  async measureCandidate(bytes: Uint8Array, runs?: number): Promise<CandidateMeasure> {
    if (!evaluator) throw new Error('prepareCandidates first');
    const controller = await startJob();
    try {
      return await evaluator.evaluate(bytes, controller.signal, runs);
    } catch (err) {
      throw plain(err, 'Could not measure the candidate');
    } finally {
      if (job === controller) job = undefined;
    }
  },

  cancel(): void {
    job?.abort();
  },
};

export type EvalWorkerApi = typeof api;

Comlink.expose(api);
