import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
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
    throw new ModelInputError(
      `${fileName} has no opset imports: the file is probably truncated (the opsets are stored after the graph).`,
    );
  }
  return model;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}
