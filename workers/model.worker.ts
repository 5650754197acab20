/// <reference lib="webworker" />
/**
 * Model worker: comlink glue around src/core. No algorithm lives here.
 * The main thread sends File handles (structured clone shares the underlying blob, it does not
 * copy the bytes); the core reads them lazily through blobSource. Every heavy loop (reading,
 * statistics, histograms) runs here, so the main thread only draws.
 */
import * as Comlink from 'comlink';
import { analyzeTensor, layerSparsity, type AnalyzeOptions, type LayerSparsity, type TensorAnalysis } from '../src/core/analysis/analyze';
import { blobSource } from '../src/core/onnx/source';
import { openModel, summarizeModel, type OpenedModel } from '../src/core/onnx/open';
import type { ModelSummary } from '../src/core/onnx/types';
import { BackendRegistry, type BackendPreference, type BackendStatus } from '../src/kernels/registry';
import type { BackendName } from '../src/kernels/types';

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
const latestOf = { tensor: 0, sparsity: 0 };

/** Lets messages that are already queued (newer requests) register before this one starts work. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function openSources(files: { blob: Blob; name: string }[]): Promise<ModelSummary> {
  const request = ++latestRequest;
  try {
    const model = await openModel(files.map((f) => blobSource(f.blob, f.name)));
    const summary = summarizeModel(model);
    if (request === latestRequest) current = model;
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

  /** Which kernel backends run here, and on what (e.g. the GPU adapter). */
  async backendStatus(): Promise<BackendStatus[]> {
    return registry.status();
  },
};

export type ModelWorkerApi = typeof api;

Comlink.expose(api);
