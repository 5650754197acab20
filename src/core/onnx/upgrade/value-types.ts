/**
 * What the upgrade knows of a value: its element type and shape, from the model's declarations (graph
 * inputs/outputs, value infos, initializers, Constant nodes) and, for element types, from the op producing it.
 */
import { TensorProto_DataLocation, type ModelProto, type NodeProto, type TensorProto, type TypeProto } from 'onnx-buf';
import { constantAttributeTensor } from '../catalog';
import { allGraphs, getInt, isDefaultDomain } from '../graph-edit';
import { DataType } from '../../tensor/dtypes';
import { decodeRawToFloat32, decodeTypedFieldsToFloat32 } from '../../tensor/decode';

/** A dimension: its size, or undefined when symbolic or unknown. */
export type Dim = number | undefined;

/** Output element types that are fixed by the op, whatever its inputs. */
const FIXED_OUTPUT_TYPE: Record<string, number> = {
  Shape: DataType.INT64,
  Size: DataType.INT64,
  ArgMax: DataType.INT64,
  ArgMin: DataType.INT64,
  NonZero: DataType.INT64,
  NonMaxSuppression: DataType.INT64,
  Equal: DataType.BOOL,
  Less: DataType.BOOL,
  Greater: DataType.BOOL,
  LessOrEqual: DataType.BOOL,
  GreaterOrEqual: DataType.BOOL,
  And: DataType.BOOL,
  Or: DataType.BOOL,
  Xor: DataType.BOOL,
  Not: DataType.BOOL,
  IsNaN: DataType.BOOL,
  IsInf: DataType.BOOL,
};

/** Ops whose first output has the element type of one of their inputs (the index given). */
const TYPE_FROM_INPUT: Record<string, number> = Object.fromEntries([
  ...[
    'Abs',
    'Acos',
    'Acosh',
    'Add',
    'Asin',
    'Asinh',
    'Atan',
    'Atanh',
    'AveragePool',
    'BatchNormalization',
    'Ceil',
    'Celu',
    'Clip',
    'Concat',
    'Conv',
    'ConvTranspose',
    'Cos',
    'Cosh',
    'CumSum',
    'DepthToSpace',
    'Div',
    'Dropout',
    'Einsum',
    'Elu',
    'Erf',
    'Exp',
    'Expand',
    'Flatten',
    'Floor',
    'Gather',
    'GatherElements',
    'GatherND',
    'Gelu',
    'Gemm',
    'GlobalAveragePool',
    'GlobalLpPool',
    'GlobalMaxPool',
    'GroupNormalization',
    'HardSigmoid',
    'HardSwish',
    'Hardmax',
    'Identity',
    'InstanceNormalization',
    'LRN',
    'LayerNormalization',
    'LeakyRelu',
    'Log',
    'LogSoftmax',
    'LpNormalization',
    'LpPool',
    'MatMul',
    'Max',
    'MaxPool',
    'Mean',
    'MeanVarianceNormalization',
    'Min',
    'Mish',
    'Mod',
    'Mul',
    'Neg',
    'PRelu',
    'Pad',
    'Pow',
    'Reciprocal',
    'ReduceL1',
    'ReduceL2',
    'ReduceLogSum',
    'ReduceLogSumExp',
    'ReduceMax',
    'ReduceMean',
    'ReduceMin',
    'ReduceProd',
    'ReduceSum',
    'ReduceSumSquare',
    'Relu',
    'Reshape',
    'Resize',
    'ReverseSequence',
    'Round',
    'Scatter',
    'ScatterElements',
    'ScatterND',
    'Selu',
    'Shrink',
    'Sigmoid',
    'Sign',
    'Sin',
    'Sinh',
    'Slice',
    'Softmax',
    'Softplus',
    'Softsign',
    'SpaceToDepth',
    'Split',
    'Sqrt',
    'Squeeze',
    'Sub',
    'Sum',
    'Tan',
    'Tanh',
    'ThresholdedRelu',
    'Tile',
    'TopK',
    'Transpose',
    'Trilu',
    'Unsqueeze',
    'Upsample',
  ].map((op) => [op, 0] as const),
  ['Where', 1],
  ['DequantizeLinear', 1],
]);

function tensorTypeOf(type: TypeProto | undefined): { elemType: number; shape?: Dim[] } | undefined {
  if (type?.value.case !== 'tensorType') return undefined;
  const t = type.value.value;
  const shape = t.shape?.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : undefined));
  return { elemType: t.elemType, shape };
}

/** Element type and shape of every value of a model (all graphs: subgraphs read outer values by name). */
export class ValueTypes {
  private readonly declared = new Map<string, { elemType: number; shape?: Dim[] }>();
  private readonly producers = new Map<string, NodeProto>();
  private readonly constants = new Map<string, TensorProto>();

  constructor(model: ModelProto) {
    for (const { graph } of allGraphs(model)) {
      for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) {
        const t = tensorTypeOf(v.type);
        if (t && t.elemType !== DataType.UNDEFINED) this.declared.set(v.name, t);
      }
      for (const t of graph.initializer) {
        this.constants.set(t.name, t);
        this.declared.set(t.name, { elemType: t.dataType, shape: t.dims.map(Number) });
      }
      for (const node of graph.node) {
        for (const o of node.output) if (o) this.producers.set(o, node);
        if (node.opType === 'Constant' && isDefaultDomain(node) && node.output[0]) {
          for (const a of node.attribute) {
            const value = constantAttributeTensor(a);
            if (value && !value.sparse) {
              this.constants.set(node.output[0], value.tensor);
              this.declared.set(node.output[0], { elemType: value.tensor.dataType, shape: value.tensor.dims.map(Number) });
            }
          }
        }
      }
    }
  }

  /** The element type (DataType code), or undefined when the model does not say and it cannot be told. */
  elemType(name: string, seen = new Set<string>()): number | undefined {
    const known = this.declared.get(name);
    if (known) return known.elemType;
    const node = this.producers.get(name);
    if (!node || !isDefaultDomain(node) || seen.has(name)) return undefined;
    seen.add(name);
    const outputIndex = node.output.indexOf(name);
    if ((node.opType === 'TopK' || node.opType === 'MaxPool') && outputIndex === 1) return DataType.INT64;
    if (node.opType === 'Dropout' && outputIndex === 1) return undefined;
    if (node.opType === 'Cast') return getInt(node, 'to', DataType.UNDEFINED) || undefined;
    if (node.opType === 'ConstantOfShape') return node.attribute.find((a) => a.name === 'value')?.t?.dataType ?? DataType.FLOAT;
    const fixed = FIXED_OUTPUT_TYPE[node.opType];
    if (fixed !== undefined) return fixed;
    const from = TYPE_FROM_INPUT[node.opType];
    const input = from === undefined ? undefined : node.input[from];
    return input ? this.elemType(input, seen) : undefined;
  }

  /** The declared shape, or undefined when no shape is declared. */
  shape(name: string): Dim[] | undefined {
    return this.declared.get(name)?.shape;
  }

  rank(name: string): number | undefined {
    return this.shape(name)?.length;
  }

  /** The values of a constant (initializer or Constant node output) as numbers, or undefined when not constant. */
  constantValues(name: string): number[] | undefined {
    const t = this.constants.get(name);
    if (!t || t.dataLocation === TensorProto_DataLocation.EXTERNAL) return undefined;
    const elements = t.dims.reduce((a, b) => a * Number(b), 1);
    if (t.dataType === DataType.INT64 && t.rawData.byteLength === 0) return t.int64Data.map(Number);
    const values = t.rawData.byteLength > 0 ? decodeRawToFloat32(t.rawData, t.dataType, elements) : decodeTypedFieldsToFloat32(t, elements);
    return [...values];
  }
}
