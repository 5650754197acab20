/** Dtype mapping, number ↔ typed-array conversion and shape checks shared by the data loaders. */
import { EvalInputError, type HostData, type HostDtype, type HostTensor } from '../types';
import type { ValueInfo } from '../../onnx/types';
import { floatToFp16Bits as floatToHalf, fp16BitsToFloat as halfToFloat } from '../../tensor/codecs';

export { floatToHalf, halfToFloat };

export const HOST_DTYPE_OF_ONNX: Record<string, HostDtype> = {
  FLOAT: 'float32',
  FLOAT16: 'float16',
  DOUBLE: 'float64',
  INT64: 'int64',
  INT32: 'int32',
  INT16: 'int16',
  INT8: 'int8',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  BOOL: 'bool',
};

export function hostDtypeOf(input: ValueInfo): HostDtype {
  const dtype = HOST_DTYPE_OF_ONNX[input.dtype];
  if (!dtype) {
    throw new EvalInputError(
      `Input '${input.name}' has type ${input.dtype}, which the data loaders cannot fill (supported: ${Object.keys(HOST_DTYPE_OF_ONNX).join(', ')}).`,
    );
  }
  return dtype;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function allocate(dtype: HostDtype, length: number): HostData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'float16':
      return new Uint16Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'int8':
      return new Int8Array(length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(length);
    case 'uint16':
      return new Uint16Array(length);
    case 'uint32':
      return new Uint32Array(length);
  }
}

const INTEGER_RANGE: Partial<Record<HostDtype, [number, number]>> = {
  int32: [-2147483648, 2147483647],
  int16: [-32768, 32767],
  int8: [-128, 127],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Numbers into a typed array of `dtype`: integers are rounded and clamped to the type's range, bool is value ≠ 0. */
export function fromNumbers(values: ArrayLike<number>, dtype: HostDtype): HostData {
  const n = values.length;
  const out = allocate(dtype, n);
  if (dtype === 'float32' || dtype === 'float64') {
    (out as Float32Array | Float64Array).set(values);
  } else if (dtype === 'float16') {
    for (let i = 0; i < n; i++) (out as Uint16Array)[i] = floatToHalf(values[i]!);
  } else if (dtype === 'bool') {
    for (let i = 0; i < n; i++) (out as Uint8Array)[i] = values[i] !== 0 ? 1 : 0;
  } else {
    const [lo, hi] = INTEGER_RANGE[dtype]!;
    if (dtype === 'int64') {
      for (let i = 0; i < n; i++) (out as BigInt64Array)[i] = BigInt(Math.min(hi, Math.max(lo, Math.round(values[i]!))) || 0);
    } else {
      const ints = out as Int32Array;
      for (let i = 0; i < n; i++) ints[i] = Math.min(hi, Math.max(lo, Math.round(values[i]!))) || 0;
    }
  }
  return out;
}

/** Values of any host tensor as numbers: float arrays as they are (no copy), others converted (int64 through Number, float16 decoded). */
export function tensorValues(tensor: HostTensor): Float32Array | Float64Array {
  return tensor.data instanceof Float32Array || tensor.data instanceof Float64Array ? tensor.data : toNumbers(tensor);
}

/** Values of any host tensor as plain numbers (int64 through Number, float16 decoded). */
export function toNumbers(tensor: HostTensor): Float64Array {
  const data = tensor.data;
  const out = new Float64Array(data.length);
  if (data instanceof BigInt64Array) for (let i = 0; i < data.length; i++) out[i] = Number(data[i]!);
  else if (tensor.dtype === 'float16') for (let i = 0; i < data.length; i++) out[i] = halfToFloat(data[i] as number);
  else out.set(data as ArrayLike<number>);
  return out;
}

export function convertTensor(tensor: HostTensor, dtype: HostDtype): HostTensor {
  if (tensor.dtype === dtype) return tensor;
  return { dtype, dims: tensor.dims, data: fromNumbers(toNumbers(tensor), dtype) };
}

export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/** True when the model's first dim accepts batch 1 (dynamic or fixed 1). */
export function hasFlexibleBatch(input: ValueInfo): boolean {
  const first = input.shape[0];
  return input.shape.length > 0 && (typeof first === 'string' || first === 1);
}

/** Throws an EvalInputError naming the input and the dim when `dims` do not fit the model's fixed dims. */
export function checkDims(input: ValueInfo, dims: readonly number[], where: string): void {
  if (dims.length !== input.shape.length) {
    throw new EvalInputError(
      `${where}: input '${input.name}' expects rank ${input.shape.length} ${formatShape(input.shape)}, but the data has rank ${dims.length} ${formatShape(dims)}.`,
    );
  }
  input.shape.forEach((expected, axis) => {
    if (typeof expected === 'number' && expected >= 0 && dims[axis] !== expected) {
      throw new EvalInputError(
        `${where}: input '${input.name}' dim ${axis} is ${expected} in the model ${formatShape(input.shape)} but ${dims[axis]} in the data ${formatShape(dims)}.`,
      );
    }
  });
}

/** Adds a leading batch dim of 1 when the data is exactly one rank short of the model input. */
export function withBatchDim(input: ValueInfo, dims: number[]): number[] {
  return dims.length === input.shape.length - 1 ? [1, ...dims] : dims;
}

/** Splits a tensor along dim 0 into `dims[0]` tensors of batch 1 (views would pin the whole buffer, so copies). */
export function splitBatch(tensor: HostTensor): HostTensor[] {
  const count = tensor.dims[0] ?? 0;
  const rest = tensor.dims.slice(1);
  const size = elementCount(rest);
  const parts: HostTensor[] = [];
  for (let i = 0; i < count; i++) {
    parts.push({ dtype: tensor.dtype, dims: [1, ...rest], data: tensor.data.slice(i * size, (i + 1) * size) });
  }
  return parts;
}
