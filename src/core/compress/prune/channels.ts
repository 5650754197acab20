/**
 * Structured channel pruning by channel groups: the dependency analysis (./depgraph.ts) says which channels move
 * together; each group's channels are ranked by importance (the sum, or mean, of the L1/L2 norms of every member
 * weight's slice of that channel, computed on the kernels); the least important go from every member at once —
 * producers' weight rows, consumers' weight columns, biases, normalization parameters, broadcast constants — and
 * the counts that attributes and shape constants name follow. Groups that reach something the analysis cannot
 * rewrite, or that hold an excluded layer, are kept whole with the reason.
 */
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';
import { replaceTensor, type CatalogEntry } from '../../onnx/catalog';
import type { EditableModel } from '../../onnx/editable';
import { allGraphs } from '../../onnx/graph-edit';
import { inferShapes } from '../../analysis/shapes';
import { countMacs } from '../../analysis/macs';
import { excludedBecause, matchesAny, type PruneRecipe } from '../../recipe';
import { DataType } from '../../tensor/dtypes';
import { floatToBf16Bits, floatToFp16Bits } from '../../tensor/codecs';
import type { KernelBackend } from '../../../kernels/types';
import { referenceBackend } from '../../../kernels/ts/reference';
import { analyzeChannels, type ChannelAnalysis, type ChannelGroup, type MemberRole, type TensorSlice } from './depgraph';
import { globalKeptCounts, keptCount, roundKept, roundingStep, topIndices } from './select';

export interface PruneGroupMember {
  /** The layer (node) and its op. */
  layer: string;
  op: string;
  /** The stored tensor cut, and along which axis. */
  tensor: string;
  axis: number;
  /** produces: the layer makes these channels; follows: a depthwise Conv carries them; reads: a consumer's weight columns; scales: biases, normalization parameters, broadcast constants. */
  role: MemberRole;
  /** Indices of its axis in this group. */
  channels: number;
}

export interface PruneGroupReport {
  /** 1-based, in graph order of the first producer. */
  id: number;
  label: string;
  action: 'prune' | 'keep';
  /** Why the group is kept whole. */
  reason?: string;
  members: PruneGroupMember[];
  channelsBefore: number;
  channelsAfter: number;
  /** The share of channels asked for (per group or, with global ranking, across groups). */
  targetSparsity: number;
  /** The kept count is a multiple of this (16 for groups of 64+ channels, 8 for 32+, 4 for 16+; see select.ts). */
  roundedTo?: number;
  /** Sum of the channel importances, and the part removed. */
  importance: number;
  removedImportance: number;
  /** Channel importances: kept channels first, then removed ones, each in descending order (empty when kept whole). */
  channelImportance: number[];
  /**
   * Parameters of the member tensors before → after pruning this group alone (a layer between two groups counts in
   * both; the model's totals are in the report).
   */
  paramsBefore: number;
  paramsAfter: number;
  /** MACs of the member layers for one input, before → after pruning this group alone, when shapes are known. */
  macsBefore?: number;
  macsAfter?: number;
}

export interface ChannelPruneResult {
  groups: PruneGroupReport[];
  analysis: ChannelAnalysis;
  /** Per producer / depthwise weight: channels before → after, removed norm share, group ids, why kept. */
  layers: Map<
    CatalogEntry,
    {
      layer: string;
      op: string;
      channelsBefore: number;
      channelsAfter: number;
      relError: number;
      groups: number[];
      kept?: { reason: string; excluded: boolean };
    }
  >;
  warnings: string[];
}

export interface ChannelPruneOptions {
  backend?: KernelBackend;
  checkpoint?: (done: number, total: number) => Promise<void>;
  /** Each cut tensor before it is rewritten: its original values and dims, and the indices kept per cut axis (the refit reads them). */
  onCut?: (entry: CatalogEntry, original: Float32Array, dims: number[], cuts: { axis: number; keep: number[] }[]) => void;
}

const WEIGHT_ROLES = new Set<MemberRole>(['produces', 'follows', 'reads']);
const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Prunes the model's channel groups in place per the recipe (pattern 'channel'). */
export async function pruneChannelGroups(work: EditableModel, recipe: PruneRecipe, options: ChannelPruneOptions = {}): Promise<ChannelPruneResult> {
  const backend = options.backend ?? referenceBackend;
  const checkpoint = options.checkpoint ?? (async () => undefined);
  const catalog = work.catalog;
  const shapes = inferShapes(work.model, {}, catalog);
  const analysis = analyzeChannels(work.model, catalog, shapes);
  const { groups, componentOf } = analysis;
  const warnings: string[] = [];

  // Exclusions keep the whole group of an excluded producer (or depthwise Conv).
  const excluded = new Map<ChannelGroup, string>();
  for (const g of groups) {
    if (g.blocked) continue;
    for (const m of g.members) {
      if (m.slice.role !== 'produces' && m.slice.role !== 'follows') continue;
      const why =
        excludedBecause(recipe.exclude, m.slice.entry.name, m.slice.layer) ??
        (recipe.excludeOps.includes(m.slice.op) ? `${m.slice.op} layers excluded` : undefined);
      if (why) {
        excluded.set(g, `${m.slice.layer} is ${why.startsWith('excluded') ? why : `left out (${why})`}: its whole group is kept`);
        break;
      }
    }
  }
  const prunable = groups.filter((g) => !g.blocked && !excluded.has(g));
  const inPrunable = new Uint8Array(analysis.componentCount);
  for (const g of prunable) for (const c of g.components) inPrunable[c] = 1;

  // Importance: per member weight slice, the norm of each channel's slice (channels repeated along an axis — a
  // Flatten into a Gemm, a depthwise multiplier — are one slice), summed (or averaged) over the members.
  const importance = new Float64Array(analysis.componentCount);
  const members = new Float64Array(analysis.componentCount);
  const ownNorms = new Map<TensorSlice, Float64Array>();
  const weightSlices = analysis.slices.filter((s) => WEIGHT_ROLES.has(s.role) && s.ids.some((e) => inPrunable[componentOf(e)]));
  const values = new Map<CatalogEntry, Float32Array>();
  const read = async (entry: CatalogEntry) => values.get(entry) ?? (values.set(entry, await work.read(entry)), values.get(entry)!);
  for (const [i, s] of weightSlices.entries()) {
    await checkpoint(i, weightSlices.length + prunable.length);
    const v = await read(s.entry);
    const dims = s.entry.shape;
    const layout = { outer: product(dims.slice(0, s.axis)), channels: dims[s.axis]!, inner: product(dims.slice(s.axis + 1)) };
    const b = backend.prune ? backend : referenceBackend;
    const t = await b.upload(v);
    let norms: Float64Array;
    try {
      norms = await b.prune!.channelNorms(t, layout, recipe.norm);
    } finally {
      t.dispose();
    }
    if (s.role === 'produces' || s.role === 'follows') ownNorms.set(s, norms);
    const acc = new Map<number, number>();
    s.ids.forEach((e, k) => {
      const c = componentOf(e);
      const n = norms[k]!;
      acc.set(c, (acc.get(c) ?? 0) + (recipe.norm === 'l1' ? n : n * n));
    });
    for (const [c, a] of acc) {
      importance[c] += recipe.norm === 'l1' ? a : Math.sqrt(a);
      members[c]++;
    }
  }
  if (recipe.groupImportance === 'mean') for (let c = 0; c < importance.length; c++) if (members[c]! > 0) importance[c] = importance[c]! / members[c]!;

  // Selection.
  const kept = new Uint8Array(analysis.componentCount).fill(1);
  // A layer's own share (an override matching its weight or name) applies to its group; when the producing layers of
  // a group ask for different shares, the smallest wins (a layer protected at 0 % keeps its whole group).
  const sparsityOf = (g: ChannelGroup) => {
    const asked = g.producers.flatMap((p) => {
      const o = recipe.overrides.find((x) => matchesAny([x.match], p.weight.name, p.layer));
      return o ? [o.sparsity] : [];
    });
    return asked.length ? Math.min(...asked) : recipe.sparsity;
  };
  const groupImportance = (g: ChannelGroup) => g.components.map((c) => importance[c]!);
  const counts = recipe.global
    ? globalKeptCounts(prunable.map(groupImportance), recipe.sparsity, recipe.layerCap).map((k, i) => roundKept(prunable[i]!.components.length, k))
    : prunable.map((g) => keptCount(g.components.length, sparsityOf(g)));
  prunable.forEach((g, i) => {
    const keep = new Set(topIndices(groupImportance(g), counts[i]!));
    g.components.forEach((c, k) => (kept[c] = keep.has(k) ? 1 : 0));
  });
  // No Split output or Slice may go empty: keep its most important channel.
  for (const range of analysis.ranges) {
    const comps = [...new Set(Array.from(range, componentOf))];
    if (comps.length === 0 || comps.some((c) => kept[c])) continue;
    const best = comps.reduce((a, b) => (importance[b]! > importance[a]! ? b : a));
    kept[best] = 1;
  }
  const keptElement = (e: number) => kept[componentOf(e)] === 1;

  // Rewrite: each cut tensor once, axis by axis; then the counts attributes and shape constants name.
  const before = countMacs(work.model, {}, catalog);
  const elementsBefore = new Map<CatalogEntry, number>();
  const byEntry = new Map<CatalogEntry, TensorSlice[]>();
  for (const s of analysis.slices) byEntry.set(s.entry, [...(byEntry.get(s.entry) ?? []), s]);
  for (const [entry, list] of byEntry) {
    elementsBefore.set(entry, entry.elements);
    const cuts = list.map((s) => ({ axis: s.axis, keep: keptIndices(s.ids, keptElement) })).filter((c) => c.keep.length < entry.shape[c.axis]!);
    if (cuts.length === 0) continue;
    let v = await read(entry);
    const dims = [...entry.shape];
    options.onCut?.(entry, v, [...dims], cuts);
    for (const c of cuts) {
      v = sliceAxis(v, dims, c.axis, c.keep);
      dims[c.axis] = c.keep.length;
    }
    writeValues(entry, v, dims);
  }
  const graph = work.model.graph!;
  const retired = new Set<string>();
  for (const edit of analysis.edits) edit.apply(keptElement, { graph, names: work.names, retired });
  removeUnread(work, retired);
  // Initializers old exporters also list as graph inputs: their declared shapes follow.
  for (const input of graph.input) {
    const entry = [...byEntry.keys()].find((e) => e.name === input.name && e.graphPath === 'main');
    const shape = input.type?.value.case === 'tensorType' ? input.type.value.value.shape : undefined;
    if (entry && shape) shape.dim.forEach((d, i) => (d.value = { case: 'dimValue', value: BigInt(entry.shape[i]!) }));
  }
  // Value infos that named the old channel counts would now lie: drop the intermediate ones (onnxruntime infers them).
  for (const info of catalog.graphs) info.graph.valueInfo = [];

  // Reports.
  const macsBefore = new Map(before.nodes.map((m) => [m.node, m.macs]));
  const reports: PruneGroupReport[] = groups.map((g) => {
    const reason = g.blocked ?? excluded.get(g);
    const imp = groupImportance(g);
    const keptHere = g.components.map((c) => kept[c] === 1);
    const order = (want: boolean) => imp.filter((_, k) => keptHere[k] === want).sort((a, b) => b - a);
    const pruning = !reason;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    // This group alone: each member tensor keeps (its indices kept or outside the group) / (all) along each cut axis.
    const mine = new Set(g.components);
    const share = new Map<TensorSlice, number>();
    for (const m of g.members) {
      let gone = 0;
      for (const e of m.slice.ids) if (mine.has(componentOf(e)) && !keptElement(e)) gone++;
      share.set(m.slice, 1 - gone / m.slice.ids.length);
    }
    const tensorShare = new Map<CatalogEntry, number>();
    const layerShare = new Map<string, number>();
    for (const [slice, f] of share) {
      tensorShare.set(slice.entry, (tensorShare.get(slice.entry) ?? 1) * f);
      if (WEIGHT_ROLES.has(slice.role)) layerShare.set(slice.layer, (layerShare.get(slice.layer) ?? 1) * f);
    }
    const paramsBefore = sum([...tensorShare.keys()].map((e) => elementsBefore.get(e)!));
    const paramsAfter = Math.round(sum([...tensorShare].map(([e, f]) => elementsBefore.get(e)! * f)));
    let macs: [number, number] | undefined = [0, 0];
    for (const [layer, f] of layerShare) {
      const m = macsBefore.get(layer);
      if (m === undefined) macs = undefined;
      else if (macs) macs = [macs[0] + m, macs[1] + m * f];
    }
    return {
      id: g.id,
      label: g.label,
      action: pruning ? 'prune' : 'keep',
      ...(reason ? { reason } : {}),
      members: g.members.map((m) => ({
        layer: m.slice.layer,
        op: m.slice.op,
        tensor: m.slice.entry.name,
        axis: m.slice.axis,
        role: m.slice.role,
        channels: m.channels,
      })),
      channelsBefore: g.components.length,
      channelsAfter: keptHere.filter(Boolean).length,
      targetSparsity: pruning ? (recipe.global ? recipe.sparsity : sparsityOf(g)) : 0,
      ...(pruning && roundingStep(g.components.length) > 1 ? { roundedTo: roundingStep(g.components.length) } : {}),
      importance: pruning ? sum(imp) : 0,
      removedImportance: pruning ? sum(imp.filter((_, k) => !keptHere[k])) : 0,
      channelImportance: pruning ? [...order(true), ...order(false)] : [],
      paramsBefore,
      paramsAfter,
      ...(macs ? { macsBefore: macs[0], macsAfter: Math.round(macs[1]) } : {}),
    };
  });

  const layers: ChannelPruneResult['layers'] = new Map();
  const groupsOfSlice = (s: TensorSlice) => groups.filter((g) => g.members.some((m) => m.slice === s));
  for (const s of analysis.slices) {
    if (s.role !== 'produces' && s.role !== 'follows') continue;
    const gs = groupsOfSlice(s);
    const norms = ownNorms.get(s);
    let removed = 0;
    let total = 0;
    let channelsAfter = 0;
    s.ids.forEach((e, k) => {
      const n = norms ? (recipe.norm === 'l2' ? norms[k]! ** 2 : norms[k]!) : 0;
      total += n;
      if (keptElement(e)) channelsAfter++;
      else removed += n;
    });
    const rel = total > 0 ? (recipe.norm === 'l2' ? Math.sqrt(removed / total) : removed / total) : 0;
    if (layers.has(s.entry)) continue;
    const open = gs.filter((g) => !g.blocked && !excluded.has(g));
    const first = gs[0];
    layers.set(s.entry, {
      layer: s.layer,
      op: s.op,
      channelsBefore: s.ids.length,
      channelsAfter,
      relError: rel,
      groups: gs.map((g) => g.id),
      ...(open.length === 0 && first
        ? { kept: excluded.has(first) ? { reason: excluded.get(first)!, excluded: true } : { reason: first.blocked ?? 'kept', excluded: false } }
        : {}),
    });
  }
  const keptWhole = groups.filter((g) => g.blocked).length;
  if (keptWhole)
    warnings.push(`${keptWhole} channel group${keptWhole > 1 ? 's' : ''} kept whole where removing channels could not be proven safe (see reasons).`);
  return { groups: reports, analysis, layers, warnings };
}

/** Drops the retired constants (initializers or Constant nodes of the main graph) that no node or output reads any more. */
function removeUnread(work: EditableModel, retired: Set<string>): void {
  if (retired.size === 0) return;
  const read = new Set<string>();
  for (const { graph } of allGraphs(work.model)) {
    for (const n of graph.node) for (const i of n.input) read.add(i);
    for (const o of graph.output) read.add(o.name);
  }
  const graph = work.model.graph!;
  const gone = (name: string) => retired.has(name) && !read.has(name);
  graph.initializer = graph.initializer.filter((t) => !gone(t.name));
  graph.node = graph.node.filter((n) => !(n.opType === 'Constant' && n.output.length === 1 && gone(n.output[0]!)));
}

function keptIndices(ids: Int32Array, kept: (e: number) => boolean): number[] {
  const out: number[] = [];
  ids.forEach((e, i) => {
    if (kept(e)) out.push(i);
  });
  return out;
}

/** Slices `values` (shape `dims`) to `keep` along `axis`. */
export function sliceAxis(values: Float32Array, dims: number[], axis: number, keep: number[]): Float32Array {
  const outer = product(dims.slice(0, axis));
  const inner = product(dims.slice(axis + 1));
  const D = dims[axis]!;
  const out = new Float32Array(outer * keep.length * inner);
  let at = 0;
  for (let o = 0; o < outer; o++)
    for (const k of keep) {
      out.set(values.subarray((o * D + k) * inner, (o * D + k + 1) * inner), at);
      at += inner;
    }
  return out;
}

/** Stores float values in the entry's own float type (float32, float16 or bfloat16). */
export function writeValues(entry: CatalogEntry, values: Float32Array, dims: number[]): void {
  let raw: Uint8Array<ArrayBuffer>;
  if (entry.dataType === DataType.FLOAT16) raw = new Uint8Array(Uint16Array.from(values, floatToFp16Bits).buffer);
  else if (entry.dataType === DataType.BFLOAT16) raw = new Uint8Array(Uint16Array.from(values, floatToBf16Bits).buffer);
  else raw = new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
  replaceTensor(entry, create(TensorProtoSchema, { dataType: entry.dataType, dims: dims.map(BigInt), rawData: raw }));
}
