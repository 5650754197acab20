/**
 * Coverage: how much of a model's weight bytes a recipe compressed, and what was left, grouped by reason — so a
 * recipe that leaves most of a model untouched says so instead of passing for a success.
 */
import type { TensorCatalog } from '../onnx/catalog';
import { countsAsWeightBytes } from './roles';

export interface CoverageGroup {
  reason: string;
  tensors: number;
  bytes: number;
  /** Up to three tensor names, for the reader. */
  examples: string[];
}

export interface Coverage {
  /** Bytes of every floating-point tensor of more than one value in the original model. */
  totalBytes: number;
  /** Of those, the bytes of tensors this recipe compressed (quantized, converted or pruned). */
  compressedBytes: number;
  /** compressedBytes / totalBytes (1 when the model has no float weights). */
  fraction: number;
  /** What was left as it was, by reason, most bytes first. */
  left: CoverageGroup[];
}

/** Coverage above which a result does not lead with what was left. */
export const COVERAGE_WARN_BELOW = 0.9;

export const tensorKey = (graphPath: string, name: string) => `${graphPath}\u0000${name}`;

/**
 * `compressed`: keys (tensorKey) of tensors a step changed; `reasons`: why others were left (first reason given
 * wins, so pass the step whose reason matters most first).
 */
export function computeCoverage(original: TensorCatalog, compressed: Set<string>, reasons: Map<string, string>): Coverage {
  let totalBytes = 0;
  let compressedBytes = 0;
  const groups = new Map<string, CoverageGroup>();
  for (const entry of original.entries) {
    if (!countsAsWeightBytes(entry)) continue;
    totalBytes += entry.bytes;
    const key = tensorKey(entry.graphPath, entry.name);
    if (compressed.has(key)) {
      compressedBytes += entry.bytes;
      continue;
    }
    const reason = reasons.get(key) ?? 'not read as a weight';
    const g = groups.get(reason) ?? { reason, tensors: 0, bytes: 0, examples: [] };
    g.tensors++;
    g.bytes += entry.bytes;
    if (g.examples.length < 3) g.examples.push(entry.name);
    groups.set(reason, g);
  }
  return { totalBytes, compressedBytes, fraction: totalBytes ? compressedBytes / totalBytes : 1, left: [...groups.values()].sort((a, b) => b.bytes - a.bytes) };
}

/** "12 tensors (48 kB): bias" — one line per group, for the CLI and the UI. */
export function describeLeft(group: CoverageGroup, formatBytes: (n: number) => string): string {
  return `${group.tensors} tensor${group.tensors === 1 ? '' : 's'} (${formatBytes(group.bytes)}): ${group.reason}`;
}
