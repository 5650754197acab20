/**
 * The typed bridge to the evaluation worker (onnxruntime-web). Buffers are transferred, never copied; candidates
 * come from the model worker over their own channel (src/state/candidateChannel), the page only names them.
 * Every call takes an AbortSignal; cancellable calls stop in the worker too (src/protocol/job).
 */
import * as Comlink from 'comlink';
import type { CandidateOptions } from '../core/eval/candidate';
import type { EvalProgress } from '../core/eval/evaluate';
import type { SyntheticOptions } from '../core/eval/synthetic';
import type { ModelFiles } from '../core/eval/types';
import type { ValueInfo } from '../core/onnx/types';
import type { CandidateId } from '../protocol/candidates';
import type { EvalWorkerApi, EvaluateOptions, FileDataOptions, ReportStage } from '../protocol/eval';
import { withProgress, workerConnection } from './workerConnection';

export const evalConnection = workerConnection<EvalWorkerApi>(
  () => new Worker(new URL('../../workers/eval.worker.ts', import.meta.url), { type: 'module' }),
  'evaluation worker',
);
const { call, job } = evalConnection;

export const evalWorker = {
  /** Starts onnxruntime-web with `threads` wasm threads (default: the runtime's choice for this machine). */
  environment: (threads?: number, signal?: AbortSignal) => call((api) => api.environment(threads), signal),
  /** Stops the worker (its onnxruntime, model and data go with it); the next call starts a fresh one. */
  restart: () => evalConnection.terminate(),
  setOriginal: (model: ModelFiles, name: string, signal?: AbortSignal) =>
    call((api) => api.setOriginal(Comlink.transfer(model, [model.bytes.buffer, ...(model.externalData ?? []).map((f) => f.data.buffer)]), name), signal),
  loadDemoData: (url: string, inputs: ValueInfo[], signal?: AbortSignal) => call((api) => api.loadDemoData(url, inputs), signal),
  loadSyntheticData: (inputs: ValueInfo[], options: SyntheticOptions, signal?: AbortSignal) => call((api) => api.loadSyntheticData(inputs, options), signal),
  loadFileData: (files: { file: File; path: string }[], inputs: ValueInfo[], options: FileDataOptions, signal?: AbortSignal) =>
    call((api) => api.loadFileData(files, inputs, options), signal),
  evaluate: (candidate: CandidateId, options: EvaluateOptions, onProgress: (p: EvalProgress) => void, signal?: AbortSignal) =>
    job(signal, (api, id) => withProgress(onProgress, (progress) => api.evaluate(id, candidate, options, progress))),
  prepareCandidates: (options: CandidateOptions, heldOut: boolean, signal?: AbortSignal) =>
    job(signal, (api, id) => api.prepareCandidates(id, options, heldOut)),
  originalLatency: (signal?: AbortSignal) => job(signal, (api, id) => api.originalLatency(id)),
  measureCandidate: (candidate: CandidateId, runs?: number, signal?: AbortSignal) => job(signal, (api, id) => api.measureCandidate(id, candidate, runs)),
  /** Static int8's calibration on the evaluation data (onnxruntime-web wasm). */
  calibrate: (names: string[], count: number, onProgress: (done: number, total: number) => void, gptq = false, signal?: AbortSignal) =>
    job(signal, (api, id) => withProgress(onProgress, (progress) => api.calibrate(id, names, count, progress, gptq))),
  /** The teacher–student report on the first `count` samples (onnxruntime-web wasm); the stages are candidates sent by the model worker. */
  teacherReport: (stages: ReportStage[], count: number, layers: string[], onProgress: (done: number, total: number) => void, signal?: AbortSignal) =>
    job(signal, (api, id) => withProgress(onProgress, (progress) => api.teacherReport(id, stages, count, layers, progress))),
};

export type { CalibrationOutcome, DatasetSummary, EvalEnvironment } from '../protocol/eval';
