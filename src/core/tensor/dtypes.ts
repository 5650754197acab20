/** ONNX TensorProto.DataType codes, names and storage sizes. */

export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
  FLOAT8E8M0: 24,
  UINT2: 25,
  INT2: 26,
} as const;

export type DataTypeName = keyof typeof DataType;

const namesByCode = new Map<number, DataTypeName>((Object.entries(DataType) as [DataTypeName, number][]).map(([name, code]) => [code, name]));

export function dataTypeName(code: number): string {
  return namesByCode.get(code) ?? `UNKNOWN(${code})`;
}

/** Bits one element occupies in raw_data (0 for strings / unknown). */
export function bitsPerElement(code: number): number {
  switch (code) {
    case DataType.DOUBLE:
    case DataType.INT64:
    case DataType.UINT64:
    case DataType.COMPLEX64:
      return 64;
    case DataType.COMPLEX128:
      return 128;
    case DataType.FLOAT:
    case DataType.INT32:
    case DataType.UINT32:
      return 32;
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
    case DataType.INT16:
    case DataType.UINT16:
      return 16;
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.BOOL:
    case DataType.FLOAT8E4M3FN:
    case DataType.FLOAT8E4M3FNUZ:
    case DataType.FLOAT8E5M2:
    case DataType.FLOAT8E5M2FNUZ:
    case DataType.FLOAT8E8M0:
      return 8;
    case DataType.UINT4:
    case DataType.INT4:
    case DataType.FLOAT4E2M1:
      return 4;
    case DataType.UINT2:
    case DataType.INT2:
      return 2;
    default:
      return 0;
  }
}

/** Bytes that `elements` values of this type occupy when packed as in raw_data. */
export function storageBytes(code: number, elements: number): number {
  return Math.ceil((elements * bitsPerElement(code)) / 8);
}

const floatingTypes = new Set<number>([
  DataType.FLOAT,
  DataType.FLOAT16,
  DataType.BFLOAT16,
  DataType.DOUBLE,
  DataType.FLOAT8E4M3FN,
  DataType.FLOAT8E4M3FNUZ,
  DataType.FLOAT8E5M2,
  DataType.FLOAT8E5M2FNUZ,
  DataType.FLOAT4E2M1,
  DataType.FLOAT8E8M0,
]);

export function isFloatingType(code: number): boolean {
  return floatingTypes.has(code);
}

/** Integer types that quantized models store weights in. */
export function isQuantizedStorageType(code: number): boolean {
  return (
    code === DataType.INT8 ||
    code === DataType.UINT8 ||
    code === DataType.INT4 ||
    code === DataType.UINT4 ||
    code === DataType.INT2 ||
    code === DataType.UINT2 ||
    code === DataType.INT16 ||
    code === DataType.UINT16
  );
}
