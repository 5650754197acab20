import { clearField, fromBinary, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, TensorProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';
import { ModelInputError } from './types';
import { checkWireFormat } from './validate';

/** Protobuf cannot address more than 2 GB in one message. */
export const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

const PNG = [0x89, 0x50, 0x4e, 0x47];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const GZIP = [0x1f, 0x8b];
const JPEG = [0xff, 0xd8, 0xff];
const PDF = [0x25, 0x50, 0x44, 0x46];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** Names a well-known non-ONNX format from its first bytes, so the error can say what the file is. */
export function sniffForeignFormat(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, PNG)) return 'a PNG image';
  if (startsWith(bytes, JPEG)) return 'a JPEG image';
  if (startsWith(bytes, PDF)) return 'a PDF document';
  if (startsWith(bytes, GZIP)) return 'a gzip archive';
  if (startsWith(bytes, ZIP)) return 'a zip archive (e.g. a PyTorch .pt or .npz file)';
  if (bytes.length >= 8 && bytes[0] === 0x93 && String.fromCharCode(...bytes.subarray(1, 6)) === 'NUMPY') return 'a NumPy .npy array';
  if (bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3') return 'a TensorFlow Lite model';
  // ONNX always starts with a small field tag (ir_version = field 1, varint → 0x08). Printable text does not.
  const head = bytes.subarray(0, Math.min(bytes.length, 64));
  if (head.length > 0 && head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) {
    return 'a text file';
  }
  return undefined;
}

/**
 * Decodes an ONNX ModelProto. Bytes fields (raw_data) stay views into `bytes`, so the weights are held once.
 * Throws ModelInputError with a message fit for a user.
 */
export function decodeModel(bytes: Uint8Array, fileName = 'the file'): ModelProto {
  if (bytes.byteLength === 0) throw new ModelInputError(`${fileName} is empty (0 bytes): it is not an ONNX model.`);
  const foreign = sniffForeignFormat(bytes);
  if (foreign) throw new ModelInputError(`${fileName} looks like ${foreign}, not an ONNX model (.onnx protobuf).`);
  checkWireFormat(bytes, fileName);
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const truncated = /premature|eof|out of range|bounds/i.test(why);
    throw new ModelInputError(
      truncated
        ? `${fileName} is truncated or damaged: the ONNX data ends in the middle of a record (${why}). Was the download or copy complete?`
        : `${fileName} is not a valid ONNX model: ${why}.`,
    );
  }
  if (!model.graph) {
    throw new ModelInputError(`${fileName} is not an ONNX model: it decodes, but holds no graph.`);
  }
  if (model.irVersion <= 0n) {
    throw new ModelInputError(`${fileName} is not a valid ONNX model: it has no IR version.`);
  }
  if (model.opsetImport.length === 0) {
    throw new ModelInputError(`${fileName} has no opset imports: the file is probably truncated (the opsets are stored after the graph).`);
  }
  return model;
}

const MODEL_GRAPH_FIELD = 7;
const GRAPH_INITIALIZER_FIELD = 5;
const TENSOR_RAW_DATA_FIELD = 9;
const LENGTH_DELIMITED = 2;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** A length-delimited field: its tag, its length and then `size` bytes of payload. */
const fieldSize = (field: number, size: number) => varintSize((field << 3) | LENGTH_DELIMITED) + varintSize(size) + size;

/** One initializer as its encoded fields without raw_data (small), plus the raw_data it carries (a view, not a copy). */
function splitTensor(t: TensorProto): { head: Uint8Array; raw?: Uint8Array; size: number } {
  if (!t.rawData || t.rawData.byteLength === 0) {
    const head = toBinary(TensorProtoSchema, t);
    return { head, size: head.byteLength };
  }
  const withoutRaw = { ...t };
  clearField(withoutRaw, TensorProtoSchema.field.rawData);
  const head = toBinary(TensorProtoSchema, withoutRaw);
  return { head, raw: t.rawData, size: head.byteLength + fieldSize(TENSOR_RAW_DATA_FIELD, t.rawData.byteLength) };
}

/**
 * Encodes a model into one buffer of its final size. protobuf-es joins every nested message into a fresh array
 * (model ⊃ graph ⊃ tensors), so a plain toBinary holds two to three copies of the weights at its peak; here the
 * model and graph fields other than the initializers are encoded as usual (they are small), and each initializer's
 * raw_data is copied once, straight into the output. Protobuf readers accept fields in any order; the initializers
 * keep theirs, and each one's raw_data is written last among its fields.
 */
export function encodeModel(model: ModelProto): Uint8Array {
  const graph = model.graph;
  if (!graph) return toBinary(ModelProtoSchema, model);
  const modelHead = toBinary(ModelProtoSchema, { ...model, graph: undefined });
  const graphHead = toBinary(GraphProtoSchema, { ...graph, initializer: [] });
  const tensors = graph.initializer.map(splitTensor);
  const graphSize = graphHead.byteLength + tensors.reduce((n, t) => n + fieldSize(GRAPH_INITIALIZER_FIELD, t.size), 0);
  const total = modelHead.byteLength + fieldSize(MODEL_GRAPH_FIELD, graphSize);
  if (total > MAX_PROTOBUF_BYTES) throw new Error(`The written model would be ${(total / 2 ** 30).toFixed(2)} GB, over the 2 GB one ONNX file can hold.`);
  const out = new Uint8Array(total);
  out.set(modelHead, 0);
  let at = writeVarint(out, modelHead.byteLength, (MODEL_GRAPH_FIELD << 3) | LENGTH_DELIMITED);
  at = writeVarint(out, at, graphSize);
  out.set(graphHead, at);
  at += graphHead.byteLength;
  for (const t of tensors) {
    at = writeVarint(out, at, (GRAPH_INITIALIZER_FIELD << 3) | LENGTH_DELIMITED);
    at = writeVarint(out, at, t.size);
    out.set(t.head, at);
    at += t.head.byteLength;
    if (t.raw) {
      at = writeVarint(out, at, (TENSOR_RAW_DATA_FIELD << 3) | LENGTH_DELIMITED);
      at = writeVarint(out, at, t.raw.byteLength);
      out.set(t.raw, at);
      at += t.raw.byteLength;
    }
  }
  if (at !== total) throw new Error(`Model encoding wrote ${at} of ${total} bytes.`);
  return out;
}
