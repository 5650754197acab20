/// <reference lib="webworker" />
/**
 * Model worker: comlink glue around src/core. No algorithm lives here.
 * The main thread sends File handles (structured clone shares the underlying blob, it does not
 * copy the bytes); the core reads them lazily through blobSource. Every heavy loop (reading,
 * statistics, histograms) runs here, so the main thread only draws.
 */
import * as Comlink from 'comlink';
import { browserMemoryBudget } from '../src/core/memory';
import { analyzeTensor, layerSparsity, type AnalyzeOptions, type TensorAnalysis } from '../src/core/analysis/analyze';
import { compressModel, gzipSize } from '../src/core/compress/compress';
import { EditableModel } from '../src/core/onnx/editable';
import { upgradeOpset, type UpgradeReport } from '../src/core/onnx/upgrade';
import { encodeStandalone } from '../src/core/onnx/write';
import { layerQuantPreview } from '../src/core/compress/quantize/preview';
import { runtimeNotes } from '../src/core/compress/quantize/runtime-support';
import type { QuantizeRecipe, Recipe } from '../src/core/recipe';
import { blobSource } from '../src/core/onnx/source';
import { openModel, summarizeModel, type OpenedModel } from '../src/core/onnx/open';
import type { ModelSummary } from '../src/core/onnx/types';
import { buildModelGraph, type ModelGraph } from '../src/core/graph/model';
import { BackendRegistry, type BackendPreference, type BackendStatus } from '../src/kernels/registry';
import { sensitivityLayers, type SensitivityLayer } from '../src/core/eval/sensitivity';
import { modelFilesOf } from '../src/core/eval/model-files';
import type { ModelFiles } from '../src/core/eval/types';
import { staticCalibrationNames } from '../src/core/compress/quantize/static';
import { reviveLayers } from '../src/core/teacher/gptq-layers';
import type { CompressOptions } from '../src/core/compress/compress';
import { postCandidate, type CandidateId } from '../src/protocol/candidates';
import { abortError, isAbortError, workerJobs, type JobId } from '../src/protocol/job';
import type { CompressOutcome, ModelWorkerApi, OutputLayout, PreviewResult, SentCandidate, SparsityResult, WorkerCalibration } from '../src/protocol/model';

function calibrationOptions(recipe: Recipe, calibration: WorkerCalibration | undefined): CompressOptions {
  if (!calibration) return {};
  const g = recipe.quantize?.gptq;
  return {
    calibration: calibration.stats,
    calibrationSamples: calibration.samples,
    ...(calibration.gptq && g?.enabled
      ? { gptq: { layers: reviveLayers(calibration.gptq), options: { dampening: g.dampening, blockSize: g.blockSize, actOrder: g.actOrder } } }
      : {}),
    // Channel pruning's least-squares refit reads the same layer-input Hessians.
    ...(calibration.gptq && recipe.prune?.refit && recipe.prune.pattern === 'channel' ? { refit: { layers: reviveLayers(calibration.gptq) } } : {}),
    ...(calibration.gptq && recipe.prune?.method === 'sparsegpt' ? { sparsegpt: { layers: reviveLayers(calibration.gptq), options: {} } } : {}),
  };
}

/** What a compression may use here: half the memory the browser reports (navigator.deviceMemory), else 2 GiB. */
const MEMORY_BUDGET = browserMemoryBudget((navigator as Navigator & { deviceMemory?: number }).deviceMemory);

/** The last model opened successfully; analysis (and later compression) works on it. */
let current: OpenedModel | undefined;
/** One registry per worker: each kernel backend (WASM module, GPU device) is created once. */
const registry = new BackendRegistry();

/**
 * Cancellable calls by job id (src/protocol/job). The page aborts a job it no longer wants (a newer request for the
 * same thing, or Cancel); the core checks the signal between tensors.
 */
const jobs = workerJobs();
/** The evaluation worker's end of the candidates' channel. */
let evalPort: MessagePort | undefined;
/**
 * Bytes of the last finished compression, kept for Download (the reports went to the page, the bytes stay here);
 * with `data` when the weights went to an external-data file beside the model.
 */
let lastResult: { requestId: number; bytes: Uint8Array; data?: { name: string; chunks: Uint8Array[] } } | undefined;
/** Measured gzip size of the open model's file, so a pruned model's gzip size has something honest to compare with. */
let originalGzip: { model: OpenedModel; bytes: number } | undefined;
/** The open model raised to another opset, kept for its Download. */
let upgraded: { model: OpenedModel; opset: number; bytes: Uint8Array } | undefined;

/** Forgets compression state; called when another model opens. */
function forgetCompression(): void {
  lastResult = undefined;
  originalGzip = undefined;
  upgraded = undefined;
}

/** Lets messages that are already queued (a newer request's abort of this one) arrive before this one starts work. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Opens a model as job `job`: an open the page aborted (another model was chosen meanwhile) does not replace it. */
function openSources(job: JobId, files: { blob: Blob; name: string }[]): Promise<ModelSummary> {
  return jobs.run(job, async (signal) => {
    let model: OpenedModel;
    try {
      model = await openModel(files.map((f) => blobSource(f.blob, f.name)));
    } catch (err) {
      throw asPlainError(err, 'Could not read the model');
    }
    signal.throwIfAborted();
    forgetCompression();
    current = model;
    return summarizeModel(model);
  });
}

function requireModel(): OpenedModel {
  if (!current) throw new Error('No model is open.');
  return current;
}

/** comlink serialises Error objects; send one with a message a person can read. */
function asPlainError(err: unknown, context: string): Error {
  if (err instanceof Error) {
    if (err.name === 'ModelInputError') return new Error(err.message);
    return new Error(`${context}: ${err.message}`);
  }
  return new Error(`${context}: ${String(err)}`);
}

/** The largest weight decides where kernels run in auto mode (the GPU only pays off for millions of values). */
function largestWeight(model: OpenedModel): number {
  let n = 0;
  for (const e of model.catalog.entries) if (e.elements > n) n = e.elements;
  return n;
}

/** Compresses for a measurement (sweep point, sensitivity run, teacher report stage): independent of the Compress panel's job. */
async function compressCandidate(
  recipe: Recipe,
  preference: BackendPreference,
  calibration: WorkerCalibration | undefined,
  signal: AbortSignal,
): Promise<Uint8Array> {
  try {
    const model = requireModel();
    const backend = await registry.choose(preference, largestWeight(model));
    const result = await compressModel(model, recipe, { backend, memoryBudget: MEMORY_BUDGET, signal, ...calibrationOptions(recipe, calibration) });
    return result.bytes.byteOffset === 0 && result.bytes.byteLength === result.bytes.buffer.byteLength ? result.bytes : result.bytes.slice();
  } catch (err) {
    signal.throwIfAborted();
    throw asPlainError(err, 'Could not compress the model');
  }
}

const api: ModelWorkerApi = {
  abortJob(id: JobId): void {
    jobs.abort(id);
  },

  async open(job: JobId, files: File[]): Promise<ModelSummary> {
    return openSources(
      job,
      files.map((file) => ({ blob: file, name: file.name })),
    );
  },

  async openUrl(job: JobId, url: string, name: string): Promise<ModelSummary> {
    let blob: Blob;
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`the server answered ${response.status} ${response.statusText}`.trim());
      blob = await response.blob();
    } catch (err) {
      throw new Error(`Could not download ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return openSources(job, [{ blob, name }]);
  },

  /** True once a model is held; later issues (analysis, compression) work on that model. */
  hasModel(): boolean {
    return current !== undefined;
  },

  /** Statistics, histogram and per-channel ranges of one tensor. */
  analyzeTensor(job: JobId, tensorId: number, options: AnalyzeOptions): Promise<TensorAnalysis> {
    return jobs.run(job, async (signal) => {
      // A request the page overtook before it started is skipped: the person has moved on (dragged to another tensor).
      await nextTask();
      signal.throwIfAborted();
      try {
        return await analyzeTensor(requireModel(), tensorId, registry, options);
      } catch (err) {
        throw asPlainError(err, 'Could not analyse the tensor');
      }
    });
  },

  /** Share of zeros in every multiplied weight. */
  layerSparsity(job: JobId, preference: BackendPreference): Promise<SparsityResult> {
    return jobs.run(job, async (signal) => {
      await nextTask();
      signal.throwIfAborted();
      try {
        const started = performance.now();
        const result = await layerSparsity(requireModel(), registry, preference);
        return { ...result, ms: performance.now() - started };
      } catch (err) {
        throw asPlainError(err, 'Could not measure sparsity');
      }
    });
  },

  /**
   * Compresses the open model with `recipe` (prune, then quantize). Rejects with an AbortError when the page aborted
   * the job (a newer request, or Cancel): a stale result never reaches the page. The bytes stay here for the downloads.
   */
  compress(
    job: JobId,
    recipe: Recipe,
    preference: BackendPreference,
    onProgress?: (done: number, total: number) => void,
    calibration?: WorkerCalibration,
    output?: OutputLayout,
  ): Promise<CompressOutcome> {
    const release = () => {
      if (onProgress) (onProgress as unknown as { [Comlink.releaseProxy]?: () => void })[Comlink.releaseProxy]?.();
    };
    return jobs
      .run(job, async (signal) => {
        await nextTask();
        signal.throwIfAborted();
        try {
          const model = requireModel();
          const started = performance.now();
          const backend = await registry.choose(preference, largestWeight(model));
          let lastReport = 0;
          const result = await compressModel(model, recipe, {
            backend,
            memoryBudget: MEMORY_BUDGET,
            signal,
            ...calibrationOptions(recipe, calibration),
            ...(output ? { externalDataName: output.dataFileName, ...(output.separate ? { standaloneLimit: 0 } : {}) } : {}),
            onProgress: onProgress
              ? (done, total) => {
                  // A message per tensor is plenty for small models; large ones report at most ~10 times a second.
                  const now = performance.now();
                  if (done === total || now - lastReport > 100) {
                    lastReport = now;
                    void onProgress(done, total);
                  }
                }
              : undefined,
          });
          // Another model opened meanwhile: this result belongs to nothing shown.
          if (model !== current) throw abortError();
          let gzipBytes: number | undefined;
          let inputGzipBytes: number | undefined;
          // Masks leave the file dense: only a compressed file shows what the zeros are worth. Channel pruning
          // shrinks the file itself, so its raw size is the honest one.
          if (recipe.prune && recipe.prune.pattern !== 'channel' && !result.data) {
            gzipBytes = await gzipSize(result.bytes);
            if (originalGzip?.model !== model) originalGzip = { model, bytes: await gzipSize(model.fileData) };
            inputGzipBytes = originalGzip.bytes;
            signal.throwIfAborted();
          }
          lastResult = { requestId: job, bytes: result.bytes, ...(result.data ? { data: { name: result.data.name, chunks: result.data.chunks } } : {}) };
          return {
            requestId: job,
            recipe,
            inputBytes: result.inputBytes,
            outputBytes: result.outputBytes,
            gzipBytes,
            inputGzipBytes,
            prune: result.prune,
            quantize: result.quantize,
            coverage: result.coverage,
            upgrade: result.upgrade,
            runtime: result.quantize ? runtimeNotes(result.quantize) : [],
            backend: backend.name,
            ms: performance.now() - started,
            ...(result.data ? { externalData: { name: result.data.name, bytes: result.data.size } } : {}),
          };
        } catch (err) {
          signal.throwIfAborted();
          throw isAbortError(err) ? err : asPlainError(err, 'Could not compress the model');
        }
      })
      .finally(release);
  },

  /** The activations static int8 needs measured on the open model (names of the original). */
  async staticNames(recipe: QuantizeRecipe): Promise<string[]> {
    return staticCalibrationNames(requireModel(), recipe);
  },

  /**
   * The file of the last finished compression (null if none, or if it is not `requestId`'s). A copy is
   * transferred, not cloned, so the page gets it without a second copy and Download can be pressed again.
   */
  downloadBytes(requestId: number): Uint8Array | null {
    if (!lastResult || lastResult.requestId !== requestId) return null;
    const copy = lastResult.bytes.slice();
    return Comlink.transfer(copy, [copy.buffer]);
  },

  /**
   * The external-data file of the last compression, as a Blob assembled from its chunks (no one buffer of its full
   * size, which may pass 2 GB); null when that result had no data file or is not `requestId`'s.
   */
  downloadData(requestId: number): { name: string; blob: Blob } | null {
    if (!lastResult?.data || lastResult.requestId !== requestId) return null;
    return { name: lastResult.data.name, blob: new Blob(lastResult.data.chunks as BlobPart[], { type: 'application/octet-stream' }) };
  },

  /** The same file gzip-compressed: what a mask-pruned model's zeros are worth on disk or over the wire. */
  async downloadGzip(requestId: number): Promise<Uint8Array | null> {
    if (!lastResult || lastResult.requestId !== requestId) return null;
    const stream = new Blob([lastResult.bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
    const gz = new Uint8Array(await new Response(stream).arrayBuffer());
    return Comlink.transfer(gz, [gz.buffer]);
  },

  /** One layer under a quantize recipe: value histogram, grid, clipping range, error histogram. */
  layerPreview(job: JobId, tensorId: number, recipe: QuantizeRecipe, bins: number, preference: BackendPreference): Promise<PreviewResult> {
    return jobs.run(job, async (signal) => {
      await nextTask();
      signal.throwIfAborted();
      try {
        const model = requireModel();
        const started = performance.now();
        const backend = await registry.choose(preference, model.catalog.entries[tensorId]?.elements ?? 0);
        const preview = await layerQuantPreview(model, tensorId, recipe, backend, bins);
        return { ...preview, backend: backend.name, ms: performance.now() - started };
      } catch (err) {
        throw asPlainError(err, 'Could not preview the quantization of this layer');
      }
    });
  },

  /** The open model's file and its external-data files, as copies transferred to the page (for the evaluation worker). */
  async originalFiles(): Promise<ModelFiles> {
    try {
      const files = await modelFilesOf(requireModel());
      const own = (b: Uint8Array) =>
        b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer !== requireModel().fileData.buffer ? b : b.slice();
      const out: ModelFiles = { bytes: files.bytes.slice(), externalData: files.externalData?.map((f) => ({ path: f.path, data: own(f.data) })) };
      return Comlink.transfer(out, [out.bytes.buffer, ...(out.externalData ?? []).map((f) => f.data.buffer)]);
    } catch (err) {
      throw asPlainError(err, 'Could not read the model for evaluation');
    }
  },

  connectEval(port: MessagePort): void {
    evalPort?.close();
    evalPort = port;
  },

  /** Compresses the open model for a measurement and posts the file straight to the evaluation worker. */
  sendCandidate(job: JobId, candidate: CandidateId, recipe: Recipe, preference: BackendPreference, calibration?: WorkerCalibration): Promise<SentCandidate> {
    return jobs.run(job, async (signal) => {
      const port = evalPort;
      if (!port) throw new Error('The model worker is not connected to the evaluation worker.');
      const bytes = await compressCandidate(recipe, preference, calibration, signal);
      const size = bytes.byteLength;
      postCandidate(port, candidate, bytes);
      return { candidate, bytes: size };
    });
  },

  /** The open model's graph for the graph view (ops, values, weight badges, subgraph groups). */
  graph(): ModelGraph {
    return buildModelGraph(requireModel().catalog);
  },

  /** The weights a recipe would change (the layers a sensitivity analysis compresses one at a time). */
  sensitivityLayers(recipe: Recipe): SensitivityLayer[] {
    return sensitivityLayers(requireModel(), recipe);
  },

  /** Raises the open model's opset to `opset` (the same converter compression uses); the file stays here for `upgradedBytes`. */
  async upgrade(opset: number): Promise<{ report: UpgradeReport; bytes: number }> {
    try {
      const model = requireModel();
      const work = new EditableModel(model);
      const report = upgradeOpset(work.model, opset);
      const bytes = await encodeStandalone(model, work.model);
      upgraded = { model, opset, bytes };
      return { report, bytes: bytes.byteLength };
    } catch (err) {
      throw asPlainError(err, 'Could not upgrade the model');
    }
  },

  /** The upgraded file (a transferred copy), or null when the open model has none at that opset. */
  upgradedBytes(opset: number): Uint8Array | null {
    if (!upgraded || upgraded.model !== current || upgraded.opset !== opset) return null;
    const copy = upgraded.bytes.slice();
    return Comlink.transfer(copy, [copy.buffer]);
  },

  /** Which kernel backends run here, and on what (e.g. the GPU adapter). */
  async backendStatus(): Promise<BackendStatus[]> {
    return registry.status();
  },
};

Comlink.expose(api);
