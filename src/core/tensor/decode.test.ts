import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { decodeRawToFloat32, decodeTypedFieldsToFloat32 } from './decode';
import { DataType } from './dtypes';

const le = (arr: ArrayBufferView) => new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);

describe('decodeRawToFloat32', () => {
  it('reads float32 at aligned and unaligned offsets', () => {
    const values = new Float32Array([1.5, -2.25, 3e-8]);
    expect([...decodeRawToFloat32(le(values), DataType.FLOAT, 3)]).toEqual([...values]);
    const shifted = new Uint8Array(13);
    shifted.set(le(values), 1);
    expect([...decodeRawToFloat32(shifted.subarray(1), DataType.FLOAT, 3)]).toEqual([...values]);
  });

  it('reads fp16, bf16, double, int8, uint8, int64', () => {
    expect([...decodeRawToFloat32(le(new Uint16Array([0x3c00, 0xc000])), DataType.FLOAT16, 2)]).toEqual([1, -2]);
    expect([...decodeRawToFloat32(le(new Uint16Array([0x3f80, 0xc040])), DataType.BFLOAT16, 2)]).toEqual([1, -3]);
    expect([...decodeRawToFloat32(le(new Float64Array([0.5, -7])), DataType.DOUBLE, 2)]).toEqual([0.5, -7]);
    expect([...decodeRawToFloat32(le(new Int8Array([-128, 127, -1])), DataType.INT8, 3)]).toEqual([-128, 127, -1]);
    expect([...decodeRawToFloat32(new Uint8Array([0, 255]), DataType.UINT8, 2)]).toEqual([0, 255]);
    expect([...decodeRawToFloat32(le(new BigInt64Array([-5n, 1n << 40n])), DataType.INT64, 2)]).toEqual([-5, 2 ** 40]);
  });

  it('unpacks int4/uint4 low nibble first, with an odd element count', () => {
    // elements: 1, -1, 7, -8, 3  → nibbles 0x1, 0xF, 0x7, 0x8, 0x3
    const packed = new Uint8Array([0xf1, 0x87, 0x03]);
    expect([...decodeRawToFloat32(packed, DataType.INT4, 5)]).toEqual([1, -1, 7, -8, 3]);
    expect([...decodeRawToFloat32(packed, DataType.UINT4, 5)]).toEqual([1, 15, 7, 8, 3]);
  });

  it('rejects data shorter than dtype × elements', () => {
    expect(() => decodeRawToFloat32(new Uint8Array(7), DataType.FLOAT, 2)).toThrow(/needs 8/);
  });
});

describe('decodeTypedFieldsToFloat32', () => {
  it('reads float_data, int64_data, double_data and fp16 bits in int32_data', () => {
    const f = create(TensorProtoSchema, { dataType: DataType.FLOAT, floatData: [1, 2.5] });
    expect([...decodeTypedFieldsToFloat32(f, 2)]).toEqual([1, 2.5]);
    const i = create(TensorProtoSchema, { dataType: DataType.INT64, int64Data: [3n, -4n] });
    expect([...decodeTypedFieldsToFloat32(i, 2)]).toEqual([3, -4]);
    const d = create(TensorProtoSchema, { dataType: DataType.DOUBLE, doubleData: [0.25] });
    expect([...decodeTypedFieldsToFloat32(d, 1)]).toEqual([0.25]);
    const h = create(TensorProtoSchema, { dataType: DataType.FLOAT16, int32Data: [0x3c00, 0x4000] });
    expect([...decodeTypedFieldsToFloat32(h, 2)]).toEqual([1, 2]);
    const q = create(TensorProtoSchema, { dataType: DataType.INT4, int32Data: [0xf1, 0x07] });
    expect([...decodeTypedFieldsToFloat32(q, 3)]).toEqual([1, -1, 7]);
  });
});
