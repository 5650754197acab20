/** What an adapter gets: the node, the graph that holds it, and the means to add constants and nodes beside it. */
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { allGraphs, floatTensor, halfTensor, int64Tensor, makeNode, type GraphRef, type NameScope } from '../graph-edit';
import { ModelInputError } from '../types';
import { DataType, dataTypeName } from '../../tensor/dtypes';
import { floatToFp16Bits } from '../../tensor/codecs';
import type { ValueTypes } from './value-types';

/** An op the upgrade cannot convert, or an upgrade that was not asked right (the message names op, node and why). */
export class OpsetUpgradeError extends ModelInputError {
  constructor(message: string) {
    super(message);
    this.name = 'OpsetUpgradeError';
  }
}

/** What the steps of one upgrade share. */
export interface UpgradeSession {
  model: ModelProto;
  scope: NameScope;
  notes: Set<string>;
  /** Per graph: constant key → initializer name, so equal constants are stored once. */
  constants: WeakMap<GraphProto, Map<string, string>>;
}

/** State shared by every adapter of one version step. */
export class StepState {
  private usedNames?: Set<string>;

  constructor(
    readonly session: UpgradeSession,
    /** The opset this step converts to. */
    readonly version: number,
    readonly types: ValueTypes,
  ) {}

  get model(): ModelProto {
    return this.session.model;
  }

  /** Names read by any node or listed as a graph output, in any graph (as the step began). */
  used(): Set<string> {
    if (!this.usedNames) {
      this.usedNames = new Set();
      for (const { graph } of allGraphs(this.model)) {
        for (const n of graph.node) for (const i of n.input) if (i) this.usedNames.add(i);
        for (const o of graph.output) this.usedNames.add(o.name);
      }
    }
    return this.usedNames;
  }

  /** One initializer per graph for each distinct constant value. */
  constantName(graph: GraphProto, key: string, make: () => TensorProto): string {
    let names = this.session.constants.get(graph);
    if (!names) this.session.constants.set(graph, (names = new Map()));
    const known = names.get(key);
    if (known) return known;
    const tensor = make();
    graph.initializer.push(tensor);
    names.set(key, tensor.name);
    return tensor.name;
  }
}

/** A scalar of a floating-point type (the types old Clip and Pad take). */
function floatingScalarTensor(name: string, dataType: number, value: number): TensorProto | undefined {
  switch (dataType) {
    case DataType.FLOAT:
      return floatTensor(name, [], Float32Array.of(value));
    case DataType.FLOAT16:
      return halfTensor(name, [], Uint16Array.of(floatToFp16Bits(value)));
    case DataType.DOUBLE: {
      const bytes = new Uint8Array(Float64Array.of(value).buffer);
      return create(TensorProtoSchema, { name, dataType, dims: [], rawData: bytes });
    }
    default:
      return undefined;
  }
}

export class AdapterContext {
  constructor(
    readonly node: NodeProto,
    readonly where: GraphRef,
    readonly step: StepState,
  ) {}

  get graph(): GraphProto {
    return this.where.graph;
  }

  get types(): ValueTypes {
    return this.step.types;
  }

  /** The node as a user finds it: its name (or op#index) and, in a subgraph, the graph's path. */
  get label(): string {
    const name = this.node.name ? `"${this.node.name}"` : `${this.node.opType}#${this.graph.node.indexOf(this.node)}`;
    return this.where.depth > 0 ? `${name} in ${this.where.path}` : name;
  }

  /** The error to throw: it names the op, the node, the opset and why. */
  error(why: string): OpsetUpgradeError {
    return new OpsetUpgradeError(`${this.node.opType} node ${this.label} cannot be upgraded to opset ${this.step.version}: ${why}`);
  }

  note(text: string): void {
    this.step.session.notes.add(`${this.node.opType} ${this.label}: ${text}`);
  }

  /** A fresh value or node name derived from this node's. */
  fresh(suffix: string): string {
    return this.step.session.scope.fresh(`${this.node.name || this.node.output[0] || this.node.opType}_${suffix}`);
  }

  /** A 1-D int64 initializer (a scalar when `scalar`) in this node's graph; equal values share one. */
  int64s(suffix: string, values: readonly (number | bigint)[], scalar = false): string {
    const dims = scalar ? [] : [values.length];
    return this.step.constantName(this.graph, `i64|${dims}|${values.join(',')}`, () => int64Tensor(this.fresh(suffix), dims, values));
  }

  floats(suffix: string, values: readonly number[]): string {
    return this.step.constantName(this.graph, `f32|${values.length}|${values.join(',')}`, () =>
      floatTensor(this.fresh(suffix), [values.length], Float32Array.from(values)),
    );
  }

  /** A scalar initializer of `dataType` (float, float16 or double). */
  floatingScalar(suffix: string, dataType: number, value: number): string {
    if (!floatingScalarTensor('', dataType, value)) throw this.error(`a ${dataTypeName(dataType)} input, where the op takes float types only`);
    return this.step.constantName(this.graph, `${dataType}|scalar|${value}`, () => floatingScalarTensor(this.fresh(suffix), dataType, value)!);
  }

  /** The element type of input `index`; float32 (with a note) when the model does not tell. */
  inputTypeOrFloat(index: number): number {
    const type = this.types.elemType(this.node.input[index] ?? '');
    if (type !== undefined) return type;
    this.note(`the type of input "${this.node.input[index]}" is not declared; float32 assumed`);
    return DataType.FLOAT;
  }

  /** Sets input `index`, filling skipped optional inputs with ''. */
  setInput(index: number, name: string): void {
    while (this.node.input.length < index) this.node.input.push('');
    this.node.input[index] = name;
  }

  isUsed(name: string): boolean {
    return name !== '' && this.step.used().has(name);
  }

  newNode(opType: string, inputs: string[], outputs: string[], attributes: AttributeProto[] = []): NodeProto {
    return makeNode(opType, inputs, outputs, { name: this.fresh(opType), attributes });
  }

  insertBefore(...nodes: NodeProto[]): void {
    this.graph.node.splice(this.graph.node.indexOf(this.node), 0, ...nodes);
  }

  insertAfter(...nodes: NodeProto[]): void {
    this.graph.node.splice(this.graph.node.indexOf(this.node) + 1, 0, ...nodes);
  }

  /** Removes the node's outputs from `count` on (unused optional outputs), and their value infos. */
  keepOutputs(count: number): void {
    const dropped = new Set(this.node.output.slice(count));
    this.node.output = this.node.output.slice(0, count);
    this.graph.valueInfo = this.graph.valueInfo.filter((v) => !dropped.has(v.name));
  }

  /** Removes initializer `name` of this node's graph when nothing reads it any more (and it is no graph input). */
  dropInitializerIfUnused(name: string): void {
    if (this.graph.input.some((i) => i.name === name)) return;
    const readers = allGraphs(this.step.model).some(({ graph }) => graph.node.some((n) => n.input.includes(name)) || graph.output.some((o) => o.name === name));
    if (!readers) this.graph.initializer = this.graph.initializer.filter((t) => t.name !== name);
  }

  /**
   * Output `index` of the node gets a new name; `build` makes the nodes that turn it back into the original value,
   * inserted after the node, so the original name (which other nodes and the graph outputs read) is kept.
   */
  rerouteOutput(index: number, suffix: string, build: (renamed: string, original: string) => NodeProto[]): void {
    const original = this.node.output[index]!;
    const renamed = this.fresh(suffix);
    this.node.output[index] = renamed;
    this.insertAfter(...build(renamed, original));
  }
}

/** Returns true when it changed the node (or replaced it by others). */
export type Adapter = (ctx: AdapterContext) => boolean;
