/** The typed bridge to the evaluation worker (onnxruntime-web). Buffers are transferred, never copied. */
import * as Comlink from 'comlink';
import type { CandidateOptions } from '../core/eval/candidate';
import type { LoadOptions } from '../core/eval/data/load';
import type { EvalProgress, EvaluationOptions } from '../core/eval/evaluate';
import type { SyntheticOptions } from '../core/eval/synthetic';
import type { ModelFiles } from '../core/eval/types';
import type { ValueInfo } from '../core/onnx/types';
import type { EvalWorkerApi } from '../../workers/eval.worker';
import { workerConnection } from './workerConnection';

const evaluation = workerConnection<EvalWorkerApi>(
  () => new Worker(new URL('../../workers/eval.worker.ts', import.meta.url), { type: 'module' }),
  'evaluation worker',
);
const call = evaluation.call;

export const evalWorker = {
  /** Starts onnxruntime-web with `threads` wasm threads (default: the runtime's choice for this machine). */
  environment: (threads?: number) => call((api) => api.environment(threads)),
  /** Stops the worker (its onnxruntime, model and data go with it); the next call starts a fresh one. */
  restart: () => evaluation.terminate(),
  setOriginal: (model: ModelFiles, name: string) =>
    call((api) => api.setOriginal(Comlink.transfer(model, [model.bytes.buffer, ...(model.externalData ?? []).map((f) => f.data.buffer)]), name)),
  loadDemoData: (url: string, inputs: ValueInfo[]) => call((api) => api.loadDemoData(url, inputs)),
  loadSyntheticData: (inputs: ValueInfo[], options: SyntheticOptions) => call((api) => api.loadSyntheticData(inputs, options)),
  loadFileData: (files: { file: File; path: string }[], inputs: ValueInfo[], options: Omit<LoadOptions, 'fallbackDecode' | 'labelsCsv'>) =>
    call((api) => api.loadFileData(files, inputs, options)),
  /** Resolves to null when cancelled. */
  evaluate: (candidate: Uint8Array, options: Omit<EvaluationOptions, 'signal' | 'onProgress'> & { heldOut?: boolean }, onProgress: (p: EvalProgress) => void) =>
    call((api) => api.evaluate(Comlink.transfer(candidate, [candidate.buffer]), options, Comlink.proxy(onProgress))),
  prepareCandidates: (options: CandidateOptions, heldOut = false) => call((api) => api.prepareCandidates(options, heldOut)),
  originalLatency: () => call((api) => api.originalLatency()),
  measureCandidate: (bytes: Uint8Array, runs?: number) => call((api) => api.measureCandidate(Comlink.transfer(bytes, [bytes.buffer]), runs)),
  /** Static int8's calibration on the evaluation data (onnxruntime-web wasm); resolves to null when cancelled. */
  calibrate: (names: string[], count: number, onProgress: (done: number, total: number) => void, gptq = false) =>
    call((api) => api.calibrate(names, count, Comlink.proxy(onProgress), gptq)),
  /** The teacher–student report on the first `count` samples (onnxruntime-web wasm); stage buffers are transferred; null when cancelled. */
  teacherReport: (
    stages: { id: string; label: string; bytes: Uint8Array }[],
    count: number,
    layers: string[],
    onProgress: (done: number, total: number) => void,
  ) =>
    call((api) =>
      api.teacherReport(
        Comlink.transfer(
          stages,
          stages.map((s) => s.bytes.buffer as ArrayBuffer),
        ),
        count,
        layers,
        Comlink.proxy(onProgress),
      ),
    ),
  cancel: () => call((api) => api.cancel()),
};

export type { CalibrationOutcome, DatasetSummary, EvalEnvironment } from '../../workers/eval.worker';
