/**
 * Multiply-accumulates per compute node, from a small shape propagation over the main graph with concrete
 * input sizes (dynamic dimensions set to 1 unless given). Ops the propagation does not know leave their
 * outputs unknown; compute nodes after them report undefined rather than a guess.
 */
import type { ModelProto, NodeProto } from 'onnx-buf';
import { buildCatalog } from '../onnx/catalog';
import { nodeLabel } from '../onnx/catalog';

type Shape = number[];

const UNARY = new Set(['Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Softplus', 'Gelu', 'Erf', 'Identity', 'Dropout', 'Clip', 'Cast', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Softmax', 'LogSoftmax', 'BatchNormalization', 'LayerNormalization', 'InstanceNormalization', 'LRN', 'Mish', 'Swish', 'DequantizeLinear', 'QuantizeLinear']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Where', 'Sum']);

const ints = (node: NodeProto, name: string): number[] | undefined => {
  const a = node.attribute.find((x) => x.name === name);
  return a ? a.ints.map(Number) : undefined;
};
const int = (node: NodeProto, name: string, fallback: number): number => {
  const a = node.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : fallback;
};

function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}

function spatial(node: NodeProto, input: Shape, kernel: number[]): number[] {
  const rank = kernel.length;
  const strides = ints(node, 'strides') ?? kernel.map(() => 1);
  const dil = ints(node, 'dilations') ?? kernel.map(() => 1);
  const pads = ints(node, 'pads') ?? new Array(2 * rank).fill(0);
  const autoPad = node.attribute.find((a) => a.name === 'auto_pad');
  const mode = autoPad ? new TextDecoder().decode(autoPad.s) : 'NOTSET';
  const ceil = int(node, 'ceil_mode', 0) === 1;
  return kernel.map((k, i) => {
    const size = input[2 + i]!;
    if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') return Math.ceil(size / strides[i]!);
    const span = (k - 1) * dil[i]! + 1;
    const pad = mode === 'VALID' ? 0 : pads[i]! + pads[i + rank]!;
    const v = (size + pad - span) / strides[i]!;
    return (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
  });
}

export interface NodeMacs {
  node: string;
  op: string;
  macs: number | undefined;
}

/** MACs of every Conv / ConvTranspose / Gemm / MatMul in the main graph; `inputDims` fixes dynamic dims (default 1). */
export function countMacs(model: ModelProto, inputDims: Record<string, number[]> = {}): { nodes: NodeMacs[]; total: number; complete: boolean } {
  const graph = model.graph!;
  const catalog = buildCatalog(model);
  const shapes = new Map<string, Shape>();
  const constants = new Map<string, number[]>();
  for (const e of catalog.entries.filter((x) => x.graphPath === 'main')) {
    shapes.set(e.name, e.shape);
    const t = e.tensor;
    if (e.dataType === 7 && e.elements <= 16) {
      constants.set(e.name, t.int64Data.length ? t.int64Data.map(Number) : Array.from(new BigInt64Array(t.rawData.slice().buffer), Number));
    }
  }
  for (const input of graph.input) {
    if (shapes.has(input.name) || input.type?.value.case !== 'tensorType') continue;
    const dims = input.type.value.value.shape?.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : 1)) ?? [];
    shapes.set(input.name, inputDims[input.name] ?? dims);
  }
  const nodes: NodeMacs[] = [];
  graph.node.forEach((node, index) => {
    const ins = node.input.map((n) => (n ? shapes.get(n) : undefined));
    const x = ins[0];
    let out: Shape | undefined;
    let macs: number | undefined;
    const op = node.opType;
    if (op === 'Conv' || op === 'ConvInteger') {
      const w = ins[1];
      if (x && w) {
        const s = spatial(node, x, w.slice(2));
        out = [x[0]!, w[0]!, ...s];
        macs = out.reduce((a, b) => a * b, 1) * w.slice(1).reduce((a, b) => a * b, 1);
      }
    } else if (op === 'MaxPool' || op === 'AveragePool' || op === 'LpPool') {
      const k = ints(node, 'kernel_shape');
      if (x && k) out = [x[0]!, x[1]!, ...spatial(node, x, k)];
    } else if (op === 'GlobalAveragePool' || op === 'GlobalMaxPool') {
      if (x) out = [x[0]!, x[1]!, ...x.slice(2).map(() => 1)];
    } else if (UNARY.has(op)) {
      out = x;
    } else if (BINARY.has(op)) {
      out = ins.reduce<Shape | undefined>((acc, s) => (acc && s ? broadcast(acc, s) : undefined), ins[0] ? [] : undefined);
    } else if (op === 'Flatten') {
      const axis = int(node, 'axis', 1);
      if (x) out = [x.slice(0, axis).reduce((a, b) => a * b, 1), x.slice(axis).reduce((a, b) => a * b, 1)];
    } else if (op === 'Reshape') {
      const target = constants.get(node.input[1] ?? '');
      if (x && target) {
        const total = x.reduce((a, b) => a * b, 1);
        const dims = target.map((d, i) => (d === 0 ? x[i]! : d));
        const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        out = dims.map((d) => (d === -1 ? total / known : d));
      }
    } else if (op === 'Gemm') {
      const w = ins[1];
      if (x && w) {
        const M = int(node, 'transA', 0) ? x[1]! : x[0]!;
        const K = int(node, 'transA', 0) ? x[0]! : x[1]!;
        const N = int(node, 'transB', 0) ? w[0]! : w[1]!;
        out = [M, N];
        macs = M * N * K;
      }
    } else if (op === 'MatMul' || op === 'MatMulInteger') {
      const w = ins[1];
      if (x && w && w.length >= 2) {
        out = [...x.slice(0, -1), w[w.length - 1]!];
        macs = out.reduce((a, b) => a * b, 1) * x[x.length - 1]!;
      }
    } else if (op === 'Transpose') {
      const perm = ints(node, 'perm');
      if (x) out = perm ? perm.map((p) => x[p]!) : [...x].reverse();
    }
    if (out) shapes.set(node.output[0]!, out);
    if (['Conv', 'ConvInteger', 'ConvTranspose', 'Gemm', 'MatMul', 'MatMulInteger'].includes(op)) nodes.push({ node: nodeLabel(node, index), op, macs });
  });
  return { nodes, total: nodes.reduce((n, m) => n + (m.macs ?? 0), 0), complete: nodes.every((m) => m.macs !== undefined) };
}
