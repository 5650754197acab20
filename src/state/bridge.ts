/**
 * The typed bridge to the model worker. The worker is created lazily and recreated if it crashes;
 * a crash rejects the calls in flight instead of leaving them pending forever.
 */
import * as Comlink from 'comlink';
import type { AnalyzeOptions } from '../core/analysis/analyze';
import type { QuantizeRecipe, Recipe } from '../core/recipe';
import type { BackendPreference } from '../kernels/registry';
import type { ModelWorkerApi } from '../../workers/model.worker';

interface Connection<T> {
  worker: Worker;
  api: Comlink.Remote<T>;
  crashed: Promise<never>;
}

/**
 * A lazily started worker that is recreated after a crash; `call` races each call against the crash.
 * `create` must be `() => new Worker(new URL('…', import.meta.url), { type: 'module' })` written out, so the
 * bundler sees the worker.
 */
export function workerConnection<T>(create: () => Worker, label: string) {
  let connection: Connection<T> | undefined;
  function connect(): Connection<T> {
    if (connection) return connection;
    const worker = create();
    const crashed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        // Forget this worker so the next call starts a fresh one.
        if (connection?.worker === worker) connection = undefined;
        worker.terminate();
        reject(new Error(`The ${label} stopped unexpectedly${event.message ? `: ${event.message}` : '.'}`));
      });
    });
    // Nobody may be awaiting this promise when the crash happens; that is not an unhandled rejection.
    crashed.catch(() => undefined);
    connection = { worker, api: Comlink.wrap<T>(worker), crashed };
    return connection;
  }
  return {
    call<R>(run: (api: Comlink.Remote<T>) => Promise<R>): Promise<R> {
      const { api, crashed } = connect();
      return Promise.race([run(api), crashed]);
    },
    /** Stops the worker now (the only sure way to stop a long WASM loop); the next call starts a fresh one. */
    terminate(): void {
      connection?.worker.terminate();
      connection = undefined;
    },
  };
}

const model = workerConnection<ModelWorkerApi>(() => new Worker(new URL('../../workers/model.worker.ts', import.meta.url), { type: 'module' }), 'model worker');
const call = model.call;

export const modelWorker = {
  open: (files: File[]) => call((api) => api.open(files)),
  openUrl: (url: string, name: string) => call((api) => api.openUrl(url, name)),
  /** Resolves to null when a newer analysis request overtook this one in the worker. */
  analyzeTensor: (tensorId: number, options: AnalyzeOptions) => call((api) => api.analyzeTensor(tensorId, options)),
  layerSparsity: (preference: BackendPreference) => call((api) => api.layerSparsity(preference)),
  backendStatus: () => call((api) => api.backendStatus()),
  /** Resolves to null when a newer request or Cancel aborted it. Progress arrives through a comlink proxy. */
  compress: (recipe: Recipe, requestId: number, preference: BackendPreference, onProgress: (done: number, total: number) => void) =>
    call((api) => api.compress(recipe, requestId, preference, Comlink.proxy(onProgress))),
  cancelCompress: () => call((api) => api.cancelCompress()),
  downloadBytes: (requestId: number) => call((api) => api.downloadBytes(requestId)),
  downloadGzip: (requestId: number) => call((api) => api.downloadGzip(requestId)),
  /** Resolves to null when a newer preview request overtook this one. */
  layerPreview: (tensorId: number, recipe: QuantizeRecipe, bins: number, preference: BackendPreference) =>
    call((api) => api.layerPreview(tensorId, recipe, bins, preference)),
  /** A copy of the open model's file, transferred. */
  originalBytes: () => call((api) => api.originalBytes()),
  /** The open model compressed with `recipe`, transferred (for measurements; the Compress panel's result is untouched). */
  compressForEval: (recipe: Recipe, preference: BackendPreference) => call((api) => api.compressForEval(recipe, preference)),
  sensitivityLayers: (recipe: Recipe) => call((api) => api.sensitivityLayers(recipe)),
};

export type { SparsityResult, CompressOutcome, PreviewResult } from '../../workers/model.worker';
