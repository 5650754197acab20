/// <reference lib="webworker" />
/**
 * Model worker: comlink glue around src/core/onnx. No algorithm lives here.
 * The main thread sends File handles (structured clone shares the underlying blob, it does not
 * copy the bytes); the core reads them lazily through blobSource.
 */
import * as Comlink from 'comlink';
import { blobSource } from '../src/core/onnx/source';
import { openModel, summarizeModel, type OpenedModel } from '../src/core/onnx/open';
import type { ModelSummary } from '../src/core/onnx/types';

/** The last model opened successfully; later issues (analysis, compression) work on it. */
let current: OpenedModel | undefined;
/** Increases with each request, so an older request that finishes late cannot replace a newer model. */
let latestRequest = 0;

async function openSources(files: { blob: Blob; name: string }[]): Promise<ModelSummary> {
  const request = ++latestRequest;
  try {
    const model = await openModel(files.map((f) => blobSource(f.blob, f.name)));
    const summary = summarizeModel(model);
    if (request === latestRequest) current = model;
    return summary;
  } catch (err) {
    throw asPlainError(err);
  }
}

/** comlink serialises Error objects; send one with a message a person can read. */
function asPlainError(err: unknown): Error {
  if (err instanceof Error) {
    if (err.name === 'ModelInputError') return new Error(err.message);
    return new Error(`Could not read the model: ${err.message}`);
  }
  return new Error(`Could not read the model: ${String(err)}`);
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
};

export type ModelWorkerApi = typeof api;

Comlink.expose(api);
