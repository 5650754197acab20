/// <reference lib="webworker" />
/**
 * Model worker: comlink glue around src/core. No algorithm lives here.
 * The main thread sends File handles (structured clone shares the underlying blob, it does not
 * copy the bytes); the core reads them lazily through blobSource. Every heavy loop (reading,
 * statistics, histograms) runs here, so the main thread only draws.
 */
import * as Comlink from 'comlink';
import { browserMemoryBudget } from '../src/core/memory';
import { analyzeTensor, layerSparsity, type AnalyzeOptions, type LayerSparsity, type TensorAnalysis } from '../src/core/analysis/analyze';
import { compressModel, gzipSize } from '../src/core/compress/compress';
import type { Coverage } from '../src/core/compress/coverage';
import { EditableModel } from '../src/core/onnx/editable';
import { upgradeOpset, type UpgradeReport } from '../src/core/onnx/upgrade';
import { encodeStandalone } from '../src/core/onnx/write';
import type { PruneReport } from '../src/core/compress/prune/apply';
import type { QuantReport } from '../src/core/compress/quantize/report';
import { layerQuantPreview, type LayerQuantPreview } from '../src/core/compress/quantize/preview';
import { runtimeNotes, type RuntimeNote } from '../src/core/compress/quantize/runtime-support';
import type { QuantizeRecipe, Recipe } from '../src/core/recipe';
import { blobSource } from '../src/core/onnx/source';
import { openModel, summarizeModel, type OpenedModel } from '../src/core/onnx/open';
import type { ModelSummary } from '../src/core/onnx/types';
import { buildModelGraph, type ModelGraph } from '../src/core/graph/model';
import { BackendRegistry, type BackendPreference, type BackendStatus } from '../src/kernels/registry';
import type { BackendName } from '../src/kernels/types';
import { sensitivityLayers, type SensitivityLayer } from '../src/core/eval/sensitivity';
import { modelFilesOf } from '../src/core/eval/model-files';
import type { ModelFiles } from '../src/core/eval/types';
import { staticCalibrationNames } from '../src/core/compress/quantize/static';
import { reviveLayers, type PlainGptqLayer } from '../src/core/teacher/gptq-layers';
import type { CompressOptions } from '../src/core/compress/compress';

/** What the evaluation worker's calibration hands over: activation statistics (static) and Hessians (GPTQ). */
export interface WorkerCalibration {
  stats: Map<string, ActivationStats>;
  samples: number;
  gptq?: Map<string, PlainGptqLayer>;
}

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
import type { ActivationStats } from '../src/core/teacher/histogram';

/** What a compression may use here: half the memory the browser reports (navigator.deviceMemory), else 2 GiB. */
const MEMORY_BUDGET = browserMemoryBudget((navigator as Navigator & { deviceMemory?: number }).deviceMemory);

/** The last model opened successfully; analysis (and later compression) works on it. */
let current: OpenedModel | undefined;
/** Increases with each request, so an older request that finishes late cannot replace a newer model. */
let latestRequest = 0;
/** One registry per worker: each kernel backend (WASM module, GPU device) is created once. */
const registry = new BackendRegistry();

/**
 * Newest request per kind of analysis. A request that a newer one of the same kind overtook before it
 * started is skipped: the person has already moved on (dragged to another tensor, changed the bins).
 */
const latestOf = { tensor: 0, sparsity: 0, preview: 0 };

/** The compression in flight: a newer request (or Cancel) aborts it; the core checks the signal between tensors. */
let running: { requestId: number; controller: AbortController } | undefined;
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
  running?.controller.abort();
  running = undefined;
  lastResult = undefined;
  originalGzip = undefined;
  upgraded = undefined;
}

/** Lets messages that are already queued (newer requests) register before this one starts work. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function openSources(files: { blob: Blob; name: string }[]): Promise<ModelSummary> {
  const request = ++latestRequest;
  try {
    const model = await openModel(files.map((f) => blobSource(f.blob, f.name)));
    const summary = summarizeModel(model);
    if (request === latestRequest) {
      forgetCompression();
      current = model;
    }
    return summary;
  } catch (err) {
    throw asPlainError(err, 'Could not read the model');
  }
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

/** What the page gets back from a compression: reports and sizes; the bytes stay in the worker until Download. */
export interface CompressOutcome {
  requestId: number;
  /** The recipe this result belongs to (the page may have moved on). */
  recipe: Recipe;
  inputBytes: number;
  outputBytes: number;
  /** Measured gzip size of the output and of the original file, for mask-pruned results (zeros only shrink compressed). */
  gzipBytes?: number;
  inputGzipBytes?: number;
  prune?: PruneReport;
  quantize?: QuantReport;
  /** Weight bytes compressed / total, and what was left by reason. */
  coverage: Coverage;
  /** The opset upgrade the formats needed, when the model was raised. */
  upgrade?: UpgradeReport;
  /** What onnxruntime-web does with each format written. */
  runtime: RuntimeNote[];
  /** The kernel backend the quantization math ran on. */
  backend: BackendName;
  /** Time in the worker, from start to the report (incl. writing the file and measuring gzip). */
  ms: number;
  /** Set when the weights were written to an external-data file beside the model (over 2 GB, or asked for). */
  externalData?: { name: string; bytes: number };
}

/**
 * Where the weights of a compressed model go: inside the .onnx file, or in `dataFileName` beside it. Outputs over
 * protobuf's 2 GB always use the data file; `separate` asks for it at any size.
 */
export interface OutputLayout {
  dataFileName: string;
  separate: boolean;
}

export interface PreviewResult extends LayerQuantPreview {
  backend: BackendName;
  ms: number;
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException ? err.name === 'AbortError' : err instanceof Error && err.name === 'AbortError';
}

/** The largest weight decides where kernels run in auto mode (the GPU only pays off for millions of values). */
function largestWeight(model: OpenedModel): number {
  let n = 0;
  for (const e of model.catalog.entries) if (e.elements > n) n = e.elements;
  return n;
}

export interface SparsityResult {
  layers: LayerSparsity[];
  backend: BackendName;
  ms: number;
}

const api = {
  async open(files: File[]): Promise<ModelSummary> {
    return openSources(files.map((file) => ({ blob: file, name: file.name })));
  },

  async openUrl(url: string, name: string): Promise<ModelSummary> {
    let blob: Blob;
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`the server answered ${response.status} ${response.statusText}`.trim());
      blob = await response.blob();
    } catch (err) {
      throw new Error(`Could not download ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return openSources([{ blob, name }]);
  },

  /** True once a model is held; later issues (analysis, compression) work on that model. */
  hasModel(): boolean {
    return current !== undefined;
  },

  /** Statistics, histogram and per-channel ranges of one tensor; null when a newer request overtook it. */
  async analyzeTensor(tensorId: number, options: AnalyzeOptions): Promise<TensorAnalysis | null> {
    const request = ++latestOf.tensor;
    await nextTask();
    if (request !== latestOf.tensor) return null;
    try {
      return await analyzeTensor(requireModel(), tensorId, registry, options);
    } catch (err) {
      throw asPlainError(err, 'Could not analyse the tensor');
    }
  },

  /** Share of zeros in every multiplied weight; null when a newer request overtook it. */
  async layerSparsity(preference: BackendPreference): Promise<SparsityResult | null> {
    const request = ++latestOf.sparsity;
    await nextTask();
    if (request !== latestOf.sparsity) return null;
    try {
      const started = performance.now();
      const result = await layerSparsity(requireModel(), registry, preference);
      return { ...result, ms: performance.now() - started };
    } catch (err) {
      throw asPlainError(err, 'Could not measure sparsity');
    }
  },

  /**
   * Compresses the open model with `recipe` (prune, then quantize). Resolves to null when a newer request or
   * Cancel aborted it: a stale result never reaches the page. The bytes stay here for `downloadBytes`.
   */
  async compress(
    recipe: Recipe,
    requestId: number,
    preference: BackendPreference,
    onProgress?: (done: number, total: number) => void,
    calibration?: WorkerCalibration,
    output?: OutputLayout,
  ): Promise<CompressOutcome | null> {
    running?.controller.abort();
    const controller = new AbortController();
    running = { requestId, controller };
    const release = () => {
      if (onProgress) (onProgress as unknown as { [Comlink.releaseProxy]?: () => void })[Comlink.releaseProxy]?.();
    };
    try {
      await nextTask();
      if (controller.signal.aborted) return null;
      const model = requireModel();
      const started = performance.now();
      const backend = await registry.choose(preference, largestWeight(model));
      let lastReport = 0;
      const result = await compressModel(model, recipe, {
        backend,
        memoryBudget: MEMORY_BUDGET,
        signal: controller.signal,
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
      if (controller.signal.aborted || model !== current) return null;
      let gzipBytes: number | undefined;
      let inputGzipBytes: number | undefined;
      // Masks leave the file dense: only a compressed file shows what the zeros are worth. Channel pruning
      // shrinks the file itself, so its raw size is the honest one.
      if (recipe.prune && recipe.prune.pattern !== 'channel' && !result.data) {
        gzipBytes = await gzipSize(result.bytes);
        if (originalGzip?.model !== model) originalGzip = { model, bytes: await gzipSize(model.fileData) };
        inputGzipBytes = originalGzip.bytes;
        if (controller.signal.aborted) return null;
      }
      lastResult = { requestId, bytes: result.bytes, ...(result.data ? { data: { name: result.data.name, chunks: result.data.chunks } } : {}) };
      return {
        requestId,
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
      if (isAbort(err) || controller.signal.aborted) return null;
      throw asPlainError(err, 'Could not compress the model');
    } finally {
      if (running?.controller === controller) running = undefined;
      release();
    }
  },

  /** The activations static int8 needs measured on the open model (names of the original). */
  async staticNames(recipe: QuantizeRecipe): Promise<string[]> {
    return staticCalibrationNames(requireModel(), recipe);
  },

  /** Stops the compression in flight (its call resolves to null). */
  cancelCompress(): void {
    running?.controller.abort();
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

  /** One layer under a quantize recipe: value histogram, grid, clipping range, error histogram; null when overtaken. */
  async layerPreview(tensorId: number, recipe: QuantizeRecipe, bins: number, preference: BackendPreference): Promise<PreviewResult | null> {
    const request = ++latestOf.preview;
    await nextTask();
    if (request !== latestOf.preview) return null;
    try {
      const model = requireModel();
      const started = performance.now();
      const backend = await registry.choose(preference, model.catalog.entries[tensorId]?.elements ?? 0);
      const preview = await layerQuantPreview(model, tensorId, recipe, backend, bins);
      return { ...preview, backend: backend.name, ms: performance.now() - started };
    } catch (err) {
      throw asPlainError(err, 'Could not preview the quantization of this layer');
    }
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

  /**
   * Compresses the open model for a measurement (sweep point, one-layer sensitivity run) and transfers the
   * file; independent of the Compress panel's job and its Download.
   */
  async compressForEval(recipe: Recipe, preference: BackendPreference, calibration?: WorkerCalibration): Promise<Uint8Array> {
    try {
      const model = requireModel();
      const backend = await registry.choose(preference, largestWeight(model));
      const result = await compressModel(model, recipe, { backend, memoryBudget: MEMORY_BUDGET, ...calibrationOptions(recipe, calibration) });
      const bytes = result.bytes.byteOffset === 0 && result.bytes.byteLength === result.bytes.buffer.byteLength ? result.bytes : result.bytes.slice();
      return Comlink.transfer(bytes, [bytes.buffer]);
    } catch (err) {
      throw asPlainError(err, 'Could not compress the model');
    }
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

export type ModelWorkerApi = typeof api;

Comlink.expose(api);
