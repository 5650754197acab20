/**
 * The typed bridge to the model worker. The worker is created lazily and recreated if it crashes;
 * a crash rejects the calls in flight instead of leaving them pending forever.
 */
import * as Comlink from 'comlink';
import type { AnalyzeOptions } from '../core/analysis/analyze';
import type { QuantizeRecipe, Recipe } from '../core/recipe';
import type { OutputLayout, WorkerCalibration } from '../../workers/model.worker';
import type { BackendPreference } from '../kernels/registry';
import type { ModelWorkerApi } from '../../workers/model.worker';
import { workerConnection } from './workerConnection';

/** The last model opened, so a worker restarted after a crash (e.g. out of memory) can reopen it. */
type OpenedSource = { kind: 'files'; files: File[] } | { kind: 'url'; url: string; name: string };
let lastOpened: OpenedSource | undefined;
const crashListeners = new Set<(message: string) => void>();

const model = workerConnection<ModelWorkerApi>(
  () => new Worker(new URL('../../workers/model.worker.ts', import.meta.url), { type: 'module' }),
  'model worker',
  {
    restore: async (api) => {
      const source = lastOpened;
      if (source?.kind === 'files') await api.open(source.files);
      else if (source?.kind === 'url') await api.openUrl(source.url, source.name);
    },
    onCrash: (message) => crashListeners.forEach((listener) => listener(message)),
  },
);
const call = model.call;

async function opening<R>(source: OpenedSource, run: () => Promise<R>): Promise<R> {
  const result = await run();
  lastOpened = source;
  return result;
}

export const modelWorker = {
  open: (files: File[]) => opening({ kind: 'files', files }, () => call((api) => api.open(files))),
  openUrl: (url: string, name: string) => opening({ kind: 'url', url, name }, () => call((api) => api.openUrl(url, name))),
  /** Called when the worker crashes; the next call restarts it with the last opened model. Returns an unsubscribe. */
  onCrash: (listener: (message: string) => void) => {
    crashListeners.add(listener);
    return () => crashListeners.delete(listener);
  },
  /** Resolves to null when a newer analysis request overtook this one in the worker. */
  analyzeTensor: (tensorId: number, options: AnalyzeOptions) => call((api) => api.analyzeTensor(tensorId, options)),
  layerSparsity: (preference: BackendPreference) => call((api) => api.layerSparsity(preference)),
  backendStatus: () => call((api) => api.backendStatus()),
  /** Resolves to null when a newer request or Cancel aborted it. Progress arrives through a comlink proxy. */
  compress: (
    recipe: Recipe,
    requestId: number,
    preference: BackendPreference,
    onProgress: (done: number, total: number) => void,
    calibration?: WorkerCalibration,
    output?: OutputLayout,
  ) => call((api) => api.compress(recipe, requestId, preference, Comlink.proxy(onProgress), calibration, output)),
  /** The activations static int8 needs measured (names in the original model). */
  staticNames: (recipe: QuantizeRecipe) => call((api) => api.staticNames(recipe)),
  cancelCompress: () => call((api) => api.cancelCompress()),
  downloadBytes: (requestId: number) => call((api) => api.downloadBytes(requestId)),
  downloadGzip: (requestId: number) => call((api) => api.downloadGzip(requestId)),
  downloadData: (requestId: number) => call((api) => api.downloadData(requestId)),
  /** Resolves to null when a newer preview request overtook this one. */
  layerPreview: (tensorId: number, recipe: QuantizeRecipe, bins: number, preference: BackendPreference) =>
    call((api) => api.layerPreview(tensorId, recipe, bins, preference)),
  /** Copies of the open model's file and external-data files, transferred. */
  originalFiles: () => call((api) => api.originalFiles()),
  /** The open model compressed with `recipe`, transferred (for measurements; the Compress panel's result is untouched). */
  compressForEval: (recipe: Recipe, preference: BackendPreference, calibration?: WorkerCalibration) =>
    call((api) => api.compressForEval(recipe, preference, calibration)),
  /** The open model's graph (for the graph view). */
  graph: () => call((api) => api.graph()),
  sensitivityLayers: (recipe: Recipe) => call((api) => api.sensitivityLayers(recipe)),
  /** Raises the open model to `opset`; the file stays in the worker for `upgradedBytes`. */
  upgrade: (opset: number) => call((api) => api.upgrade(opset)),
  upgradedBytes: (opset: number) => call((api) => api.upgradedBytes(opset)),
};

export type { SparsityResult, CompressOutcome, PreviewResult, OutputLayout } from '../../workers/model.worker';
