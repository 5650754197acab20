/**
 * The studio's own model checker, run when a model is opened (before anything is allocated from what the model
 * declares) and before a compressed model is written. Three layers:
 * - the protobuf wire format: every length-delimited field must end inside its parent record (a decoder that keeps
 *   the low 32 bits of a 2^63 length would read 0 and invent records);
 * - every stored tensor: known dtype, dims ≥ 0, element counts and byte sizes computed in BigInt and matched
 *   against the bytes actually present (raw_data, typed fields, external-data length); sparse tensors' dense size
 *   bounded by a budget;
 * - the graph: every node input and graph output defined (a warning on open, an error before writing).
 */
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataLocation, type GraphProto, type ModelProto, type SparseTensorProto, type TensorProto } from 'onnx-buf';
import { DataType, bitsPerElement, dataTypeName } from '../tensor/dtypes';
import { ModelInputError } from './types';

/** Most dense elements a sparse tensor may ever declare (it is densified into float32 for analysis): 2^28, 1 GiB. */
export const DEFAULT_SPARSE_DENSE_BUDGET = 2 ** 28;
/** Records nested deeper than this are refused (If inside If inside …). */
export const MAX_NESTING = 64;

/** Quotes a model-provided string for a message, with control characters escaped (terminal-safe). */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 200 ? text.slice(0, 200) + '…' : text).replace(
    /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// ---------------------------------------------------------------- wire format

const fieldMaps = new WeakMap<DescMessage, Map<number, DescMessage | undefined>>();

/** Field number → the message type it holds (undefined for scalars, strings, bytes, packed lists). */
function messageFields(desc: DescMessage): Map<number, DescMessage | undefined> {
  let map = fieldMaps.get(desc);
  if (!map) {
    map = new Map(
      desc.fields.map((f: DescField) => [
        f.number,
        f.fieldKind === 'message' ? f.message : f.fieldKind === 'list' && f.listKind === 'message' ? f.message : undefined,
      ]),
    );
    fieldMaps.set(desc, map);
  }
  return map;
}

function wireError(at: number, why: string, fileName: string): ModelInputError {
  return new ModelInputError(`${fileName} is truncated or damaged: protobuf parsing failed at byte ${at}: ${why}.`);
}

/**
 * Walks the ONNX records of `bytes` at the wire level: every field header, varint and length must be well formed,
 * and every length-delimited field must end inside its parent. Payloads (raw_data, packed numbers) are skipped, so
 * the walk costs one pass over the record headers.
 */
export function checkWireFormat(bytes: Uint8Array, fileName = 'the file'): void {
  let pos = 0;
  const varint = (end: number): bigint => {
    const start = pos;
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= end) throw wireError(start, 'a number runs past the end of its record', fileName);
      if (shift >= 70n) throw wireError(start, 'a number is longer than 10 bytes', fileName);
      const b = bytes[pos++]!;
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return value;
    }
  };
  const message = (end: number, desc: DescMessage | undefined, depth: number): void => {
    if (depth > MAX_NESTING) throw wireError(pos, `records are nested more than ${MAX_NESTING} deep`, fileName);
    const fields = desc ? messageFields(desc) : undefined;
    while (pos < end) {
      const at = pos;
      const key = varint(end);
      const wire = Number(key & 7n);
      const field = Number(key >> 3n);
      if (field === 0) throw wireError(at, 'a field has number 0', fileName);
      switch (wire) {
        case 0:
          varint(end);
          break;
        case 1:
        case 5: {
          const size = wire === 1 ? 8 : 4;
          if (end - pos < size) throw wireError(at, `a ${size}-byte field runs past the end of its record`, fileName);
          pos += size;
          break;
        }
        case 2: {
          const length = varint(end);
          if (length > BigInt(end - pos)) throw wireError(at, `field ${field} declares ${length} bytes, but its record has ${end - pos} left`, fileName);
          const stop = pos + Number(length);
          const sub = fields?.get(field);
          if (sub) message(stop, sub, depth + 1);
          pos = stop;
          break;
        }
        default:
          throw wireError(at, `field ${field} has wire type ${wire}, which ONNX never uses`, fileName);
      }
    }
  };
  message(bytes.byteLength, ModelProtoSchema, 0);
}

// ---------------------------------------------------------------- tensors

export interface TensorCheckOptions {
  /** Dense elements a sparse tensor may declare. */
  sparseDenseBudget?: number;
  /** Sizes of the given external-data files by location, when known (offset + length must fit). */
}

const KNOWN_DTYPES = new Set<number>(Object.values(DataType));

function tensorLabel(t: TensorProto, where: string): string {
  return `tensor ${quoted(t.name || '(unnamed)')}${where === 'main' ? '' : ` in ${quoted(where)}`}`;
}

function elementCount(dims: readonly bigint[], label: string): bigint {
  let n = 1n;
  for (const d of dims) {
    if (d < 0n) throw new ModelInputError(`${label} has a negative dimension (${d} in [${dims.join(', ')}]).`);
    n *= d;
  }
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ModelInputError(`${label} declares ${n} elements ([${dims.join(' × ')}]), more than any model can hold.`);
  return n;
}

/** Values held in the typed field a dtype uses (raw_data absent). */
function typedValueCount(t: TensorProto): number {
  switch (t.dataType) {
    case DataType.FLOAT:
    case DataType.COMPLEX64:
      return t.floatData.length;
    case DataType.DOUBLE:
    case DataType.COMPLEX128:
      return t.doubleData.length;
    case DataType.INT64:
      return t.int64Data.length;
    case DataType.UINT32:
    case DataType.UINT64:
      return t.uint64Data.length;
    case DataType.STRING:
      return t.stringData.length;
    default:
      return t.int32Data.length;
  }
}

/** Typed-field values a tensor of `elements` needs (complex: two per element; 4- and 2-bit: packed per entry). */
function typedValuesNeeded(dataType: number, elements: bigint): bigint {
  if (dataType === DataType.COMPLEX64 || dataType === DataType.COMPLEX128) return elements * 2n;
  const bits = BigInt(bitsPerElement(dataType));
  if (bits > 0n && bits < 8n) return (elements * bits + 7n) / 8n;
  return elements;
}

function externalField(t: TensorProto, key: string, label: string): bigint | undefined {
  const value = t.externalData.find((e) => e.key === key)?.value;
  if (value === undefined) return undefined;
  if (!/^\d{1,20}$/.test(value.trim())) throw new ModelInputError(`${label} has external-data ${key} ${quoted(value)}, which is not a byte count.`);
  return BigInt(value.trim());
}

/** Checks one dense TensorProto; returns its element count. */
export function checkTensor(t: TensorProto, where: string): bigint {
  const label = tensorLabel(t, where);
  if (!KNOWN_DTYPES.has(t.dataType) || t.dataType === DataType.UNDEFINED) {
    throw new ModelInputError(
      `${label} has data type ${t.dataType}${t.dataType === 0 ? ' (UNDEFINED)' : ''}, which no ONNX version this studio knows defines.`,
    );
  }
  const elements = elementCount(t.dims, label);
  const dtype = dataTypeName(t.dataType);
  const bits = BigInt(bitsPerElement(t.dataType));
  const needed = (elements * bits + 7n) / 8n;
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    if (t.dataType === DataType.STRING) throw new ModelInputError(`${label} is a STRING tensor stored as external data, which ONNX does not allow.`);
    externalField(t, 'offset', label);
    const length = externalField(t, 'length', label);
    if (length !== undefined && length !== needed) {
      throw new ModelInputError(`${label} (${dtype} [${t.dims.join(' × ')}]) needs ${needed} bytes, but its external data declares ${length}.`);
    }
    return elements;
  }
  if (t.rawData.byteLength > 0) {
    if (t.dataType === DataType.STRING) throw new ModelInputError(`${label} is a STRING tensor with raw data, which ONNX does not allow.`);
    if (BigInt(t.rawData.byteLength) !== needed) {
      throw new ModelInputError(`${label} (${dtype} [${t.dims.join(' × ')}]) needs ${needed} bytes, but its raw data holds ${t.rawData.byteLength}.`);
    }
    return elements;
  }
  const have = BigInt(typedValueCount(t));
  const want = typedValuesNeeded(t.dataType, elements);
  if (have !== want) {
    throw new ModelInputError(`${label} (${dtype} [${t.dims.join(' × ')}]) needs ${want} stored values, but it holds ${have}.`);
  }
  return elements;
}

function checkSparse(s: SparseTensorProto, where: string, budget: number): void {
  const values = s.values;
  const label = tensorLabel(values ?? ({ name: '' } as TensorProto), where);
  if (!values) throw new ModelInputError(`A sparse tensor in ${quoted(where)} has no values.`);
  const dense = elementCount(s.dims, `sparse ${label}`);
  if (dense > BigInt(budget)) {
    throw new ModelInputError(
      `sparse ${label} declares ${dense} dense elements ([${s.dims.join(' × ')}]), over the budget of ${budget} this studio densifies.`,
    );
  }
  const nnz = checkTensor(values, where);
  if (values.dims.length !== 1) throw new ModelInputError(`sparse ${label}: its values must be 1-D (got [${values.dims.join(' × ')}]).`);
  if (nnz > dense) throw new ModelInputError(`sparse ${label} stores ${nnz} values for ${dense} elements.`);
  if (s.indices) {
    const idx = s.indices;
    if (idx.dataType !== DataType.INT64) throw new ModelInputError(`sparse ${label}: its indices must be INT64 (got ${dataTypeName(idx.dataType)}).`);
    const count = checkTensor(idx, where);
    const rank = BigInt(s.dims.length);
    const ok = idx.dims.length === 1 ? count === nnz : idx.dims.length === 2 && idx.dims[0] === nnz && idx.dims[1] === rank;
    if (!ok) throw new ModelInputError(`sparse ${label}: indices [${idx.dims.join(' × ')}] do not match ${nnz} values of rank ${rank}.`);
  } else if (nnz > 0n) {
    throw new ModelInputError(`sparse ${label} stores values but no indices.`);
  }
}

/** Every graph (main and subgraphs, any depth) with its path. */
function graphsOf(model: ModelProto): { graph: GraphProto; path: string }[] {
  const out: { graph: GraphProto; path: string }[] = [];
  const walk = (graph: GraphProto, path: string, depth: number) => {
    if (depth > MAX_NESTING) throw new ModelInputError(`Subgraphs are nested more than ${MAX_NESTING} deep (at ${quoted(path)}).`);
    out.push({ graph, path });
    graph.node.forEach((node, index) => {
      const label = node.name || `${node.opType}#${index}`;
      for (const a of node.attribute) {
        if (a.g) walk(a.g, `${path}/${label}.${a.name}`, depth + 1);
        a.graphs.forEach((g, k) => walk(g, `${path}/${label}.${a.name}[${k}]`, depth + 1));
      }
    });
  };
  if (model.graph) walk(model.graph, 'main', 0);
  return out;
}

/** Checks every tensor the model stores: initializers, sparse initializers and every tensor-valued attribute. */
export function checkTensors(model: ModelProto, options: TensorCheckOptions = {}): void {
  const budget = options.sparseDenseBudget ?? DEFAULT_SPARSE_DENSE_BUDGET;
  for (const { graph, path } of graphsOf(model)) {
    for (const t of graph.initializer) checkTensor(t, path);
    for (const s of graph.sparseInitializer) checkSparse(s, path, budget);
    for (const node of graph.node) {
      for (const a of node.attribute) {
        if (a.t) checkTensor(a.t, path);
        for (const t of a.tensors) checkTensor(t, path);
        if (a.sparseTensor) checkSparse(a.sparseTensor, path, budget);
        for (const s of a.sparseTensors) checkSparse(s, path, budget);
      }
    }
  }
  for (const fn of model.functions) {
    for (const node of fn.node) for (const a of node.attribute) if (a.t) checkTensor(a.t, `function ${fn.name}`);
  }
}

// ---------------------------------------------------------------- graph structure

/** Node inputs and graph outputs that nothing defines, and value infos naming no value ("main: reads X"). */
export function graphProblems(model: ModelProto): { undefinedValues: string[]; danglingValueInfo: string[] } {
  const undefinedValues: string[] = [];
  const danglingValueInfo: string[] = [];
  const walk = (graph: GraphProto, path: string, outer: ReadonlySet<string>, depth: number) => {
    if (depth > MAX_NESTING) return;
    const defined = new Set(outer);
    for (const v of graph.input) defined.add(v.name);
    for (const t of graph.initializer) defined.add(t.name);
    for (const s of graph.sparseInitializer) if (s.values) defined.add(s.values.name);
    for (const node of graph.node) for (const o of node.output) if (o) defined.add(o);
    graph.node.forEach((node, index) => {
      const label = node.name || `${node.opType}#${index}`;
      for (const input of node.input) {
        if (input && !defined.has(input)) undefinedValues.push(`node ${quoted(label)} in ${quoted(path)} reads ${quoted(input)}, which nothing defines`);
      }
      for (const a of node.attribute) {
        if (a.g) walk(a.g, `${path}/${label}.${a.name}`, defined, depth + 1);
        a.graphs.forEach((g, k) => walk(g, `${path}/${label}.${a.name}[${k}]`, defined, depth + 1));
      }
    });
    for (const o of graph.output) if (!defined.has(o.name)) undefinedValues.push(`graph ${quoted(path)} outputs ${quoted(o.name)}, which nothing defines`);
    for (const v of graph.valueInfo)
      if (!defined.has(v.name)) danglingValueInfo.push(`value info ${quoted(v.name)} in ${quoted(path)} names no value of the graph`);
  };
  if (model.graph) walk(model.graph, 'main', new Set(), 0);
  return { undefinedValues, danglingValueInfo };
}

/** Checks a model about to be written: wire format of its bytes, every tensor, every value defined. Throws on the first problem. */
export function checkForExport(model: ModelProto, bytes: Uint8Array): void {
  try {
    checkWireFormat(bytes, 'the written model');
    checkTensors(model, { sparseDenseBudget: Number.MAX_SAFE_INTEGER });
    const { undefinedValues } = graphProblems(model);
    if (undefinedValues.length > 0) {
      throw new ModelInputError(`${undefinedValues[0]}${undefinedValues.length > 1 ? ` (and ${undefinedValues.length - 1} more)` : ''}.`);
    }
  } catch (err) {
    if (err instanceof ModelInputError) throw new InvalidExportError(`The compressed model failed the studio's checks, so it was not written: ${err.message}`);
    throw err;
  }
}

/** A model the studio produced failed its own checks (a bug, never the user's input): nothing is written. */
export class InvalidExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidExportError';
  }
}
