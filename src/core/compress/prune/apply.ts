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
import { pruneChannelGroups, writeValues, type PruneGroupReport } from './channels';
import { refitCut, type CutWeight, type RefitLayerReport, type RefitOptions } from '../../teacher/refit';
import { referenceBackend } from '../../../kernels/ts/reference';
import type { KernelBackend } from '../../../kernels/types';
import type { NMView, PruneKernels } from '../../../kernels/prune';
import type { DeviceTensor } from '../../../kernels/types';
import { selectKth } from '../../analysis/select';
import { countZeros, globalPruneCountsOn, zeroTies } from './masks';
import type { GptqLayer } from '../../teacher/gptq-layers';
import { sparseGptWeight, type SparseGptOptions, type SparseGptTensorReport } from '../../teacher/sparsegpt';
import { sparseGptQuantizeWeight, type SparseGptQuantTensorReport } from '../../teacher/sparsegpt-quant';
import type { GridSource } from '../../teacher/gptq-layers';

export type { PruneGroupReport, PruneGroupMember } from './channels';

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
  /** The graph the weight lives in ("main", or a subgraph path). */
  graphPath?: string;
  /** Channel pruning: the ids of the channel groups the layer's output channels belong to. */
  groups?: number[];
  /** SparseGPT chose this layer's mask and updated its kept weights (layer-output SQNR on calibration inputs vs magnitude's). */
  sparsegpt?: SparseGptTensorReport | SparseGptQuantTensorReport;
  /** Why a layer was pruned by magnitude although the recipe asked for SparseGPT. */
  note?: string;
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
  /** Channel pruning: the channel groups (channels removed together), with members, importance, parameters and MACs. */
  groups?: PruneGroupReport[];
  /** Channel pruning with a least-squares refit: each consumer layer whose inputs were cut (teacher/refit.ts). */
  refit?: RefitLayerReport[];
}

const PRUNABLE_OPS = new Set(['Conv', 'Gemm', 'MatMul']);

function setValues(entry: CatalogEntry, values: Float32Array, dims: number[] = entry.shape): void {
  replaceTensor(
    entry,
    create(TensorProtoSchema, {
      dataType: DataType.FLOAT,
      dims: dims.map(BigInt),
      rawData: new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength),
    }),
  );
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
      layers?.push({
        entryId: entry.id,
        name: entry.name,
        layer,
        op,
        pattern: recipe.pattern,
        action: 'skip',
        reason,
        sparsity: 0,
        paramsBefore: entry.elements,
        paramsAfter: entry.elements,
        relError: 0,
        sqnrDb: Infinity,
      });
    if (entry.dataType !== DataType.FLOAT) skip('not a float32 weight');
    else if (!PRUNABLE_OPS.has(op) || use.path.length > 0)
      skip(use.path.length > 0 ? `reaches ${op} through ${use.path.join(' → ')}: not pruned` : `${op} weights are not pruned`);
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
  /** SparseGPT: the layers' Hessians by weight name (teacher/gptq-layers.ts `collectHessians`, as for GPTQ) and its options. */
  sparsegpt?: { layers: Map<string, GptqLayer>; options: Omit<SparseGptOptions, 'grid'> };
  /**
   * SparseGPT and quantization in one pass (compress.ts sets it when the recipe also quantizes to integer codes): the
   * grid each weight will be written with (undefined: pruned alone), and the original weights of the ones done jointly
   * (the quantizer's range source, so it writes exactly the joint pass's codes).
   */
  jointQuantize?: {
    gridFor: (name: string, shape: number[], op: string, transB: boolean) => GridSource | undefined;
    originals: Map<string, { original: Float32Array; rangeFrom: Float32Array }>;
  };
  backend?: KernelBackend;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Channel pruning: refit the layers reading the cut channels to the teacher's outputs (least squares). */
  refit?: RefitOptions;
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
        layers.push({
          entryId: c.entry.id,
          name: c.entry.name,
          layer: c.layer,
          op: c.op,
          pattern: recipe.pattern,
          action: 'skip',
          reason: 'no reduction axis for N:M groups',
          sparsity: 0,
          paramsBefore: c.entry.elements,
          paramsAfter: c.entry.elements,
          relError: 0,
          sqnrDb: Infinity,
        });
        continue;
      }
      pruned = (await onDevice(backend, original, (kern, t) => kern.nmMask(t, view, n, m))).values;
    }
    const sparse = recipe.method === 'sparsegpt' ? await sparseGptFor(options, c, original, pruned, recipe.pattern, counts[i]!) : undefined;
    if (sparse && 'adjusted' in sparse) pruned = sparse.adjusted;
    setValues(c.entry, pruned);
    // The mask's zeros: a joint pass also rounds some kept weights to zero, which pruning did not remove.
    const zeros = countZeros((sparse && 'masked' in sparse && sparse.masked) || pruned);
    const { signal, noise } = sums(original, pruned);
    const err = errorFromSums(signal, noise);
    layers.push({
      entryId: c.entry.id,
      name: c.entry.name,
      layer: c.layer,
      op: c.op,
      pattern: recipe.pattern,
      action: 'prune',
      sparsity: zeros / pruned.length,
      paramsBefore: pruned.length,
      paramsAfter: pruned.length - zeros,
      ...err,
      ...(sparse ? ('adjusted' in sparse ? { sparsegpt: sparse.report } : { note: sparse.note }) : {}),
    });
  }
}

/** SparseGPT for one masked layer when it has a Hessian (the magnitude mask `magnitude` feeds its report), else why not. */
async function sparseGptFor(
  options: PruneOptions,
  c: Candidate,
  original: Float32Array,
  magnitude: Float32Array,
  pattern: PruneRecipe['pattern'],
  count: number,
): Promise<{ adjusted: Float32Array; masked?: Float32Array; report: SparseGptTensorReport | SparseGptQuantTensorReport } | { note: string }> {
  const layer = options.sparsegpt?.layers.get(c.entry.name);
  if (!layer || c.entry.graphPath !== 'main' || layer.op !== c.op || layer.shape.join() !== c.entry.shape.join())
    return { note: 'SparseGPT: no calibration inputs reach this layer: pruned by magnitude' };
  const nm = pattern === '2:4' ? { kind: 'nm' as const, n: 2, m: 4 } : pattern === '4:8' ? { kind: 'nm' as const, n: 4, m: 8 } : undefined;
  const source = options.jointQuantize?.gridFor(c.entry.name, c.entry.shape, layer.op, layer.transB);
  if (source) {
    const joint = await sparseGptQuantizeWeight(original, layer, nm ?? { kind: 'unstructured', count }, source, options.sparsegpt!.options, magnitude);
    options.jointQuantize!.originals.set(c.entry.name, { original, rangeFrom: joint.rangeFrom });
    // Its float pass (the grid's range source) prunes the same count, unrounded: zero where the mask is.
    return { adjusted: joint.adjusted, masked: joint.rangeFrom, report: joint.report };
  }
  return sparseGptWeight(original, layer, nm ?? { kind: 'unstructured', count }, options.sparsegpt!.options, magnitude);
}

async function pruneChannels(
  work: EditableModel,
  recipe: PruneRecipe,
  layers: PruneLayerReport[],
  warnings: string[],
  backend: KernelBackend,
  options: PruneOptions,
  refit: RefitLayerReport[] = [],
): Promise<PruneGroupReport[]> {
  const catalog = work.catalog;
  const elementsBefore = new Map(catalog.entries.map((e) => [e, e.elements]));
  const skipped: PruneLayerReport[] = [];
  const candidates = new Set(pruneCandidates(catalog, recipe, skipped).map((c) => c.entry));
  const cut: CutWeight[] = [];
  const result = await pruneChannelGroups(work, recipe, {
    backend,
    checkpoint: (done, total) => checkpoint(options, done, total),
    ...(options.refit ? { onCut: (entry, original, dims, cuts) => cut.push({ name: entry.name, original, dims, cuts }) } : {}),
  });
  warnings.push(...result.warnings);
  if (options.refit) refit.push(...refitConsumers(work, cut, options.refit));
  const skippedById = new Map(skipped.map((l) => [l.entryId, l]));
  for (const entry of catalog.entries) {
    const l = result.layers.get(entry);
    const paramsBefore = elementsBefore.get(entry)!;
    if (l) {
      const kept = l.kept;
      const sparsity = l.channelsBefore > 0 ? 1 - l.channelsAfter / l.channelsBefore : 0;
      layers.push({
        entryId: entry.id,
        name: entry.name,
        graphPath: entry.graphPath,
        layer: l.layer,
        op: l.op,
        pattern: 'channel',
        action: kept ? 'skip' : 'prune',
        ...(kept ? { reason: kept.excluded ? kept.reason : `left alone: ${kept.reason}` } : {}),
        sparsity: kept ? 0 : sparsity,
        paramsBefore,
        paramsAfter: entry.elements,
        channelsBefore: l.channelsBefore,
        channelsAfter: l.channelsAfter,
        relError: kept ? 0 : l.relError,
        sqnrDb: kept || l.relError === 0 ? Infinity : -20 * Math.log10(l.relError),
        groups: l.groups,
      });
    } else if (candidates.has(entry)) {
      const use = tensorRole(entry, catalog);
      const layer = use.kind === 'weight' ? use.use.nodeLabel : entry.name;
      const op = use.kind === 'weight' ? use.use.op : '';
      layers.push({
        entryId: entry.id,
        name: entry.name,
        graphPath: entry.graphPath,
        layer,
        op,
        pattern: 'channel',
        action: 'skip',
        reason: 'its output channels cannot be removed: not the weight of a layer the channel analysis follows',
        sparsity: 0,
        paramsBefore,
        paramsAfter: entry.elements,
        relError: 0,
        sqnrDb: Infinity,
      });
    } else {
      const s = skippedById.get(entry.id);
      if (s) layers.push({ ...s, graphPath: entry.graphPath, paramsAfter: entry.elements });
    }
  }
  work.refresh();
  return result.groups;
}

/** The least-squares refit of every cut weight whose inputs were cut (main graph), written in place. */
function refitConsumers(work: EditableModel, cuts: CutWeight[], options: RefitOptions): RefitLayerReport[] {
  const out: RefitLayerReport[] = [];
  for (const cut of cuts) {
    const entry = work.catalog.entries.find((e) => e.name === cut.name && e.graphPath === 'main');
    if (!entry) continue;
    const { values, report } = refitCut(cut, options.layers.get(cut.name), options.dampening);
    if (report.reason === 'its inputs were not cut') continue;
    if (values) writeValues(entry, values, [...entry.shape]);
    out.push(report);
  }
  return out;
}

/** Prunes the model being edited per the recipe (in place); returns what was removed. */
export async function pruneEditable(work: EditableModel, recipe: PruneRecipe, options: PruneOptions = {}): Promise<PruneReport> {
  const backend = options.backend ?? referenceBackend;
  const layers: PruneLayerReport[] = [];
  const warnings: string[] = [];
  const before = countMacs(work.model);
  const refit: RefitLayerReport[] = [];
  const groups = recipe.pattern === 'channel' ? await pruneChannels(work, recipe, layers, warnings, backend, options, refit) : undefined;
  if (recipe.pattern !== 'channel') await pruneMasks(work, recipe, layers, backend, options);
  if (recipe.pattern !== 'channel' && recipe.pattern !== 'unstructured')
    warnings.push(
      `${recipe.pattern} keeps ${recipe.pattern === '2:4' ? 2 : 4} of every ${recipe.pattern === '2:4' ? 4 : 8} weights along the input axis: sparsity is fixed at 50%.`,
    );
  if (recipe.pattern !== 'channel')
    warnings.push('Zeroed weights are still stored: a dense ONNX file does not shrink until it is compressed (zip) or quantized.');
  const after = countMacs(work.model);
  const macsOf = (list: NodeMacs[]) => new Map(list.map((m) => [m.node, m.macs]));
  const [mb, ma] = [macsOf(before.nodes), macsOf(after.nodes)];
  for (const l of layers) {
    l.macsBefore = mb.get(l.layer);
    l.macsAfter = ma.get(l.layer);
  }
  const zeros = layers.reduce((n, l) => n + (l.action === 'prune' && l.pattern !== 'channel' ? Math.round(l.sparsity * l.paramsBefore) : 0), 0);
  return {
    layers,
    ...(groups ? { groups } : {}),
    ...(options.refit ? { refit } : {}),
    paramsBefore: layers.reduce((n, l) => n + l.paramsBefore, 0),
    paramsAfter: layers.reduce((n, l) => n + l.paramsAfter, 0),
    zeros,
    macsBefore: before.total,
    macsAfter: after.total,
    warnings,
  };
}
