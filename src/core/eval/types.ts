/**
 * Shared types of the evaluation lab: host tensors fed to / read from a runtime, datasets, and the
 * runtime interface that onnxruntime-web (worker) and onnxruntime-node (CLI, tests) implement.
 * The core never imports a runtime; one is passed in.
 */

export type HostDtype = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'uint16' | 'uint32' | 'bool';

export type HostData = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint32Array;

/** A tensor on the host, in onnxruntime's layout (row-major; float16 as raw Uint16 bits; bool as Uint8). */
export interface HostTensor {
  dtype: HostDtype;
  dims: number[];
  data: HostData;
}

export type Feeds = Record<string, HostTensor>;

export interface EvalSample {
  /** One input tensor per model input (batch dimension 1 where the model has one). */
  feeds: Feeds;
  /** Class index, when the data is labelled. */
  label?: number;
  /** Where the sample came from (file name, "demo #12", "synthetic #3"). */
  id: string;
}

export interface EvalDataset {
  /** Short name shown next to results ("MNIST demo digits (500, labelled)"). */
  name: string;
  /** What the inputs are and how they were made, in words. */
  description: string;
  samples: EvalSample[];
  /** Class names by index, when labels came from folder names or a CSV with names. */
  classNames?: string[];
  /** True for generated inputs: fidelity on noise can mislead, the UI says so. */
  synthetic: boolean;
}

/** The execution backends the studio measures. Node's runtime offers 'cpu' (and 'webgpu' where Dawn is present). */
export type EvalBackend = 'wasm' | 'webgpu' | 'cpu';

export interface EvalSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Feeds): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

export interface CreatedSession {
  session: EvalSession;
  backend: EvalBackend;
  /** Wall time to create the session (parse, optimise, upload weights), ms. */
  loadMs: number;
  /** Nodes the runtime placed on the CPU although another backend was asked for (empty when all ran there). */
  cpuNodes: string[];
  /** Runtime messages worth showing (e.g. why a backend refused the model). */
  notes: string[];
}

/** A data file an ONNX model's `external_data` refers to, by the `location` written in the model. */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

/** A model to run: its ONNX file, and the external-data files it refers to (large models keep weights there). */
export interface ModelFiles {
  bytes: Uint8Array;
  externalData?: ExternalDataFile[];
}

/** A single-file model as bytes, or a model with its external data. */
export type EvalModel = Uint8Array | ModelFiles;

export function modelFiles(model: EvalModel): ModelFiles {
  return model instanceof Uint8Array ? { bytes: model } : model;
}

/** Bytes of the model file and all its external data. */
export function modelSize(model: EvalModel): number {
  const m = modelFiles(model);
  return m.bytes.byteLength + (m.externalData ?? []).reduce((n, f) => n + f.data.byteLength, 0);
}

export interface EvalRuntime {
  /** "onnxruntime-web 1.30 (wasm, 2 threads)" etc. */
  readonly name: string;
  createSession(model: EvalModel, backend: EvalBackend): Promise<CreatedSession>;
}

export class EvalInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalInputError';
  }
}
