/**
 * Every default-domain op whose schema changed at opsets 8-21 (see OP_VERSIONS), with what the step to that
 * opset does to it: an adapter that rewrites the node, or COMPATIBLE when the change only added types, optional
 * inputs/outputs or attributes whose defaults keep the old meaning (the node is relabelled as is).
 */
import { REMOVED_EXPERIMENTAL_OPS } from './op-versions';
import type { Adapter } from './context';
import { axesToInput, clip11, dft20, dropout12, pad11, slice10, split13, split18, topK10, unsqueezeAxesToInput } from './adapters/attributes-to-inputs';
import { batchNorm14, batchNorm9, dropout10, groupNorm21, meanVarianceNormalization9 } from './adapters/normalization';
import { gridSample20, removedExperimental, roiAlign16, scan9, scatter11 } from './adapters/renamed';
import { resize11, resize13, upsample10To11, upsample9, upsampleToResize } from './adapters/resize';
import { softmax13 } from './adapters/softmax';

export const COMPATIBLE = 'compatible';
export type UpgradeRule = Adapter | typeof COMPATIBLE;

const compatible = (...ops: string[]): Record<string, UpgradeRule> => Object.fromEntries(ops.map((op) => [op, COMPATIBLE]));

const REDUCE_18 = ['ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare'];

/** UPGRADE_RULES[v][op]: what the step from opset v-1 to v does to op. */
export const UPGRADE_RULES: Readonly<Record<number, Readonly<Record<string, UpgradeRule>>>> = {
  // Broadcasting for the variadic ops; MaxPool's optional Indices output.
  8: compatible('Max', 'MaxPool', 'Mean', 'Min', 'Sum'),
  9: {
    ...compatible('Cast', 'Constant', 'Flatten', 'Gemm', 'Greater', 'Less', 'MatMul', 'PRelu'),
    BatchNormalization: batchNorm9,
    Scan: scan9,
    Upsample: upsample9,
    MeanVarianceNormalization: meanVarianceNormalization9,
  },
  10: {
    // AveragePool/MaxPool: ceil_mode (default 0) and dilations (default 1).
    ...compatible('AveragePool', 'MaxPool', 'ThresholdedRelu'),
    ...Object.fromEntries([...REMOVED_EXPERIMENTAL_OPS].map((op) => [op, removedExperimental])),
    Dropout: dropout10,
    Slice: slice10,
    TopK: topK10,
    Upsample: upsampleToResize,
  },
  11: {
    // Mostly negative axes/indices and new optional attributes with the old behaviour as default.
    ...compatible(
      'ArgMax',
      'ArgMin',
      'AveragePool',
      'Compress',
      'Concat',
      'Constant',
      'Conv',
      'ConvTranspose',
      'DepthToSpace',
      'Equal',
      'Flatten',
      'Gather',
      'Gemm',
      'If',
      'Loop',
      'LpPool',
      'MaxPool',
      'MaxUnpool',
      'NonMaxSuppression',
      'OneHot',
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
      'Scan',
      'Slice',
      'Split',
      'Squeeze',
      'TopK',
      'Unsqueeze',
      // Coercion to 2-D is unchanged at 11 (negative axis allowed); it changes at 13.
      'Softmax',
      'LogSoftmax',
      'Hardmax',
    ),
    Clip: clip11,
    Pad: pad11,
    Resize: resize11,
    Scatter: scatter11,
    Upsample: upsample10To11,
  },
  12: {
    // select_last_index, batch_dims (defaults 0), integer types, Pow's separate exponent type.
    ...compatible('ArgMax', 'ArgMin', 'Clip', 'Constant', 'GatherND', 'Max', 'MaxPool', 'Min', 'Pow', 'ReduceMax', 'ReduceMin'),
    Dropout: dropout12,
  },
  13: {
    // bfloat16 and other types; QuantizeLinear/DequantizeLinear's axis only matters for per-axis scales, new at 13.
    ...compatible(
      'Abs',
      'Add',
      'ArgMax',
      'ArgMin',
      'Cast',
      'Ceil',
      'Clip',
      'Concat',
      'Constant',
      'DepthToSpace',
      'DequantizeLinear',
      'Div',
      'Dropout',
      'Equal',
      'Erf',
      'Exp',
      'Expand',
      'Flatten',
      'Floor',
      'Gather',
      'GatherElements',
      'GatherND',
      'Gemm',
      'Greater',
      'Identity',
      'If',
      'IsNaN',
      'LRN',
      'Less',
      'Log',
      'Loop',
      'MatMul',
      'Max',
      'Mean',
      'MeanVarianceNormalization',
      'Min',
      'Mod',
      'Mul',
      'Neg',
      'NegativeLogLikelihoodLoss',
      'NonZero',
      'Pad',
      'Pow',
      'QuantizeLinear',
      'Reciprocal',
      'ReduceL1',
      'ReduceL2',
      'ReduceLogSum',
      'ReduceLogSumExp',
      'ReduceMax',
      'ReduceMean',
      'ReduceMin',
      'ReduceProd',
      'ReduceSumSquare',
      'Relu',
      'Reshape',
      'ScatterElements',
      'ScatterND',
      'Shape',
      'Sigmoid',
      'Sign',
      'Size',
      'Slice',
      'SoftmaxCrossEntropyLoss',
      'SpaceToDepth',
      'Sqrt',
      'Sub',
      'Sum',
      'Tanh',
      'Tile',
      'Transpose',
    ),
    ReduceSum: axesToInput,
    Squeeze: axesToInput,
    Unsqueeze: unsqueezeAxesToInput,
    Split: split13,
    Softmax: softmax13,
    LogSoftmax: softmax13,
    Hardmax: softmax13,
    Resize: resize13,
  },
  14: {
    // Types; RNN layout and Reshape allowzero default to the old behaviour.
    ...compatible('Add', 'CumSum', 'Div', 'GRU', 'Identity', 'LSTM', 'Mul', 'RNN', 'Relu', 'Reshape', 'Sub'),
    BatchNormalization: batchNorm14,
  },
  // Shape's start/end default to the whole shape.
  15: compatible('BatchNormalization', 'Pow', 'Shape'),
  16: {
    // ScatterElements/ScatterND reduction defaults to none.
    ...compatible('GreaterOrEqual', 'Identity', 'If', 'LeakyRelu', 'LessOrEqual', 'Loop', 'PRelu', 'Scan', 'ScatterElements', 'ScatterND', 'Where'),
    RoiAlign: roiAlign16,
  },
  18: {
    // Pad's axes input, Resize's antialias/axes/keep_aspect_ratio_policy, LpPool's ceil_mode: old defaults.
    ...compatible('LpPool', 'OptionalGetElement', 'OptionalHasElement', 'Pad', 'Resize', 'ScatterElements', 'ScatterND'),
    ...Object.fromEntries(REDUCE_18.map((op) => [op, axesToInput])),
    Split: split18,
  },
  // Types (float8, string), Cast's saturate (float8 only), AveragePool's dilations, Pad's wrap mode, new Resize mode.
  19: compatible(
    'AveragePool',
    'Cast',
    'CastLike',
    'Constant',
    'DequantizeLinear',
    'Equal',
    'Identity',
    'If',
    'Loop',
    'Pad',
    'QuantizeLinear',
    'Reshape',
    'Resize',
    'Scan',
    'Shape',
    'Size',
  ),
  20: {
    ...compatible('ConstantOfShape', 'IsInf', 'IsNaN', 'ReduceMax', 'ReduceMin'),
    DFT: dft20,
    GridSample: gridSample20,
  },
  21: {
    // int4/uint4 types; QuantizeLinear/DequantizeLinear block_size defaults to 0 (no blocks).
    ...compatible(
      'Cast',
      'CastLike',
      'Constant',
      'ConstantOfShape',
      'DequantizeLinear',
      'Flatten',
      'Identity',
      'If',
      'Loop',
      'Pad',
      'QLinearMatMul',
      'QuantizeLinear',
      'Reshape',
      'Scan',
      'Shape',
      'Size',
      'Squeeze',
      'Transpose',
      'Unsqueeze',
    ),
    GroupNormalization: groupNorm21,
  },
};

/** Rules for ops that have no new version at that opset (experimental or deprecated ops); the registry test allows them. */
export const EXTRA_RULES: Readonly<Record<number, readonly string[]>> = {
  9: ['MeanVarianceNormalization'],
  10: ['ThresholdedRelu', ...REMOVED_EXPERIMENTAL_OPS],
  11: ['Upsample'],
};
