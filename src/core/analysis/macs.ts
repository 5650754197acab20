/**
 * Multiply-accumulates per compute node, from the static shapes of the main graph (./shapes.ts) with concrete
 * input sizes (dynamic dimensions set to 1 unless given). Compute nodes whose shapes are unknown report undefined
 * rather than a guess.
 */
import type { ModelProto } from 'onnx-buf';
import { buildCatalog, nodeLabel, type TensorCatalog } from '../onnx/catalog';
import { getInt } from '../onnx/graph-edit';
import { inferShapes } from './shapes';

export interface NodeMacs {
  node: string;
  op: string;
  macs: number | undefined;
}

const COMPUTE = new Set(['Conv', 'ConvInteger', 'ConvTranspose', 'Gemm', 'MatMul', 'MatMulInteger']);
const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** MACs of every Conv / ConvTranspose / Gemm / MatMul in the main graph; `inputDims` fixes dynamic dims (default 1). */
export function countMacs(
  model: ModelProto,
  inputDims: Record<string, number[]> = {},
  catalog: TensorCatalog = buildCatalog(model),
): { nodes: NodeMacs[]; total: number; complete: boolean } {
  const { shapes } = inferShapes(model, inputDims, catalog);
  const nodes: NodeMacs[] = [];
  model.graph!.node.forEach((node, index) => {
    const op = node.opType;
    if (!COMPUTE.has(op)) return;
    const x = shapes.get(node.input[0] ?? '');
    const w = shapes.get(node.input[1] ?? '');
    const y = shapes.get(node.output[0] ?? '');
    let macs: number | undefined;
    if (x && w && y) {
      if (op === 'Conv' || op === 'ConvInteger') macs = product(y) * product(w.slice(1));
      // Every input position scatters into Cout/group · k… outputs: N · Cin · spatial_in · (Cout/group) · k…
      else if (op === 'ConvTranspose') macs = x[0]! * product(x.slice(2)) * product(w);
      else if (op === 'Gemm') macs = product(y) * (getInt(node, 'transA', 0) ? x[0]! : x[1]!);
      else macs = product(y) * x[x.length - 1]!;
    }
    nodes.push({ node: nodeLabel(node, index), op, macs });
  });
  return { nodes, total: nodes.reduce((n, m) => n + (m.macs ?? 0), 0), complete: nodes.every((m) => m.macs !== undefined) };
}
