/**
 * Graph-edit helpers shared by every step that rewrites a model (opset upgrade, pruning, quantization):
 * attribute getters and builders, node and tensor builders, unique names, a walk over every graph.
 */
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  NodeProtoSchema,
  TensorProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from 'onnx-buf';
import { DataType } from '../tensor/dtypes';

// ---------------------------------------------------------------- attributes: read

export function findAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function getInt(node: NodeProto, name: string, fallback: number): number {
  const a = findAttr(node, name);
  return a ? Number(a.i) : fallback;
}

export function getFloat(node: NodeProto, name: string, fallback: number): number {
  const a = findAttr(node, name);
  return a ? a.f : fallback;
}

export function getInts(node: NodeProto, name: string): number[] | undefined {
  const a = findAttr(node, name);
  return a ? a.ints.map(Number) : undefined;
}

export function getFloats(node: NodeProto, name: string): number[] | undefined {
  const a = findAttr(node, name);
  return a ? [...a.floats] : undefined;
}

export function getString(node: NodeProto, name: string, fallback: string): string {
  const a = findAttr(node, name);
  return a ? new TextDecoder().decode(a.s) : fallback;
}

export function removeAttr(node: NodeProto, ...names: string[]): void {
  node.attribute = node.attribute.filter((a) => !names.includes(a.name));
}

/** Sets (adds or replaces) an attribute. */
export function setAttr(node: NodeProto, attribute: AttributeProto): void {
  const at = node.attribute.findIndex((a) => a.name === attribute.name);
  if (at >= 0) node.attribute[at] = attribute;
  else node.attribute.push(attribute);
}

// ---------------------------------------------------------------- attributes: build

const AT = AttributeProto_AttributeType;

export const attr = {
  int: (name: string, value: number): AttributeProto => create(AttributeProtoSchema, { name, type: AT.INT, i: BigInt(value) }),
  ints: (name: string, values: readonly number[]): AttributeProto => create(AttributeProtoSchema, { name, type: AT.INTS, ints: values.map(BigInt) }),
  float: (name: string, value: number): AttributeProto => create(AttributeProtoSchema, { name, type: AT.FLOAT, f: value }),
  floats: (name: string, values: readonly number[]): AttributeProto => create(AttributeProtoSchema, { name, type: AT.FLOATS, floats: [...values] }),
  string: (name: string, value: string): AttributeProto => create(AttributeProtoSchema, { name, type: AT.STRING, s: new TextEncoder().encode(value) }),
  tensor: (name: string, t: TensorProto): AttributeProto => create(AttributeProtoSchema, { name, type: AT.TENSOR, t }),
  graph: (name: string, g: GraphProto): AttributeProto => create(AttributeProtoSchema, { name, type: AT.GRAPH, g }),
};

// ---------------------------------------------------------------- nodes

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  options: { name?: string; attributes?: AttributeProto[]; domain?: string } = {},
): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    input: inputs,
    output: outputs,
    name: options.name ?? '',
    attribute: options.attributes ?? [],
    domain: options.domain ?? '',
  });
}

/** True for ops of the default ONNX domain ('' or 'ai.onnx'). */
export function isDefaultDomain(node: NodeProto): boolean {
  return !node.domain || node.domain === 'ai.onnx';
}

// ---------------------------------------------------------------- tensors

function bytesOf(view: ArrayBufferView): Uint8Array<ArrayBuffer> {
  return new Uint8Array(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength);
}

export function floatTensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  return create(TensorProtoSchema, { name, dataType: DataType.FLOAT, dims: dims.map(BigInt), rawData: bytesOf(values) });
}

/** float16 values given as their 16-bit patterns. */
export function halfTensor(name: string, dims: readonly number[], bits: Uint16Array): TensorProto {
  return create(TensorProtoSchema, { name, dataType: DataType.FLOAT16, dims: dims.map(BigInt), rawData: bytesOf(bits) });
}

export function int64Tensor(name: string, dims: readonly number[], values: readonly (number | bigint)[]): TensorProto {
  return create(TensorProtoSchema, { name, dataType: DataType.INT64, dims: dims.map(BigInt), rawData: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))) });
}

/** A 1-D int64 tensor (shapes, axes, starts/ends…). */
export function int64Vector(name: string, values: readonly (number | bigint)[]): TensorProto {
  return int64Tensor(name, [values.length], values);
}

/** A scalar or 1-D float32 constant of the given values. */
export function floatScalar(name: string, value: number): TensorProto {
  return floatTensor(name, [], Float32Array.of(value));
}

// ---------------------------------------------------------------- names

/**
 * Unique names for new values and nodes: seeded with every name the model already uses (node outputs and
 * names, initializers, graph inputs/outputs, value infos, in every graph), then each fresh name is taken.
 */
export class NameScope {
  private readonly taken = new Set<string>();

  constructor(model?: ModelProto) {
    if (model) for (const { graph } of allGraphs(model)) this.addGraph(graph);
  }

  addGraph(graph: GraphProto): void {
    for (const n of graph.node) {
      if (n.name) this.taken.add(n.name);
      for (const o of n.output) if (o) this.taken.add(o);
    }
    for (const t of graph.initializer) this.taken.add(t.name);
    for (const s of graph.sparseInitializer) if (s.values) this.taken.add(s.values.name);
    for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) this.taken.add(v.name);
  }

  has(name: string): boolean {
    return this.taken.has(name);
  }

  /** `base`, or `base_1`, `base_2`… — whichever is free — marked as taken. */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }
}

// ---------------------------------------------------------------- graphs

export interface GraphRef {
  graph: GraphProto;
  /** "main", or the path of a subgraph, e.g. "main/If_0.then_branch". */
  path: string;
  /** The node whose attribute holds this graph (undefined for the main graph). */
  owner?: NodeProto;
  /** Depth of nesting: 0 for the main graph. */
  depth: number;
}

/** The main graph, then every subgraph (If/Loop/Scan bodies) depth-first, at any depth. */
export function allGraphs(model: ModelProto): GraphRef[] {
  const out: GraphRef[] = [];
  const walk = (graph: GraphProto, path: string, depth: number, owner?: NodeProto) => {
    out.push({ graph, path, owner, depth });
    graph.node.forEach((node, index) => {
      const label = node.name || `${node.opType}#${index}`;
      for (const a of node.attribute) {
        if (a.g) walk(a.g, `${path}/${label}.${a.name}`, depth + 1, node);
        a.graphs.forEach((g, k) => walk(g, `${path}/${label}.${a.name}[${k}]`, depth + 1, node));
      }
    });
  };
  if (model.graph) walk(model.graph, 'main', 0);
  return out;
}

/** The graph that holds `node` among `graphs`. */
export function graphOfNode(graphs: readonly GraphRef[], node: NodeProto): GraphProto | undefined {
  return graphs.find((g) => g.graph.node.includes(node))?.graph;
}
