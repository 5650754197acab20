/**
 * The plan step: for every float tensor, whether it is quantized and how — format, bits, granularity, the axis
 * its scales run along, the scale dtype — from its role (roles.ts) and the op-traits table; and the opset the
 * written formats need. No values are read here.
 */
import type { ModelProto } from 'onnx-buf';
import type { CatalogEntry, TensorCatalog } from '../../onnx/catalog';
import { getFloat, getInt } from '../../onnx/graph-edit';
import { opTraits } from '../../onnx/op-traits';
import { defaultOpset } from '../../onnx/opset';
import { readsDirectly, type WeightUse } from '../../onnx/weight-use';
import { DataType, dataTypeName } from '../../tensor/dtypes';
import { excludedBecause, matchesAny, type QuantizeRecipe } from '../../recipe';
import { tensorRole, weightDtype, type TensorRole } from '../roles';
import type { Granularity, QuantSpec } from './math';

export type WrittenFormat = 'qdq' | 'matmulnbits' | 'dynamic' | 'fp16';

export interface TensorPlan {
  entryId: number;
  name: string;
  /** "main", or the subgraph holding the tensor. */
  graphPath: string;
  layer: string;
  op: string;
  /** weight: an op multiplies it; constant: a large float constant other ops read; kept, quantized: left as is. */
  kind: 'weight' | 'constant' | 'kept' | 'quantized';
  /** Stored dtype, e.g. "FLOAT16". */
  dtype: string;
  elements: number;
  bytesBefore: number;
  action: 'quantize' | 'skip';
  /** Why a tensor is skipped, in words. */
  reason?: string;
  bits: number;
  /** Container the runtime stores: 4 or 8 (16 for fp16). */
  storedBits: number;
  format: WrittenFormat;
  granularity: Granularity;
  blockSize: number;
  /** DequantizeLinear axis (channel or block axis of the stored tensor). */
  axis?: number;
  /** Conv weights quantized per block are stored as [Cout, Cin·kh·kw] and reshaped back. */
  flattenTo2d?: boolean;
  /** Scales in float16 (DequantizeLinear then yields float16 directly, opset 19+) or float32. */
  scaleType: 'float32' | 'float16';
  /** A Cast after DequantizeLinear restores the stored dtype (bfloat16, or float16 below opset 19). */
  castTo?: number;
  /** Layout ops between the stored tensor and the op that uses it (Slice, Transpose…). */
  path: string[];
  notes: string[];
}

export interface QuantPlan {
  tensors: TensorPlan[];
  /** Default-domain opset of the model as planned on. */
  modelOpset: number;
  /** Default-domain opset the written formats need (at least the model's). */
  opset: number;
  warnings: string[];
}

type PlanModel = { model: ModelProto; catalog: TensorCatalog };

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Can MatMulNBits replace the op (the weight is its input B itself, 2-D, read by nothing else)? */
function nbitsPossible(entry: CatalogEntry, use: WeightUse | undefined): string | undefined {
  if (!use) return 'MatMulNBits replaces a MatMul/Gemm weight: this is not one';
  if (!opTraits(use.node)?.nbits?.(use.node)) return `MatMulNBits cannot replace ${use.op}${use.op === 'Gemm' ? ' with these attributes' : ''}`;
  if (use.inputIndex !== 1) return 'MatMulNBits needs the weight as the second input';
  if (use.path.length > 0) return `the weight reaches ${use.op} through ${use.path.join(' → ')}`;
  if (entry.shape.length !== 2) return 'MatMulNBits needs a 2-D weight';
  if (entry.consumers.length !== 1) return 'the weight is read by more than one op';
  return undefined;
}

/** Why dynamic quantization cannot rewrite this weight's op, or undefined when it can. */
function dynamicBlocker(entry: CatalogEntry, use: WeightUse | undefined): string | undefined {
  if (!use) return 'dynamic quantization rewrites a MatMul/Gemm/Conv: this weight has none';
  const node = use.node;
  if (!opTraits(node)?.integerForm) return `${use.op} has no integer form`;
  if (use.inputIndex !== 1 || use.path.length > 0 || entry.consumers.length !== 1)
    return "dynamic quantization rewrites a MatMul/Gemm/Conv that is the weight's only, direct reader";
  if (entry.dataType !== DataType.FLOAT) return 'dynamic quantization takes float32 weights';
  if (node.opType === 'Conv' && entry.shape.length < 3) return 'Conv weight of unexpected rank';
  if (node.opType === 'MatMul' && entry.shape.length !== 2) return 'MatMulInteger takes a 2-D weight';
  if (node.opType === 'Gemm' && !(getInt(node, 'transA', 0) === 0 && getFloat(node, 'alpha', 1) === 1 && (!node.input[2] || getFloat(node, 'beta', 1) === 1)))
    return 'Gemm with these attributes has no integer form';
  return undefined;
}

function roleKind(role: TensorRole): TensorPlan['kind'] {
  return role.kind === 'weight' || role.kind === 'constant' || role.kind === 'quantized' ? role.kind : 'kept';
}

/** The opset a planned tensor's DequantizeLinear needs. */
function opsetNeeded(t: TensorPlan): number {
  if (t.action !== 'quantize') return 0;
  if (t.format === 'dynamic') return 11;
  if (t.format !== 'qdq') return 0;
  if (t.storedBits === 4 || t.granularity === 'block') return 21;
  if (t.scaleType === 'float16') return 19;
  if (t.granularity === 'channel') return 13;
  return 10;
}

export function planQuantization(work: PlanModel, asked: QuantizeRecipe): QuantPlan {
  // Static int8 stores weights as int8 per channel, symmetric (static.ts writes the activations around them);
  // weights of ops it cannot run quantized keep that as weight-only DequantizeLinear.
  const recipe: QuantizeRecipe =
    asked.format === 'static' ? { ...asked, format: 'qdq', bits: 8, granularity: 'channel', symmetric: true, overrides: [] } : asked;
  const { catalog } = work;
  const modelOpset = defaultOpset(work.model);
  const tensors: TensorPlan[] = [];
  const warnings: string[] = [];
  let alreadyQuantized = 0;
  for (const entry of catalog.entries) {
    const role = tensorRole(entry, catalog);
    if (role.kind === 'ignored') continue;
    const use = role.kind === 'weight' ? role.use : undefined;
    const readers = role.kind === 'constant' ? role.readers.join('/') : undefined;
    const base: TensorPlan = {
      entryId: entry.id,
      name: entry.name,
      graphPath: entry.graphPath,
      layer: use?.nodeLabel ?? (role.kind === 'constant' ? role.uses[0]!.nodeLabel : (entry.consumers[0]?.nodeLabel ?? '')),
      op: use?.op ?? readers ?? entry.consumers[0]?.node.opType ?? '',
      kind: roleKind(role),
      dtype: dataTypeName(entry.dataType),
      elements: entry.elements,
      bytesBefore: entry.bytes,
      action: 'skip',
      bits: 32,
      storedBits: 32,
      format: 'qdq',
      granularity: recipe.granularity,
      blockSize: recipe.blockSize,
      scaleType: 'float32',
      path: use?.path ?? [],
      notes: [],
    };
    const skip = (reason: string) => tensors.push({ ...base, reason });
    if (recipe.format === 'fp16') {
      tensors.push(planFp16(base, role, entry, recipe));
      continue;
    }
    if (role.kind === 'quantized') {
      alreadyQuantized++;
      skip('already quantized');
      continue;
    }
    if (role.kind === 'kept') {
      skip(role.reason);
      continue;
    }
    const excluded =
      excludedBecause(recipe.exclude, entry.name, base.layer) ?? (recipe.excludeOps.includes(base.op) ? `${base.op} layers excluded` : undefined);
    if (excluded) {
      skip(excluded);
      continue;
    }
    const dtype = weightDtype(entry.dataType)!;
    const bits = recipe.overrides.find((o) => matchesAny([o.match], entry.name, base.layer))?.bits ?? recipe.bits;
    if (recipe.format === 'dynamic') {
      const blocker = dynamicBlocker(entry, use);
      if (blocker) skip(blocker);
      else
        tensors.push({
          ...base,
          action: 'quantize',
          bits: Math.min(bits, 8),
          storedBits: 8,
          format: 'dynamic',
          granularity: recipe.granularity === 'tensor' ? 'tensor' : 'channel',
        });
      continue;
    }
    const storedBits = bits <= 4 ? 4 : 8;
    const plan: TensorPlan = { ...base, action: 'quantize', bits, storedBits };
    if (bits !== storedBits) plan.notes.push(`${bits}-bit levels stored in ${storedBits}-bit containers`);
    if (dtype === 'float16') plan.scaleType = 'float16';
    if (dtype === 'bfloat16') plan.castTo = DataType.BFLOAT16;
    if (role.kind === 'constant') plan.notes.push(`read by ${readers}, which multiplies no weight: quantized with a generic layout`);
    else if (plan.path.length) plan.notes.push(`reaches ${use!.op} through ${plan.path.join(' → ')}`);

    const wantsNBits = recipe.format === 'matmulnbits' || (recipe.format === 'auto' && recipe.granularity === 'block' && storedBits === 4);
    if (wantsNBits) {
      const blocker =
        nbitsPossible(entry, use) ??
        (storedBits !== 4
          ? 'MatMulNBits is written at 4 bits here'
          : !isPowerOfTwo(recipe.blockSize)
            ? 'MatMulNBits needs a power-of-two block size'
            : undefined);
      if (!blocker) {
        tensors.push({ ...plan, format: 'matmulnbits', granularity: 'block', scaleType: dtype === 'float16' ? 'float16' : 'float32', castTo: undefined });
        continue;
      }
      if (recipe.format === 'matmulnbits' || role.kind === 'weight') plan.notes.push(`${blocker}: written as DequantizeLinear`);
    }
    placeScales(plan, entry, use);
    tensors.push(plan);
  }
  if (alreadyQuantized)
    warnings.push(
      `This model is already quantized in places (${alreadyQuantized} tensor${alreadyQuantized > 1 ? 's' : ''}): those weights are kept as they are; only float weights are quantized.`,
    );
  const need = tensors.reduce((n, t) => Math.max(n, opsetNeeded(t)), 0);
  return { tensors, modelOpset, opset: Math.max(modelOpset, need), warnings };
}

/** fp16 conversion turns every float32 tensor to float16 (the graph computes in float16), but Resize's scales and roi. */
function planFp16(base: TensorPlan, role: TensorRole, entry: CatalogEntry, recipe: QuantizeRecipe): TensorPlan {
  const fp16 = { ...base, format: 'fp16' as const, granularity: 'tensor' as const };
  if (entry.dataType !== DataType.FLOAT)
    return { ...fp16, reason: role.kind === 'quantized' ? 'already quantized' : `already ${dataTypeName(entry.dataType).toLowerCase()}` };
  if (role.kind === 'kept' && /Resize|Upsample/.test(role.reason)) return { ...fp16, reason: `${role.reason}: stays float32` };
  const excluded =
    role.kind === 'weight' || role.kind === 'constant'
      ? (excludedBecause(recipe.exclude, base.name, base.layer) ?? (recipe.excludeOps.includes(base.op) ? `${base.op} layers excluded` : undefined))
      : undefined;
  if (excluded) return { ...fp16, reason: `${excluded}: kept in float32, its op computes in float32` };
  return { ...fp16, action: 'quantize', bits: 16, storedBits: 16 };
}

/** The axis of the scales for the planned granularity, with the fallbacks noted. */
function placeScales(plan: TensorPlan, entry: CatalogEntry, use: WeightUse | undefined): void {
  const shape = entry.shape;
  const rank = shape.length;
  const rowsAxis = () => {
    // Rows of a generic constant: one scale per row, when rows are long enough to be worth a scale.
    if (rank >= 2 && entry.elements / shape[0]! >= 16) return 0;
    return undefined;
  };
  if (plan.granularity === 'channel') {
    const axis = use?.channelAxis ?? rowsAxis();
    if (axis === undefined) {
      plan.granularity = 'tensor';
      plan.notes.push('no output-channel axis: quantized per tensor');
    } else {
      plan.axis = axis;
      if (use?.channelAxis === undefined) plan.notes.push('no output-channel axis could be followed: one scale per row');
    }
  }
  if (plan.granularity === 'block') {
    if (use && readsDirectly(use) && use.path.length === 0 && use.node.opType === 'Conv' && rank > 2) {
      plan.axis = 1;
      plan.flattenTo2d = true;
    } else if (use?.reductionAxis !== undefined) {
      plan.axis = use.reductionAxis;
    } else if (rank >= 1) {
      plan.axis = rank - 1;
      plan.notes.push('no reduction axis could be followed: blocks along the last axis');
    } else {
      plan.granularity = 'tensor';
      plan.notes.push('quantized per tensor');
    }
  }
}

/**
 * Adapts a plan to the highest opset the model can reach (when an upgrade is impossible), noting each fallback:
 * 4-bit stored in 8, blocks → channels, channels → tensor, float16 scales → float32 + Cast, or left in float.
 */
export function limitPlanToOpset(plan: QuantPlan, limit: number, why: string, catalog: TensorCatalog): void {
  for (const t of plan.tensors) {
    if (t.action !== 'quantize' || opsetNeeded(t) <= limit) continue;
    if (t.format === 'dynamic') {
      t.action = 'skip';
      t.reason = `dynamic quantization needs opset 11 and ${why}`;
      continue;
    }
    if (limit < 21 && t.storedBits === 4) {
      t.storedBits = 8;
      t.notes.push(`stored in 8 bits: 4-bit DequantizeLinear needs opset 21 and ${why}`);
    }
    if (limit < 21 && t.granularity === 'block') {
      const entry = catalog.entries[t.entryId]!;
      const axis = tensorRole(entry, catalog).kind === 'weight' ? (tensorRole(entry, catalog) as { use: WeightUse }).use.channelAxis : undefined;
      t.granularity = axis === undefined ? 'tensor' : 'channel';
      t.axis = axis;
      t.flattenTo2d = false;
      t.notes.push(`per-${t.granularity} instead of per-block: blocked DequantizeLinear needs opset 21 and ${why}`);
    }
    if (limit < 19 && t.scaleType === 'float16') {
      t.scaleType = 'float32';
      t.castTo = DataType.FLOAT16;
      t.notes.push(`float32 scales and a Cast to float16: float16 scales need opset 19 and ${why}`);
    }
    if (limit < 13 && t.granularity === 'channel') {
      t.granularity = 'tensor';
      t.axis = undefined;
      t.notes.push(`per-tensor: per-channel DequantizeLinear needs opset 13 and ${why}`);
    }
    if (limit < 10) {
      t.action = 'skip';
      t.reason = `DequantizeLinear needs opset 10 and ${why}`;
    }
  }
  plan.opset = Math.max(
    plan.modelOpset,
    Math.min(
      limit,
      plan.tensors.reduce((n, t) => Math.max(n, opsetNeeded(t)), 0),
    ),
  );
}

export function specFor(recipe: QuantizeRecipe, plan: TensorPlan): QuantSpec {
  return {
    bits: plan.bits,
    symmetric: recipe.symmetric,
    granularity: plan.granularity,
    blockSize: plan.blockSize,
    range: recipe.range,
    percentile: recipe.percentile,
    scaleType: plan.scaleType,
  };
}
