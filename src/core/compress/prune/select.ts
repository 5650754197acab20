/**
 * Which channels of each group stay: per group (the recipe's share, rounded so the pruned layers stay fast), or
 * ranked across groups (global) with a cap per group. Pure functions over importance arrays, so they are tested
 * without a model.
 */

/**
 * Kept channel counts are rounded to widths CPU kernels vectorise: onnxruntime's x86 convolutions work on blocks of
 * 8 (AVX2) or 16 (AVX-512) channels and fall back to a slower layout otherwise, WebAssembly SIMD works on 4 floats,
 * and an odd count is slow everywhere. A group of 64+ channels keeps a multiple of 16, of 32–63 a multiple of 8, of
 * 16–31 a multiple of 4; smaller groups keep exactly what the share says.
 */
export function roundingStep(channels: number): number {
  return channels >= 64 ? 16 : channels >= 32 ? 8 : channels >= 16 ? 4 : 1;
}

/** A kept count rounded to the group's step: the nearest multiple, at least one step, never more than the group has. */
export function roundKept(channels: number, keep: number): number {
  const step = roundingStep(channels);
  return Math.min(channels, Math.max(step, Math.round(keep / step) * step));
}

/** Channels a group of `channels` keeps when `sparsity` of them go: (1 − s)·C rounded (at least 1), then to its step. */
export function keptCount(channels: number, sparsity: number): number {
  return roundKept(channels, Math.max(1, Math.round((1 - sparsity) * channels)));
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
