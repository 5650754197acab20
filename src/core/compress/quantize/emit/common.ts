/** Pieces the emitters share: quantizing on a kernel backend, the stored code tensors, the error sums. */
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';
import { floatTensor, halfTensor } from '../../../onnx/graph-edit';
import { bf16BitsToFloat, floatToBf16Bits, floatToFp16Bits, fp16BitsToFloat } from '../../../tensor/codecs';
import { DataType } from '../../../tensor/dtypes';
import { packNibblesOf } from '../../../../kernels/ts/quant-reference';
import { referenceBackend } from '../../../../kernels/ts/reference';
import type { KernelBackend } from '../../../../kernels/types';
import { quantizeOn, type GroupView, type QuantSpec, type QuantizedTensor } from '../math';

/**
 * Uploads once, quantizes on the backend's kernels (the reference where it has none), frees the upload. With
 * `rangeFrom` (the original weights, same layout), the grid is chosen on it and `values` (GPTQ's adjusted
 * weights) are rounded on that grid; signal and noise are then against `values` (the caller recomputes them).
 */
export async function quantizeWithBackend(
  backend: KernelBackend,
  values: Float32Array,
  view: GroupView,
  spec: QuantSpec,
  rangeFrom?: Float32Array,
): Promise<QuantizedTensor> {
  const kernelBackend = backend.quant ? backend : referenceBackend;
  const t = await kernelBackend.upload(rangeFrom ?? values);
  const c = rangeFrom ? await kernelBackend.upload(values) : undefined;
  try {
    return await quantizeOn(kernelBackend.quant!, t, rangeFrom ?? values, view, spec, c);
  } finally {
    t.dispose();
    c?.dispose();
  }
}

/** Integer codes as an int8/uint8 or (packed) int4/uint4 tensor. */
export async function codesTensor(
  backend: KernelBackend,
  name: string,
  dims: number[],
  codes: Int16Array | Int32Array,
  signed: boolean,
  storedBits: number,
): Promise<TensorProto> {
  if (storedBits === 4) {
    const packed = codes instanceof Int16Array ? await (backend.quant ?? referenceBackend.quant!).packNibbles(codes) : packNibblesOf(codes);
    return create(TensorProtoSchema, {
      name,
      dataType: signed ? DataType.INT4 : DataType.UINT4,
      dims: dims.map(BigInt),
      rawData: new Uint8Array(packed.buffer as ArrayBuffer, packed.byteOffset, packed.byteLength),
    });
  }
  const rawData = signed ? new Uint8Array(Int8Array.from(codes).buffer) : Uint8Array.from(codes);
  return create(TensorProtoSchema, { name, dataType: signed ? DataType.INT8 : DataType.UINT8, dims: dims.map(BigInt), rawData });
}

/** Scales in the planned dtype (float16 scales were already rounded to float16 by the quantizer). */
export function scaleTensor(name: string, dims: number[], scales: Float32Array, scaleType: 'float32' | 'float16'): TensorProto {
  return scaleType === 'float16' ? halfTensor(name, dims, Uint16Array.from(scales, floatToFp16Bits)) : floatTensor(name, dims, scales);
}

/**
 * What the runtime computes when DequantizeLinear yields float16 (or a Cast narrows to float16/bfloat16): the
 * dequantized values rounded to that dtype, and the error sums against the original values recomputed.
 */
export function roundedTo(
  dataType: number | undefined,
  q: Pick<QuantizedTensor, 'dequantized' | 'signal' | 'noise'>,
  original: Float32Array,
): Pick<QuantizedTensor, 'dequantized' | 'signal' | 'noise'> {
  if (dataType !== DataType.FLOAT16 && dataType !== DataType.BFLOAT16) return q;
  const round = dataType === DataType.FLOAT16 ? (v: number) => fp16BitsToFloat(floatToFp16Bits(v)) : (v: number) => bf16BitsToFloat(floatToBf16Bits(v));
  const dequantized = q.dequantized.map(round);
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < original.length; i++) {
    const x = original[i]!;
    signal += x * x;
    noise += (x - dequantized[i]!) ** 2;
  }
  return { dequantized, signal, noise };
}

/** SQNR and relative error from the sums. */
export function errorFromSums(signal: number, noise: number): { sqnrDb: number; relError: number } {
  return {
    sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
    relError: signal === 0 ? (noise === 0 ? 0 : Infinity) : Math.sqrt(noise / signal),
  };
}
