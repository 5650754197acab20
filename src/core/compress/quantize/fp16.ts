/**
 * fp16 conversion: weights and compute to float16, graph inputs and outputs kept at their original float32
 * (Cast nodes at the borders). Weights whose values overflow float16 (|x| > 65504) stay float32, and the
 * ops that read them compute in float32 between Casts.
 */
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  NodeProtoSchema,
  TensorProtoSchema,
  type GraphProto,
  type NodeProto,
  type TypeProto,
} from 'onnx-buf';
import { replaceTensor } from '../../onnx/catalog';
import type { EditableModel } from '../../onnx/editable';
import { floatToFp16Bits, fp16BitsToFloat } from '../../tensor/codecs';
import { DataType } from '../../tensor/dtypes';
import { quantError } from './math';
import type { QuantPlan } from './plan';

export const FP16_MAX = 65504;

/** Ops whose inputs are all floating point, so they can be wrapped to compute in float32. */
const ALL_FLOAT_INPUT_OPS = new Set([
  'Conv',
  'ConvTranspose',
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'BatchNormalization',
  'LayerNormalization',
  'InstanceNormalization',
  'PRelu',
  'Sum',
  'Max',
  'Min',
  'Mean',
]);

function castNode(name: string, input: string, output: string, to: number): NodeProto {
  return create(NodeProtoSchema, {
    name,
    opType: 'Cast',
    input: [input],
    output: [output],
    attribute: [create(AttributeProtoSchema, { name: 'to', type: AttributeProto_AttributeType.INT, i: BigInt(to) })],
  });
}

function toHalfType(type: TypeProto | undefined): void {
  if (type?.value.case === 'tensorType' && type.value.value.elemType === DataType.FLOAT) type.value.value.elemType = DataType.FLOAT16;
}

/** Every graph (main first, then subgraphs depth-first) with its nodes. */
function allGraphs(root: GraphProto): GraphProto[] {
  const out: GraphProto[] = [];
  const walk = (g: GraphProto) => {
    out.push(g);
    for (const n of g.node)
      for (const a of n.attribute) {
        if (a.g) walk(a.g);
        a.graphs.forEach(walk);
      }
  };
  walk(root);
  return out;
}

function renameInputs(graphs: GraphProto[], from: string, to: string, except?: NodeProto): void {
  for (const g of graphs) for (const n of g.node) if (n !== except) n.input = n.input.map((x) => (x === from ? to : x));
}

export interface Fp16Result {
  /** Per planned tensor: converted (with its error) or kept float32 (with the reason). */
  written: Map<number, { bytesAfter: number; sqnrDb: number; relError: number } | { reason: string }>;
  warnings: string[];
}

/** Converts the model to float16 in place (every float32 tensor but those the plan keeps); see the file comment. */
export async function convertToFp16(work: EditableModel, plan: QuantPlan): Promise<Fp16Result> {
  const { model, catalog, names } = work;
  const main = model.graph!;
  const graphs = allGraphs(main);
  const written: Fp16Result['written'] = new Map();
  const keepFloat32 = new Set<string>();
  const warnings: string[] = [];
  const planned = new Map(plan.tensors.map((t) => [t.entryId, t]));

  for (const entry of catalog.entries) {
    if (entry.dataType !== DataType.FLOAT) continue;
    const row = planned.get(entry.id);
    if (row && row.action === 'skip') {
      if (/kept in float32/.test(row.reason ?? '')) keepFloat32.add(entry.name);
      continue;
    }
    const values = await work.read(entry);
    let overflow = 0;
    for (let i = 0; i < values.length; i++) if (Math.abs(values[i]!) > FP16_MAX && Number.isFinite(values[i]!)) overflow++;
    if (overflow > 0) {
      keepFloat32.add(entry.name);
      written.set(entry.id, { reason: `${overflow} value${overflow > 1 ? 's' : ''} beyond ±65504 overflow float16: kept in float32` });
      continue;
    }
    const bits = Uint16Array.from(values, floatToFp16Bits);
    const half = Float32Array.from(bits, fp16BitsToFloat);
    replaceTensor(entry, create(TensorProtoSchema, { dataType: DataType.FLOAT16, dims: entry.tensor.dims, rawData: new Uint8Array(bits.buffer) }));
    const err = quantError(values, half);
    written.set(entry.id, { bytesAfter: bits.byteLength, sqnrDb: err.sqnrDb, relError: err.relError });
  }

  // Types inside the graphs become float16; Casts and float-typed attributes follow.
  for (const g of graphs) {
    for (const v of g.valueInfo) toHalfType(v.type);
    if (g !== main) {
      for (const v of g.input) toHalfType(v.type);
      for (const v of g.output) toHalfType(v.type);
    }
    for (const n of g.node) {
      for (const a of n.attribute) {
        if ((n.opType === 'Cast' && a.name === 'to') || a.name === 'dtype') {
          if (Number(a.i) === DataType.FLOAT) a.i = BigInt(DataType.FLOAT16);
        }
        if (n.opType === 'ConstantOfShape' && a.name === 'value' && a.t?.dataType === DataType.FLOAT) {
          const v = a.t.rawData.byteLength ? new Float32Array(a.t.rawData.slice().buffer) : Float32Array.from(a.t.floatData);
          a.t = create(TensorProtoSchema, { dataType: DataType.FLOAT16, dims: a.t.dims, rawData: new Uint8Array(Uint16Array.from(v, floatToFp16Bits).buffer) });
        }
      }
    }
  }

  // Ops reading a float32-kept weight compute in float32: Cast their other inputs up and their outputs down.
  for (const g of graphs) {
    for (const n of [...g.node]) {
      if (!n.input.some((x) => keepFloat32.has(x))) continue;
      if (!ALL_FLOAT_INPUT_OPS.has(n.opType)) {
        throw new Error(
          `Cannot keep ${n.input.filter((x) => keepFloat32.has(x)).join(', ')} in float32 around ${n.opType} node "${n.name}": its values overflow float16. Exclude fp16 for this model or clip the weight.`,
        );
      }
      const at = g.node.indexOf(n);
      const before: NodeProto[] = [];
      n.input = n.input.map((x) => {
        if (!x || keepFloat32.has(x)) return x;
        const up = names.fresh(`${x}_to_fp32`);
        before.push(castNode(names.fresh(`${n.name || n.opType}_cast_in`), x, up, DataType.FLOAT));
        return up;
      });
      const after: NodeProto[] = [];
      n.output = n.output.map((y) => {
        const wide = names.fresh(`${y}_fp32`);
        after.push(castNode(names.fresh(`${n.name || n.opType}_cast_out`), wide, y, DataType.FLOAT16));
        return wide;
      });
      g.node.splice(at, 1, ...before, n, ...after);
      warnings.push(`${n.opType} "${n.name}" computes in float32: its weights overflow float16.`);
    }
  }

  // Graph inputs and outputs keep float32: Cast at the borders.
  const head: NodeProto[] = [];
  for (const input of main.input) {
    if (input.type?.value.case !== 'tensorType' || input.type.value.value.elemType !== DataType.FLOAT) continue;
    if (catalog.entries.some((e) => e.name === input.name)) continue; // an initializer listed as input
    const half = names.fresh(`${input.name}_fp16`);
    renameInputs(graphs, input.name, half);
    head.push(castNode(names.fresh(`${input.name}_to_fp16`), input.name, half, DataType.FLOAT16));
  }
  const tail: NodeProto[] = [];
  for (const output of main.output) {
    if (output.type?.value.case !== 'tensorType' || output.type.value.value.elemType !== DataType.FLOAT) continue;
    const half = names.fresh(`${output.name}_fp16`);
    for (const n of main.node) n.output = n.output.map((y) => (y === output.name ? half : y));
    renameInputs(graphs, output.name, half);
    tail.push(castNode(names.fresh(`${output.name}_to_fp32`), half, output.name, DataType.FLOAT));
  }
  main.node.unshift(...head);
  main.node.push(...tail);
  return { written, warnings };
}
