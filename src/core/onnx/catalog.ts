import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  TensorProtoSchema,
  TensorProto_DataLocation,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type SparseTensorProto,
  type TensorProto,
} from 'onnx-buf';
import { DataType, storageBytes } from '../tensor/dtypes';

export type TensorStorage = 'initializer' | 'sparse-initializer' | 'constant';

export interface TensorConsumer {
  node: NodeProto;
  /** Name shown to users: the node's name, or "OpType#index" when it has none. */
  nodeLabel: string;
  graphPath: string;
  inputIndex: number;
}

export interface ExternalLocation {
  file: string;
  offset: number;
  /** Undefined when the model omits `length` (then the size follows from dtype and shape). */
  length: number | undefined;
}

/** One stored tensor, with enough context to read it and to replace it when writing. */
export interface CatalogEntry {
  id: number;
  name: string;
  graphPath: string;
  storage: TensorStorage;
  /** The stored value. For value_float(s)/value_int(s) Constants this is a TensorProto built from the attribute. */
  tensor: TensorProto;
  /** For sparse tensors: the sparse container (tensor = its values). */
  sparse?: SparseTensorProto;
  dataType: number;
  shape: number[];
  elements: number;
  bytes: number;
  external?: ExternalLocation;
  graph: GraphProto;
  /** The Constant node holding the value (storage === 'constant'). */
  constantNode?: NodeProto;
  consumers: TensorConsumer[];
}

export interface GraphInfo {
  path: string;
  graph: GraphProto;
  /** Node that owns this subgraph (undefined for the main graph and functions). */
  ownerNode?: NodeProto;
  isFunction: boolean;
}

export interface TensorCatalog {
  entries: CatalogEntry[];
  graphs: GraphInfo[];
  /** Nodes of the main graph and every subgraph (function bodies excluded). */
  nodeCount: number;
  opTypes: Map<string, number>;
  /** Every node input by value name (all graphs): follows a weight through Cast / DequantizeLinear to its compute op. */
  valueConsumers: Map<string, TensorConsumer[]>;
}

export function nodeLabel(node: NodeProto, index: number): string {
  return node.name || `${node.opType}#${index}`;
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function readExternal(tensor: TensorProto): ExternalLocation | undefined {
  if (tensor.dataLocation !== TensorProto_DataLocation.EXTERNAL) return undefined;
  const get = (key: string) => tensor.externalData.find((e) => e.key === key)?.value;
  const length = get('length');
  return { file: get('location') ?? '', offset: Number(get('offset') ?? 0), length: length === undefined ? undefined : Number(length) };
}

function tensorPayloadBytes(tensor: TensorProto, elements: number, external: ExternalLocation | undefined): number {
  if (external) return external.length ?? storageBytes(tensor.dataType, elements);
  if (tensor.rawData.byteLength > 0) return tensor.rawData.byteLength;
  if (tensor.dataType === DataType.STRING) return tensor.stringData.reduce((n, s) => n + s.byteLength, 0);
  return storageBytes(tensor.dataType, elements);
}

/** The TensorProto a Constant node's value attribute stands for, or undefined for non-value attributes. */
export function constantAttributeTensor(attr: AttributeProto): { tensor: TensorProto; sparse?: SparseTensorProto } | undefined {
  switch (attr.name) {
    case 'value':
      return attr.t ? { tensor: attr.t } : undefined;
    case 'sparse_value':
      return attr.sparseTensor?.values ? { tensor: attr.sparseTensor.values, sparse: attr.sparseTensor } : undefined;
    case 'value_float':
      return { tensor: create(TensorProtoSchema, { dataType: DataType.FLOAT, floatData: [attr.f] }) };
    case 'value_floats':
      return { tensor: create(TensorProtoSchema, { dataType: DataType.FLOAT, dims: [BigInt(attr.floats.length)], floatData: [...attr.floats] }) };
    case 'value_int':
      return { tensor: create(TensorProtoSchema, { dataType: DataType.INT64, int64Data: [attr.i] }) };
    case 'value_ints':
      return { tensor: create(TensorProtoSchema, { dataType: DataType.INT64, dims: [BigInt(attr.ints.length)], int64Data: [...attr.ints] }) };
    case 'value_string':
      return { tensor: create(TensorProtoSchema, { dataType: DataType.STRING, stringData: [attr.s] }) };
    case 'value_strings':
      return { tensor: create(TensorProtoSchema, { dataType: DataType.STRING, dims: [BigInt(attr.strings.length)], stringData: [...attr.strings] }) };
    default:
      return undefined;
  }
}

/** Walks the main graph, every subgraph (If/Loop/Scan bodies, any depth) and every function body. */
export function buildCatalog(model: ModelProto): TensorCatalog {
  const entries: CatalogEntry[] = [];
  const graphs: GraphInfo[] = [];
  const opTypes = new Map<string, number>();
  const valueConsumers = new Map<string, TensorConsumer[]>();
  let nodeCount = 0;

  const addEntry = (
    partial: Omit<CatalogEntry, 'id' | 'dataType' | 'shape' | 'elements' | 'bytes' | 'external' | 'consumers'>,
    shapeSource: readonly bigint[],
  ): CatalogEntry => {
    const shape = shapeSource.map(Number);
    const elements = product(shape);
    const external = readExternal(partial.tensor);
    // A sparse tensor stores only its non-zero values (1-D) plus their indices.
    const storedElements = partial.sparse ? product(partial.tensor.dims.map(Number)) : elements;
    let bytes = tensorPayloadBytes(partial.tensor, storedElements, external);
    if (partial.sparse?.indices) {
      const idx = partial.sparse.indices;
      bytes += tensorPayloadBytes(idx, product(idx.dims.map(Number)), readExternal(idx));
    }
    const entry: CatalogEntry = { ...partial, id: entries.length, dataType: partial.tensor.dataType, shape, elements, bytes, external, consumers: [] };
    entries.push(entry);
    return entry;
  };

  const walk = (graph: GraphProto, path: string, outer: Map<string, CatalogEntry>[], isFunction: boolean, ownerNode?: NodeProto) => {
    graphs.push({ path, graph, ownerNode, isFunction });
    const local = new Map<string, CatalogEntry>();
    for (const tensor of graph.initializer) {
      local.set(tensor.name, addEntry({ name: tensor.name, graphPath: path, storage: 'initializer', tensor, graph }, tensor.dims));
    }
    for (const sparse of graph.sparseInitializer) {
      if (!sparse.values) continue;
      const name = sparse.values.name;
      local.set(name, addEntry({ name, graphPath: path, storage: 'sparse-initializer', tensor: sparse.values, sparse, graph }, sparse.dims));
    }
    graph.node.forEach((node) => {
      if (node.opType !== 'Constant' || (node.domain !== '' && node.domain !== 'ai.onnx')) return;
      for (const attr of node.attribute) {
        const value = constantAttributeTensor(attr);
        if (!value) continue;
        const name = node.output[0] ?? value.tensor.name;
        const dims = value.sparse ? value.sparse.dims : value.tensor.dims;
        local.set(name, addEntry({ name, graphPath: path, storage: 'constant', tensor: value.tensor, sparse: value.sparse, graph, constantNode: node }, dims));
      }
    });
    const scopes = [local, ...outer];
    graph.node.forEach((node, index) => {
      if (!isFunction) {
        nodeCount++;
        const key = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType;
        opTypes.set(key, (opTypes.get(key) ?? 0) + 1);
      }
      const label = nodeLabel(node, index);
      node.input.forEach((input, inputIndex) => {
        if (!input) return;
        const consumer = { node, nodeLabel: label, graphPath: path, inputIndex };
        const list = valueConsumers.get(input);
        if (list) list.push(consumer);
        else valueConsumers.set(input, [consumer]);
        for (const scope of scopes) {
          const entry = scope.get(input);
          if (entry) {
            entry.consumers.push(consumer);
            break;
          }
        }
      });
      for (const attr of node.attribute) {
        if (attr.g) walk(attr.g, `${path}/${label}.${attr.name}`, scopes, isFunction, node);
        attr.graphs.forEach((g, k) => walk(g, `${path}/${label}.${attr.name}[${k}]`, scopes, isFunction, node));
      }
    });
  };

  if (model.graph) walk(model.graph, 'main', [], false);
  for (const fn of model.functions) {
    // A function body is a node list; wrap it so the same walk applies.
    const body = { node: fn.node, initializer: [], sparseInitializer: [] } as unknown as GraphProto;
    walk(body, `function:${fn.domain ? fn.domain + '.' : ''}${fn.name}`, [], true);
  }
  return { entries, graphs, nodeCount, opTypes, valueConsumers };
}

/** Replaces a stored tensor by another (same name), wherever it lives. */
export function replaceTensor(entry: CatalogEntry, replacement: TensorProto): void {
  replacement.name = entry.name;
  if (entry.storage === 'initializer') {
    const index = entry.graph.initializer.indexOf(entry.tensor);
    if (index < 0) throw new Error(`initializer ${entry.name} is no longer in its graph`);
    entry.graph.initializer[index] = replacement;
  } else if (entry.storage === 'sparse-initializer') {
    const index = entry.graph.sparseInitializer.indexOf(entry.sparse!);
    entry.graph.sparseInitializer.splice(index, 1);
    entry.graph.initializer.push(replacement);
  } else {
    const node = entry.constantNode!;
    replacement.name = '';
    node.attribute = [create(AttributeProtoSchema, { name: 'value', type: AttributeProto_AttributeType.TENSOR, t: replacement })];
  }
  entry.tensor = replacement;
  entry.sparse = undefined;
  // The entry now describes the new value (stored in the model itself, whatever held the old one).
  entry.dataType = replacement.dataType;
  entry.shape = replacement.dims.map(Number);
  entry.elements = product(entry.shape);
  entry.bytes = tensorPayloadBytes(replacement, entry.elements, undefined);
  entry.external = undefined;
  if (entry.storage === 'sparse-initializer') entry.storage = 'initializer';
}

/**
 * Replaces a stored tensor by a small subgraph that computes it (e.g. DequantizeLinear of packed weights).
 * `nodes` must produce `entry.name`; `initializers` are added to the tensor's graph.
 */
export function replaceTensorWithNodes(entry: CatalogEntry, nodes: NodeProto[], initializers: TensorProto[]): void {
  const graph = entry.graph;
  if (!nodes.some((n) => n.output.includes(entry.name))) throw new Error(`replacement nodes do not produce ${entry.name}`);
  let insertAt = 0;
  if (entry.storage === 'initializer') {
    graph.initializer.splice(graph.initializer.indexOf(entry.tensor), 1);
  } else if (entry.storage === 'sparse-initializer') {
    graph.sparseInitializer.splice(graph.sparseInitializer.indexOf(entry.sparse!), 1);
  } else {
    insertAt = graph.node.indexOf(entry.constantNode!);
    graph.node.splice(insertAt, 1);
  }
  graph.initializer.push(...initializers);
  graph.node.splice(insertAt, 0, ...nodes);
}
