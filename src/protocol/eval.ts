/**
 * What crosses the bridge to the evaluation worker (workers/eval.worker.ts, onnxruntime-web): its API and every
 * request and result type. Candidates are named by id; their bytes come from the model worker (./candidates).
 */
import type { CandidateMeasure, CandidateOptions } from '../core/eval/candidate';
import type { LoadOptions } from '../core/eval/data/load';
import type { EvalProgress, EvaluationOptions, EvaluationReport } from '../core/eval/evaluate';
import type { LatencyStats } from '../core/eval/latency';
import type { SyntheticOptions } from '../core/eval/synthetic';
import type { ModelFiles } from '../core/eval/types';
import type { ValueInfo } from '../core/onnx/types';
import type { PlainGptqLayer } from '../core/teacher/gptq-layers';
import type { ActivationStats } from '../core/teacher/histogram';
import type { TeacherStudentReport } from '../core/teacher/report';
import type { WebGpuInfo } from '../runtime/ort-web';
import type { CandidateId } from './candidates';
import type { JobControl, JobId } from './job';

/** Static int8's calibration: the teacher's statistics, and where they came from. */
export interface CalibrationOutcome {
  stats: Map<string, ActivationStats>;
  samples: number;
  dataset: string;
  synthetic: boolean;
  unreachable: string[];
  peakBytes: number;
  /** GPTQ: each layer's Hessian by weight name (when asked). */
  gptq?: Map<string, PlainGptqLayer>;
}

export interface DatasetSummary {
  name: string;
  description: string;
  samples: number;
  labelled: number;
  classNames?: string[];
  synthetic: boolean;
  /** Input shapes of the first sample, e.g. { input: [1, 1, 28, 28] }. */
  shapes: Record<string, number[]>;
}

export interface EvalEnvironment {
  runtime: string;
  crossOriginIsolated: boolean;
  /** Logical cores the browser reports. */
  cores: number;
  /** Threads onnxruntime-web's wasm runs on. */
  threads: number;
  webgpu: WebGpuInfo;
}

export type EvaluateOptions = Omit<EvaluationOptions, 'signal' | 'onProgress'> & { heldOut?: boolean };
export type EvaluationResult = EvaluationReport & { wasmHeapBytes: number };
export type FileDataOptions = Omit<LoadOptions, 'fallbackDecode' | 'labelsCsv'>;
export interface PreparedCandidates {
  samples: number;
  originalAccuracy?: number;
  originalBytes: number;
}
/** One stage of the teacher report: a candidate the model worker sent. */
export interface ReportStage {
  id: string;
  label: string;
  candidate: CandidateId;
}

/**
 * The evaluation worker's API. Calls that take a `job` are cancellable (see ./job) and reject with an AbortError when
 * aborted; the worker runs one job at a time (a job starting aborts the one running).
 */
export interface EvalWorkerApi extends JobControl {
  environment(threads?: number): Promise<EvalEnvironment>;
  setOriginal(model: ModelFiles, name: string): Promise<void>;
  /** The port the model worker sends candidates on (a fresh one after either worker restarted). */
  connectModel(port: MessagePort): void;
  loadDemoData(url: string, inputs: ValueInfo[]): Promise<DatasetSummary>;
  loadSyntheticData(inputs: ValueInfo[], options: SyntheticOptions): Promise<DatasetSummary>;
  loadFileData(files: { file: File; path: string }[], inputs: ValueInfo[], options: FileDataOptions): Promise<DatasetSummary>;
  calibrate(job: JobId, names: string[], count: number, onProgress?: (done: number, total: number) => void, gptq?: boolean): Promise<CalibrationOutcome>;
  teacherReport(
    job: JobId,
    stages: ReportStage[],
    count: number,
    layers: string[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<TeacherStudentReport>;
  evaluate(job: JobId, candidate: CandidateId, options: EvaluateOptions, onProgress?: (p: EvalProgress) => void): Promise<EvaluationResult>;
  /** `heldOut`: on the samples the last calibration did not see (teacher-guided sweeps and sensitivity). */
  prepareCandidates(job: JobId, options: CandidateOptions, heldOut?: boolean): Promise<PreparedCandidates>;
  originalLatency(job: JobId): Promise<LatencyStats | undefined>;
  measureCandidate(job: JobId, candidate: CandidateId, runs?: number): Promise<CandidateMeasure>;
}
