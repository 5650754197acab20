/**
 * Structured channel pruning: remove whole output channels of a Conv / Gemm / MatMul and the matching input
 * channels of every consumer, so the model is physically smaller and faster.
 *
 * From each producer the channel dimension is traced forward through ops that keep channels apart
 * (activations, pooling, BatchNormalization, per-channel constants, depthwise Conv, Flatten into a Gemm/MatMul)
 * to the ops that consume it. A producer is pruned only when every path is provably safe; otherwise it is left
 * alone and the reason is reported (a residual Add or Concat joins channel groups: such groups are left alone).
 */
import type { NodeProto } from 'onnx-buf';
import type { CatalogEntry, TensorCatalog } from '../../onnx/catalog';

/** How a tensor is sliced: keep `indices` along `axis`; `repeat` > 1 expands channel c to [c·repeat, (c+1)·repeat). */
export interface SliceEdit {
  entry: CatalogEntry;
  axis: number;
  /** The channel dimension traced to this tensor (before any repeat). */
  channels: number;
  repeat: number;
}

export interface ChannelGroup {
  producer: NodeProto;
  producerLabel: string;
  op: string;
  weight: CatalogEntry;
  /** Output channels of the producer. */
  channels: number;
  /** Weight slice along the producer's output axis (and its bias etc.), plus every consumer's input slice. */
  edits: SliceEdit[];
  /** Depthwise Convs whose `group` attribute follows the kept channel count. */
  depthwise: NodeProto[];
  /** Why this producer cannot be pruned (undefined when it can). */
  blocked?: string;
}

const PASS_THROUGH = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Mish', 'Gelu',
  'Erf', 'Identity', 'Dropout', 'Clip', 'Abs', 'Neg', 'Exp', 'Sqrt', 'Swish',
]);
const POOLS = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'GlobalLpPool']);
const ELEMENTWISE_BINARY = new Set(['Add', 'Sub', 'Mul', 'Div']);

function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : fallback;
}

function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a ? a.ints.map(Number) : undefined;
}

class Blocked extends Error {}

interface TraceState {
  value: string;
  /** 'nchw': channels on axis 1 of a rank ≥ 3 tensor; 'last': channels on the last axis; 'flat': Flatten of NCHW. */
  layout: 'nchw' | 'last' | 'flat';
}

/** Finds every prunable producer and what pruning it would touch. */
export function channelGroups(catalog: TensorCatalog, graphOutputs: Set<string>): ChannelGroup[] {
  const byName = new Map<string, CatalogEntry>();
  for (const e of catalog.entries) if (!byName.has(e.name)) byName.set(e.name, e);
  const constant = (name: string | undefined) => (name ? byName.get(name) : undefined);
  const groups: ChannelGroup[] = [];

  for (const info of catalog.graphs) {
    info.graph.node.forEach((node, index) => {
      const label = node.name || `${node.opType}#${index}`;
      let weight: CatalogEntry | undefined;
      let outAxis = 0;
      let layout: TraceState['layout'] = 'last';
      const extra: SliceEdit[] = [];
      if (node.opType === 'Conv') {
        weight = constant(node.input[1]);
        if (!weight || weight.shape.length < 3) return;
        if (intAttr(node, 'group', 1) !== 1) return; // grouped/depthwise convs are followers, not producers
        layout = 'nchw';
        const bias = constant(node.input[2]);
        if (bias) extra.push({ entry: bias, axis: 0, channels: weight.shape[0]!, repeat: 1 });
      } else if (node.opType === 'Gemm') {
        weight = constant(node.input[1]);
        if (!weight || weight.shape.length !== 2 || intAttr(node, 'transA', 0)) return;
        outAxis = intAttr(node, 'transB', 0) ? 0 : 1;
        const bias = constant(node.input[2]);
        if (bias && bias.elements === weight.shape[outAxis]! && bias.elements > 1) extra.push({ entry: bias, axis: bias.shape.length - 1, channels: bias.elements, repeat: 1 });
        else if (bias && bias.elements > 1) return;
      } else if (node.opType === 'MatMul') {
        weight = constant(node.input[1]);
        if (!weight || weight.shape.length !== 2 || constant(node.input[0])) return;
        outAxis = 1;
      } else return;
      const channels = weight.shape[outAxis]!;
      const group: ChannelGroup = { producer: node, producerLabel: label, op: node.opType, weight, channels, edits: [{ entry: weight, axis: outAxis, channels, repeat: 1 }, ...extra], depthwise: [] };
      try {
        trace({ value: node.output[0]!, layout }, group, catalog, constant, graphOutputs);
      } catch (err) {
        if (!(err instanceof Blocked)) throw err;
        group.blocked = err.message;
        group.edits = [];
        group.depthwise = [];
      }
      groups.push(group);
    });
  }
  return groups;
}

function trace(
  start: TraceState,
  group: ChannelGroup,
  catalog: TensorCatalog,
  constant: (name: string | undefined) => CatalogEntry | undefined,
  graphOutputs: Set<string>,
): void {
  const C = group.channels;
  const seen = new Set<string>();
  const stack: TraceState[] = [start];
  while (stack.length) {
    const state = stack.pop()!;
    if (seen.has(state.value)) continue;
    seen.add(state.value);
    if (graphOutputs.has(state.value)) throw new Blocked(`its channels reach the graph output "${state.value}"`);
    const consumers = catalog.valueConsumers.get(state.value) ?? [];
    if (consumers.length === 0) throw new Blocked(`"${state.value}" has no consumer to follow`);
    for (const { node, inputIndex, nodeLabel } of consumers) {
      const op = node.opType;
      const follow = (layout: TraceState['layout'] = state.layout) => stack.push({ value: node.output[0]!, layout });
      if (node.domain && node.domain !== 'ai.onnx') throw new Blocked(`${node.domain}.${op} "${nodeLabel}" reads its channels`);
      if (PASS_THROUGH.has(op)) {
        if (op === 'PRelu') sliceConstant(node.input[1], state, group, constant, nodeLabel);
        if (op === 'Dropout' && node.output[1] && (catalog.valueConsumers.get(node.output[1])?.length ?? 0) > 0) throw new Blocked(`Dropout "${nodeLabel}" mask is used`);
        follow();
      } else if (POOLS.has(op)) {
        if (state.layout !== 'nchw') throw new Blocked(`${op} "${nodeLabel}" on a non-spatial tensor`);
        if (op === 'MaxPool' && node.output[1]) throw new Blocked(`MaxPool "${nodeLabel}" returns indices`);
        follow();
      } else if (op === 'BatchNormalization' && inputIndex === 0) {
        for (let k = 1; k <= 4; k++) {
          const p = constant(node.input[k]);
          if (!p || p.elements !== C) throw new Blocked(`BatchNormalization "${nodeLabel}" parameter ${k} is not a stored per-channel tensor`);
          group.edits.push({ entry: p, axis: 0, channels: C, repeat: 1 });
        }
        follow();
      } else if (ELEMENTWISE_BINARY.has(op)) {
        const other = node.input[1 - inputIndex];
        if (!constant(other)) throw new Blocked(`${op} "${nodeLabel}" joins it with another branch (a residual or gated group: left alone)`);
        sliceConstant(other, state, group, constant, nodeLabel);
        follow();
      } else if (op === 'Conv' && inputIndex === 0) {
        const w = constant(node.input[1]);
        if (!w || state.layout !== 'nchw') throw new Blocked(`Conv "${nodeLabel}" has no stored weight`);
        const g = intAttr(node, 'group', 1);
        if (g === 1) {
          group.edits.push({ entry: w, axis: 1, channels: C, repeat: 1 });
        } else if (g === C && w.shape[0] === C && w.shape[1] === 1) {
          // Depthwise: its channels are ours; prune them too and keep following.
          group.edits.push({ entry: w, axis: 0, channels: C, repeat: 1 });
          const b = constant(node.input[2]);
          if (b) group.edits.push({ entry: b, axis: 0, channels: C, repeat: 1 });
          group.depthwise.push(node);
          follow();
        } else throw new Blocked(`grouped Conv "${nodeLabel}" (group ${g}) mixes channel groups`);
      } else if ((op === 'Gemm' || op === 'MatMul') && inputIndex === 0) {
        const w = constant(node.input[1]);
        if (!w || w.shape.length !== 2) throw new Blocked(`${op} "${nodeLabel}" has no stored 2-D weight`);
        if (state.layout === 'nchw') throw new Blocked(`${op} "${nodeLabel}" reads a 4-D tensor`);
        if (op === 'Gemm' && intAttr(node, 'transA', 0)) throw new Blocked(`Gemm "${nodeLabel}" transposes its input`);
        const kAxis = op === 'Gemm' && intAttr(node, 'transB', 0) ? 1 : 0;
        const K = w.shape[kAxis]!;
        const repeat = state.layout === 'flat' ? K / C : 1;
        if (!Number.isInteger(repeat) || (state.layout === 'last' && K !== C)) throw new Blocked(`${op} "${nodeLabel}" reads ${K} features, not a multiple of ${C} channels`);
        group.edits.push({ entry: w, axis: kAxis, channels: C, repeat });
      } else if (op === 'Flatten' && state.layout === 'nchw') {
        if (intAttr(node, 'axis', 1) !== 1) throw new Blocked(`Flatten "${nodeLabel}" with axis ≠ 1`);
        follow('flat');
      } else if (op === 'Reshape' && inputIndex === 0 && state.layout === 'nchw') {
        const shape = constant(node.input[1]);
        const dims = shape?.tensor.int64Data.length ? shape.tensor.int64Data.map(Number) : shape?.tensor.rawData.byteLength ? Array.from(new BigInt64Array(shape.tensor.rawData.slice().buffer), Number) : undefined;
        if (!dims || dims.length !== 2 || dims[1] !== -1 || !(dims[0] === 0 || dims[0] === 1 || dims[0] === -1)) throw new Blocked(`Reshape "${nodeLabel}" is not a provable flatten`);
        follow('flat');
      } else if (op === 'Shape') {
        throw new Blocked(`Shape "${nodeLabel}" reads the channel count`);
      } else {
        throw new Blocked(`${op} "${nodeLabel}" reads its channels and has no channel-safe rewrite`);
      }
    }
  }
  void intsAttr;
}

/** A per-channel constant beside the traced tensor ([C], [C,1,1], [1,C,1,1], scalar) is sliced with it. */
function sliceConstant(name: string | undefined, state: TraceState, group: ChannelGroup, constant: (n: string | undefined) => CatalogEntry | undefined, label: string): void {
  const c = constant(name);
  if (!c) throw new Blocked(`"${label}" mixes in a computed tensor`);
  if (c.elements === 1) return;
  const C = group.channels;
  const nonOne = c.shape.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  if (nonOne.length !== 1 || nonOne[0]![0] !== C) throw new Blocked(`"${label}" broadcasts a constant of shape [${c.shape.join(', ')}] over the channels`);
  const axis = nonOne[0]![1];
  const fromEnd = c.shape.length - axis;
  // NCHW channels sit at axis 1 of rank 4: a constant [C,1,1] has them 3 from the end; last-axis channels 1 from the end.
  if (state.layout === 'nchw' ? fromEnd < 2 : fromEnd !== 1) throw new Blocked(`"${label}" broadcasts a constant along another axis`);
  group.edits.push({ entry: c, axis, channels: C, repeat: 1 });
}
