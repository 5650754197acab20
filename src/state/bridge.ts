/**
 * The typed bridge to the model worker. The worker is created lazily and recreated if it crashes;
 * a crash rejects the calls in flight instead of leaving them pending forever. Every call takes an AbortSignal:
 * aborting it rejects the call with an AbortError, and cancellable calls stop in the worker too (src/protocol/job).
 */
import type { AnalyzeOptions } from '../core/analysis/analyze';
import type { QuantizeRecipe, Recipe } from '../core/recipe';
import type { BackendPreference } from '../kernels/registry';
import type { CandidateId } from '../protocol/candidates';
import type { ModelWorkerApi, OutputLayout, WorkerCalibration } from '../protocol/model';
import { nextJobId, withProgress, workerConnection } from './workerConnection';

/** The last model opened, so a worker restarted after a crash (e.g. out of memory) can reopen it. */
type OpenedSource = { kind: 'files'; files: File[] } | { kind: 'url'; url: string; name: string };
let lastOpened: OpenedSource | undefined;
const crashListeners = new Set<(message: string) => void>();

export const modelConnection = workerConnection<ModelWorkerApi>(
  () => new Worker(new URL('../../workers/model.worker.ts', import.meta.url), { type: 'module' }),
  'model worker',
  {
    restore: async (api) => {
      const source = lastOpened;
      if (source?.kind === 'files') await api.open(nextJobId(), source.files);
      else if (source?.kind === 'url') await api.openUrl(nextJobId(), source.url, source.name);
    },
    onCrash: (message) => crashListeners.forEach((listener) => listener(message)),
  },
);
const { call, job } = modelConnection;

async function opening<R>(source: OpenedSource, run: () => Promise<R>): Promise<R> {
  const result = await run();
  lastOpened = source;
  return result;
}

export const modelWorker = {
  open: (files: File[], signal?: AbortSignal) => opening({ kind: 'files', files }, () => job(signal, (api, id) => api.open(id, files))),
  openUrl: (url: string, name: string, signal?: AbortSignal) => opening({ kind: 'url', url, name }, () => job(signal, (api, id) => api.openUrl(id, url, name))),
  /** Called when the worker crashes; the next call restarts it with the last opened model. Returns an unsubscribe. */
  onCrash: (listener: (message: string) => void) => {
    crashListeners.add(listener);
    return () => crashListeners.delete(listener);
  },
  analyzeTensor: (tensorId: number, options: AnalyzeOptions, signal?: AbortSignal) => job(signal, (api, id) => api.analyzeTensor(id, tensorId, options)),
  layerSparsity: (preference: BackendPreference, signal?: AbortSignal) => job(signal, (api, id) => api.layerSparsity(id, preference)),
  backendStatus: (signal?: AbortSignal) => call((api) => api.backendStatus(), signal),
  /** Progress arrives through a comlink proxy; the result's `requestId` names its bytes for the downloads. */
  compress: (
    recipe: Recipe,
    preference: BackendPreference,
    onProgress: (done: number, total: number) => void,
    calibration?: WorkerCalibration,
    output?: OutputLayout,
    signal?: AbortSignal,
  ) => job(signal, (api, id) => withProgress(onProgress, (progress) => api.compress(id, recipe, preference, progress, calibration, output))),
  /** The activations static int8 needs measured (names in the original model). */
  staticNames: (recipe: QuantizeRecipe, signal?: AbortSignal) => call((api) => api.staticNames(recipe), signal),
  downloadBytes: (requestId: number) => call((api) => api.downloadBytes(requestId)),
  downloadGzip: (requestId: number) => call((api) => api.downloadGzip(requestId)),
  downloadData: (requestId: number) => call((api) => api.downloadData(requestId)),
  layerPreview: (tensorId: number, recipe: QuantizeRecipe, bins: number, preference: BackendPreference, signal?: AbortSignal) =>
    job(signal, (api, id) => api.layerPreview(id, tensorId, recipe, bins, preference)),
  /** Copies of the open model's file and external-data files, transferred. */
  originalFiles: (signal?: AbortSignal) => call((api) => api.originalFiles(), signal),
  /**
   * The open model compressed with `recipe`, posted straight to the evaluation worker as `candidate` (the page never
   * holds the bytes; see src/state/candidateChannel). Resolves to its size once sent.
   */
  sendCandidate: (candidate: CandidateId, recipe: Recipe, preference: BackendPreference, calibration?: WorkerCalibration, signal?: AbortSignal) =>
    job(signal, (api, id) => api.sendCandidate(id, candidate, recipe, preference, calibration)),
  /** The open model's graph (for the graph view). */
  graph: (signal?: AbortSignal) => call((api) => api.graph(), signal),
  sensitivityLayers: (recipe: Recipe, signal?: AbortSignal) => call((api) => api.sensitivityLayers(recipe), signal),
  /** Raises the open model to `opset`; the file stays in the worker for `upgradedBytes`. */
  upgrade: (opset: number, signal?: AbortSignal) => call((api) => api.upgrade(opset), signal),
  upgradedBytes: (opset: number) => call((api) => api.upgradedBytes(opset)),
};

export type { SparsityResult, CompressOutcome, PreviewResult, OutputLayout } from '../protocol/model';
