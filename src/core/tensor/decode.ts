import type { TensorProto } from 'onnx-buf';
import {
  bf16BitsToFloat,
  float4E2M1ToFloat,
  float8E4M3FNToFloat,
  float8E4M3FNUZToFloat,
  float8E5M2FNUZToFloat,
  float8E5M2ToFloat,
  float8E8M0ToFloat,
  fp16BitsToFloat,
} from './codecs';
import { DataType, dataTypeName } from './dtypes';

const byteDecoders: Partial<Record<number, (b: number) => number>> = {
  [DataType.FLOAT8E4M3FN]: float8E4M3FNToFloat,
  [DataType.FLOAT8E4M3FNUZ]: float8E4M3FNUZToFloat,
  [DataType.FLOAT8E5M2]: float8E5M2ToFloat,
  [DataType.FLOAT8E5M2FNUZ]: float8E5M2FNUZToFloat,
  [DataType.FLOAT8E8M0]: float8E8M0ToFloat,
};

/** Unpacks sub-byte integers: element i sits in the low bits of byte i*bits/8 first (ONNX order). */
function unpackSubByte(bytes: Uint8Array, elements: number, bits: 2 | 4, signed: boolean, out: Float32Array, map?: (v: number) => number): void {
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  for (let i = 0; i < elements; i++) {
    let v = (bytes[(i / perByte) | 0]! >> ((i % perByte) * bits)) & mask;
    if (map) v = map(v);
    else if (signed && v & signBit) v -= 1 << bits;
    out[i] = v;
  }
}

/**
 * Decodes little-endian packed bytes (raw_data or external data) of `dataType` into float32.
 * Integers are converted to their numeric value (no dequantization).
 */
export function decodeRawToFloat32(bytes: Uint8Array, dataType: number, elements: number): Float32Array {
  const out = new Float32Array(elements);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (size: number) => {
    if (bytes.byteLength < Math.ceil(elements * size)) {
      throw new Error(`tensor data holds ${bytes.byteLength} bytes, ${dataTypeName(dataType)} × ${elements} needs ${Math.ceil(elements * size)}`);
    }
  };
  switch (dataType) {
    case DataType.FLOAT:
      need(4);
      if (bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, elements));
      else for (let i = 0; i < elements; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case DataType.DOUBLE:
      need(8);
      for (let i = 0; i < elements; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case DataType.FLOAT16:
      need(2);
      for (let i = 0; i < elements; i++) out[i] = fp16BitsToFloat(view.getUint16(i * 2, true));
      break;
    case DataType.BFLOAT16:
      need(2);
      for (let i = 0; i < elements; i++) out[i] = bf16BitsToFloat(view.getUint16(i * 2, true));
      break;
    case DataType.INT8:
      need(1);
      for (let i = 0; i < elements; i++) out[i] = view.getInt8(i);
      break;
    case DataType.UINT8:
    case DataType.BOOL:
      need(1);
      for (let i = 0; i < elements; i++) out[i] = bytes[i]!;
      break;
    case DataType.INT16:
      need(2);
      for (let i = 0; i < elements; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case DataType.UINT16:
      need(2);
      for (let i = 0; i < elements; i++) out[i] = view.getUint16(i * 2, true);
      break;
    case DataType.INT32:
      need(4);
      for (let i = 0; i < elements; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case DataType.UINT32:
      need(4);
      for (let i = 0; i < elements; i++) out[i] = view.getUint32(i * 4, true);
      break;
    case DataType.INT64:
      need(8);
      for (let i = 0; i < elements; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case DataType.UINT64:
      need(8);
      for (let i = 0; i < elements; i++) out[i] = Number(view.getBigUint64(i * 8, true));
      break;
    case DataType.INT4:
    case DataType.UINT4:
      need(0.5);
      unpackSubByte(bytes, elements, 4, dataType === DataType.INT4, out);
      break;
    case DataType.FLOAT4E2M1:
      need(0.5);
      unpackSubByte(bytes, elements, 4, false, out, float4E2M1ToFloat);
      break;
    case DataType.INT2:
    case DataType.UINT2:
      need(0.25);
      unpackSubByte(bytes, elements, 2, dataType === DataType.INT2, out);
      break;
    default: {
      const decode = byteDecoders[dataType];
      if (!decode) throw new Error(`cannot read ${dataTypeName(dataType)} tensors as numbers`);
      need(1);
      for (let i = 0; i < elements; i++) out[i] = decode(bytes[i]!);
    }
  }
  return out;
}

/** Decodes the typed `*_data` fields (used when raw_data is empty). */
export function decodeTypedFieldsToFloat32(tensor: TensorProto, elements: number): Float32Array {
  const t = tensor.dataType;
  const out = new Float32Array(elements);
  const fill = (values: ArrayLike<number | bigint>, map: (v: number) => number = (v) => v) => {
    if (values.length < elements) {
      throw new Error(`tensor "${tensor.name}" stores ${values.length} values for ${elements} elements`);
    }
    for (let i = 0; i < elements; i++) out[i] = map(Number(values[i]));
  };
  switch (t) {
    case DataType.FLOAT:
      fill(tensor.floatData);
      break;
    case DataType.DOUBLE:
      fill(tensor.doubleData);
      break;
    case DataType.INT64:
      fill(tensor.int64Data);
      break;
    case DataType.UINT32:
    case DataType.UINT64:
      fill(tensor.uint64Data);
      break;
    case DataType.FLOAT16:
      fill(tensor.int32Data, fp16BitsToFloat);
      break;
    case DataType.BFLOAT16:
      fill(tensor.int32Data, bf16BitsToFloat);
      break;
    case DataType.INT4:
    case DataType.UINT4:
    case DataType.FLOAT4E2M1:
    case DataType.INT2:
    case DataType.UINT2: {
      // Sub-byte types are packed into one byte per int32_data entry, as in raw_data.
      const packed = Uint8Array.from(tensor.int32Data, (v) => v & 0xff);
      return decodeRawToFloat32(packed, t, elements);
    }
    default: {
      const decode = byteDecoders[t];
      if (decode) fill(tensor.int32Data, (v) => decode(v & 0xff));
      else if (t === DataType.INT8 || t === DataType.UINT8 || t === DataType.INT16 || t === DataType.UINT16 || t === DataType.INT32 || t === DataType.BOOL) {
        fill(tensor.int32Data);
      } else throw new Error(`cannot read ${dataTypeName(t)} tensors as numbers`);
    }
  }
  return out;
}
