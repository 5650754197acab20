/**
 * A stored tensor's role, read from the op-traits table through its uses (src/core/onnx/weight-use.ts): the ops
 * that finally read it, its output-channel axis, and whether it is a weight an op multiplies.
 */
import type { NodeProto } from 'onnx-buf';
import type { CatalogEntry, TensorCatalog, TensorConsumer } from '../onnx/catalog';
import { getInt } from '../onnx/graph-edit';
import { weightUses } from '../onnx/weight-use';

/** The ops that finally read this tensor (through layout ops such as Cast, Slice, Transpose), with the input slot. */
export function computeConsumers(entry: CatalogEntry, catalog: TensorCatalog): TensorConsumer[] {
  return weightUses(entry, catalog).map((u) => ({ node: u.node, nodeLabel: u.nodeLabel, graphPath: u.graphPath, inputIndex: u.inputIndex }));
}

/**
 * The output-channel axis of a weight in its stored layout, chosen by the op that uses it (Conv → 0,
 * ConvTranspose → 1, Gemm by transB, MatMul → the last axis, LSTM/GRU → the gate rows…), followed back through
 * the layout ops on the way. Undefined when the tensor is not such a weight or the axis cannot be followed.
 */
export function outputChannelAxis(entry: CatalogEntry, catalog: TensorCatalog): number | undefined {
  if (entry.shape.length < 2) return undefined;
  for (const u of weightUses(entry, catalog)) if (u.kind === 'weight' && u.channelAxis !== undefined) return u.channelAxis;
  return undefined;
}

/** How a weight is multiplied, and where its zero point lives when it is stored quantized. */
export interface MultipliedWeight {
  op: string;
  /** The compute (or DequantizeLinear) node's zero-point input, when the weight is quantized. */
  zeroPointName?: string;
  /** DequantizeLinear axis for per-channel zero points. */
  zeroPointAxis?: number;
  /** MatMulNBits stores 4-bit codes packed in uint8 with a default zero point of 2^(bits-1). */
  packedBits?: number;
  node: NodeProto;
}

/** Is this tensor a weight an op multiplies (not a bias, norm parameter or shape)? */
export function multipliedBy(entry: CatalogEntry, catalog: TensorCatalog): MultipliedWeight | undefined {
  if (entry.elements <= 1) return undefined;
  const use = weightUses(entry, catalog).find((u) => u.kind === 'weight');
  if (!use) return undefined;
  const result: MultipliedWeight = { op: use.op.replace(/^com\.microsoft\./, ''), node: use.node };
  const dq = entry.consumers.find((d) => d.node.opType === 'DequantizeLinear' && d.inputIndex === 0);
  if (dq) {
    result.zeroPointName = dq.node.input[2] || undefined;
    result.zeroPointAxis = getInt(dq.node, 'axis', 1);
  } else if (result.op === 'MatMulInteger' || result.op === 'ConvInteger') {
    result.zeroPointName = use.node.input[use.inputIndex === 1 ? 3 : 2] || undefined;
  } else if (result.op === 'MatMulNBits') {
    result.zeroPointName = use.node.input[3] || undefined;
    result.packedBits = getInt(use.node, 'bits', 4);
  }
  return result;
}
