/**
 * Pruning masks (reference implementations).
 *   unstructured — zero the k = ⌊s·n⌋ smallest-magnitude weights (ties broken by element order);
 *   global       — one magnitude threshold across layers, each layer capped at `cap` sparsity;
 *   channels     — keep the output channels of largest norm.
 * N:M masks, channel norms and mask application are kernels (src/kernels/prune.ts).
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

/**
 * After every |w| < threshold is zero (the k-th smallest magnitude), zero ties |w| = threshold in element order
 * until k weights are gone, in place.
 */
export function zeroTies(values: Float32Array, k: number, threshold: number): void {
  let removed = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]!) < threshold || (threshold === 0 && values[i] === 0)) removed++;
  for (let i = 0; i < values.length && removed < k; i++)
    if (Math.abs(values[i]!) === threshold && values[i] !== 0) {
      values[i] = 0;
      removed++;
    }
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
  for (let i = 0; i < values.length; i++)
    if (Math.abs(values[i]!) < threshold) {
      values[i] = 0;
      removed++;
    }
  for (let i = 0; i < values.length && removed < k; i++)
    if (Math.abs(values[i]!) === threshold && values[i] !== 0) {
      values[i] = 0;
      removed++;
    }
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
  /** One pass: how many |x| are below t, and how many equal it. */
  const countAround = (l: Float32Array, t: number): [number, number] => {
    let below = 0;
    let equal = 0;
    for (let i = 0; i < l.length; i++) {
      const a = Math.abs(l[i]!);
      if (a < t) below++;
      else if (a === t) equal++;
    }
    return [below, equal];
  };
  while (budget > 0 && open.size > 0) {
    const members = [...open].map((i) => layers[i]!);
    const poolSize = members.reduce((n, l) => n + l.length, 0);
    const threshold = await magnitudeKth(backend, members, Math.min(budget, poolSize) - 1);
    const around = new Map([...open].map((i) => [i, countAround(layers[i]!, threshold)] as const));
    let capped = false;
    for (const i of open) {
      const limit = Math.floor(cap * layers[i]!.length);
      const [below, equal] = around.get(i)!;
      if (below + equal > limit) {
        result[i] = limit;
        budget -= limit;
        open.delete(i);
        capped = true;
      }
    }
    if (capped) continue;
    let remaining = budget;
    for (const i of open) {
      result[i] = around.get(i)![0];
      remaining -= result[i]!;
    }
    for (const i of open) {
      if (remaining <= 0) break;
      const take = Math.min(around.get(i)![1], remaining);
      result[i] = result[i]! + take;
      remaining -= take;
    }
    budget = 0;
  }
  return result;
}

/** Channels to keep: the ⌈(1 − s)·C⌉ (at least 1) largest norms, in ascending index order. */
export function channelsToKeep(norms: Float64Array, sparsity: number): number[] {
  const keepCount = Math.max(1, Math.round((1 - sparsity) * norms.length));
  return Array.from(norms.keys())
    .sort((a, b) => norms[b]! - norms[a]! || a - b)
    .slice(0, keepCount)
    .sort((a, b) => a - b);
}
