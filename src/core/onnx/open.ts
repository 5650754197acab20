import type { ModelProto, TypeProto } from 'onnx-buf';
import { DataType, dataTypeName, isFloatingType, isQuantizedStorageType } from '../tensor/dtypes';
import { decodeRawToFloat32, decodeTypedFieldsToFloat32 } from '../tensor/decode';
import { computeConsumers, multipliedBy, outputChannelAxis } from '../analysis/channel-axis';
import { buildCatalog, type CatalogEntry, type TensorCatalog } from './catalog';
import { MAX_PROTOBUF_BYTES, decodeModel } from './codec';
import { assertConfinedLocation } from './external-path';
import { DEFAULT_SPARSE_DENSE_BUDGET, checkTensors, graphProblems } from './validate';
import { baseName, readWhole, type SourceFile } from './source';
import { ModelInputError, type ModelSummary, type TensorInfo, type ValueInfo } from './types';

/** Newest versions this studio was written against; newer ones load with a warning. */
export const KNOWN_OPSETS: Record<string, number> = {
  '': 25,
  'ai.onnx.ml': 5,
  'ai.onnx.training': 1,
  'ai.onnx.preview.training': 1,
  // onnxruntime's own domains, which models saved by onnxruntime or PyTorch import.
  'com.microsoft': 1,
  'com.microsoft.nchwc': 1,
  'com.microsoft.experimental': 1,
  'com.ms.internal.nhwc': 1,
  'com.microsoft.dml': 1,
  'org.pytorch.aten': 1,
};
export const KNOWN_IR_VERSION = 12;

export interface OpenedModel {
  fileName: string;
  fileBytes: number;
  /** The model file's bytes (read once; raw_data fields are views into them). Re-decode to edit a copy. */
  fileData: Uint8Array;
  /** The decoded model; raw_data fields are views into the bytes read from the file (held once). */
  model: ModelProto;
  catalog: TensorCatalog;
  /** External-data files by base name. */
  dataFiles: Map<string, SourceFile>;
  warnings: string[];
}

const MODEL_EXTENSIONS = /\.(onnx|ort\.onnx|pb)$/i;

function pickModelFile(files: SourceFile[]): SourceFile {
  if (files.length === 0) throw new ModelInputError('No file was given.');
  if (files.length === 1) return files[0]!;
  const candidates = files.filter((f) => MODEL_EXTENSIONS.test(f.name) && !/\.onnx_data$/i.test(f.name));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new ModelInputError(`None of the ${files.length} files is an .onnx model (got ${files.map((f) => f.name).join(', ')}).`);
  }
  throw new ModelInputError(
    `Several .onnx files were given at once (${candidates.map((f) => f.name).join(', ')}); open one model at a time, with its external-data files.`,
  );
}

export interface OpenOptions {
  /** Finds an external-data file that was not among `files` (the CLI looks next to the model). */
  resolveDataFile?: (name: string) => Promise<SourceFile | undefined>;
  /** Dense elements a sparse tensor may declare (default sparseBudgetFor the model file's size). */
  sparseDenseBudget?: number;
}

/** Opens a model from the files a user gave: one .onnx plus any external-data files it references. */
export async function openModel(files: SourceFile[], options: OpenOptions = {}): Promise<OpenedModel> {
  const main = pickModelFile(files);
  if (main.size > MAX_PROTOBUF_BYTES) {
    throw new ModelInputError(
      `${main.name} is ${(main.size / 2 ** 30).toFixed(1)} GB; a single ONNX protobuf file cannot exceed 2 GB. ` +
        'Save the model with its weights as external data (Python: onnx.save_model(model, "model.onnx", save_as_external_data=True)) ' +
        'and open model.onnx together with its data file(s).',
    );
  }
  const bytes = await readWhole(main);
  const model = decodeModel(bytes, main.name);
  // Every declared size is checked against the bytes present before anything is allocated from it.
  try {
    checkTensors(model, { sparseDenseBudget: options.sparseDenseBudget ?? sparseBudgetFor(main.size) });
  } catch (err) {
    if (err instanceof ModelInputError) throw new ModelInputError(`${main.name} is not a valid ONNX model: ${err.message}`);
    throw err;
  }
  const catalog = buildCatalog(model);
  const dataFiles = new Map(files.filter((f) => f !== main).map((f) => [baseName(f.name), f]));

  const missing = new Set<string>();
  for (const entry of catalog.entries) {
    if (!entry.external) continue;
    assertConfinedLocation(entry.external.file);
    const key = baseName(entry.external.file);
    let file = dataFiles.get(key);
    if (!file && options.resolveDataFile) {
      file = await options.resolveDataFile(entry.external.file);
      if (file) dataFiles.set(key, file);
    }
    if (!file) {
      missing.add(entry.external.file);
      continue;
    }
    const end = entry.external.offset + entry.bytes;
    if (end > file.size) {
      throw new ModelInputError(
        `External data file ${file.name} is too short: tensor "${entry.name}" needs bytes ${entry.external.offset}–${end}, the file has ${file.size}. Is it the data file that belongs to ${main.name}?`,
      );
    }
  }
  if (missing.size > 0) {
    const names = [...missing];
    throw new ModelInputError(
      `${main.name} stores weights in external data file${names.length > 1 ? 's' : ''} ${names.map((n) => `"${n}"`).join(', ')}, which ${names.length > 1 ? 'were' : 'was'} not given. Open the model together with ${names.length > 1 ? 'those files' : 'that file'} (select or drop them all at once).`,
    );
  }
  return { fileName: main.name, fileBytes: main.size, fileData: bytes, model, catalog, dataFiles, warnings: collectWarnings(model) };
}

/**
 * Dense elements a sparse tensor may declare: 4M (16 MiB as float32), or more for big files (2 per file byte),
 * so a tiny file cannot demand a huge allocation and real sparse models still open.
 */
export function sparseBudgetFor(fileBytes: number): number {
  return Math.min(DEFAULT_SPARSE_DENSE_BUDGET, Math.max(2 ** 22, 2 * fileBytes));
}

function collectWarnings(model: ModelProto): string[] {
  const warnings: string[] = [];
  const { undefinedValues, danglingValueInfo } = graphProblems(model);
  const listed = (items: string[]) => (items.length > 3 ? `${items.slice(0, 3).join('; ')}; and ${items.length - 3} more` : items.join('; '));
  if (undefinedValues.length) warnings.push(`The graph reads values nothing defines (onnxruntime will refuse it): ${listed(undefinedValues)}.`);
  if (danglingValueInfo.length) warnings.push(`Value infos name no value (ignored): ${listed(danglingValueInfo)}.`);
  if (model.irVersion > BigInt(KNOWN_IR_VERSION)) {
    warnings.push(`IR version ${model.irVersion} is newer than this studio knows (${KNOWN_IR_VERSION}); some fields may be ignored.`);
  }
  for (const { domain, version } of model.opsetImport) {
    const known = KNOWN_OPSETS[domain === 'ai.onnx' ? '' : domain];
    const label = domain || 'ai.onnx';
    if (known === undefined) warnings.push(`Opset domain "${label}" (version ${version}) is not a standard ONNX domain: onnxruntime may not run its ops.`);
    else if (version > BigInt(known))
      warnings.push(`Opset ${label} ${version} is newer than this studio knows (${known}); the model loaded, but check results.`);
  }
  return warnings;
}

/** Raw little-endian bytes of a tensor's values, from raw_data or its external-data file. */
export async function readTensorBytes(opened: OpenedModel, entry: CatalogEntry): Promise<Uint8Array> {
  if (entry.external) {
    const file = opened.dataFiles.get(baseName(entry.external.file));
    if (!file) throw new ModelInputError(`External data file "${entry.external.file}" is not loaded.`);
    return file.read(entry.external.offset, entry.bytes);
  }
  return entry.tensor.rawData;
}

/** Reads any numeric tensor as float32 (fp16/bf16/fp8 decoded, integers as their values, sparse densified). */
export async function readTensorFloat32(opened: OpenedModel, entry: CatalogEntry): Promise<Float32Array> {
  const t = entry.tensor;
  const stored = entry.sparse ? t.dims.reduce((a, b) => a * Number(b), 1) : entry.elements;
  const raw = entry.external || t.rawData.byteLength > 0 ? await readTensorBytes(opened, entry) : undefined;
  const values = raw ? decodeRawToFloat32(raw, t.dataType, stored) : decodeTypedFieldsToFloat32(t, stored);
  if (!entry.sparse) return values;
  return densify(entry, values);
}

function densify(entry: CatalogEntry, values: Float32Array): Float32Array {
  const dense = new Float32Array(entry.elements);
  const indices = entry.sparse!.indices;
  if (!indices) return dense;
  const idx =
    indices.rawData.byteLength > 0
      ? decodeRawToFloat32(
          indices.rawData,
          indices.dataType,
          indices.dims.reduce((a, b) => a * Number(b), 1),
        )
      : Float32Array.from(indices.int64Data, Number);
  const rank = entry.shape.length;
  if (indices.dims.length === 2) {
    // [NNZ, rank] coordinates
    const strides = entry.shape.map((_, d) => entry.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    for (let k = 0; k < values.length; k++) {
      let flat = 0;
      for (let d = 0; d < rank; d++) flat += idx[k * rank + d]! * strides[d]!;
      dense[flat] = values[k]!;
    }
  } else {
    for (let k = 0; k < values.length; k++) dense[idx[k]!] = values[k]!;
  }
  return dense;
}

const QUANTIZED_CONSUMERS = new Set([
  'DequantizeLinear',
  'MatMulInteger',
  'ConvInteger',
  'MatMulNBits',
  'QLinearConv',
  'QLinearMatMul',
  'GatherBlockQuantized',
  'DynamicQuantizeMatMul',
]);
const SHAPE_CONSUMERS = new Set(['Reshape', 'Shape', 'Expand', 'Tile', 'Slice', 'Squeeze', 'Unsqueeze', 'ConstantOfShape', 'Range', 'Resize', 'Pad']);

/** Weights: tensors a compute op reads — floating point with more than one element, or quantized integer storage. */
function isWeight(entry: CatalogEntry): boolean {
  if (entry.elements <= 1) return false;
  if (entry.consumers.length > 0 && entry.consumers.every((c) => SHAPE_CONSUMERS.has(c.node.opType) && c.inputIndex > 0)) return false;
  if (isFloatingType(entry.dataType)) return true;
  return isQuantizedStorageType(entry.dataType) && entry.consumers.some((c) => QUANTIZED_CONSUMERS.has(c.node.opType));
}

function valueInfo(name: string, type: TypeProto | undefined): ValueInfo {
  if (type?.value.case !== 'tensorType') {
    return { name, dtype: type?.value.case ?? 'UNKNOWN', shape: [] };
  }
  const tensorType = type.value.value;
  return {
    name,
    dtype: dataTypeName(tensorType.elemType),
    shape: (tensorType.shape?.dim ?? []).map((d) =>
      d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' && d.value.value ? d.value.value : '?',
    ),
  };
}

export function tensorInfo(entry: CatalogEntry, catalog: TensorCatalog): TensorInfo {
  const compute = computeConsumers(entry, catalog);
  const info: TensorInfo = {
    id: entry.id,
    name: entry.name,
    dtype: dataTypeName(entry.dataType),
    shape: entry.shape,
    elements: entry.elements,
    bytes: entry.bytes,
    location: entry.external ? 'external' : entry.storage === 'constant' ? 'constant' : 'initializer',
    graph: entry.graphPath,
    consumers: [...new Set(entry.consumers.map((c) => c.node.opType))],
    consumerNodes: [...new Set(entry.consumers.map((c) => c.nodeLabel))],
    isWeight: isWeight(entry),
    multiplied: multipliedBy(entry, catalog) !== undefined,
  };
  if (compute[0]) {
    info.layer = compute[0].nodeLabel;
    info.layerOp = compute[0].node.opType;
  }
  const axis = outputChannelAxis(entry, catalog);
  if (axis !== undefined) info.channelAxis = axis;
  if (entry.constantNode) info.producerNode = entry.constantNode.name || entry.constantNode.output[0] || 'Constant';
  if (entry.external) info.externalFile = entry.external.file;
  return info;
}

export function summarizeModel(opened: OpenedModel): ModelSummary {
  const { model, catalog } = opened;
  const graph = model.graph!;
  const initializerNames = new Set(graph.initializer.map((t) => t.name));
  const tensors = catalog.entries.map((e) => tensorInfo(e, catalog));
  const weightBytesByDtype: Record<string, number> = {};
  let parameterCount = 0;
  let weightBytes = 0;
  for (const t of catalog.entries) {
    const name = dataTypeName(t.dataType);
    weightBytesByDtype[name] = (weightBytesByDtype[name] ?? 0) + t.bytes;
    weightBytes += t.bytes;
    if (isFloatingType(t.dataType) || t.dataType === DataType.COMPLEX64 || t.dataType === DataType.COMPLEX128) parameterCount += t.elements;
  }
  const opsets: Record<string, number> = {};
  for (const { domain, version } of model.opsetImport) opsets[domain || 'ai.onnx'] = Number(version);
  return {
    fileName: opened.fileName,
    fileBytes: opened.fileBytes,
    irVersion: Number(model.irVersion),
    opsets,
    producer: model.producerName,
    producerVersion: model.producerVersion,
    nodeCount: catalog.nodeCount,
    // Old exporters list initializers among the inputs; those are not inputs a user feeds.
    inputs: graph.input.filter((v) => !initializerNames.has(v.name)).map((v) => valueInfo(v.name, v.type)),
    outputs: graph.output.map((v) => valueInfo(v.name, v.type)),
    opTypes: Object.fromEntries([...catalog.opTypes].sort((a, b) => b[1] - a[1])),
    tensors,
    parameterCount,
    weightBytes,
    weightBytesByDtype,
    externalFiles: [...new Set(catalog.entries.flatMap((e) => (e.external ? [e.external.file] : [])))],
    warnings: opened.warnings,
  };
}
