/**
 * Weight-only quantization of a model: plans which tensors to quantize in which format, quantizes them
 * (reference math in ./math.ts) and writes DequantizeLinear or MatMulNBits into a copy of the model.
 */
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from 'onnx-buf';
import { channelLayout } from '../../analysis/stats';
import { computeConsumers, multipliedBy, outputChannelAxis } from '../../analysis/channel-axis';
import { buildCatalog, replaceTensorWithNodes, type CatalogEntry, type TensorCatalog } from '../../onnx/catalog';
import { decodeModel } from '../../onnx/codec';
import { encodeStandalone } from '../../onnx/write';
import { readTensorFloat32, type OpenedModel } from '../../onnx/open';
import { DataType } from '../../tensor/dtypes';
import { excludedBecause, matchesAny, type QuantizeRecipe } from '../../recipe';
import { packNibblesOf } from '../../../kernels/ts/quant-reference';
import { referenceBackend } from '../../../kernels/ts/reference';
import type { KernelBackend } from '../../../kernels/types';
import { quantizeOn, type Granularity, type GroupView, type QuantSpec, type QuantizedTensor } from './math';
import { defaultOpset, opsetUpgradeBlockers, setDefaultOpset } from './opset';

export type WrittenFormat = 'qdq' | 'matmulnbits' | 'dynamic' | 'fp16';

export interface TensorPlan {
  entryId: number;
  name: string;
  layer: string;
  op: string;
  elements: number;
  bytesBefore: number;
  action: 'quantize' | 'skip';
  /** Why a tensor is skipped, in words. */
  reason?: string;
  bits: number;
  /** Container the runtime stores: 4 or 8. */
  storedBits: number;
  format: WrittenFormat;
  granularity: Granularity;
  blockSize: number;
  /** DequantizeLinear axis (channel or block axis of the stored tensor). */
  axis?: number;
  /** Conv weights quantized per block are stored as [Cout, Cin·kh·kw] and reshaped back. */
  flattenTo2d?: boolean;
  notes: string[];
}

export interface QuantPlan {
  tensors: TensorPlan[];
  /** Default-domain opset the output needs (the model's own when no upgrade is needed). */
  opset: number;
  modelOpset: number;
  warnings: string[];
}

export interface TensorReport extends TensorPlan {
  sqnrDb?: number;
  relError?: number;
  bytesAfter: number;
}

export interface QuantReport {
  inputBytes: number;
  outputBytes: number;
  tensors: TensorReport[];
  quantizedElements: number;
  /** Σ bits·elements / Σ elements over quantized weights (levels actually used). */
  effectiveBits: number;
  /** The same with the container the runtime stores (4 or 8 bits). */
  storedBits: number;
  /** Bits per quantized weight including scales and zero points. */
  bitsWithScales: number;
  opset: number;
  warnings: string[];
}

const QUANTIZABLE_OPS = new Set(['Conv', 'Gemm', 'MatMul']);
const QUANTIZED_OPS = ['DequantizeLinear', 'MatMulNBits', 'MatMulInteger', 'ConvInteger', 'QLinearConv', 'QLinearMatMul', 'DynamicQuantizeLinear'];

export const intAttr = (node: NodeProto, name: string, fallback: number) => {
  const a = node.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : fallback;
};
export const floatAttr = (node: NodeProto, name: string, fallback: number) => {
  const a = node.attribute.find((x) => x.name === name);
  return a ? a.f : fallback;
};

/** Can this weight be written as MatMulNBits (it is input B of a plain MatMul/Gemm, used once)? */
function matMulNBitsTarget(entry: CatalogEntry): NodeProto | undefined {
  if (entry.consumers.length !== 1) return undefined;
  const { node, inputIndex } = entry.consumers[0]!;
  if (inputIndex !== 1) return undefined;
  if (node.opType === 'MatMul' && entry.shape.length === 2) return node;
  if (node.opType === 'Gemm' && intAttr(node, 'transA', 0) === 0 && floatAttr(node, 'alpha', 1) === 1 && (node.input.length < 3 || !node.input[2] || floatAttr(node, 'beta', 1) === 1)) return node;
  return undefined;
}

/** The reduction axis a block runs along, for the stored layout. */
function blockAxis(entry: CatalogEntry, op: string, node: NodeProto): { axis: number; flattenTo2d: boolean } | undefined {
  const rank = entry.shape.length;
  if (op === 'Conv') return { axis: 1, flattenTo2d: rank > 2 };
  if (op === 'Gemm') return { axis: intAttr(node, 'transB', 0) ? 1 : 0, flattenTo2d: false };
  if (op === 'MatMul' && rank >= 2) return { axis: rank - 2, flattenTo2d: false };
  return undefined;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

export function planQuantization(opened: OpenedModel, recipe: QuantizeRecipe): QuantPlan {
  const { catalog, model } = opened;
  const modelOpset = defaultOpset(model);
  const warnings: string[] = [];
  const alreadyQuantized = [...catalog.opTypes.keys()].filter((op) => QUANTIZED_OPS.includes(op.replace(/^com\.microsoft\./, '')));
  if (alreadyQuantized.length) {
    warnings.push(`This model is already quantized in places (${alreadyQuantized.join(', ')}): those weights are kept as they are; only float weights are quantized.`);
  }
  const tensors: TensorPlan[] = [];
  for (const entry of catalog.entries) {
    const how = multipliedBy(entry, catalog);
    if (!how) continue;
    const compute = computeConsumers(entry, catalog)[0];
    const op = how.op;
    const base = {
      entryId: entry.id,
      name: entry.name,
      layer: compute?.nodeLabel ?? how.node.name,
      op,
      elements: entry.elements,
      bytesBefore: entry.bytes,
      notes: [] as string[],
    };
    const override = recipe.overrides.find((o) => matchesAny([o.match], entry.name, base.layer));
    const bits = override?.bits ?? recipe.bits;
    const skip = (reason: string): TensorPlan => ({ ...base, action: 'skip', reason, bits: 32, storedBits: 32, format: 'qdq', granularity: recipe.granularity, blockSize: recipe.blockSize });
    if (entry.dataType !== DataType.FLOAT) {
      tensors.push(skip(entry.dataType === DataType.INT8 || entry.dataType === DataType.UINT8 || entry.dataType === DataType.INT4 || entry.dataType === DataType.UINT4 ? 'already quantized' : 'not a float32 weight'));
      continue;
    }
    const excluded = excludedBecause(recipe.exclude, entry.name, base.layer);
    if (excluded) {
      tensors.push(skip(excluded));
      continue;
    }
    if (recipe.excludeOps.includes(op)) {
      tensors.push(skip(`${op} layers excluded`));
      continue;
    }
    if (!QUANTIZABLE_OPS.has(op) || !compute) {
      tensors.push(skip(`${op} weights are not quantized`));
      continue;
    }
    const storedBits = bits <= 4 ? 4 : 8;
    const plan: TensorPlan = { ...base, action: 'quantize', bits, storedBits, format: 'qdq', granularity: recipe.granularity, blockSize: recipe.blockSize };
    if (bits !== storedBits) plan.notes.push(`${bits}-bit levels stored in ${storedBits}-bit containers`);
    const nbitsNode = matMulNBitsTarget(entry);
    const wantsNBits = recipe.format === 'matmulnbits' || (recipe.format === 'auto' && recipe.granularity === 'block' && storedBits === 4);
    if (wantsNBits && nbitsNode && storedBits === 4 && isPowerOfTwo(recipe.blockSize)) {
      plan.format = 'matmulnbits';
      plan.granularity = 'block';
      tensors.push(plan);
      continue;
    }
    if (recipe.format === 'matmulnbits') {
      plan.notes.push(!nbitsNode ? 'MatMulNBits only replaces MatMul/Gemm weights used once: written as DequantizeLinear' : storedBits !== 4 ? 'MatMulNBits is written at 4 bits here: written as DequantizeLinear' : 'MatMulNBits needs a power-of-two block size: written as DequantizeLinear');
    }
    if (plan.granularity === 'channel') {
      const axis = outputChannelAxis(entry, catalog);
      if (axis === undefined) {
        plan.granularity = 'tensor';
        plan.notes.push('no output-channel axis: quantized per tensor');
      } else plan.axis = axis;
    }
    if (plan.granularity === 'block') {
      const b = blockAxis(entry, op, compute.node);
      if (!b) {
        plan.granularity = 'tensor';
        plan.notes.push('no reduction axis for blocks: quantized per tensor');
      } else {
        plan.axis = b.axis;
        plan.flattenTo2d = b.flattenTo2d;
      }
    }
    tensors.push(plan);
  }

  // What the DequantizeLinear writes need from the default opset, and whether the model can move there.
  const qdq = tensors.filter((t) => t.action === 'quantize' && t.format === 'qdq');
  const need = qdq.reduce((n, t) => Math.max(n, t.granularity === 'block' || t.storedBits === 4 ? 21 : t.granularity === 'channel' ? 13 : 10), 0);
  let opset = modelOpset;
  if (need > modelOpset) {
    const blockers = opsetUpgradeBlockers(model, need);
    if (blockers.length === 0) {
      opset = need;
      warnings.push(`The model's opset ${modelOpset} moves to ${need}: ${need === 21 ? 'blocked and 4-bit DequantizeLinear need' : 'per-channel DequantizeLinear needs'} it (no op in this model changed meaning in between).`);
    } else {
      // Degrade what the model's opset cannot express.
      const reachable = Math.max(modelOpset, opsetUpgradeBlockers(model, 13).length === 0 ? 13 : modelOpset);
      opset = reachable;
      for (const t of qdq) {
        if ((t.granularity === 'block' || t.storedBits === 4) && reachable < 21) {
          if (t.storedBits === 4) {
            t.storedBits = 8;
            t.notes.push(`stored in 8 bits: opset ${modelOpset} has no 4-bit DequantizeLinear and ${blockers.join(', ')} block an upgrade to 21`);
          }
          if (t.granularity === 'block') {
            t.granularity = 'channel';
            const axis = outputChannelAxis(catalog.entries[t.entryId]!, catalog);
            t.axis = axis;
            t.flattenTo2d = false;
            if (axis === undefined) t.granularity = 'tensor';
            t.notes.push(`per-channel instead of per-block: opset ${modelOpset} has no blocked DequantizeLinear`);
          }
        }
        if (t.granularity === 'channel' && reachable < 13) {
          t.granularity = 'tensor';
          t.axis = undefined;
          t.notes.push(`per-tensor: opset ${modelOpset} has no per-channel DequantizeLinear`);
        }
        if (reachable < 10) {
          t.action = 'skip';
          t.reason = `opset ${modelOpset} has no DequantizeLinear`;
        }
      }
      if (reachable > modelOpset) warnings.push(`The model's opset ${modelOpset} moves to ${reachable} for per-channel DequantizeLinear.`);
    }
  }
  return { tensors, opset, modelOpset, warnings };
}

// ---------------------------------------------------------------- writing

export function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return create(TensorProtoSchema, { name, dataType: DataType.FLOAT, dims: dims.map(BigInt), rawData: new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength) });
}

export function codesTensor(name: string, dims: number[], codes: ArrayLike<number>, signed: boolean, storedBits: number): TensorProto {
  const dataType = storedBits === 4 ? (signed ? DataType.INT4 : DataType.UINT4) : signed ? DataType.INT8 : DataType.UINT8;
  const rawData: Uint8Array<ArrayBuffer> = storedBits === 4 ? packNibblesOf(codes) : signed ? new Uint8Array(Int8Array.from(codes).buffer) : Uint8Array.from(codes);
  return create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData });
}

export function intsAttr(name: string, value: number) {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });
}

function tensorBytes(t: TensorProto): number {
  return t.rawData.byteLength;
}

function graphOfNode(catalog: TensorCatalog, node: NodeProto): GraphProto | undefined {
  return catalog.graphs.find((g) => g.graph.node.includes(node))?.graph;
}

export function uniqueName(taken: Set<string>, base: string): string {
  let name = base;
  for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

interface Written {
  bytesAfter: number;
  dequantized: Float32Array;
  signal: number;
  noise: number;
}

/** Uploads once, quantizes on the backend's kernels (the reference where it has none), frees the upload. */
export async function quantizeWithBackend(backend: KernelBackend, values: Float32Array, view: GroupView, spec: QuantSpec): Promise<QuantizedTensor> {
  const kernelBackend = backend.quant ? backend : referenceBackend;
  const t = await kernelBackend.upload(values);
  try {
    return await quantizeOn(kernelBackend.quant!, t, values, view, spec);
  } finally {
    t.dispose();
  }
}

async function codesTensorOn(backend: KernelBackend, name: string, dims: number[], codes: Int16Array, signed: boolean, storedBits: number): Promise<TensorProto> {
  if (storedBits !== 4) return codesTensor(name, dims, codes, signed, storedBits);
  const packed = await (backend.quant ?? referenceBackend.quant!).packNibbles(codes);
  const dataType = signed ? DataType.INT4 : DataType.UINT4;
  return create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData: new Uint8Array(packed.buffer as ArrayBuffer, packed.byteOffset, packed.byteLength) });
}

/** SQNR and relative error from the kernel's sums. */
export function errorFromSums(signal: number, noise: number): { sqnrDb: number; relError: number } {
  return {
    sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
    relError: signal === 0 ? (noise === 0 ? 0 : Infinity) : Math.sqrt(noise / signal),
  };
}

async function writeQdq(entry: CatalogEntry, plan: TensorPlan, values: Float32Array, spec: QuantSpec, names: Set<string>, backend: KernelBackend): Promise<Written> {
  const shape = entry.shape;
  const storedShape = plan.flattenTo2d ? [shape[0]!, shape.slice(1).reduce((a, b) => a * b, 1)] : shape;
  let view: GroupView = { outer: 1, axisLength: values.length, inner: 1 };
  if (plan.granularity !== 'tensor') view = { ...channelLayout(storedShape, plan.axis!), axisLength: storedShape[plan.axis!]! };
  const q = await quantizeWithBackend(backend, values, view, spec);
  const scaleShape =
    plan.granularity === 'tensor' ? [] : plan.granularity === 'channel' ? [storedShape[plan.axis!]!] : storedShape.map((d, i) => (i === plan.axis ? Math.ceil(d / plan.blockSize) : d));
  const qName = uniqueName(names, `${entry.name}_quantized`);
  const sName = uniqueName(names, `${entry.name}_scale`);
  const initializers = [await codesTensorOn(backend, qName, storedShape, q.codes, q.signed, plan.storedBits), floatTensor(sName, scaleShape, q.scales)];
  const inputs = [qName, sName];
  if (!spec.symmetric) {
    const zName = uniqueName(names, `${entry.name}_zero_point`);
    initializers.push(await codesTensorOn(backend, zName, scaleShape, Int16Array.from(q.zeroPoints), q.signed, plan.storedBits));
    inputs.push(zName);
  }
  const attribute = [];
  if (plan.granularity !== 'tensor') attribute.push(intsAttr('axis', plan.axis!));
  if (plan.granularity === 'block') attribute.push(intsAttr('block_size', plan.blockSize));
  const dqOut = plan.flattenTo2d ? uniqueName(names, `${entry.name}_dequantized_2d`) : entry.name;
  const nodes = [create(NodeProtoSchema, { name: uniqueName(names, `${entry.name}_DequantizeLinear`), opType: 'DequantizeLinear', input: inputs, output: [dqOut], attribute })];
  if (plan.flattenTo2d) {
    const shapeName = uniqueName(names, `${entry.name}_shape`);
    const shapeValues = BigInt64Array.from(shape.map(BigInt));
    initializers.push(create(TensorProtoSchema, { name: shapeName, dataType: DataType.INT64, dims: [BigInt(shape.length)], rawData: new Uint8Array(shapeValues.buffer) }));
    nodes.push(create(NodeProtoSchema, { name: uniqueName(names, `${entry.name}_Reshape`), opType: 'Reshape', input: [dqOut, shapeName], output: [entry.name] }));
  }
  replaceTensorWithNodes(entry, nodes, initializers);
  return { bytesAfter: initializers.reduce((n, t) => n + tensorBytes(t), 0), dequantized: q.dequantized, signal: q.signal, noise: q.noise };
}

/** MatMulNBits: B as uint8 [N, blocks, blockSize·bits/8] (4-bit codes, low nibble first along K), scales [N·blocks]. */
async function writeMatMulNBits(entry: CatalogEntry, plan: TensorPlan, values: Float32Array, spec: QuantSpec, catalog: TensorCatalog, names: Set<string>, backend: KernelBackend): Promise<Written> {
  const node = matMulNBitsTarget(entry)!;
  const transposed = node.opType === 'Gemm' && intAttr(node, 'transB', 0) === 1;
  const [d0, d1] = entry.shape as [number, number];
  const [K, N] = transposed ? [d1, d0] : [d0, d1];
  const B = plan.blockSize;
  const blocks = Math.ceil(K / B);
  // Row-major [N, K] copy (the layout MatMulNBits quantizes along).
  const nk = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) nk[n * K + k] = transposed ? values[n * K + k]! : values[k * N + n]!;
  const q = await quantizeWithBackend(backend, nk, { outer: N, axisLength: K, inner: 1 }, spec);
  const offset = q.signed ? 8 : 0; // signed codes −7…7 are stored as unsigned with the default zero point 8
  const packed = new Uint8Array(N * blocks * (B / 2));
  for (let n = 0; n < N; n++) {
    for (let blk = 0; blk < blocks; blk++) {
      const zpCode = q.signed ? 8 : q.zeroPoints[n * blocks + blk]!;
      for (let j = 0; j < B; j++) {
        const k = blk * B + j;
        const code = k < K ? q.codes[n * K + k]! + offset : zpCode; // padding decodes to 0
        packed[(n * blocks + blk) * (B / 2) + (j >> 1)]! |= (code & 0xf) << ((j & 1) * 4);
      }
    }
  }
  const bName = uniqueName(names, `${entry.name}_Q4`);
  const sName = uniqueName(names, `${entry.name}_scales`);
  const initializers = [
    create(TensorProtoSchema, { name: bName, dataType: DataType.UINT8, dims: [BigInt(N), BigInt(blocks), BigInt(B / 2)], rawData: packed }),
    floatTensor(sName, [N * blocks], q.scales),
  ];
  const inputs = [node.input[0]!, bName, sName];
  if (!q.signed) {
    const perRow = Math.ceil(blocks / 2);
    const zp = new Uint8Array(N * perRow);
    for (let n = 0; n < N; n++) for (let blk = 0; blk < blocks; blk++) zp[n * perRow + (blk >> 1)]! |= (q.zeroPoints[n * blocks + blk]! & 0xf) << ((blk & 1) * 4);
    const zName = uniqueName(names, `${entry.name}_zero_points`);
    initializers.push(create(TensorProtoSchema, { name: zName, dataType: DataType.UINT8, dims: [BigInt(zp.length)], rawData: zp }));
    inputs.push(zName);
  }
  const graph = graphOfNode(catalog, node)!;
  const bias = node.opType === 'Gemm' ? node.input[2] : undefined;
  const output = node.output[0]!;
  const mmOut = bias ? uniqueName(names, `${output}_before_bias`) : output;
  const replacement = [
    create(NodeProtoSchema, {
      name: uniqueName(names, `${node.name || entry.name}_MatMulNBits`),
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      input: inputs,
      output: [mmOut],
      attribute: [intsAttr('K', K), intsAttr('N', N), intsAttr('bits', 4), intsAttr('block_size', B)],
    }),
  ];
  if (bias) replacement.push(create(NodeProtoSchema, { name: uniqueName(names, `${node.name || entry.name}_bias`), opType: 'Add', input: [mmOut, bias], output: [output] }));
  graph.node.splice(graph.node.indexOf(node), 1, ...replacement);
  // The float weight is gone: drop its initializer or Constant node.
  if (entry.storage === 'initializer') entry.graph.initializer.splice(entry.graph.initializer.indexOf(entry.tensor), 1);
  else if (entry.constantNode) entry.graph.node.splice(entry.graph.node.indexOf(entry.constantNode), 1);
  entry.graph.initializer.push(...initializers);
  // Dequantized values back in the original layout, for the error.
  const deq = new Float32Array(values.length);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) deq[transposed ? n * K + k : k * N + n] = q.dequantized[n * K + k]!;
  return { bytesAfter: initializers.reduce((n, t) => n + tensorBytes(t), 0), dequantized: deq, signal: q.signal, noise: q.noise };
}

export function ensureMicrosoftDomain(model: ModelProto): void {
  if (!model.opsetImport.some((o) => o.domain === 'com.microsoft')) model.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
}

export interface QuantizeOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Collect each quantized tensor's dequantized values (tests build a float "simulated" model from them). */
  dequantized?: Map<string, Float32Array>;
  /** Kernel backend for the quantization math (default: the TypeScript reference). */
  backend?: KernelBackend;
}

export function specFor(recipe: QuantizeRecipe, plan: TensorPlan): QuantSpec {
  return { bits: plan.bits, symmetric: recipe.symmetric, granularity: plan.granularity, blockSize: plan.blockSize, range: recipe.range, percentile: recipe.percentile };
}

/** A fresh decode of the opened model to edit: raw_data fields are views of the same file bytes, nothing is copied. */
export function editableCopy(opened: OpenedModel): { model: ModelProto; catalog: TensorCatalog; names: Set<string> } {
  const model = decodeModel(opened.fileData, opened.fileName);
  const catalog = buildCatalog(model);
  const names = new Set<string>();
  for (const g of catalog.graphs) for (const n of g.graph.node) n.output.forEach((o) => names.add(o));
  for (const e of catalog.entries) names.add(e.name);
  for (const g of catalog.graphs) for (const v of [...g.graph.input, ...g.graph.output]) names.add(v.name);
  return { model, catalog, names };
}

/** Writes the edited model (external data folded in) and sums up the report. */
export async function finishReport(
  opened: OpenedModel,
  model: ModelProto,
  _catalog: TensorCatalog,
  reports: TensorReport[],
  plan: Pick<QuantPlan, 'opset' | 'modelOpset' | 'warnings'>,
): Promise<{ bytes: Uint8Array; report: QuantReport }> {
  if (plan.opset > plan.modelOpset) setDefaultOpset(model, plan.opset);
  const bytes = await encodeStandalone(opened, model);
  const quantized = reports.filter((r) => r.action === 'quantize');
  const elements = quantized.reduce((n, r) => n + r.elements, 0);
  const sum = (f: (r: TensorReport) => number) => quantized.reduce((n, r) => n + f(r), 0);
  return {
    bytes,
    report: {
      inputBytes: opened.fileBytes + [...opened.dataFiles.values()].reduce((n, f) => n + f.size, 0),
      outputBytes: bytes.byteLength,
      tensors: reports,
      quantizedElements: elements,
      effectiveBits: elements ? sum((r) => r.bits * r.elements) / elements : 0,
      storedBits: elements ? sum((r) => r.storedBits * r.elements) / elements : 0,
      bitsWithScales: elements ? (8 * sum((r) => r.bytesAfter)) / elements : 0,
      opset: Math.max(plan.opset, plan.modelOpset, defaultOpset(model)),
      warnings: plan.warnings,
    },
  };
}

/** Compresses the opened model per the recipe; returns the new model file and a report of what was done. */
export async function quantizeModel(opened: OpenedModel, recipe: QuantizeRecipe, options: QuantizeOptions = {}): Promise<{ bytes: Uint8Array; report: QuantReport }> {
  if (recipe.format === 'fp16') return (await import('./fp16')).convertToFp16(opened, recipe);
  if (recipe.format === 'dynamic') return (await import('./dynamic')).quantizeDynamic(opened, recipe, options);
  const plan = planQuantization(opened, recipe);
  const backend = options.backend ?? referenceBackend;
  const { model, catalog, names } = editableCopy(opened);
  const reports: TensorReport[] = [];
  const todo = plan.tensors.filter((t) => t.action === 'quantize');
  let done = 0;
  for (const t of plan.tensors) {
    if (t.action !== 'quantize') {
      reports.push({ ...t, bytesAfter: t.bytesBefore });
      continue;
    }
    if (options.signal?.aborted) throw new DOMException('Quantization cancelled', 'AbortError');
    const values = await readTensorFloat32(opened, opened.catalog.entries[t.entryId]!);
    const entry = catalog.entries[t.entryId]!;
    const spec = specFor(recipe, t);
    const written = t.format === 'matmulnbits' ? await writeMatMulNBits(entry, t, values, spec, catalog, names, backend) : await writeQdq(entry, t, values, spec, names, backend);
    const err = errorFromSums(written.signal, written.noise);
    options.dequantized?.set(t.name, written.dequantized);
    reports.push({ ...t, bytesAfter: written.bytesAfter, sqnrDb: err.sqnrDb, relError: err.relError });
    options.onProgress?.(++done, todo.length);
    // Let a worker see cancellation between tensors.
    await new Promise((r) => setTimeout(r, 0));
  }
  if (todo.some((t) => t.format === 'matmulnbits')) ensureMicrosoftDomain(model);
  return finishReport(opened, model, catalog, reports, plan);
}
