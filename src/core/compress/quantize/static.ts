/**
 * Static int8: activations quantized too, with ranges calibrated on the teacher's activations, placed the way
 * onnxruntime's QDQ optimizer fuses them into integer kernels:
 *
 *   x ─Q─DQ─┐
 *   W(int8, per channel, symmetric) ─DQ─ Conv / MatMul / Gemm ─Q─DQ─ y      (bias: int32, scale s_x·s_w, DQ)
 *
 * onnxruntime turns each such group into QLinearConv / QLinearMatMul / QGemm; Add, Mul, LeakyRelu, Sigmoid, pooling and Concat
 * between quantized tensors get their inputs and output quantized too (QLinearAdd, QLinearLeakyRelu…), and
 * layout ops (Reshape, Flatten, Transpose, Squeeze, Unsqueeze, MaxPool) share their input's parameters, so
 * onnxruntime drops their Q/DQ and they move uint8 data. A tensor read only by a Relu is quantized with the Relu
 * output's range and zero point 0, which clamps exactly as Relu does: the Relu is removed. Before all this,
 * BatchNormalization after a Conv is folded into it (onnxruntime would do it, but not across a Q/DQ pair).
 *
 * Activations are uint8 with a zero point (asymmetric); weights symmetric per output channel, stored as uint8 with
 * zero point 128 (U8U8, the default: exact on every CPU) or as int8 with zero point 0 (U8S8: faster in onnxruntime on
 * x86, but without VNNI its AVX2 kernel saturates 16-bit pair sums — measured here on an AVX2-only EPYC: the
 * openWakeWord embedding model fell from 27 to 8 dB). Main graph only: subgraph bodies stay float.
 */
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type GraphProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { replaceTensor, replaceTensorWithNodes, type CatalogEntry } from '../../onnx/catalog';
import { EditableModel } from '../../onnx/editable';
import type { OpenedModel } from '../../onnx/open';
import { attr, floatTensor, getFloat, getInt, isDefaultDomain, makeNode } from '../../onnx/graph-edit';
import { constantNamed } from '../../onnx/weight-use';
import { DataType } from '../../tensor/dtypes';
import { affineParams, calibratedRange, channelMeans, emptyStats, type ActivationStats, type CalibrationMethod } from '../../teacher/histogram';
import { excludedBecause, type QuantizeRecipe } from '../../recipe';
import { errorFromSums, quantizeWithBackend } from './emit/common';
import { removeStored } from './emit/matmulnbits';
import { quantizeTensor, type GroupView, type QuantSpec, type QuantizedTensor } from './math';
import { referenceBackend } from '../../../kernels/ts/reference';
import { gptqWeight, type GptqTensorReport } from '../../teacher/gptq-layers';
import { countMismatched, type QuantizeOptions } from './quantize';
import type { QuantPlan } from './plan';
import type { TensorReport } from './report';

const CORE_OPS = new Set(['Conv', 'MatMul', 'Gemm']);
/** Ops whose inputs and output are quantized when they touch a quantized tensor (onnxruntime has integer forms: QLinearAdd, QLinearMul, QLinearLeakyRelu, QLinearSigmoid, QLinearGlobalAveragePool, QLinearAveragePool, QLinearConcat). */
const NEIGHBOUR_OPS = new Set(['Add', 'Mul', 'LeakyRelu', 'GlobalAveragePool', 'AveragePool', 'Concat', 'Sigmoid']);
/** Ops that move or select values: their output keeps the input's scale and zero point. */
const TIED_OPS = new Set(['Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'MaxPool']);

export interface StaticActivation {
  name: string;
  /** The range chosen by calibration (before zero was included). */
  min: number;
  max: number;
  scale: number;
  zeroPoint: number;
  /** A layout op's output: shares this tensor's parameters. */
  tiedTo?: string;
  /** A Relu removed: the quantizer's clamp at zero does its work. */
  reluRemoved?: string;
}

export interface StaticOp {
  node: string;
  op: string;
}

export interface StaticFloatOp extends StaticOp {
  reason: string;
}

export interface StaticReport {
  method: CalibrationMethod;
  percentile: number;
  activations: StaticActivation[];
  /** Conv/MatMul/Gemm written for onnxruntime's integer kernels. */
  quantizedOps: StaticOp[];
  /** Conv/MatMul/Gemm left in float, with the reason. */
  floatOps: StaticFloatOp[];
  foldedBatchNorms: number;
  removedRelus: number;
  /** Ops whose bias absorbed the mean shift of their weights' rounding. */
  biasCorrected: number;
  calibrationSamples?: number;
}

const label = (node: NodeProto, graph: GraphProto) => node.name || `${node.opType}#${graph.node.indexOf(node)}`;

function consumersOf(graph: GraphProto): Map<string, NodeProto[]> {
  const map = new Map<string, NodeProto[]>();
  for (const n of graph.node) for (const i of n.input) if (i) map.set(i, [...(map.get(i) ?? []), n]);
  return map;
}

function floatValues(entry: CatalogEntry | undefined): boolean {
  return entry !== undefined && entry.dataType === DataType.FLOAT && entry.graphPath === 'main';
}

/**
 * Folds every BatchNormalization that alone reads a Conv's output into that Conv (weights and bias rescaled per
 * output channel); the Conv then writes the BatchNormalization's output name. Returns how many were folded.
 */
export async function foldBatchNorms(work: EditableModel): Promise<number> {
  const graph = work.model.graph!;
  const consumers = consumersOf(graph);
  const outputs = new Set(graph.output.map((o) => o.name));
  let folded = 0;
  for (const conv of [...graph.node]) {
    if (conv.opType !== 'Conv' || !isDefaultDomain(conv)) continue;
    const y = conv.output[0]!;
    const readers = consumers.get(y) ?? [];
    const bn = readers[0];
    if (readers.length !== 1 || outputs.has(y) || bn!.opType !== 'BatchNormalization' || bn!.input[0] !== y || bn!.output.filter(Boolean).length !== 1)
      continue;
    const w = constantNamed(work.catalog, conv.input[1]);
    const b = conv.input[2] ? constantNamed(work.catalog, conv.input[2]) : undefined;
    const params = bn!.input.slice(1, 5).map((n) => constantNamed(work.catalog, n));
    if (
      !floatValues(w) ||
      w!.consumers.length !== 1 ||
      (conv.input[2] && (!floatValues(b) || b!.consumers.length !== 1)) ||
      params.some((p) => !floatValues(p))
    )
      continue;
    const cout = w!.shape[0]!;
    if (params.some((p) => p!.elements !== cout)) continue;
    const [gamma, beta, mean, variance] = await Promise.all(params.map((p) => work.read(p!)));
    for (const p of params) if (p!.consumers.length === 1) removeStored(p!);
    const eps = getFloat(bn!, 'epsilon', 1e-5);
    const weight = await work.read(w!);
    const bias = b ? await work.read(b) : new Float32Array(cout);
    const per = weight.length / cout;
    const newW = new Float32Array(weight.length);
    const newB = new Float32Array(cout);
    for (let c = 0; c < cout; c++) {
      const k = gamma![c]! / Math.sqrt(variance![c]! + eps);
      for (let i = 0; i < per; i++) newW[c * per + i] = weight[c * per + i]! * k;
      newB[c] = (bias[c]! - mean![c]!) * k + beta![c]!;
    }
    replaceTensor(w!, floatTensor(w!.name, w!.shape, newW));
    if (b) replaceTensor(b, floatTensor(b.name, [cout], newB));
    else {
      const name = work.names.fresh(`${conv.name || w!.name}_bias`);
      graph.initializer.push(floatTensor(name, [cout], newB));
      while (conv.input.length < 2) conv.input.push('');
      conv.input[2] = name;
    }
    conv.output[0] = bn!.output[0]!;
    graph.node.splice(graph.node.indexOf(bn!), 1);
    folded++;
  }
  if (folded) work.refresh();
  return folded;
}

interface CoreOp {
  node: NodeProto;
  weight: CatalogEntry;
  bias?: CatalogEntry;
  /** Output-channel axis of the weight. */
  axis: number;
}

export interface StaticLayout {
  core: CoreOp[];
  floatOps: StaticFloatOp[];
  /** Activations quantized with their own calibrated range (the Relu output's when a Relu is removed). */
  own: string[];
  /** Layout-op outputs → the activation whose parameters they share. */
  tied: Map<string, string>;
  /** Activation → the Relu that reads it alone (removed; its output is what calibration measures). */
  relu: Map<string, NodeProto>;
}

/** Why an op cannot be written for the integer kernels, or its weight layout. */
function coreOp(node: NodeProto, work: EditableModel): CoreOp | string {
  const { catalog } = work;
  const weight = constantNamed(catalog, node.input[1]);
  if (!weight) return 'its weight is computed at run time (both inputs are activations)';
  if (constantNamed(catalog, node.input[0])) return 'its first input is a constant';
  if (weight.graphPath !== 'main') return 'it lives in a subgraph';
  if (weight.dataType !== DataType.FLOAT) return `its weight is ${weight.dataType === DataType.FLOAT16 ? 'float16' : 'not float32'}`;
  if (weight.consumers.length !== 1) return 'its weight is shared with other ops';
  const bias = node.input[2] ? constantNamed(catalog, node.input[2]) : undefined;
  if (node.input[2] && (!bias || bias.dataType !== DataType.FLOAT || bias.consumers.length !== 1)) return 'its bias is not a float32 constant of its own';
  if (node.opType === 'Conv') {
    if (weight.shape.length < 3) return 'Conv weight of unexpected rank';
    if (bias && bias.elements !== weight.shape[0]) return 'its bias is not one value per output channel';
    return { node, weight, bias, axis: 0 };
  }
  if (weight.shape.length !== 2) return `${node.opType} with a ${weight.shape.length}-D weight has no integer form here`;
  if (node.opType === 'MatMul') return { node, weight, axis: 1 };
  if (getInt(node, 'transA', 0) !== 0 || getFloat(node, 'alpha', 1) !== 1 || (bias && getFloat(node, 'beta', 1) !== 1))
    return 'Gemm with transA, alpha or beta has no integer form here';
  const axis = getInt(node, 'transB', 0) === 1 ? 0 : 1;
  if (bias && bias.elements !== weight.shape[axis]) return 'its bias is not one value per output channel';
  return { node, weight, bias, axis };
}

/** Which ops are written quantized and which activations need calibration (on a model with BatchNorms folded). */
export function staticLayout(work: EditableModel, recipe: Pick<QuantizeRecipe, 'exclude' | 'excludeOps'>): StaticLayout {
  const graph = work.model.graph!;
  const consumers = consumersOf(graph);
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const isConstant = (name: string) => constantNamed(work.catalog, name) !== undefined;
  const core: CoreOp[] = [];
  const floatOps: StaticFloatOp[] = [];
  const quantized = new Set<string>();
  const excluded = (node: NodeProto) =>
    recipe.excludeOps.includes(node.opType)
      ? `${node.opType} layers excluded`
      : excludedBecause(recipe.exclude, label(node, graph), constantNamed(work.catalog, node.input[1])?.name);
  for (const node of graph.node) {
    if (!CORE_OPS.has(node.opType) || !isDefaultDomain(node)) continue;
    const why = excluded(node);
    const op = why ?? coreOp(node, work);
    if (typeof op === 'string') {
      floatOps.push({ node: label(node, graph), op: node.opType, reason: op });
      continue;
    }
    core.push(op);
    quantized.add(node.input[0]!);
    // A MatMul/Gemm that writes a graph output keeps it float (onnxruntime's QGemm / MatMulIntegerToFloat output
    // float): one rounding less on what the user reads. Conv needs its output quantized to become QLinearConv.
    if (node.opType === 'Conv' || !graphOutputs.has(node.output[0]!)) quantized.add(node.output[0]!);
  }
  for (const node of graph.node) {
    if (!NEIGHBOUR_OPS.has(node.opType) || !isDefaultDomain(node) || excluded(node)) continue;
    const inputs = node.input.filter(Boolean);
    if (inputs.some(isConstant) || node.output.length !== 1) continue;
    if ([...inputs, node.output[0]!].some((n) => quantized.has(n))) for (const n of [...inputs, node.output[0]!]) quantized.add(n);
  }
  // A tensor read only by a Relu: quantized with the Relu output's range (zero point 0), the Relu removed.
  const producers = new Set(graph.node.flatMap((n) => n.output));
  const relu = new Map<string, NodeProto>();
  const reluAlias = new Map<string, string>();
  for (const t of [...quantized]) {
    const readers = consumers.get(t) ?? [];
    const r = readers[0];
    if (readers.length !== 1 || r!.opType !== 'Relu' || graphOutputs.has(t) || !producers.has(t)) continue;
    const out = r!.output[0]!;
    quantized.delete(out);
    relu.set(t, r!);
    reluAlias.set(out, t);
  }
  // Layout ops after a quantized tensor (or a removed Relu) share its parameters.
  const tied = new Map<string, string>();
  for (const node of graph.node) {
    if (!TIED_OPS.has(node.opType) || !isDefaultDomain(node) || node.output.filter(Boolean).length !== 1) continue;
    const x = node.input[0]!;
    const src = tied.get(x) ?? reluAlias.get(x) ?? (quantized.has(x) ? x : undefined);
    if (src === undefined) continue;
    const y = node.output[0]!;
    quantized.delete(y);
    tied.set(y, src);
    // A Relu after a layout op stays: the shared parameters are not the Relu's range.
    const r = relu.get(y);
    if (r) {
      relu.delete(y);
      reluAlias.delete(r.output[0]!);
    }
  }
  return { core, floatOps, own: [...quantized], tied, relu };
}

/** The tensors calibration must measure for a layout: each own activation, or the Relu output that replaces it. */
export function calibrationNames(layout: StaticLayout): string[] {
  // The core ops' inputs too (most are already there): their per-channel means drive bias correction.
  return [...new Set([...layout.own.map((t) => layout.relu.get(t)?.output[0] ?? t), ...layout.core.map((c) => c.node.input[0]!)])];
}

/**
 * E[(Ŵ − W)·x] per output channel with x replaced by the teacher's per-input-channel mean μ: the mean shift weight
 * rounding adds to each output (padding ignored). Conv (groups too) and Gemm; undefined when μ does not fit.
 */
export function weightShift(
  op: Pick<CoreOp, 'node' | 'axis'>,
  shape: readonly number[],
  original: Float32Array,
  rounded: Float32Array,
  mu: ArrayLike<number>,
): Float64Array | undefined {
  if (op.node.opType === 'Conv') {
    const [cout, cinPerGroup] = shape as [number, number];
    const groups = getInt(op.node, 'group', 1);
    if (mu.length !== cinPerGroup * groups) return undefined;
    const k = original.length / (cout * cinPerGroup);
    const perGroup = cout / groups;
    const shift = new Float64Array(cout);
    for (let c = 0; c < cout; c++) {
      const g = Math.floor(c / perGroup);
      for (let i = 0; i < cinPerGroup; i++) {
        let d = 0;
        const base = (c * cinPerGroup + i) * k;
        for (let j = 0; j < k; j++) d += rounded[base + j]! - original[base + j]!;
        shift[c]! += d * mu[g * cinPerGroup + i]!;
      }
    }
    return shift;
  }
  if (op.node.opType !== 'Gemm') return undefined;
  const [d0, d1] = shape as [number, number];
  const [n, kDim] = op.axis === 0 ? [d0, d1] : [d1, d0];
  if (mu.length !== kDim) return undefined;
  const shift = new Float64Array(n);
  for (let c = 0; c < n; c++)
    for (let j = 0; j < kDim; j++) {
      const at = op.axis === 0 ? c * kDim + j : j * n + c;
      shift[c]! += (rounded[at]! - original[at]!) * mu[j]!;
    }
  return shift;
}

/**
 * The tensors to capture for static int8 of this model: found on a copy with BatchNorms folded, their names are
 * names of the original model (a folded Conv writes the BatchNormalization's output), so the teacher is the
 * original file as it is.
 */
export async function staticCalibrationNames(opened: OpenedModel, recipe: Pick<QuantizeRecipe, 'exclude' | 'excludeOps'>): Promise<string[]> {
  const work = new EditableModel(opened);
  await foldBatchNorms(work);
  return calibrationNames(staticLayout(work, recipe));
}

function int8Tensor(name: string, dims: number[], codes: ArrayLike<number>): TensorProto {
  return create(TensorProtoSchema, { name, dataType: DataType.INT8, dims: dims.map(BigInt), rawData: new Uint8Array(Int8Array.from(codes).buffer) });
}

function uint8Tensor(name: string, dims: number[], codes: Uint8Array<ArrayBuffer>): TensorProto {
  return create(TensorProtoSchema, { name, dataType: DataType.UINT8, dims: dims.map(BigInt), rawData: codes });
}

function uint8Scalar(name: string, value: number): TensorProto {
  return create(TensorProtoSchema, { name, dataType: DataType.UINT8, dims: [], rawData: Uint8Array.of(value) });
}

function int32Tensor(name: string, dims: number[], values: Int32Array): TensorProto {
  return create(TensorProtoSchema, { name, dataType: DataType.INT32, dims: dims.map(BigInt), rawData: new Uint8Array(values.buffer as ArrayBuffer) });
}

export interface StaticResult {
  tensors: TensorReport[];
  report: StaticReport;
  warnings: string[];
  /** Plan rows this pass wrote (the rest go to the ordinary weight-only emitters). */
  handled: Set<number>;
}

/**
 * Writes the static int8 model in place: weights and biases of the core ops, then a Q/DQ pair after every
 * quantized activation. `stats` holds the teacher's statistics by tensor name (calibrationNames).
 */
export async function emitStatic(
  work: EditableModel,
  recipe: QuantizeRecipe,
  plan: QuantPlan,
  layout: StaticLayout,
  stats: Map<string, ActivationStats>,
  method: CalibrationMethod,
  gptq?: QuantizeOptions['gptq'],
): Promise<StaticResult> {
  const graph = work.model.graph!;
  const { names } = work;
  const warnings: string[] = [];
  const floatOps = [...layout.floatOps];
  const params = new Map<string, StaticActivation>();
  const missing: string[] = [];
  // Graph outputs, and the tensors whose parameters a graph output shares through a layout op.
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  for (const [y, src] of layout.tied) if (graphOutputs.has(y)) graphOutputs.add(src);
  for (const t of layout.own) {
    const reluNode = layout.relu.get(t);
    const measured = reluNode?.output[0] ?? t;
    const s = stats.get(measured);
    if (!s || s.count === 0) {
      missing.push(measured);
      continue;
    }
    // A graph output is what the user reads: clipping it is never the better trade, it keeps its full range.
    const range = graphOutputs.has(measured) ? { min: s.min, max: s.max } : calibratedRange(s, { method, percentile: recipe.percentile });
    if (reluNode) range.min = 0;
    const { scale, zeroPoint } = affineParams(range);
    params.set(t, { name: t, min: range.min, max: range.max, scale, zeroPoint, ...(reluNode ? { reluRemoved: label(reluNode, graph) } : {}) });
  }
  if (missing.length)
    warnings.push(
      `No calibration statistics for ${missing.length} activation${missing.length > 1 ? 's' : ''} (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? '…' : ''}): left in float.`,
    );

  // Weights and biases of the ops whose input has parameters.
  const tensors: TensorReport[] = [];
  const handled = new Set<number>();
  const quantizedOps: StaticOp[] = [];
  let corrected = 0;
  const rows = new Map(plan.tensors.map((t) => [t.entryId, t]));
  // A removed Relu's output is its input's dequantized value.
  const reluSource = new Map([...layout.relu].map(([t, r]) => [r.output[0]!, t]));
  for (const op of layout.core) {
    const input = op.node.input[0]!;
    const x = params.get(input) ?? params.get(layout.tied.get(input) ?? '') ?? params.get(reluSource.get(input) ?? '');
    const nodeLabel = label(op.node, graph);
    if (!x || (op.node.opType === 'Conv' && !params.has(op.node.output[0]!))) {
      floatOps.push({ node: nodeLabel, op: op.node.opType, reason: 'no calibration statistics for its input or output' });
      continue;
    }
    const row = rows.get(op.weight.id);
    if (!row || row.action !== 'quantize') {
      floatOps.push({ node: nodeLabel, op: op.node.opType, reason: row?.reason ?? 'its weight is not quantized' });
      continue;
    }
    const values = await work.read(op.weight);
    const shape = op.weight.shape;
    const channels = shape[op.axis]!;
    const view: GroupView =
      op.axis === 0 ? { outer: 1, axisLength: channels, inner: values.length / channels } : { outer: shape[0]!, axisLength: channels, inner: 1 };
    // int7: int8 codes within ±63 (onnxruntime's reduce_range), so U8S8's 16-bit pair sums (255·63·2) cannot saturate.
    const spec: QuantSpec = {
      bits: recipe.staticWeights === 'int7' ? 7 : 8,
      symmetric: true,
      granularity: 'channel',
      blockSize: 0,
      range: recipe.range,
      percentile: recipe.percentile,
    };
    const layer = gptq?.layers.get(op.weight.name);
    let q: QuantizedTensor;
    let gptqReport: GptqTensorReport | undefined;
    if (layer && op.weight.graphPath === 'main' && layer.op === op.node.opType && layer.shape.join() === shape.join()) {
      // GPTQ picks the codes on the grid plain rounding would use (ranges from the original weights).
      const g = await gptqWeight(values, layer, { view, spec }, gptq!.options);
      const rounded = await quantizeWithBackend(referenceBackend, g.adjusted, view, spec, values);
      let signal = 0;
      let noise = 0;
      for (let i = 0; i < values.length; i++) {
        signal += values[i]! ** 2;
        noise += (values[i]! - rounded.dequantized[i]!) ** 2;
      }
      q = { ...rounded, signal, noise };
      gptqReport = { ...g.report, mismatched: countMismatched(g.adjusted, rounded.dequantized) };
    } else q = await quantizeTensor(values, view, spec);
    // Symmetric codes either way: int8 with zero point 0 (U8S8), or the same codes + 128 as uint8 with zero point 128 (U8U8).
    const signed = recipe.staticWeights === 'int8' || recipe.staticWeights === 'int7';
    const codes = signed
      ? int8Tensor(names.fresh(`${op.weight.name}_quantized`), shape, q.codes)
      : uint8Tensor(
          names.fresh(`${op.weight.name}_quantized`),
          shape,
          Uint8Array.from(q.codes, (c) => c + 128),
        );
    const scales = floatTensor(names.fresh(`${op.weight.name}_scale`), [channels], q.scales);
    const zeros = signed
      ? int8Tensor(names.fresh(`${op.weight.name}_zero_point`), [channels], new Int8Array(channels))
      : uint8Tensor(names.fresh(`${op.weight.name}_zero_point`), [channels], new Uint8Array(channels).fill(128));
    replaceTensorWithNodes(
      op.weight,
      [
        makeNode('DequantizeLinear', [codes.name, scales.name, zeros.name], [op.weight.name], {
          name: names.fresh(`${op.weight.name}_DequantizeLinear`),
          attributes: [attr.int('axis', op.axis)],
        }),
      ],
      [codes, scales, zeros],
    );
    let bytesAfter = codes.rawData.byteLength + scales.rawData.byteLength + zeros.rawData.byteLength;
    const notes = [
      `static int8: ${op.node.opType} input and output quantized (uint8, calibrated), weights ${recipe.staticWeights === 'int7' ? 'int8 in a 7-bit range (U8S8, reduced range)' : signed ? 'int8 (U8S8)' : 'uint8 with zero point 128 (U8U8)'}; onnxruntime runs it as an integer kernel`,
    ];
    if (gptqReport)
      notes.push(
        `GPTQ: layer output ${gptqReport.layerSqnrDb.toFixed(1)} dB vs ${gptqReport.rtnLayerSqnrDb.toFixed(1)} dB round-to-nearest (calibration inputs)`,
      );
    let b = op.bias ? await work.read(op.bias) : undefined;
    if (recipe.biasCorrection) {
      const mu = channelMeans(stats.get(input) ?? emptyStats(2));
      const shift = mu && weightShift(op, shape, values, q.dequantized, mu);
      if (shift) {
        b = Float32Array.from({ length: channels }, (_, c) => (b?.[c] ?? 0) - shift[c]!);
        corrected++;
        notes.push(
          `bias corrected for the weight rounding's mean shift (teacher's input means; largest shift ${Math.max(...shift.map(Math.abs)).toPrecision(3)})`,
        );
      } else notes.push(op.node.opType === 'MatMul' ? 'no bias correction: MatMul has no bias' : 'no bias correction: the input has no per-channel means');
    }
    if (b) {
      const biasScale = Float32Array.from(q.scales, (s) => Math.fround(s * x.scale));
      const codes32 = new Int32Array(channels);
      for (let c = 0; c < channels; c++) codes32[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(b[c]! / biasScale[c]!)));
      const biasName = op.bias?.name ?? names.fresh(`${nodeLabel}_bias`);
      const bq = int32Tensor(names.fresh(`${biasName}_quantized`), [channels], codes32);
      const bs = floatTensor(names.fresh(`${biasName}_scale`), [channels], biasScale);
      const dq = makeNode('DequantizeLinear', [bq.name, bs.name], [biasName], {
        name: names.fresh(`${biasName}_DequantizeLinear`),
        attributes: [attr.int('axis', 0)],
      });
      if (op.bias) replaceTensorWithNodes(op.bias, [dq], [bq, bs]);
      else {
        // A bias the correction created.
        graph.initializer.push(bq, bs);
        graph.node.splice(0, 0, dq);
        while (op.node.input.length < 3) op.node.input.push('');
        op.node.input[2] = biasName;
      }
      bytesAfter += bq.rawData.byteLength + bs.rawData.byteLength;
      const biasRow = op.bias && rows.get(op.bias.id);
      if (biasRow && biasRow.action === 'skip') biasRow.reason = `${biasRow.reason ?? 'bias'}: stored as int32 for the integer kernel`;
      notes.push('bias stored as int32 with scale s_input·s_weight (as onnxruntime expects)');
    }
    handled.add(row.entryId);
    quantizedOps.push({ node: nodeLabel, op: op.node.opType });
    tensors.push({
      ...row,
      bits: 8,
      storedBits: 8,
      granularity: 'channel',
      axis: op.axis,
      notes: [...row.notes, ...notes],
      bytesAfter,
      ...errorFromSums(q.signal, q.noise),
      ...(gptqReport ? { gptq: gptqReport } : {}),
    });
  }

  // Q/DQ after every activation with parameters (layout-op outputs too, with their source's parameters).
  const activations: StaticActivation[] = [];
  const targets: [string, StaticActivation][] = [...params.entries()];
  for (const [y, src] of layout.tied) {
    const p = params.get(src);
    if (p) targets.push([y, { ...p, name: y, tiedTo: src, reluRemoved: undefined }]);
  }
  const producerOf = new Map<string, NodeProto>();
  for (const n of graph.node) for (const o of n.output) if (o) producerOf.set(o, n);
  const consumers = consumersOf(graph);
  let removedRelus = 0;
  for (const [t, p] of targets) {
    activations.push(p);
    const scale = floatTensor(names.fresh(`${t}_scale`), [], Float32Array.of(p.scale));
    const zp = uint8Scalar(names.fresh(`${t}_zero_point`), p.zeroPoint);
    graph.initializer.push(scale, zp);
    const quantized = names.fresh(`${t}_quantized`);
    const producer = producerOf.get(t);
    const reluNode = layout.relu.get(t);
    let source: string;
    let result: string;
    if (producer) {
      source = names.fresh(`${t}_float`);
      producer.output[producer.output.indexOf(t)] = source;
      result = reluNode ? reluNode.output[0]! : t;
    } else {
      // A graph input: quantized once, its readers rewired.
      source = t;
      result = names.fresh(`${t}_dequantized`);
      for (const n of consumers.get(t) ?? []) n.input = n.input.map((i) => (i === t ? result : i));
    }
    const q = makeNode('QuantizeLinear', [source, scale.name, zp.name], [quantized], { name: names.fresh(`${t}_QuantizeLinear`) });
    const dq = makeNode('DequantizeLinear', [quantized, scale.name, zp.name], [result], { name: names.fresh(`${t}_DequantizeLinear`) });
    if (reluNode) {
      graph.node.splice(graph.node.indexOf(reluNode), 1);
      removedRelus++;
    }
    const at = producer ? graph.node.indexOf(producer) + 1 : 0;
    graph.node.splice(at, 0, q, dq);
  }
  const report: StaticReport = {
    method,
    percentile: recipe.percentile,
    activations,
    quantizedOps,
    floatOps,
    foldedBatchNorms: 0,
    removedRelus,
    biasCorrected: corrected,
  };
  return { tensors, report, warnings, handled };
}
