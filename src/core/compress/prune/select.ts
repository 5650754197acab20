/**
 * Which channels of each group stay: per group (the recipe's share, rounded so the pruned layers stay fast), or
 * ranked across groups (global) with a cap per group. Pure functions over importance arrays, so they are tested
 * without a model.
 */

/** Groups of at least ROUND_FROM channels keep a multiple of ROUND_TO channels (SIMD-friendly widths). */
export const ROUND_TO = 8;
export const ROUND_FROM = 32;

/**
 * Channels a group of `channels` keeps when `sparsity` of them go: ⌈rounded⌉ (1 − s)·C, at least 1; groups of 32+
 * channels keep the nearest multiple of 8 (at least 8, never more than they have).
 */
export function keptCount(channels: number, sparsity: number): number {
  let keep = Math.max(1, Math.round((1 - sparsity) * channels));
  if (channels >= ROUND_FROM) keep = Math.min(channels, Math.max(ROUND_TO, Math.round(keep / ROUND_TO) * ROUND_TO));
  return keep;
}

/** Indices of the `k` largest values (ties: the lower index), in ascending index order. */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b]! - values[a]! || a - b)
    .slice(0, k)
    .sort((a, b) => a - b);
}

/**
 * Global ranking: every channel of every group scored by its importance over its group's mean importance (so
 * groups whose members have different scales compare), and the ⌊s·N⌋ lowest removed, no group losing more than
 * ⌊cap·C⌋ channels or its last one. Returns the channels each group keeps (before rounding).
 */
export function globalKeptCounts(groups: ArrayLike<number>[], sparsity: number, cap: number): number[] {
  const total = groups.reduce((n, g) => n + g.length, 0);
  let budget = Math.floor(sparsity * total);
  const scored: { score: number; group: number }[] = [];
  groups.forEach((g, gi) => {
    let mean = 0;
    for (let i = 0; i < g.length; i++) mean += g[i]!;
    mean /= Math.max(1, g.length);
    for (let i = 0; i < g.length; i++) scored.push({ score: mean > 0 ? g[i]! / mean : 1, group: gi });
  });
  scored.sort((a, b) => a.score - b.score || a.group - b.group);
  const removed = groups.map(() => 0);
  const limit = groups.map((g) => Math.min(g.length - 1, Math.floor(cap * g.length)));
  for (const s of scored) {
    if (budget <= 0) break;
    if (removed[s.group]! >= limit[s.group]!) continue;
    removed[s.group]!++;
    budget--;
  }
  return groups.map((g, i) => g.length - removed[i]!);
}

/** A kept count rounded like keptCount rounds (for global ranking's counts). */
export function roundKept(channels: number, keep: number): number {
  if (channels < ROUND_FROM) return Math.max(1, keep);
  return Math.min(channels, Math.max(ROUND_TO, Math.round(keep / ROUND_TO) * ROUND_TO));
}
