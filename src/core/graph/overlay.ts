/**
 * Overlays: one number (or category) per graph node from the current results, with a colour for each node and a
 * legend. Nodes without a measurement get no colour (the view draws them grey, "not measured").
 */
import { matchesAny, type Recipe } from '../recipe';
import type { ModelGraph } from './model';

export type OverlayKind = 'none' | 'bytes' | 'sqnr' | 'sparsity' | 'status' | 'sensitivity' | 'teacher' | 'cpu';

export const OVERLAYS: { kind: OverlayKind; label: string }[] = [
  { kind: 'none', label: 'None' },
  { kind: 'bytes', label: 'Weight bytes' },
  { kind: 'sqnr', label: 'Quantization error (SQNR)' },
  { kind: 'sparsity', label: 'Sparsity' },
  { kind: 'status', label: 'Excluded / overridden' },
  { kind: 'sensitivity', label: 'Sensitivity rank' },
  { kind: 'teacher', label: 'Teacher–student layer error' },
  { kind: 'cpu', label: 'CPU fallback on WebGPU' },
];

/** The per-weight results an overlay reads (the compress result and the lab's measurements, when present). */
export interface OverlaySources {
  /** Tensor bytes by catalog id. */
  tensorBytes: (id: number) => number;
  tensorName: (id: number) => string | undefined;
  /** The recipe the results below belong to. */
  recipe?: Recipe | null;
  quantize?: { entryId: number; name: string; layer: string; action: string; reason?: string; sqnrDb?: number; gptq?: { layerSqnrDb: number } }[];
  prune?: { entryId: number; name: string; layer: string; action: string; reason?: string; sparsity: number }[];
  /** Sensitivity scan: damage per weight name (higher = more sensitive). */
  sensitivity?: { name: string; damage: number }[] | null;
  /** Evaluation on WebGPU: the original model's nodes onnxruntime placed on the CPU, as "name (OpType)". */
  cpuNodes?: string[] | null;
}

export type Legend =
  | { type: 'none'; note?: string }
  | {
      type: 'scale';
      label: string;
      unit: string;
      min: number;
      max: number;
      stops: string[];
      lowLabel: string;
      highLabel: string;
      measured: number;
      note?: string;
    }
  | { type: 'categories'; label: string; items: { label: string; color: string; count: number }[] };

export interface Overlay {
  kind: OverlayKind;
  /** Value per model node id; NaN where not measured (or not applicable). */
  values: Float64Array;
  /** Colour per model node id; null where not measured. */
  colors: (string | null)[];
  legend: Legend;
  /** How a value reads to a person, e.g. "31.2 dB". */
  format: (value: number) => string;
}

/** A colour-blind-safe sequential scale (viridis samples): low → high. */
export const SCALE = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];

export function scaleColor(t: number, stops: readonly string[] = SCALE): string {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i;
  const a = hex(stops[i]!);
  const b = hex(stops[i + 1]!);
  const mix = (k: number) => Math.round(a[k]! + (b[k]! - a[k]!) * f);
  return `#${[mix(0), mix(1), mix(2)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Black or white, whichever reads better on `fill` (a #rrggbb colour). */
export function textOn(fill: string): string {
  const [r, g, b] = hex(fill);
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b! > 140 ? '#111111' : '#ffffff';
}

function hex(c: string): number[] {
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 ** 2).toFixed(2)} MB`;
}

const STATUS = [
  { label: 'Compressed', color: '#21918c' },
  { label: 'Overridden', color: '#e8590c' },
  { label: 'Excluded', color: '#c92a2a' },
  { label: 'Not compressed', color: '#868e96' },
];

export function computeOverlay(graph: ModelGraph, kind: OverlayKind, src: OverlaySources): Overlay {
  const n = graph.nodes.length;
  const values = new Float64Array(n).fill(NaN);
  const colors: (string | null)[] = new Array<string | null>(n).fill(null);
  const byWeight = <T extends { entryId: number }>(rows: T[] | undefined) => new Map((rows ?? []).map((r) => [r.entryId, r]));
  /** Per node: the worst (or summed) value over the weights it reads. */
  const fold = (pick: (tensorId: number) => number | undefined, combine: (a: number, b: number) => number) => {
    for (const node of graph.nodes) {
      let v = NaN;
      for (const w of node.weights) {
        const x = pick(w);
        if (x === undefined || !Number.isFinite(x)) continue;
        v = Number.isNaN(v) ? x : combine(v, x);
      }
      values[node.id] = v;
    }
  };
  let legend: Legend = { type: 'none' };
  let format = (v: number) => String(v);
  const scale = (label: string, unit: string, lowLabel: string, highLabel: string, invert = false, note?: string, log = false) => {
    let min = Infinity;
    let max = -Infinity;
    let measured = 0;
    for (const v of values) {
      if (Number.isNaN(v)) continue;
      min = Math.min(min, v);
      max = Math.max(max, v);
      measured++;
    }
    if (!measured) {
      legend = { type: 'none', note: note ?? `${label}: not measured` };
      return;
    }
    // Sizes span orders of magnitude (a 4-byte scale next to a 1 MB matrix): those are coloured by their logarithm.
    const t = log && min > 0 ? (v: number) => Math.log(v / min) / (Math.log(max / min) || 1) : (v: number) => (v - min) / (max - min || 1);
    values.forEach((v, i) => {
      if (!Number.isNaN(v)) colors[i] = scaleColor(invert ? 1 - t(v) : t(v));
    });
    legend = { type: 'scale', label, unit, min, max, stops: invert ? [...SCALE].reverse() : SCALE, lowLabel, highLabel, measured };
  };

  switch (kind) {
    case 'none':
      break;
    case 'bytes':
      for (const node of graph.nodes) if (node.weightBytes > 0) values[node.id] = node.weightBytes;
      format = formatBytes;
      scale('Weight bytes', 'bytes, log scale', 'small', 'large', false, undefined, true);
      break;
    case 'sqnr': {
      const rows = byWeight(src.quantize?.filter((r) => r.action === 'quantize'));
      fold((w) => rows.get(w)?.sqnrDb, Math.min);
      format = (v) => `${v.toFixed(1)} dB`;
      // Low SQNR = more error: the scale runs from bright (good) to dark (bad) by inverting.
      scale(
        'SQNR of the current recipe',
        'dB',
        'more error',
        'less error',
        false,
        src.quantize ? 'No quantized weights in this result' : 'Quantize is off or no result yet',
      );
      break;
    }
    case 'sparsity': {
      const rows = byWeight(src.prune?.filter((r) => r.action === 'prune'));
      fold((w) => (rows.has(w) ? rows.get(w)!.sparsity * 100 : undefined), Math.max);
      format = (v) => `${v.toFixed(1)} %`;
      scale('Sparsity of the current recipe', '%', 'dense', 'sparse', false, src.prune ? 'No pruned weights in this result' : 'Prune is off or no result yet');
      break;
    }
    case 'teacher': {
      const rows = byWeight(src.quantize?.filter((r) => r.gptq));
      fold((w) => rows.get(w)?.gptq?.layerSqnrDb, Math.min);
      format = (v) => `${v.toFixed(1)} dB`;
      scale('Layer-output SQNR vs teacher (GPTQ)', 'dB', 'more error', 'less error', false, 'Teacher–student error: not measured (run teacher-guided GPTQ)');
      break;
    }
    case 'sensitivity': {
      const ranked = [...(src.sensitivity ?? [])].sort((a, b) => b.damage - a.damage);
      const rankOf = new Map(ranked.map((r, i) => [r.name, i + 1]));
      fold((w) => rankOf.get(src.tensorName(w) ?? ''), Math.min);
      format = (v) => `#${v}`;
      scale(
        'Sensitivity rank (1 = most sensitive)',
        'rank',
        'most sensitive',
        'least sensitive',
        false,
        'Sensitivity: not measured (run the scan in Evaluate)',
      );
      break;
    }
    case 'cpu': {
      if (!src.cpuNodes) {
        legend = { type: 'none', note: 'CPU fallback: not measured (evaluate on WebGPU)' };
        break;
      }
      const onCpu = new Set(src.cpuNodes.map((n) => n.replace(/ \([^()]*\)$/, '')));
      const items = [
        { label: 'On WebGPU', color: '#21918c', count: 0 },
        { label: 'On the CPU', color: '#c92a2a', count: 0 },
      ];
      for (const node of graph.nodes) {
        if (node.kind !== 'op' || node.graph !== 'main') continue;
        const v = onCpu.has(node.name) ? 1 : 0;
        values[node.id] = v;
        colors[node.id] = items[v]!.color;
        items[v]!.count++;
      }
      format = (v) => items[v]?.label ?? '';
      legend = { type: 'categories', label: 'Where onnxruntime-web ran each node (original model)', items };
      break;
    }
    case 'status': {
      const q = byWeight(src.quantize);
      const p = byWeight(src.prune);
      const globs = [...(src.recipe?.quantize?.overrides ?? []).map((o) => o.match), ...(src.recipe?.prune?.overrides ?? []).map((o) => o.match)];
      const statusOf = (w: number): number | undefined => {
        const rows = [q.get(w), p.get(w)].filter((r) => r !== undefined);
        if (!rows.length) return undefined;
        if (rows.some((r) => /excluded/.test(r.reason ?? ''))) return 2;
        if (rows.some((r) => r.action !== 'skip') && matchesAny(globs, rows[0]!.name, rows[0]!.layer) !== undefined) return 1;
        return rows.some((r) => r.action !== 'skip') ? 0 : 3;
      };
      // A node shows the most notable status among its weights: excluded > overridden > compressed > not.
      const rank = [1, 2, 3, 0];
      fold(statusOf, (a, b) => (rank[a]! >= rank[b]! ? a : b));
      const counts = [0, 0, 0, 0];
      values.forEach((v, i) => {
        if (Number.isNaN(v)) return;
        colors[i] = STATUS[v]!.color;
        counts[v]!++;
      });
      format = (v) => STATUS[v]?.label ?? '';
      legend = counts.some((c) => c > 0)
        ? { type: 'categories', label: 'Recipe status', items: STATUS.map((s, i) => ({ ...s, count: counts[i]! })) }
        : { type: 'none', note: 'No compression result yet' };
      break;
    }
  }
  return { kind, values, colors, legend, format };
}
