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
  /** How a channel dimension flows through the op, for structured pruning's dependency analysis (prune/depgraph.ts). */
  channels?: ChannelFlow;
  /** The op already computes on quantized weights: they are never quantized again. */
  quantized?: boolean;
}

/**
 * How structured pruning follows a tensor's channel dimension through an op:
 * - 'compute': the op multiplies its weight slots: it reads the input's channels along the slot's reduction axis (the
 *   weight is sliced there) and makes channels of its own along the slot's channel axis (Conv, ConvTranspose, Gemm, MatMul);
 * - 'unary': output 0 carries input 0's channels; `params` inputs hold one value per channel and are sliced with them;
 * - 'broadcast': every input broadcasts with the others, so their channels are coupled (a residual Add, a gate Mul);
 *   constants that vary along the channels are sliced with them;
 * - 'pool': spatial pooling over channels on axis 1;
 * - 'along-axis': works along its `axis` attribute (Softmax, LayerNormalization): channels pass unless it is that axis;
 * - 'reduce': reduces over `axes`: channels pass when they are not reduced;
 * - 'layout': moves, cuts or joins axes (Transpose, Reshape, Flatten, Concat, Split, Slice, Squeeze, Unsqueeze, Pad,
 *   Resize): one rule per op in the analysis;
 * - 'shape': reads only the shape (Shape, Size): the channel count is followed to where it is used.
 * Ops without a flow stop the analysis: channels that reach them are kept, with the op named as the reason.
 */
export interface ChannelFlow {
  kind: 'compute' | 'unary' | 'broadcast' | 'pool' | 'along-axis' | 'reduce' | 'layout' | 'shape';
  /** 'unary' and 'along-axis': inputs holding one value per channel (BatchNormalization's scale, bias, mean, variance). */
  params?: number[];
  /** Inputs beyond the data that carry no channels (Clip's min/max, Dropout's ratio): ignored. */
  ignore?: number[];
}

const UNARY: ChannelFlow = { kind: 'unary', ignore: [1, 2] };
const BROADCAST: ChannelFlow = { kind: 'broadcast' };
const POOL: ChannelFlow = { kind: 'pool' };
const LAYOUT: ChannelFlow = { kind: 'layout' };
const REDUCE: ChannelFlow = { kind: 'reduce', ignore: [1] };
const ALONG_AXIS: ChannelFlow = { kind: 'along-axis' };
const COMPUTE: ChannelFlow = { kind: 'compute' };

const slot = (input: number, channelAxis: WeightSlot['channelAxis'], reductionAxis: WeightSlot['reductionAxis']): WeightSlot => ({
  input,
  channelAxis,
  reductionAxis,
});
const fixed = (axis: number) => (_node: NodeProto, rank: number) => (rank > axis ? axis : undefined);
const last = (_node: NodeProto, rank: number) => (rank >= 1 ? rank - 1 : undefined);
const secondLast = (_node: NodeProto, rank: number) => (rank >= 2 ? rank - 2 : undefined);

/** Gemm computes alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A, B' likewise: A' is [M, K], B' is [K, N]. */
const gemmA = slot(
  0,
  (n) => (getInt(n, 'transA', 0) ? 1 : 0),
  (n) => (getInt(n, 'transA', 0) ? 0 : 1),
);
const gemmB = slot(
  1,
  (n) => (getInt(n, 'transB', 0) ? 0 : 1),
  (n) => (getInt(n, 'transB', 0) ? 1 : 0),
);
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
  const output =
    explicit ??
    [...counts]
      .filter(([, n]) => n === 1)
      .map(([s]) => s)
      .sort()
      .join('');
  const letters = [...subscripts];
  let channel: number | undefined;
  letters.forEach((s, i) => {
    if (output.includes(s)) channel = i;
  });
  const reduction = letters.findIndex((s) => !output.includes(s));
  return { channel, reduction: reduction >= 0 ? reduction : undefined };
}

const einsumSlot = (input: number) =>
  slot(
    input,
    (n) => einsumAxes(n, input).channel,
    (n) => einsumAxes(n, input).reduction,
  );

const NORM = 'normalization parameter';

export const OP_TRAITS: Record<string, OpTraits> = {
  Conv: {
    weights: [slot(1, fixed(0), fixed(1))],
    keep: { 2: 'bias' },
    integerForm: 'ConvInteger',
    channels: COMPUTE,
  },
  // W [Cin, Cout/group, k…]: output channels on axis 1, summed over the input channels (axis 0).
  ConvTranspose: { weights: [slot(1, fixed(1), fixed(0))], keep: { 2: 'bias' }, channels: COMPUTE },
  Gemm: { weights: [gemmA, gemmB], keep: { 2: 'bias' }, integerForm: 'MatMulInteger', nbits: gemmPlain, channels: COMPUTE },
  MatMul: { weights: [matMulA, matMulB], integerForm: 'MatMulInteger', nbits: () => true, channels: COMPUTE },
  LSTM: { weights: recurrent, keep: { 3: 'bias', 5: 'initial hidden state', 6: 'initial cell state', 7: 'peepholes' } },
  GRU: { weights: recurrent, keep: { 3: 'bias', 5: 'initial hidden state' } },
  RNN: { weights: recurrent, keep: { 3: 'bias', 5: 'initial hidden state' } },
  // An embedding table [vocab, dim]: one row per token; blocks run along the row.
  Gather: { weights: [slot(0, (n, rank) => (getInt(n, 'axis', 0) === 0 && rank >= 2 ? 0 : undefined), last)], channels: LAYOUT },
  Einsum: { weights: [einsumSlot(0), einsumSlot(1), einsumSlot(2)] },
  // com.microsoft ops (onnxruntime's contrib domain).
  'com.microsoft.Attention': { weights: [slot(1, last, secondLast)], keep: { 2: 'bias' } },
  'com.microsoft.FusedMatMul': {
    weights: [
      slot(
        0,
        (n, r) => (getInt(n, 'transA', 0) ? r - 1 : r - 2),
        (n, r) => (getInt(n, 'transA', 0) ? r - 2 : r - 1),
      ),
      slot(
        1,
        (n, r) => (getInt(n, 'transB', 0) ? r - 2 : r - 1),
        (n, r) => (getInt(n, 'transB', 0) ? r - 1 : r - 2),
      ),
    ],
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
  BatchNormalization: { weights: [], keep: { 1: NORM, 2: NORM, 3: NORM, 4: NORM }, channels: { kind: 'unary', params: [1, 2, 3, 4] } },
  InstanceNormalization: { weights: [], keep: { 1: NORM, 2: NORM }, channels: { kind: 'unary', params: [1, 2] } },
  // Normalizes over the axes from `axis` on: channels on the last axis (axis = -1) are pruned with its scale and bias.
  LayerNormalization: { weights: [], keep: { 1: NORM, 2: NORM }, channels: { kind: 'along-axis', params: [1, 2] } },
  GroupNormalization: { weights: [], keep: { 1: NORM, 2: NORM } },
  RMSNormalization: { weights: [], keep: { 1: NORM } },
  // The slope broadcasts against the input (one per channel, or one for all): sliced like a broadcast constant.
  PRelu: { weights: [], keep: { 1: 'activation slope' }, channels: BROADCAST },
  Resize: { weights: [], keep: { 1: 'Resize roi, not a weight', 2: 'Resize scales, not a weight' }, channels: LAYOUT },
  Upsample: { weights: [], keep: { 1: 'Upsample scales, not a weight' }, channels: LAYOUT },
  // Channel flow only (no weights): what structured pruning follows.
  ...Object.fromEntries(
    [
      'Relu',
      'LeakyRelu',
      'Sigmoid',
      'Tanh',
      'HardSigmoid',
      'HardSwish',
      'Elu',
      'Selu',
      'Celu',
      'Softplus',
      'Softsign',
      'Mish',
      'Gelu',
      'Erf',
      'Identity',
      'Dropout',
      'Clip',
      'Cast',
      'Abs',
      'Neg',
      'Exp',
      'Log',
      'Sqrt',
      'Reciprocal',
      'Floor',
      'Ceil',
      'Round',
      'Sign',
      'Sin',
      'Cos',
      'ThresholdedRelu',
      'Shrink',
      'Swish',
    ].map((op) => [op, { weights: [], channels: UNARY }]),
  ),
  ...Object.fromEntries(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'Mean', 'Pow', 'Where'].map((op) => [op, { weights: [], channels: BROADCAST }])),
  ...Object.fromEntries(
    ['MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool'].map((op) => [op, { weights: [], channels: POOL }]),
  ),
  ...Object.fromEntries(
    ['Transpose', 'Reshape', 'Flatten', 'Concat', 'Split', 'Slice', 'Squeeze', 'Unsqueeze', 'Pad'].map((op) => [op, { weights: [], channels: LAYOUT }]),
  ),
  ...Object.fromEntries(
    ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp'].map((op) => [
      op,
      { weights: [], channels: REDUCE },
    ]),
  ),
  ...Object.fromEntries(['Softmax', 'LogSoftmax', 'Hardmax'].map((op) => [op, { weights: [], channels: ALONG_AXIS }])),
  ...Object.fromEntries(['Shape', 'Size'].map((op) => [op, { weights: [], channels: { kind: 'shape' } satisfies ChannelFlow }])),
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
export const LAYOUT_OPS = new Set([
  'Cast',
  'Identity',
  'DequantizeLinear',
  'Slice',
  'Split',
  'Transpose',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'Concat',
]);
