/**
 * Applies a prune recipe to a copy of the model: masks (unstructured, N:M) keep the dense layout and zero
 * weights; channel pruning rewrites weights and consumers so the model is physically smaller.
 */
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type NodeProto } from 'onnx-buf';
import { replaceTensor, type CatalogEntry, type TensorCatalog } from '../../onnx/catalog';
import type { EditableModel } from '../../onnx/editable';
import { getInt } from '../../onnx/graph-edit';
import { DataType } from '../../tensor/dtypes';
import { countMacs, type NodeMacs } from '../../analysis/macs';
import { excludedBecause, matchesAny, type PruneRecipe } from '../../recipe';
import { errorFromSums } from '../quantize/emit/common';
import { tensorRole } from '../roles';
import { channelGroups, type ChannelGroup } from './channels';
import { referenceBackend } from '../../../kernels/ts/reference';
import type { KernelBackend } from '../../../kernels/types';
import type { NMView, PruneKernels } from '../../../kernels/prune';
import type { DeviceTensor } from '../../../kernels/types';
import { selectKth } from '../../analysis/select';
import { channelsToKeep, countZeros, globalPruneCountsOn, zeroTies } from './masks';

export interface PruneLayerReport {
  /** Catalog id of the weight in the model that was pruned. */
  entryId: number;
  name: string;
  layer: string;
  op: string;
  pattern: PruneRecipe['pattern'];
  action: 'prune' | 'skip';
  reason?: string;
  /** Fraction of zero weights (masks) or of removed output channels (channel pruning). */
  sparsity: number;
  paramsBefore: number;
  paramsAfter: number;
  /** For channel pruning: output channels before → after. */
  channelsBefore?: number;
  channelsAfter?: number;
  /** ‖w − w_pruned‖ / ‖w‖ and the same as SQNR (dB). */
  relError: number;
  sqnrDb: number;
  /** Multiply-accumulates of the layer's node for one input (dynamic dims = 1), when shapes are known. */
  macsBefore?: number;
  macsAfter?: number;
}

export interface PruneReport {
  layers: PruneLayerReport[];
  /** Parameters of all weights compute ops multiply, before and after. */
  paramsBefore: number;
  paramsAfter: number;
  /** Zeros among those weights after pruning (dense layouts keep them stored). */
  zeros: number;
  /** Total MACs of Conv/Gemm/MatMul nodes for one input; unstructured and N:M masks do not change them. */
  macsBefore: number;
  macsAfter: number;
  warnings: string[];
}

const PRUNABLE_OPS = new Set(['Conv', 'Gemm', 'MatMul']);

function setValues(entry: CatalogEntry, values: Float32Array, dims: number[] = entry.shape): void {
  replaceTensor(entry, create(TensorProtoSchema, { dataType: DataType.FLOAT, dims: dims.map(BigInt), rawData: new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength) }));
}

function sums(original: Float32Array, pruned: Float32Array): { signal: number; noise: number } {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < original.length; i++) {
    signal += original[i]! ** 2;
    noise += (original[i]! - pruned[i]!) ** 2;
  }
  return { signal, noise };
}

/** The reduction axis along which N:M groups run: rows of K for Conv / Gemm(transB), columns for MatMul [K, N]. */
function reductionView(entry: CatalogEntry, node: NodeProto): NMView | undefined {
  const shape = entry.shape;
  if (node.opType === 'Conv') {
    const k = shape.slice(1).reduce((a, b) => a * b, 1);
    return { lines: shape[0]!, length: k, lineStride: k, kStride: 1 };
  }
  if (shape.length !== 2) return undefined;
  const [d0, d1] = shape as [number, number];
  const kFirst = node.opType === 'MatMul' || (node.opType === 'Gemm' && !getInt(node, 'transB', 0));
  return kFirst ? { lines: d1, length: d0, lineStride: 1, kStride: d1 } : { lines: d0, length: d1, lineStride: d1, kStride: 1 };
}

async function onDevice<T>(backend: KernelBackend, values: Float32Array, run: (kernels: PruneKernels, t: DeviceTensor) => Promise<T>): Promise<T> {
  const b = backend.prune ? backend : referenceBackend;
  const t = await b.upload(values);
  try {
    return await run(b.prune!, t);
  } finally {
    t.dispose();
  }
}

export interface Candidate {
  entry: CatalogEntry;
  layer: string;
  op: string;
  node: NodeProto;
  sparsity: number;
}

/** The weights `recipe` prunes, in graph order; the others are reported to `layers` with the reason, when given. */
export function pruneCandidates(catalog: TensorCatalog, recipe: PruneRecipe, layers?: PruneLayerReport[]): Candidate[] {
  const out: Candidate[] = [];
  for (const entry of catalog.entries) {
    const role = tensorRole(entry, catalog);
    if (role.kind !== 'weight') continue;
    const use = role.use;
    const op = use.op;
    const layer = use.nodeLabel;
    const skip = (reason: string) =>
      layers?.push({ entryId: entry.id, name: entry.name, layer, op, pattern: recipe.pattern, action: 'skip', reason, sparsity: 0, paramsBefore: entry.elements, paramsAfter: entry.elements, relError: 0, sqnrDb: Infinity });
    if (entry.dataType !== DataType.FLOAT) skip('not a float32 weight');
    else if (!PRUNABLE_OPS.has(op) || use.path.length > 0) skip(use.path.length > 0 ? `reaches ${op} through ${use.path.join(' → ')}: not pruned` : `${op} weights are not pruned`);
    else if (excludedBecause(recipe.exclude, entry.name, layer)) skip(excludedBecause(recipe.exclude, entry.name, layer)!);
    else if (recipe.excludeOps.includes(op)) skip(`${op} layers excluded`);
    else {
      const override = recipe.overrides.find((o) => matchesAny([o.match], entry.name, layer));
      out.push({ entry, layer, op, node: use.node, sparsity: override?.sparsity ?? recipe.sparsity });
    }
  }
  return out;
}

export interface PruneOptions {
  backend?: KernelBackend;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

async function checkpoint(options: PruneOptions, done: number, total: number): Promise<void> {
  options.onProgress?.(done, total);
  await new Promise((r) => setTimeout(r, 0)); // let a worker see a cancel between layers
  if (options.signal?.aborted) throw new DOMException('Pruning cancelled', 'AbortError');
}

async function pruneMasks(work: EditableModel, recipe: PruneRecipe, layers: PruneLayerReport[], backend: KernelBackend, options: PruneOptions): Promise<void> {
  const list = pruneCandidates(work.catalog, recipe, layers);
  const originals = await Promise.all(list.map((c) => work.read(c.entry)));
  const counts =
    recipe.pattern === 'unstructured' && recipe.global
      ? await globalPruneCountsOn(backend, originals, recipe.sparsity, recipe.layerCap)
      : list.map((c, i) => Math.floor(c.sparsity * originals[i]!.length));
  for (const [i, c] of list.entries()) {
    await checkpoint(options, i, list.length);
    const original = originals[i]!;
    let pruned: Float32Array;
    if (recipe.pattern === 'unstructured') {
      // The k-th magnitude by a host quickselect (cheaper than a kernel round trip for one layer; the global
      // pool above uses the selection kernels), the mask on the kernels, exact ties on the host.
      const k = counts[i]!;
      if (k > 0) {
        const abs = new Float32Array(original.length);
        for (let j = 0; j < abs.length; j++) abs[j] = Math.abs(original[j]!);
        const threshold = selectKth(abs, k - 1);
        pruned = (await onDevice(backend, original, (kern, t) => kern.maskBelow(t, threshold))).values;
        zeroTies(pruned, k, threshold);
      } else pruned = Float32Array.from(original);
    } else {
      const [n, m] = recipe.pattern === '2:4' ? [2, 4] : [4, 8];
      const view = reductionView(c.entry, c.node);
      if (!view) {
        layers.push({ entryId: c.entry.id, name: c.entry.name, layer: c.layer, op: c.op, pattern: recipe.pattern, action: 'skip', reason: 'no reduction axis for N:M groups', sparsity: 0, paramsBefore: c.entry.elements, paramsAfter: c.entry.elements, relError: 0, sqnrDb: Infinity });
        continue;
      }
      pruned = (await onDevice(backend, original, (kern, t) => kern.nmMask(t, view, n, m))).values;
    }
    setValues(c.entry, pruned);
    const zeros = countZeros(pruned);
    const { signal, noise } = sums(original, pruned);
    const err = errorFromSums(signal, noise);
    layers.push({ entryId: c.entry.id, name: c.entry.name, layer: c.layer, op: c.op, pattern: recipe.pattern, action: 'prune', sparsity: zeros / pruned.length, paramsBefore: pruned.length, paramsAfter: pruned.length - zeros, ...err });
  }
}

/** Slices `values` (shape `dims`) to `keep` along `axis`. */
function sliceAxis(values: Float32Array, dims: number[], axis: number, keep: number[]): Float32Array {
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const D = dims[axis]!;
  const out = new Float32Array(outer * keep.length * inner);
  let at = 0;
  for (let o = 0; o < outer; o++) for (const k of keep) out.set(values.subarray((o * D + k) * inner, (o * D + k + 1) * inner), at), (at += inner);
  return out;
}

async function pruneChannels(work: EditableModel, recipe: PruneRecipe, layers: PruneLayerReport[], warnings: string[], backend: KernelBackend, options: PruneOptions): Promise<void> {
  const catalog = work.catalog;
  const outputs = new Set(work.model.graph!.output.map((o) => o.name));
  const groups = channelGroups(catalog, outputs);
  const wanted = new Map(pruneCandidates(catalog, recipe, layers).map((c) => [c.entry, c]));
  // Per tensor, per axis: the indices kept.
  const slices = new Map<CatalogEntry, Map<number, number[]>>();
  const kept = new Map<ChannelGroup, number[]>();
  for (const [gi, g] of groups.entries()) {
    await checkpoint(options, gi, groups.length);
    const c = wanted.get(g.weight);
    if (!c) continue;
    wanted.delete(g.weight);
    const layer = c.layer;
    const base = { entryId: g.weight.id, name: g.weight.name, layer, op: g.op, pattern: recipe.pattern, paramsBefore: g.weight.elements, channelsBefore: g.channels };
    if (g.blocked) {
      layers.push({ ...base, action: 'skip', reason: `left alone: ${g.blocked}`, sparsity: 0, paramsAfter: g.weight.elements, channelsAfter: g.channels, relError: 0, sqnrDb: Infinity });
      continue;
    }
    const values = await work.read(g.weight);
    const axis = g.edits[0]!.axis;
    const dims = g.weight.shape;
    const layout = { outer: dims.slice(0, axis).reduce((a, b) => a * b, 1), channels: g.channels, inner: dims.slice(axis + 1).reduce((a, b) => a * b, 1) };
    const norms = await onDevice(backend, values, (kern, t) => kern.channelNorms(t, layout, recipe.norm));
    const keep = channelsToKeep(norms, c.sparsity);
    kept.set(g, keep);
    let removed = 0;
    let total = 0;
    norms.forEach((n, ch) => {
      const e = recipe.norm === 'l2' ? n * n : n;
      total += e;
      if (!keep.includes(ch)) removed += e;
    });
    for (const edit of g.edits) {
      const indices = edit.repeat === 1 ? keep : keep.flatMap((ch) => Array.from({ length: edit.repeat }, (_, j) => ch * edit.repeat + j));
      const perAxis = slices.get(edit.entry) ?? new Map<number, number[]>();
      const prior = perAxis.get(edit.axis);
      if (prior && prior.join() !== indices.join()) throw new Error(`two channel groups disagree on ${edit.entry.name} axis ${edit.axis}`);
      perAxis.set(edit.axis, indices);
      slices.set(edit.entry, perAxis);
    }
    const rel = recipe.norm === 'l2' && total > 0 ? Math.sqrt(removed / total) : total > 0 ? removed / total : 0;
    layers.push({ ...base, action: 'prune', sparsity: 1 - keep.length / g.channels, paramsAfter: 0, channelsAfter: keep.length, relError: rel, sqnrDb: rel > 0 ? -20 * Math.log10(rel) : Infinity });
  }
  for (const c of wanted.values()) {
    layers.push({ entryId: c.entry.id, name: c.entry.name, layer: c.layer, op: c.op, pattern: recipe.pattern, action: 'skip', reason: 'not the weight of a Conv (group 1), Gemm or MatMul that produces channels', sparsity: 0, paramsBefore: c.entry.elements, paramsAfter: c.entry.elements, relError: 0, sqnrDb: Infinity });
  }
  // Apply every slice once per tensor, axis by axis.
  for (const [entry, perAxis] of slices) {
    let values = await work.read(entry);
    let dims = [...entry.shape];
    for (const [axis, keep] of perAxis) {
      values = sliceAxis(values, dims, axis, keep);
      dims[axis] = keep.length;
    }
    setValues(entry, values, dims);
  }
  for (const [g, keep] of kept) {
    for (const dw of g.depthwise) {
      const attr = dw.attribute.find((a) => a.name === 'group')!;
      attr.i = BigInt(keep.length);
    }
  }
  // Weight elements after all slices (a consumer's input slice shrinks a left-alone layer too).
  for (const l of layers) {
    const e = catalog.entries.find((x) => x.name === l.name);
    if (e) l.paramsAfter = e.tensor.dims.reduce((a, b) => a * Number(b), 1);
  }
  const blocked = layers.filter((l) => l.action === 'skip' && l.reason?.startsWith('left alone'));
  if (blocked.length) warnings.push(`${blocked.length} layer${blocked.length > 1 ? 's' : ''} left unpruned where removing channels could not be proven safe (see reasons).`);
  // Value infos that named the old channel counts would now lie: drop intermediate ones, onnxruntime infers them.
  for (const info of catalog.graphs) info.graph.valueInfo = [];
}

/** Prunes the model being edited per the recipe (in place); returns what was removed. */
export async function pruneEditable(work: EditableModel, recipe: PruneRecipe, options: PruneOptions = {}): Promise<PruneReport> {
  const backend = options.backend ?? referenceBackend;
  const layers: PruneLayerReport[] = [];
  const warnings: string[] = [];
  const before = countMacs(work.model);
  if (recipe.pattern === 'channel') await pruneChannels(work, recipe, layers, warnings, backend, options);
  else await pruneMasks(work, recipe, layers, backend, options);
  if (recipe.pattern !== 'channel' && recipe.pattern !== 'unstructured') warnings.push(`${recipe.pattern} keeps ${recipe.pattern === '2:4' ? 2 : 4} of every ${recipe.pattern === '2:4' ? 4 : 8} weights along the input axis: sparsity is fixed at 50%.`);
  if (recipe.pattern !== 'channel') warnings.push('Zeroed weights are still stored: a dense ONNX file does not shrink until it is compressed (zip) or quantized.');
  const after = countMacs(work.model);
  const macsOf = (list: NodeMacs[]) => new Map(list.map((m) => [m.node, m.macs]));
  const [mb, ma] = [macsOf(before.nodes), macsOf(after.nodes)];
  for (const l of layers) {
    l.macsBefore = mb.get(l.layer);
    l.macsAfter = ma.get(l.layer);
  }
  const zeros = layers.reduce((n, l) => n + (l.action === 'prune' && l.pattern !== 'channel' ? Math.round(l.sparsity * l.paramsBefore) : 0), 0);
  return { layers, paramsBefore: layers.reduce((n, l) => n + l.paramsBefore, 0), paramsAfter: layers.reduce((n, l) => n + l.paramsAfter, 0), zeros, macsBefore: before.total, macsAfter: after.total, warnings };
}
