/**
 * GPTQ on a model: which layers it applies to (Conv, Gemm and MatMul with a stored weight in the main graph),
 * their Hessians streamed from the teacher's captured layer inputs (one sample's tensors at a time, never all
 * samples), and the weight of one layer quantized with GPTQ on the studio's own grid (scales from the original
 * weights, in the layout the format's emitter groups them), with the layer-output SQNR of GPTQ and of plain
 * rounding on the calibration inputs.
 */
import { loadHostLinalg } from '../../kernels/registry';
import type { NodeProto } from 'onnx-buf';
import { decodeModel } from '../onnx/codec';
import { getInt, getInts, getString } from '../onnx/graph-edit';
import { modelFiles, type EvalModel, type EvalRuntime, type EvalSample } from '../eval/types';
import { captureActivations, type CaptureOptions } from './capture';
import {
  accumulateConv,
  accumulateRows,
  errorForm,
  gptq,
  gridOf,
  Hessian,
  quadraticForm,
  quantizeOne,
  type ConvGeometry,
  type Grid,
  type GptqOptions,
} from './gptq';
import type { GroupView, Grouping } from '../../kernels/quant';
import { codeRange, quantizeTensor, type QuantSpec } from '../compress/quantize/math';

export interface GptqLayer {
  /** The weight tensor's name (the key the quantizer looks it up by). */
  weight: string;
  /** The layer input captured from the teacher. */
  input: string;
  node: string;
  op: 'Conv' | 'Gemm' | 'MatMul';
  /** Weight shape as stored. */
  shape: number[];
  /** Gemm with transB = 1 (weight [N, K]). */
  transB: boolean;
  conv?: ConvGeometry & { autoPad: string };
  /** One Hessian per conv group (one for Gemm/MatMul). */
  hessians: Hessian[];
}

function attrInts(node: NodeProto, name: string, fallback: number[]): number[] {
  return getInts(node, name) ?? fallback;
}

/** The layers GPTQ can run on, keyed by weight name (weights read by one node only). */
export function gptqLayers(modelBytes: Uint8Array): Map<string, GptqLayer> {
  const graph = decodeModel(modelBytes).graph!;
  const shapes = new Map<string, number[]>();
  for (const t of graph.initializer) if (t.dataType === 1 || t.dataType === 10 || t.dataType === 16) shapes.set(t.name, t.dims.map(Number));
  for (const n of graph.node) {
    if (n.opType !== 'Constant' || n.domain) continue;
    const t = n.attribute.find((a) => a.name === 'value')?.t;
    if (t && (t.dataType === 1 || t.dataType === 10 || t.dataType === 16)) shapes.set(n.output[0]!, t.dims.map(Number));
  }
  const readers = new Map<string, number>();
  for (const n of graph.node) for (const i of n.input) readers.set(i, (readers.get(i) ?? 0) + 1);
  const layers = new Map<string, GptqLayer>();
  for (const n of graph.node) {
    if (n.domain && n.domain !== 'ai.onnx') continue;
    const w = n.input[1];
    if (!w || !n.input[0] || readers.get(w) !== 1) continue;
    const shape = shapes.get(w);
    if (!shape) continue;
    const base = { weight: w, input: n.input[0], node: n.name || n.output[0]!, shape };
    if (n.opType === 'Conv' && (shape.length === 4 || shape.length === 3)) {
      const nd = shape.length - 2;
      const group = getInt(n, 'group', 1);
      const conv = {
        kernel: shape.slice(2),
        strides: attrInts(n, 'strides', Array(nd).fill(1)),
        dilations: attrInts(n, 'dilations', Array(nd).fill(1)),
        pads: attrInts(n, 'pads', Array(2 * nd).fill(0)),
        group,
        autoPad: getString(n, 'auto_pad', 'NOTSET'),
      };
      const k = shape.slice(1).reduce((a, b) => a * b, 1);
      layers.set(w, { ...base, op: 'Conv', transB: false, conv, hessians: Array.from({ length: group }, () => new Hessian(k)) });
    } else if ((n.opType === 'MatMul' || n.opType === 'Gemm') && shape.length === 2) {
      if (n.opType === 'Gemm' && getInt(n, 'transA', 0) === 1) continue;
      const transB = n.opType === 'Gemm' && getInt(n, 'transB', 0) === 1;
      const k = transB ? shape[1]! : shape[0]!;
      layers.set(w, { ...base, op: n.opType as 'Gemm' | 'MatMul', transB, hessians: [new Hessian(k)] });
    }
  }
  return layers;
}

/** Pads for SAME_UPPER / SAME_LOWER / VALID from the input's spatial size. */
function padsFor(conv: GptqLayer['conv'] & object, spatial: readonly number[]): number[] {
  if (conv.autoPad === 'NOTSET' || conv.autoPad === '') return conv.pads;
  const nd = spatial.length;
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < nd; i++) {
    if (conv.autoPad === 'VALID') {
      begin.push(0);
      end.push(0);
      continue;
    }
    const out = Math.ceil(spatial[i]! / conv.strides[i]!);
    const total = Math.max(0, (out - 1) * conv.strides[i]! + (conv.kernel[i]! - 1) * conv.dilations[i]! + 1 - spatial[i]!);
    const small = Math.floor(total / 2);
    begin.push(conv.autoPad === 'SAME_LOWER' ? total - small : small);
    end.push(conv.autoPad === 'SAME_LOWER' ? small : total - small);
  }
  return [...begin, ...end];
}

/** Adds one captured input tensor to a layer's Hessians. */
export function accumulateLayer(layer: GptqLayer, values: ArrayLike<number>, dims: readonly number[]): void {
  if (layer.conv) accumulateConv(layer.hessians, values, dims, { ...layer.conv, pads: padsFor(layer.conv, dims.slice(2)) });
  else accumulateRows(layer.hessians[0]!, values);
}

/** A layer as it arrives from another worker (Hessians as plain objects). */
export type PlainGptqLayer = Omit<GptqLayer, 'hessians'> & { hessians: { k: number; h: Float64Array; rows: number }[] };

/** Layers whose Hessians crossed a worker boundary, with their accumulators rebuilt. */
export function reviveLayers(layers: Map<string, PlainGptqLayer>): Map<string, GptqLayer> {
  return new Map([...layers].map(([w, l]) => [w, { ...l, hessians: l.hessians.map((h) => new Hessian(h.k, h.h, h.rows)) }]));
}

export interface HessianCapture {
  layers: Map<string, GptqLayer>;
  unreachable: string[];
  samples: number;
  peakBytes: number;
}

/** Runs the teacher over the calibration samples and streams each layer's inputs into its Hessians. */
export async function collectHessians(
  runtime: EvalRuntime,
  model: EvalModel,
  samples: readonly EvalSample[],
  options: Omit<CaptureOptions, 'onTensor' | 'statistics'> = {},
): Promise<HessianCapture> {
  await loadHostLinalg(); // WASM SIMD for the Gram accumulation (and GPTQ after it) where it loads
  const layers = gptqLayers(modelFiles(model).bytes);
  const byInput = new Map<string, GptqLayer[]>();
  for (const l of layers.values()) byInput.set(l.input, [...(byInput.get(l.input) ?? []), l]);
  const result = await captureActivations(runtime, model, [...byInput.keys()], samples, {
    ...options,
    statistics: false,
    onTensor: (name, values, dims) => {
      for (const l of byInput.get(name) ?? []) accumulateLayer(l, values, dims);
    },
  });
  for (const [w, l] of layers) if (l.hessians.every((h) => h.rows === 0)) layers.delete(w);
  return { layers, unreachable: result.unreachable, samples: result.samples, peakBytes: result.peakBytes };
}

export interface GptqTensorReport {
  /** Layer-output SQNR on the calibration inputs (bias left out), GPTQ and plain rounding on the same grid. */
  layerSqnrDb: number;
  rtnLayerSqnrDb: number;
  actOrder: boolean;
  dampening: number;
  /** Written values that differ from GPTQ's (0 when the format's grid is the one GPTQ used). */
  mismatched?: number;
}

/** Where the grid of a weight comes from: the view and spec its emitter quantizes it with (stored layout). */
export interface GridSource {
  view: GroupView;
  spec: QuantSpec;
}

/** Conv groups, GPTQ's W [rows = outputs, cols = inputs] per group, and the stored-layout index of W[r][c]. */
export interface StoredIndex {
  groups: number;
  rows: number;
  cols: number;
  at: (g: number, r: number, c: number) => number;
}

/** Index of W[r][c] (GPTQ's [rows = outputs, cols = inputs] per conv group) in the stored layout. */
export function storedIndex(layer: GptqLayer): StoredIndex {
  const s = layer.shape;
  if (layer.op === 'Conv') {
    const groups = layer.conv!.group;
    const rows = s[0]! / groups;
    const cols = s.slice(1).reduce((a, b) => a * b, 1);
    return { groups, rows, cols, at: (g, r, c) => (g * rows + r) * cols + c };
  }
  if (layer.transB) return { groups: 1, rows: s[0]!, cols: s[1]!, at: (_g, r, c) => r * s[1]! + c };
  return { groups: 1, rows: s[1]!, cols: s[0]!, at: (_g, r, c) => c * s[1]! + r };
}

/** The emitter's grid for a weight with ranges from `rangeFrom` (same view and spec), one entry per stored element. */
export async function emitterGrid(rangeFrom: Float32Array, source: GridSource): Promise<Grid> {
  const q = await quantizeTensor(rangeFrom, source.view, source.spec);
  const { qmin, qmax } = codeRange(source.spec.bits, source.spec.symmetric);
  const grouping: Grouping = { granularity: source.spec.granularity, blockSize: source.spec.blockSize };
  return gridOf(source.view, grouping, q.scales, q.zeroPoints, qmin, qmax);
}

/** Conv group g of the stored weights and of their grid as W [rows, cols] (row-major). */
export function groupWithGrid(values: Float32Array, stored: Grid, index: StoredIndex, g: number): { w: Float32Array; grid: Grid } {
  const { rows, cols, at } = index;
  const w = new Float32Array(rows * cols);
  const grid: Grid = {
    scale: new Float32Array(rows * cols),
    invScale: new Float32Array(rows * cols),
    zeroPoint: new Int32Array(rows * cols),
    qmin: stored.qmin,
    qmax: stored.qmax,
  };
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const e = at(g, r, c);
      const i = r * cols + c;
      w[i] = values[e]!;
      grid.scale[i] = stored.scale[e]!;
      grid.invScale[i] = stored.invScale[e]!;
      grid.zeroPoint[i] = stored.zeroPoint[e]!;
    }
  return { w, grid };
}

/** Writes conv group g's W [rows, cols] (row-major) back into the stored layout. */
export function scatterGroup(stored: Float32Array, w: Float32Array, index: StoredIndex, g: number): void {
  const { rows, cols, at } = index;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) stored[at(g, r, c)] = w[r * cols + c]!;
}

/**
 * GPTQ on one stored weight: the grid is computed from the original values exactly as the emitter will
 * (same view and spec), GPTQ picks the codes, and the result is returned dequantized in the stored layout —
 * rounding it under the same grid (ranges from the original) yields GPTQ's codes.
 */
export async function gptqWeight(
  values: Float32Array,
  layer: GptqLayer,
  source: GridSource,
  options: GptqOptions = {},
): Promise<{ adjusted: Float32Array; report: GptqTensorReport }> {
  const stored = await emitterGrid(values, source);
  const index = storedIndex(layer);
  const { groups, rows, cols } = index;
  const adjusted = new Float32Array(values.length);
  let signal = 0;
  let noiseG = 0;
  let noiseR = 0;
  for (let g = 0; g < groups; g++) {
    const { w, grid } = groupWithGrid(values, stored, index, g);
    const h = layer.hessians[g]!.finish();
    const out = gptq(w, rows, cols, h, grid, options);
    const rtn = w.map((x, i) => quantizeOne(x, grid.scale[i]!, grid.invScale[i]!, grid.zeroPoint[i]!, grid.qmin, grid.qmax));
    signal += quadraticForm(w, rows, cols, h);
    noiseG += errorForm(w, out, rows, cols, h);
    noiseR += errorForm(w, rtn, rows, cols, h);
    scatterGroup(adjusted, out, index, g);
  }
  const db = (n: number) => (n <= 0 ? Infinity : 10 * Math.log10(signal / n));
  return {
    adjusted,
    report: { layerSqnrDb: db(noiseG), rtnLayerSqnrDb: db(noiseR), actOrder: options.actOrder ?? false, dampening: options.dampening ?? 0.01 },
  };
}
