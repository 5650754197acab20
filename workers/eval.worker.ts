/// <reference lib="webworker" />
/**
 * Evaluation worker: onnxruntime-web (wasm + WebGPU) in our own worker, never ORT's proxy. It holds the
 * original model's bytes and the evaluation data; candidates arrive from the model worker over their own channel
 * (src/protocol/candidates), named by id in the page's calls. comlink glue
 * around src/core/eval and src/runtime/ort-web — no algorithm lives here.
 */
import * as Comlink from 'comlink';
import { CandidateEvaluator, type CandidateMeasure, type CandidateOptions } from '../src/core/eval/candidate';
import { loadDataset, type DataFile } from '../src/core/eval/data/load';
import { parseDemoDigits } from '../src/core/eval/data/json';
import type { RgbaImage } from '../src/core/eval/data/png';
import { evaluateModels, type EvalProgress } from '../src/core/eval/evaluate';
import type { LatencyStats } from '../src/core/eval/latency';
import { syntheticDataset, type SyntheticOptions } from '../src/core/eval/synthetic';
import type { EvalDataset, ModelFiles } from '../src/core/eval/types';
import type { ValueInfo } from '../src/core/onnx/types';
import { createWebRuntime, probeWebGpu } from '../src/runtime/ort-web';
import { captureActivations, splitCalibration } from '../src/core/teacher/capture';
import { collectHessians, type PlainGptqLayer } from '../src/core/teacher/gptq-layers';
import { teacherStudentReport, type TeacherStudentReport } from '../src/core/teacher/report';
import { CandidateInbox, type CandidateId } from '../src/protocol/candidates';
import type {
  CalibrationOutcome,
  DatasetSummary,
  EvalEnvironment,
  EvalWorkerApi,
  EvaluateOptions,
  EvaluationResult,
  FileDataOptions,
  PreparedCandidates,
  ReportStage,
} from '../src/protocol/eval';
import { isAbortError, workerJobs, type JobId } from '../src/protocol/job';

/** onnxruntime-web, started on first use with the thread count the page asked for (fixed for this worker's life). */
let runtimeStarted: ReturnType<typeof createWebRuntime> | undefined;
let requestedThreads: number | undefined;
const runtime = () => (runtimeStarted ??= createWebRuntime(requestedThreads));
let original: { model: ModelFiles; name: string } | undefined;
let dataset: EvalDataset | undefined;
let evaluator: CandidateEvaluator | undefined;
/** The samples the last calibration ran on (held out of a static candidate's evaluation). */
let calibratedIds: Set<string> | undefined;
/**
 * Jobs by id (src/protocol/job); the page aborts the ones it no longer wants, and the core checks the signal between
 * samples and runs. One at a time: a job starting aborts the one running (they would share onnxruntime anyway).
 */
const jobs = workerJobs({ exclusive: true });
/** Candidates the model worker sent, by id (src/protocol/candidates). */
const inbox = new CandidateInbox();

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
  if (isAbortError(err)) return err as Error;
  if (err instanceof Error && err.name === 'EvalInputError') return Object.assign(new Error(err.message), { name: err.name });
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

const api: EvalWorkerApi = {
  abortJob(id: JobId): void {
    jobs.abort(id);
  },

  connectModel(port: MessagePort): void {
    inbox.listen(port);
  },

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
  async loadFileData(files: { file: File; path: string }[], inputs: ValueInfo[], options: FileDataOptions): Promise<DatasetSummary> {
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
   * evaluation data with `names` as extra outputs.
   */
  calibrate(job: JobId, names: string[], count: number, onProgress?: (done: number, total: number) => void, gptq = false): Promise<CalibrationOutcome> {
    return jobs.run(job, async (signal) => {
      try {
        const data = requireData();
        const { calibration } = splitCalibration(data, count, false);
        calibratedIds = new Set(calibration.samples.map((x) => x.id));
        const options = {
          backend: 'wasm' as const,
          signal,
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
        throw plain(err, 'Could not calibrate');
      }
    });
  },

  /**
   * The teacher–student report: each stage's layer outputs against the original's on the first `count` samples of the
   * evaluation data (the calibration samples), onnxruntime-web wasm. The stages' files come from the model worker.
   */
  teacherReport(
    job: JobId,
    stages: ReportStage[],
    count: number,
    layers: string[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<TeacherStudentReport> {
    return jobs.run(job, async (signal) => {
      try {
        const files = await Promise.all(stages.map((s) => inbox.take(s.candidate, signal)));
        const { calibration } = splitCalibration(requireData(), count, false);
        return await teacherStudentReport(
          await runtime(),
          requireOriginal().model,
          stages.map((s, i) => ({ id: s.id, label: s.label, model: files[i]! })),
          calibration.samples,
          {
            layers,
            backend: 'wasm',
            maxTensorsPerRun: 16,
            signal,
            onProgress: onProgress ? (done, total) => void onProgress(done, total) : undefined,
          },
        );
      } catch (err) {
        throw plain(err, 'Could not compare the layers with the original');
      }
    });
  },

  /** Original vs candidate side by side on each backend. */
  evaluate(job: JobId, candidate: CandidateId, options: EvaluateOptions, onProgress?: (p: EvalProgress) => void): Promise<EvaluationResult> {
    return jobs.run(job, async (signal) => {
      try {
        const bytes = await inbox.take(candidate, signal);
        // A calibrated candidate is judged on the samples its calibration did not see.
        const data = options.heldOut ? heldOutData() : requireData();
        const report = await evaluateModels(await runtime(), requireOriginal().model, bytes, data, {
          ...options,
          signal,
          onProgress: onProgress ? (p) => void onProgress(p) : undefined,
        });
        return { ...report, wasmHeapBytes: wasmHeapBytes() };
      } catch (err) {
        throw plain(err, 'Evaluation failed');
      }
    });
  },

  /** Prepares repeated measurements against the original (sweeps, sensitivity): runs the original on every sample once. */
  prepareCandidates(job: JobId, options: CandidateOptions, heldOut = false): Promise<PreparedCandidates> {
    return jobs.run(job, async (signal) => {
      try {
        await evaluator?.release();
        evaluator = undefined;
        // Points compressed with a calibration (teacher-guided sweeps, sensitivity) are measured on the samples it did not see.
        const data = heldOut ? heldOutData() : requireData();
        evaluator = await CandidateEvaluator.create(await runtime(), requireOriginal().model, data, options, signal);
        return { samples: evaluator.sampleCount, originalAccuracy: evaluator.originalAccuracy?.value, originalBytes: evaluator.originalBytes };
      } catch (err) {
        throw plain(err, 'Could not run the original model');
      }
    });
  },

  originalLatency(job: JobId): Promise<LatencyStats | undefined> {
    return jobs.run(job, async (signal) => {
      if (!evaluator) throw new Error('prepareCandidates first');
      try {
        return await evaluator.originalLatency(signal);
      } catch (err) {
        throw plain(err, 'Could not time the original model');
      }
    });
  },

  measureCandidate(job: JobId, candidate: CandidateId, runs?: number): Promise<CandidateMeasure> {
    return jobs.run(job, async (signal) => {
      if (!evaluator) throw new Error('prepareCandidates first');
      try {
        const bytes = await inbox.take(candidate, signal);
        return await evaluator.evaluate(bytes, signal, runs);
      } catch (err) {
        throw plain(err, 'Could not measure the candidate');
      }
    });
  },
};

Comlink.expose(api);
