import type { ModelProto, NodeProto } from 'onnx-buf';

/** The default-domain opset a model imports (0 when none). */
export function defaultOpset(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return entry ? Number(entry.version) : 0;
}

/**
 * Ops whose schema changed incompatibly at a version: a model using the op below that version cannot
 * simply be relabelled to a newer opset. (Additions of types or optional inputs/attributes with
 * backward-compatible defaults are not listed.)
 */
const BREAKING_CHANGES: Record<string, number[]> = {
  ReduceMax: [13, 18],
  ReduceMin: [13, 18],
  ReduceMean: [13, 18],
  ReduceProd: [13, 18],
  ReduceL1: [13, 18],
  ReduceL2: [13, 18],
  ReduceLogSum: [13, 18],
  ReduceLogSumExp: [13, 18],
  ReduceSumSquare: [13, 18],
  ReduceSum: [13],
  Squeeze: [13],
  Unsqueeze: [13],
  Split: [13, 18],
  Slice: [10],
  Pad: [11],
  Clip: [11],
  Resize: [11],
  TopK: [10],
  Upsample: [10],
  Scatter: [11],
  RoiAlign: [16],
  GridSample: [20],
  DFT: [20],
  GroupNormalization: [21],
  BatchNormalization: [9, 14],
  Dropout: [12],
  Softmax: [13],
  LogSoftmax: [13],
  Hardmax: [13],
  Flatten: [9],
  Gemm: [7],
  Concat: [4],
};

/** Ops of the default domain in every graph (subgraphs included). */
function allNodes(model: ModelProto): NodeProto[] {
  const out: NodeProto[] = [];
  const walk = (nodes: NodeProto[]) => {
    for (const n of nodes) {
      out.push(n);
      for (const a of n.attribute) {
        if (a.g) walk(a.g.node);
        for (const g of a.graphs) walk(g.node);
      }
    }
  };
  if (model.graph) walk(model.graph.node);
  return out;
}

/** Op types that stop relabelling the model from its opset to `target`. */
export function opsetUpgradeBlockers(model: ModelProto, target: number): string[] {
  const from = defaultOpset(model);
  const blockers = new Set<string>();
  for (const node of allNodes(model)) {
    if (node.domain && node.domain !== 'ai.onnx') continue;
    const versions = BREAKING_CHANGES[node.opType];
    if (versions?.some((v) => v > from && v <= target)) blockers.add(node.opType);
  }
  return [...blockers];
}

/** IR version an opset needs (ONNX versioning table). */
function irVersionFor(opset: number): number {
  if (opset >= 23) return 11;
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 13) return 7;
  if (opset >= 12) return 7;
  return 6;
}

export function setDefaultOpset(model: ModelProto, version: number): void {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (entry) entry.version = BigInt(version);
  const ir = irVersionFor(version);
  if (model.irVersion < BigInt(ir)) model.irVersion = BigInt(ir);
}
