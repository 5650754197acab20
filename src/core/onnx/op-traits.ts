/**
 * What each op does with the tensors it reads: which inputs are weights it multiplies, along which axis its
 * output channels run, along which axis it sums (where blocks of a blocked scale run), and which integer or
 * packed forms onnxruntime has for it. Quantization, dynamic quantization, pruning, sensitivity and the UI all
 * ask this one table; adding an op is one row.
 */
import type { NodeProto } from 'onnx-buf';
import { getInt, getString, isDefaultDomain } from './graph-edit';

/** A weight input of an op. Axes are in the coordinates of the tensor the op reads. */
export interface WeightSlot {
  input: number;
  /** The axis of its output channels (one scale per channel), for a tensor of rank `rank`. */
  channelAxis(node: NodeProto, rank: number): number | undefined;
  /** The axis the op sums over (blocks of a blocked scale run along it). */
  reductionAxis(node: NodeProto, rank: number): number | undefined;
}

export interface OpTraits {
  weights: WeightSlot[];
  /** Inputs that are read but kept in float, with the reason a person reads ("bias"). */
  keep?: Record<number, string>;
  /** onnxruntime's integer form for dynamic quantization of this op's weight (input 1). */
  integerForm?: 'ConvInteger' | 'MatMulInteger';
  /** Can com.microsoft.MatMulNBits replace this node, with its weight as input 1? */
  nbits?(node: NodeProto): boolean;
  /** Structured pruning can remove its output channels (see prune/channels.ts). */
  producesChannels?(node: NodeProto): boolean;
  /** The op already computes on quantized weights: they are never quantized again. */
  quantized?: boolean;
}

const slot = (input: number, channelAxis: WeightSlot['channelAxis'], reductionAxis: WeightSlot['reductionAxis']): WeightSlot => ({ input, channelAxis, reductionAxis });
const fixed = (axis: number) => (_node: NodeProto, rank: number) => (rank > axis ? axis : undefined);
const last = (_node: NodeProto, rank: number) => (rank >= 1 ? rank - 1 : undefined);
const secondLast = (_node: NodeProto, rank: number) => (rank >= 2 ? rank - 2 : undefined);

/** Gemm computes alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A, B' likewise: A' is [M, K], B' is [K, N]. */
const gemmA = slot(0, (n) => (getInt(n, 'transA', 0) ? 1 : 0), (n) => (getInt(n, 'transA', 0) ? 0 : 1));
const gemmB = slot(1, (n) => (getInt(n, 'transB', 0) ? 0 : 1), (n) => (getInt(n, 'transB', 0) ? 1 : 0));
/** MatMul A [.., M, K] · B [.., K, N]: a constant A has its channels on M; a constant B on N. */
const matMulA = slot(0, secondLast, last);
const matMulB = slot(1, last, secondLast);
/** LSTM/GRU/RNN W [dirs, gates·H, in] and R [dirs, gates·H, H]: one row per gate unit, summed over the last axis. */
const recurrent = [slot(1, fixed(1), fixed(2)), slot(2, fixed(1), fixed(2))];

const gemmPlain = (n: NodeProto) => getInt(n, 'transA', 0) === 0 && getFloatAttr(n, 'alpha', 1) === 1 && (!n.input[2] || getFloatAttr(n, 'beta', 1) === 1);

function getFloatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a ? a.f : fallback;
}

/** Einsum: the weight operand's channel axis is its last subscript that survives to the output; it sums over the first that does not. */
function einsumAxes(node: NodeProto, input: number): { channel?: number; reduction?: number } {
  const equation = getString(node, 'equation', '').replace(/\s+/g, '');
  const [lhs, explicit] = equation.split('->');
  const operands = (lhs ?? '').split(',');
  const subscripts = operands[input];
  if (!subscripts || subscripts.includes('.')) return {};
  const counts = new Map<string, number>();
  for (const s of operands.join('')) counts.set(s, (counts.get(s) ?? 0) + 1);
  const output = explicit ?? [...counts].filter(([, n]) => n === 1).map(([s]) => s).sort().join('');
  const letters = [...subscripts];
  let channel: number | undefined;
  letters.forEach((s, i) => {
    if (output.includes(s)) channel = i;
  });
  const reduction = letters.findIndex((s) => !output.includes(s));
  return { channel, reduction: reduction >= 0 ? reduction : undefined };
}

const einsumSlot = (input: number) => slot(input, (n) => einsumAxes(n, input).channel, (n) => einsumAxes(n, input).reduction);

const NORM = 'normalization parameter';

export const OP_TRAITS: Record<string, OpTraits> = {
  Conv: {
    weights: [slot(1, fixed(0), fixed(1))],
    keep: { 2: 'bias' },
    integerForm: 'ConvInteger',
    producesChannels: (n) => getInt(n, 'group', 1) === 1,
  },
  // W [Cin, Cout/group, k…]: output channels on axis 1, summed over the input channels (axis 0).
  ConvTranspose: { weights: [slot(1, fixed(1), fixed(0))], keep: { 2: 'bias' } },
  Gemm: { weights: [gemmA, gemmB], keep: { 2: 'bias' }, integerForm: 'MatMulInteger', nbits: gemmPlain, producesChannels: (n) => getInt(n, 'transA', 0) === 0 },
  MatMul: { weights: [matMulA, matMulB], integerForm: 'MatMulInteger', nbits: () => true, producesChannels: () => true },
  LSTM: { weights: recurrent, keep: { 3: 'bias', 5: 'initial hidden state', 6: 'initial cell state', 7: 'peepholes' } },
  GRU: { weights: recurrent, keep: { 3: 'bias', 5: 'initial hidden state' } },
  RNN: { weights: recurrent, keep: { 3: 'bias', 5: 'initial hidden state' } },
  // An embedding table [vocab, dim]: one row per token; blocks run along the row.
  Gather: { weights: [slot(0, (n, rank) => (getInt(n, 'axis', 0) === 0 && rank >= 2 ? 0 : undefined), last)] },
  Einsum: { weights: [einsumSlot(0), einsumSlot(1), einsumSlot(2)] },
  // com.microsoft ops (onnxruntime's contrib domain).
  'com.microsoft.Attention': { weights: [slot(1, last, secondLast)], keep: { 2: 'bias' } },
  'com.microsoft.FusedMatMul': {
    weights: [slot(0, (n, r) => (getInt(n, 'transA', 0) ? r - 1 : r - 2), (n, r) => (getInt(n, 'transA', 0) ? r - 2 : r - 1)), slot(1, (n, r) => (getInt(n, 'transB', 0) ? r - 2 : r - 1), (n, r) => (getInt(n, 'transB', 0) ? r - 1 : r - 2))],
  },
  'com.microsoft.SkipLayerNormalization': { weights: [], keep: { 2: NORM, 3: NORM, 4: 'bias' } },
  // Already quantized: their integer weights stay as they are.
  ConvInteger: { weights: [slot(1, fixed(0), fixed(1))], quantized: true },
  MatMulInteger: { weights: [slot(0, secondLast, last), slot(1, last, secondLast)], quantized: true },
  QLinearConv: { weights: [slot(3, fixed(0), fixed(1))], quantized: true },
  QLinearMatMul: { weights: [slot(0, secondLast, last), slot(3, last, secondLast)], quantized: true },
  'com.microsoft.MatMulNBits': { weights: [slot(1, fixed(0), fixed(1))], quantized: true },
  'com.microsoft.GatherBlockQuantized': { weights: [slot(0, fixed(0), last)], quantized: true },
  // The scales and zero points of weights stored quantized.
  DequantizeLinear: { weights: [], keep: { 1: 'already quantized', 2: 'already quantized' } },
  // Normalizations: their parameters stay in float (few values, and their error scales every activation).
  BatchNormalization: { weights: [], keep: { 1: NORM, 2: NORM, 3: NORM, 4: NORM } },
  InstanceNormalization: { weights: [], keep: { 1: NORM, 2: NORM } },
  LayerNormalization: { weights: [], keep: { 1: NORM, 2: NORM } },
  GroupNormalization: { weights: [], keep: { 1: NORM, 2: NORM } },
  RMSNormalization: { weights: [], keep: { 1: NORM } },
  PRelu: { weights: [], keep: { 1: 'activation slope' } },
  Resize: { weights: [], keep: { 1: 'Resize roi, not a weight', 2: 'Resize scales, not a weight' } },
  Upsample: { weights: [], keep: { 1: 'Upsample scales, not a weight' } },
};

/** Key of an op in the table: its type, prefixed by its domain outside the default one ("com.microsoft.Attention"). */
export function opKey(node: NodeProto): string {
  return isDefaultDomain(node) ? node.opType : `${node.domain}.${node.opType}`;
}

export function opTraits(node: NodeProto): OpTraits | undefined {
  return OP_TRAITS[opKey(node)];
}

/**
 * Ops a weight passes through on its way to the op that uses it, which keep its values (they copy, slice, join or
 * reshape): the weight is followed through them, its axes mapped back to the stored tensor's.
 */
export const LAYOUT_OPS = new Set(['Cast', 'Identity', 'DequantizeLinear', 'Slice', 'Split', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Concat']);
