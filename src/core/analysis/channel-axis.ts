import type { NodeProto } from 'onnx-buf';
import type { CatalogEntry, TensorCatalog, TensorConsumer } from '../onnx/catalog';

/** Ops a weight passes through unchanged in layout on its way to the compute op. */
const PASS_THROUGH = new Set(['Cast', 'DequantizeLinear', 'Identity']);

function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : fallback;
}

/** The compute ops that finally read this tensor (through Cast / DequantizeLinear / Identity), with the input slot. */
export function computeConsumers(entry: CatalogEntry, catalog: TensorCatalog): TensorConsumer[] {
  const out: TensorConsumer[] = [];
  const seen = new Set<NodeProto>();
  const visit = (consumers: TensorConsumer[], depth: number) => {
    for (const c of consumers) {
      if (seen.has(c.node)) continue;
      seen.add(c.node);
      if (PASS_THROUGH.has(c.node.opType) && c.inputIndex === 0 && depth < 4) {
        visit(catalog.valueConsumers.get(c.node.output[0] ?? '') ?? [], depth + 1);
      } else out.push(c);
    }
  };
  visit(entry.consumers, 0);
  return out;
}

/**
 * The output-channel axis of a weight, chosen by the op that consumes it: Conv → 0 (filters),
 * ConvTranspose → 1, Gemm → 0 with transB else 1, MatMul → the last axis (output features).
 * Undefined when the tensor is not a weight input of such an op.
 */
export function outputChannelAxis(entry: CatalogEntry, catalog: TensorCatalog): number | undefined {
  const rank = entry.shape.length;
  if (rank < 2) return undefined;
  for (const c of computeConsumers(entry, catalog)) {
    const op = c.node.opType;
    if ((op === 'Conv' || op === 'ConvInteger' || op === 'QLinearConv') && c.inputIndex === (op === 'QLinearConv' ? 3 : 1)) return 0;
    if (op === 'ConvTranspose' && c.inputIndex === 1) return 1;
    if (op === 'Gemm' && c.inputIndex === 1) return intAttr(c.node, 'transB', 0) ? 0 : 1;
    if (op === 'Gemm' && c.inputIndex === 0) return intAttr(c.node, 'transA', 0) ? 1 : 0;
    if ((op === 'MatMul' || op === 'MatMulInteger') && c.inputIndex === 1) return rank - 1;
    if (op === 'MatMulNBits' && c.inputIndex === 1) return 0;
  }
  return undefined;
}

/** Weight inputs that compute ops multiply, by op type: input index → true. */
const MULTIPLIED_INPUTS: Record<string, number[]> = {
  Conv: [1],
  ConvTranspose: [1],
  ConvInteger: [1],
  QLinearConv: [3],
  Gemm: [0, 1],
  MatMul: [0, 1],
  MatMulInteger: [0, 1],
  QLinearMatMul: [0, 3],
  MatMulNBits: [1],
  LSTM: [1, 2],
  GRU: [1, 2],
  RNN: [1, 2],
  Einsum: [0, 1, 2],
};

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

/** Is this tensor a weight a compute op multiplies (not a bias, norm parameter or shape)? */
export function multipliedBy(entry: CatalogEntry, catalog: TensorCatalog): MultipliedWeight | undefined {
  if (entry.elements <= 1) return undefined;
  for (const c of computeConsumers(entry, catalog)) {
    const slots = MULTIPLIED_INPUTS[c.node.opType];
    if (!slots?.includes(c.inputIndex)) continue;
    const result: MultipliedWeight = { op: c.node.opType, node: c.node };
    const dq = entry.consumers.find((d) => d.node.opType === 'DequantizeLinear' && d.inputIndex === 0);
    if (dq) {
      result.zeroPointName = dq.node.input[2] || undefined;
      result.zeroPointAxis = intAttr(dq.node, 'axis', 1);
    } else if (c.node.opType === 'MatMulInteger' || c.node.opType === 'ConvInteger') {
      result.zeroPointName = c.node.input[c.inputIndex === 1 ? 3 : 2] || undefined;
    } else if (c.node.opType === 'MatMulNBits') {
      result.zeroPointName = c.node.input[3] || undefined;
      result.packedBits = intAttr(c.node, 'bits', 4);
    }
    return result;
  }
  return undefined;
}
