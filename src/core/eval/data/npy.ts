/**
 * NumPy .npy reader (format versions 1, 2 and 3): little-endian numeric dtypes in C order.
 * See https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { EvalInputError, type HostDtype, type HostTensor } from '../types';
import { allocate, elementCount } from './tensor';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Single-byte types carry '|' (no byte order); numpy also accepts '<' and '=' for them. */
const DTYPE_OF_DESCR: Record<string, { dtype: HostDtype; size: number }> = {
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  f2: { dtype: 'float16', size: 2 },
  i8: { dtype: 'int64', size: 8 },
  i4: { dtype: 'int32', size: 4 },
  i2: { dtype: 'int16', size: 2 },
  i1: { dtype: 'int8', size: 1 },
  u1: { dtype: 'uint8', size: 1 },
  u2: { dtype: 'uint16', size: 2 },
  u4: { dtype: 'uint32', size: 4 },
  b1: { dtype: 'bool', size: 1 },
};

export function parseNpy(bytes: Uint8Array, fileName = 'array.npy'): HostTensor {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    throw new EvalInputError(`${fileName}: npz archives are not supported; save each array with np.save.`);
  }
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new EvalInputError(`${fileName}: not a NumPy .npy file (the "\\x93NUMPY" signature is missing).`);
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) {
    throw new EvalInputError(`${fileName}: .npy format version ${major} is not supported (1, 2 and 3 are).`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new EvalInputError(`${fileName}: truncated .npy header.`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > bytes.length) throw new EvalInputError(`${fileName}: truncated .npy header.`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lengthBytes, dataOffset));

  const { descr, fortranOrder, shape } = parseHeader(header, fileName);
  if (fortranOrder) {
    throw new EvalInputError(`${fileName}: the array is stored in Fortran order; save it with np.save(path, np.ascontiguousarray(a)).`);
  }
  const byteOrder = descr[0]!;
  const code = descr.slice(1);
  const known = DTYPE_OF_DESCR[code];
  if (!known || !'<|='.includes(byteOrder) || (byteOrder === '|' && known.size > 1)) {
    const hint = byteOrder === '>' ? ' Big-endian data is not supported; convert with a.astype(a.dtype.newbyteorder("<")).' : '';
    throw new EvalInputError(`${fileName}: dtype '${descr}' is not supported (use float32/64/16, int8–64, uint8–32 or bool, little-endian).${hint}`);
  }

  const count = elementCount(shape);
  const byteLength = count * known.size;
  if (dataOffset + byteLength > bytes.length) {
    throw new EvalInputError(
      `${fileName}: truncated: shape (${shape.join(', ')}) needs ${byteLength} bytes of data, the file holds ${bytes.length - dataOffset}.`,
    );
  }
  // The header length leaves the payload at an arbitrary offset, so copy into a fresh, aligned array.
  const data = allocate(known.dtype, count);
  new Uint8Array(data.buffer, data.byteOffset, byteLength).set(bytes.subarray(dataOffset, dataOffset + byteLength));
  return { dtype: known.dtype, dims: shape, data };
}

/** The header is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } */
function parseHeader(header: string, fileName: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr) {
    const structured = /['"]descr['"]\s*:\s*\[/.test(header);
    throw new EvalInputError(
      structured
        ? `${fileName}: structured (record) arrays are not supported; save one plain array per file.`
        : `${fileName}: the .npy header has no dtype ('descr').`,
    );
  }
  if (fortran === undefined || shapeText === undefined) {
    throw new EvalInputError(`${fileName}: the .npy header is malformed: ${header.trim()}`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw new EvalInputError(`${fileName}: bad shape (${shapeText}) in the .npy header.`);
      return n;
    });
  return { descr, fortranOrder: fortran === 'True', shape };
}
