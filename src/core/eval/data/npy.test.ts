import { describe, expect, it } from 'vitest';
import { EvalInputError } from '../types';
import { parseNpy } from './npy';
import { floatToHalf } from './tensor';
import { bytesOf, encodeNpy as npy } from './fixtures.testutil';

describe('parseNpy', () => {
  it('reads float32 (v1) into a fresh aligned array', () => {
    const values = new Float32Array([1.5, -2, 3.25, 0, 1e-3, 7]);
    // A leading byte shifts the file so the payload cannot be 4-byte aligned in the source buffer.
    const file = npy('<f4', [2, 3], bytesOf(values));
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const tensor = parseNpy(shifted.subarray(1));
    expect(tensor.dtype).toBe('float32');
    expect(tensor.dims).toEqual([2, 3]);
    expect(tensor.data).toBeInstanceOf(Float32Array);
    expect(tensor.data.byteOffset).toBe(0);
    expect([...tensor.data]).toEqual([...values]);
  });

  it('reads v2 and v3 headers', () => {
    const values = new Float64Array([Math.PI, -1]);
    expect([...parseNpy(npy('<f8', [2], bytesOf(values), { major: 2 })).data]).toEqual([Math.PI, -1]);
    expect(parseNpy(npy('<f8', [1, 2], bytesOf(values), { major: 3 })).dims).toEqual([1, 2]);
  });

  it('reads integer, bool and float16 dtypes', () => {
    const cases: [string, ArrayBufferView, string, unknown[]][] = [
      ['<i8', new BigInt64Array([1n, -2n, 3n]), 'int64', [1n, -2n, 3n]],
      ['<i4', new Int32Array([-7, 8, 9]), 'int32', [-7, 8, 9]],
      ['<i2', new Int16Array([-300, 2, 3]), 'int16', [-300, 2, 3]],
      ['|i1', new Int8Array([-1, 2, -3]), 'int8', [-1, 2, -3]],
      ['|u1', new Uint8Array([0, 128, 255]), 'uint8', [0, 128, 255]],
      ['<u2', new Uint16Array([1, 65535, 3]), 'uint16', [1, 65535, 3]],
      ['<u4', new Uint32Array([1, 4294967295, 3]), 'uint32', [1, 4294967295, 3]],
      ['|b1', new Uint8Array([1, 0, 1]), 'bool', [1, 0, 1]],
      ['<f2', new Uint16Array([floatToHalf(1), floatToHalf(-0.5), floatToHalf(2)]), 'float16', [0x3c00, 0xb800, 0x4000]],
    ];
    for (const [descr, values, dtype, expected] of cases) {
      const tensor = parseNpy(npy(descr, [3], bytesOf(values)));
      expect(tensor.dtype, descr).toBe(dtype);
      expect([...tensor.data], descr).toEqual(expected);
    }
  });

  it('reads scalars and empty arrays', () => {
    expect(parseNpy(npy('<f4', [], bytesOf(new Float32Array([4])))).dims).toEqual([]);
    expect(parseNpy(npy('<f4', [0, 3], new Uint8Array(0))).data.length).toBe(0);
  });

  it('rejects Fortran order, big-endian, npz, truncation and unknown dtypes clearly', () => {
    const payload = bytesOf(new Float32Array(4));
    expect(() => parseNpy(npy('<f4', [2, 2], payload, { fortran: true }), 'f.npy')).toThrow(/f\.npy: .*Fortran order.*ascontiguousarray/);
    expect(() => parseNpy(npy('>f4', [2, 2], payload), 'b.npy')).toThrow(/Big-endian/);
    expect(() => parseNpy(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0]), 'x.npz')).toThrow(
      'npz archives are not supported; save each array with np.save',
    );
    expect(() => parseNpy(npy('<f4', [3, 3], payload), 't.npy')).toThrow(/t\.npy: truncated/);
    expect(() => parseNpy(npy('<c8', [1], new Uint8Array(8)))).toThrow(/dtype '<c8' is not supported/);
    expect(() => parseNpy(new TextEncoder().encode('hello world'), 'h.npy')).toThrow(EvalInputError);
  });
});
