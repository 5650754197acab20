/** Facts about a model, shared by the UI, the worker bridge and `cstudio inspect --json`. */

export type TensorLocation = 'initializer' | 'constant' | 'external';

export interface TensorInfo {
  /** Index in the catalog; stable for one loaded model. */
  id: number;
  name: string;
  /** ONNX data type name, e.g. "FLOAT", "FLOAT16", "INT64". */
  dtype: string;
  shape: number[];
  elements: number;
  /** Bytes of payload as stored (packed int4 counts half a byte per element). */
  bytes: number;
  location: TensorLocation;
  /** "main", or the path of the subgraph, e.g. "main/If_0.then_branch". */
  graph: string;
  /** Op types of the nodes that read this tensor (deduplicated, in graph order). */
  consumers: string[];
  /** Names (or "op#index" when unnamed) of the consuming nodes. */
  consumerNodes: string[];
  /** For constants: the Constant node that holds the value. */
  producerNode?: string;
  /** For external tensors: the file named by `location` in external_data. */
  externalFile?: string;
  /** True for floating-point tensors with more than one element that a compute op reads. */
  isWeight: boolean;
  /** The compute node that finally uses this tensor (through Cast / DequantizeLinear), e.g. "conv1". */
  layer?: string;
  /** Op type of that compute node, e.g. "Conv". */
  layerOp?: string;
  /** True for weights a compute op multiplies (conv kernels, matmul matrices) — the ones sparsity counts. */
  multiplied: boolean;
  /** Output-channel axis chosen by the consuming op (Conv → 0, Gemm → by transB, MatMul → last). */
  channelAxis?: number;
}

export interface ValueInfo {
  name: string;
  dtype: string;
  /** Fixed dims as numbers, dynamic dims by their name ("batch") or "?" when unnamed. */
  shape: (number | string)[];
}

export interface ModelSummary {
  fileName: string;
  fileBytes: number;
  irVersion: number;
  opsets: Record<string, number>;
  producer: string;
  producerVersion: string;
  /** Nodes of the main graph and of every subgraph. */
  nodeCount: number;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  opTypes: Record<string, number>;
  tensors: TensorInfo[];
  /** Elements of floating-point tensors. */
  parameterCount: number;
  /** Bytes of all stored tensors. */
  weightBytes: number;
  weightBytesByDtype: Record<string, number>;
  /** External-data files the model references. */
  externalFiles: string[];
  /** Non-fatal findings, e.g. an opset newer than the studio knows. */
  warnings: string[];
}

/** An error whose message is fit to show a user as is. */
export class ModelInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelInputError';
  }
}
