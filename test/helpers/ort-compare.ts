/**
 * Running models in onnxruntime-node and comparing their outputs, for the tests that check what a written model
 * computes: all outputs of several input samples, concatenated, compared by cosine and SQNR. Sessions use
 * graph optimisation level 'basic' so onnxruntime does not re-quantize activations (see platform notes).
 */
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { buildCatalog, replaceTensor } from '../../src/core/onnx/catalog';
import { decodeModel, encodeModel } from '../../src/core/onnx/codec';
import { DataType } from '../../src/core/tensor/dtypes';
import { toBfloat16Bits, toFloat16Bits } from '../fixtures/onnx-helpers.ts';

export type Feeds = Record<string, ort.Tensor>;

export const SESSION: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'basic', intraOpNumThreads: 1 };

/** Every output of every sample, as float64 values concatenated in output-name order. */
export async function runAll(bytes: Uint8Array, samples: Feeds[]): Promise<Float64Array> {
  const session = await ort.InferenceSession.create(bytes, SESSION);
  const parts: number[] = [];
  try {
    for (const feeds of samples) {
      const out = await session.run(feeds);
      for (const name of [...session.outputNames].sort()) for (const v of out[name]!.data as Iterable<number | bigint>) parts.push(Number(v));
    }
  } finally {
    await session.release();
  }
  return Float64Array.from(parts);
}

export function compareOutputs(ref: ArrayLike<number>, got: ArrayLike<number>): { cosine: number; sqnrDb: number; maxAbs: number; scale: number } {
  let dot = 0;
  let nr = 0;
  let ng = 0;
  let noise = 0;
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const g = got[i]!;
    dot += r * g;
    nr += r * r;
    ng += g * g;
    noise += (r - g) ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(r - g));
    scale = Math.max(scale, Math.abs(r));
  }
  return { cosine: nr === 0 && ng === 0 ? 1 : dot / Math.sqrt(nr * ng), sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(nr / noise), maxAbs, scale };
}

/** The original model with the named tensors' values replaced (stored in their own dtype: float32, float16, bfloat16). */
export function simulatedModel(original: Uint8Array, values: Map<string, Float32Array>): Uint8Array {
  const model = decodeModel(original);
  for (const entry of buildCatalog(model).entries) {
    const v = values.get(entry.name);
    if (!v) continue;
    const dataType = entry.dataType;
    const rawData =
      dataType === DataType.FLOAT16
        ? new Uint8Array(Uint16Array.from(v, (x) => toFloat16Bits(x)).buffer)
        : dataType === DataType.BFLOAT16
          ? new Uint8Array(Uint16Array.from(v, (x) => toBfloat16Bits(x)).buffer)
          : new Uint8Array(Float32Array.from(v).buffer);
    replaceTensor(entry, create(TensorProtoSchema, { dataType, dims: entry.tensor.dims, rawData }));
  }
  return encodeModel(model);
}
