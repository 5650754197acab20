/**
 * What crosses the bridge to the model worker (workers/model.worker.ts): its API and every request and result type.
 * The page and the worker both import from here; src/ui and src/state never import from workers/.
 */
import type { AnalyzeOptions, LayerSparsity, TensorAnalysis } from '../core/analysis/analyze';
import type { Coverage } from '../core/compress/coverage';
import type { PruneReport } from '../core/compress/prune/apply';
import type { LayerQuantPreview } from '../core/compress/quantize/preview';
import type { QuantReport } from '../core/compress/quantize/report';
import type { RuntimeNote } from '../core/compress/quantize/runtime-support';
import type { SensitivityLayer } from '../core/eval/sensitivity';
import type { ModelFiles } from '../core/eval/types';
import type { ModelGraph } from '../core/graph/model';
import type { UpgradeReport } from '../core/onnx/upgrade';
import type { ModelSummary } from '../core/onnx/types';
import type { QuantizeRecipe, Recipe } from '../core/recipe';
import type { PlainGptqLayer } from '../core/teacher/gptq-layers';
import type { ActivationStats } from '../core/teacher/histogram';
import type { BackendPreference, BackendStatus } from '../kernels/registry';
import type { BackendName } from '../kernels/types';
import type { CandidateId } from './candidates';
import type { JobControl, JobId } from './job';

/** What the evaluation worker's calibration hands over: activation statistics (static) and Hessians (GPTQ). */
export interface WorkerCalibration {
  stats: Map<string, ActivationStats>;
  samples: number;
  gptq?: Map<string, PlainGptqLayer>;
}

/** What the page gets back from a compression: reports and sizes; the bytes stay in the worker until Download. */
export interface CompressOutcome {
  /** The job id of the compression; Download asks for the bytes of this job. */
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

export interface SparsityResult {
  layers: LayerSparsity[];
  backend: BackendName;
  ms: number;
}

/** A compressed candidate sent to the evaluation worker over the workers' own channel. */
export interface SentCandidate {
  candidate: CandidateId;
  bytes: number;
}

/**
 * The model worker's API. Calls that take a `job` are cancellable (see ./job); they reject with an AbortError when
 * aborted. Progress callbacks arrive as comlink proxies.
 */
export interface ModelWorkerApi extends JobControl {
  /** Opens a model; an open the page aborted (another model chosen meanwhile) does not replace the open one. */
  open(job: JobId, files: File[]): Promise<ModelSummary>;
  openUrl(job: JobId, url: string, name: string): Promise<ModelSummary>;
  hasModel(): boolean;
  analyzeTensor(job: JobId, tensorId: number, options: AnalyzeOptions): Promise<TensorAnalysis>;
  layerSparsity(job: JobId, preference: BackendPreference): Promise<SparsityResult>;
  /** Compresses the open model (prune, then quantize); the bytes stay here for the downloads, under `job`. */
  compress(
    job: JobId,
    recipe: Recipe,
    preference: BackendPreference,
    onProgress?: (done: number, total: number) => void,
    calibration?: WorkerCalibration,
    output?: OutputLayout,
  ): Promise<CompressOutcome>;
  staticNames(recipe: QuantizeRecipe): Promise<string[]>;
  downloadBytes(requestId: number): Uint8Array | null;
  downloadData(requestId: number): { name: string; blob: Blob } | null;
  downloadGzip(requestId: number): Promise<Uint8Array | null>;
  layerPreview(job: JobId, tensorId: number, recipe: QuantizeRecipe, bins: number, preference: BackendPreference): Promise<PreviewResult>;
  originalFiles(): Promise<ModelFiles>;
  /** The port to the evaluation worker (a fresh one after either worker restarted). */
  connectEval(port: MessagePort): void;
  /** Compresses for a measurement and posts the file to the evaluation worker as `candidate`; the page gets its size. */
  sendCandidate(job: JobId, candidate: CandidateId, recipe: Recipe, preference: BackendPreference, calibration?: WorkerCalibration): Promise<SentCandidate>;
  graph(): ModelGraph;
  sensitivityLayers(recipe: Recipe): SensitivityLayer[];
  upgrade(opset: number): Promise<{ report: UpgradeReport; bytes: number }>;
  upgradedBytes(opset: number): Uint8Array | null;
  backendStatus(): Promise<BackendStatus[]>;
}
