/**
 * What each stored tensor is to the compressor — one eligibility function that quantization, dynamic
 * quantization, pruning, sensitivity and the UI share: a weight an op multiplies (with its channel and reduction
 * axes), another large float constant (quantized with a generic layout), a parameter kept in float (with the
 * reason), or something already quantized.
 */
import type { CatalogEntry, TensorCatalog } from '../onnx/catalog';
import { opTraits } from '../onnx/op-traits';
import { weightUses, type WeightUse } from '../onnx/weight-use';
import { DataType, isFloatingType } from '../tensor/dtypes';

export type TensorRole =
  | { kind: 'weight'; use: WeightUse; uses: WeightUse[] }
  | { kind: 'constant'; uses: WeightUse[]; readers: string[] }
  | { kind: 'kept'; reason: string }
  | { kind: 'quantized' }
  | { kind: 'ignored' };

/** Float constants at least this large that no op multiplies are still quantized, with a generic layout. */
export const FALLBACK_MIN_ELEMENTS = 1024;

export type WeightDtype = 'float32' | 'float16' | 'bfloat16';

/** The float storage types whose weights are quantized. */
export function weightDtype(dataType: number): WeightDtype | undefined {
  if (dataType === DataType.FLOAT) return 'float32';
  if (dataType === DataType.FLOAT16) return 'float16';
  if (dataType === DataType.BFLOAT16) return 'bfloat16';
  return undefined;
}

/** Float tensors that count towards coverage: every floating-point tensor of more than one value. */
export function countsAsWeightBytes(entry: CatalogEntry): boolean {
  return entry.elements > 1 && isFloatingType(entry.dataType);
}

export function tensorRole(entry: CatalogEntry, catalog: TensorCatalog): TensorRole {
  if (entry.elements <= 1) return { kind: 'ignored' };
  const uses = weightUses(entry, catalog);
  const quantizedReader = uses.some((u) => u.kind === 'weight' && opTraits(u.node)?.quantized);
  // Integer storage a DequantizeLinear (or an integer op) turns into a weight: already quantized.
  if (!isFloatingType(entry.dataType))
    return quantizedReader || uses.some((u) => u.kind === 'weight' && u.path.includes('DequantizeLinear')) ? { kind: 'quantized' } : { kind: 'ignored' };
  if (quantizedReader) return { kind: 'quantized' };
  const weight = uses.filter((u) => u.kind === 'weight');
  if (weight.length) return { kind: 'weight', use: weight.find((u) => u.channelAxis !== undefined) ?? weight[0]!, uses };
  if (!weightDtype(entry.dataType))
    return { kind: 'kept', reason: `${entry.dataType === DataType.DOUBLE ? 'float64' : 'float8/float4'} values are not quantized` };
  if (uses.length === 0) return { kind: 'kept', reason: 'not read by any op' };
  const others = uses.filter((u) => u.kind === 'other');
  if (others.length === 0) return { kind: 'kept', reason: uses[0]!.keepReason ?? 'kept in float' };
  const readers = [...new Set(others.map((u) => u.op))];
  if (entry.elements >= FALLBACK_MIN_ELEMENTS) return { kind: 'constant', uses, readers };
  return { kind: 'kept', reason: `small constant read by ${readers.join('/')}` };
}
