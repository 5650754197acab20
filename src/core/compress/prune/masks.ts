/**
 * Pruning masks (reference implementations).
 *   unstructured — zero the k = ⌊s·n⌋ smallest-magnitude weights (ties broken by element order);
 *   global       — one magnitude threshold across layers, each layer capped at `cap` sparsity;
 *   N:M          — in every run of M consecutive weights along the reduction axis keep the N largest;
 *   channels     — rank output channels by L1 or L2 norm.
 */
import { selectKth } from '../../analysis/select';
import { orderStatistics } from '../../analysis/stats';
import type { KernelBackend } from '../../../kernels/types';

/** |values| into one array (a plain loop: typed-array `from` with a map function is far slower). */
function absOf(layers: Float32Array[]): Float32Array {
  const out = new Float32Array(layers.reduce((n, l) => n + l.length, 0));
  let at = 0;
  for (const l of layers) for (let i = 0; i < l.length; i++) out[at++] = Math.abs(l[i]!);
  return out;
}

/** The k-th smallest magnitude (0-based) over some layers, exact, on a kernel backend (histogram + gather + select). */
export async function magnitudeKth(backend: KernelBackend, layers: Float32Array[], k: number): Promise<number> {
  const abs = absOf(layers);
  const t = await backend.upload(abs);
  try {
    const m = await backend.moments(t);
    return (await orderStatistics(backend, t, m, [k]))[0]!;
  } finally {
    t.dispose();
  }
}

/** Zeroes the k smallest |w| given the k-th smallest magnitude (ties in element order), in place. */
export function pruneBelow(values: Float32Array, k: number, threshold: number): number {
  let removed = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]!) < threshold) (values[i] = 0), removed++;
  for (let i = 0; i < values.length && removed < k; i++) if (Math.abs(values[i]!) === threshold && values[i] !== 0) (values[i] = 0), removed++;
  return countZeros(values);
}

/** Zeroes the k weights of smallest |w| (ties in element order), in place; returns how many are zero now. */
export function pruneSmallest(values: Float32Array, k: number): number {
  k = Math.min(values.length, Math.max(0, Math.floor(k)));
  if (k <= 0) return countZeros(values);
  const abs = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) abs[i] = Math.abs(values[i]!);
  const threshold = selectKth(abs, k - 1);
  let removed = 0;
  // Everything strictly below the threshold goes, then ties in element order until k are gone.
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]!) < threshold) (values[i] = 0), removed++;
  for (let i = 0; i < values.length && removed < k; i++) if (Math.abs(values[i]!) === threshold && values[i] !== 0) (values[i] = 0), removed++;
  for (let i = 0; i < values.length && removed < k; i++) if (Math.abs(values[i]!) === threshold) removed++; // already-zero ties count
  return countZeros(values);
}

export function countZeros(values: Float32Array): number {
  let z = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) z++;
  return z;
}

/**
 * How many weights each layer loses under global magnitude pruning: one threshold over all layers so that
 * ⌊s·Σn⌋ weights go, except that no layer loses more than ⌊cap·n⌋; the excess is taken from the other layers.
 */
export function globalPruneCounts(layers: Float32Array[], sparsity: number, cap: number): number[] {
  const total = layers.reduce((n, l) => n + l.length, 0);
  let budget = Math.floor(sparsity * total);
  const result = layers.map(() => 0);
  const open = new Set(layers.map((_, i) => i));
  for (let round = 0; round < layers.length + 1 && budget > 0 && open.size > 0; round++) {
    const pool = new Float32Array([...open].reduce((n, i) => n + layers[i]!.length, 0));
    let at = 0;
    for (const i of open) for (const v of layers[i]!) pool[at++] = Math.abs(v);
    const k = Math.min(budget, pool.length);
    const threshold = selectKth(pool, k - 1);
    let capped = false;
    for (const i of open) {
      let below = 0;
      for (const v of layers[i]!) if (Math.abs(v) <= threshold) below++;
      if (below > Math.floor(cap * layers[i]!.length)) {
        result[i] = Math.floor(cap * layers[i]!.length);
        budget -= result[i]!;
        open.delete(i);
        capped = true;
      }
    }
    if (!capped) {
      // No cap hit: distribute this threshold's removals (ties resolved per layer by pruneSmallest).
      let remaining = budget;
      for (const i of open) {
        let below = 0;
        for (const v of layers[i]!) if (Math.abs(v) < threshold) below++;
        result[i] = below;
        remaining -= below;
      }
      for (const i of open) {
        if (remaining <= 0) break;
        let ties = 0;
        for (const v of layers[i]!) if (Math.abs(v) === threshold) ties++;
        const take = Math.min(ties, remaining);
        result[i] = result[i]! + take;
        remaining -= take;
      }
      budget = 0;
    }
  }
  return result;
}

/** globalPruneCounts on a kernel backend: the threshold search runs on the backend's selection kernels. */
export async function globalPruneCountsOn(backend: KernelBackend, layers: Float32Array[], sparsity: number, cap: number): Promise<number[]> {
  const total = layers.reduce((n, l) => n + l.length, 0);
  let budget = Math.floor(sparsity * total);
  const result = layers.map(() => 0);
  const open = new Set(layers.map((_, i) => i));
  const countBelow = (l: Float32Array, t: number, orEqual: boolean) => {
    let c = 0;
    if (orEqual) for (let i = 0; i < l.length; i++) c += Math.abs(l[i]!) <= t ? 1 : 0;
    else for (let i = 0; i < l.length; i++) c += Math.abs(l[i]!) < t ? 1 : 0;
    return c;
  };
  while (budget > 0 && open.size > 0) {
    const members = [...open].map((i) => layers[i]!);
    const poolSize = members.reduce((n, l) => n + l.length, 0);
    const threshold = await magnitudeKth(backend, members, Math.min(budget, poolSize) - 1);
    let capped = false;
    for (const i of open) {
      const limit = Math.floor(cap * layers[i]!.length);
      if (countBelow(layers[i]!, threshold, true) > limit) {
        result[i] = limit;
        budget -= limit;
        open.delete(i);
        capped = true;
      }
    }
    if (capped) continue;
    let remaining = budget;
    for (const i of open) {
      result[i] = countBelow(layers[i]!, threshold, false);
      remaining -= result[i]!;
    }
    for (const i of open) {
      if (remaining <= 0) break;
      const take = Math.min(countBelow(layers[i]!, threshold, true) - result[i]!, remaining);
      result[i] = result[i]! + take;
      remaining -= take;
    }
    budget = 0;
  }
  return result;
}

/** 2-D view of a weight as [rows, K] where groups of M run along K with a stride (for K-major layouts). */
export interface ReductionView {
  /** Number of independent lines (output units). */
  lines: number;
  /** Length of each line (the reduction dimension). */
  length: number;
  /** Index of element (line, k). */
  index: (line: number, k: number) => number;
}

/** N:M: in each run of M along the reduction axis keep the N largest |w| (ties to the earlier), zero the rest. In place. */
export function applyNM(values: Float32Array, view: ReductionView, n: number, m: number): void {
  const idx = new Int32Array(m);
  const kept = new Uint8Array(m);
  for (let line = 0; line < view.lines; line++) {
    for (let start = 0; start < view.length; start += m) {
      const size = Math.min(m, view.length - start);
      for (let j = 0; j < size; j++) idx[j] = view.index(line, start + j);
      const keep = size === m ? n : Math.ceil((n * size) / m); // a ragged tail keeps the same ratio
      kept.fill(0);
      // Keep the `keep` largest |w| (the earlier one on ties): `keep` passes of a max search over ≤ 8 values.
      for (let r = 0; r < keep; r++) {
        let best = -1;
        for (let j = 0; j < size; j++) if (!kept[j] && (best < 0 || Math.abs(values[idx[j]!]!) > Math.abs(values[idx[best]!]!))) best = j;
        kept[best] = 1;
      }
      for (let j = 0; j < size; j++) if (!kept[j]) values[idx[j]!] = 0;
    }
  }
}

/** L1 or L2 norm of each output channel of a weight laid out [outer, channels, inner]. */
export function channelNorms(values: Float32Array, layout: { outer: number; channels: number; inner: number }, norm: 'l1' | 'l2'): Float64Array {
  const out = new Float64Array(layout.channels);
  for (let o = 0; o < layout.outer; o++) {
    for (let c = 0; c < layout.channels; c++) {
      const base = (o * layout.channels + c) * layout.inner;
      for (let i = 0; i < layout.inner; i++) {
        const x = values[base + i]!;
        out[c]! += norm === 'l1' ? Math.abs(x) : x * x;
      }
    }
  }
  if (norm === 'l2') for (let c = 0; c < out.length; c++) out[c] = Math.sqrt(out[c]!);
  return out;
}

/** Channels to keep: the ⌈(1 − s)·C⌉ (at least 1) largest norms, in ascending index order. */
export function channelsToKeep(norms: Float64Array, sparsity: number): number[] {
  const keepCount = Math.max(1, Math.round((1 - sparsity) * norms.length));
  return Array.from(norms.keys())
    .sort((a, b) => norms[b]! - norms[a]! || a - b)
    .slice(0, keepCount)
    .sort((a, b) => a - b);
}
