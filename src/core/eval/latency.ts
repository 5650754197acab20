/**
 * The latency harness. Sessions are timed interleaved (A B, then B A, …) on the same input, so drift
 * on a busy machine (thermal, background work, GC) lands on every model alike instead of on whichever
 * ran last. The first run is reported apart as warm-up (lazy kernel compilation, GPU uploads). Models faster
 * than a millisecond are timed in groups of inferences, so the clock's resolution does not become the spread.
 */
import type { EvalSession, Feeds } from './types';

/** A timed sample lasts at least this long (sub-millisecond models are timed in groups of inferences). */
export const MIN_SAMPLE_MS = 5;

export interface LatencyStats {
  runs: number;
  /** The first inference (cold). */
  firstRunMs: number;
  medianMs: number;
  p90Ms: number;
  p10Ms: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  /** Run-to-run spread: (p90 − p10) / median, in percent. */
  spreadPct: number;
  /** Inferences per timed sample: sub-millisecond models are timed in groups (the clock ticks in ~5–100 µs steps). */
  inferencesPerSample: number;
}

export interface LatencyOptions {
  /** Untimed runs after the first (default 3)… */
  warmup?: number;
  /** …and at least this long per session (default 200 ms): wasm engines optimise hot code in the background, so
   * early runs are slower than later ones. */
  warmupMs?: number;
  /** Timed runs per session (default 20). */
  runs?: number;
  signal?: AbortSignal;
  now?: () => number;
  onProgress?: (done: number, total: number) => void;
}

/** Linear-interpolated quantile (numpy default) of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarizeTimes(times: readonly number[], firstRunMs: number, inferencesPerSample = 1): LatencyStats {
  const sorted = [...times].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const p10 = quantile(sorted, 0.1);
  const p90 = quantile(sorted, 0.9);
  return {
    runs: times.length,
    firstRunMs,
    medianMs: median,
    p90Ms: p90,
    p10Ms: p10,
    minMs: sorted[0] ?? NaN,
    maxMs: sorted[sorted.length - 1] ?? NaN,
    meanMs: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    spreadPct: median > 0 ? ((p90 - p10) / median) * 100 : 0,
    inferencesPerSample,
  };
}

function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DOMException('Evaluation cancelled', 'AbortError');
}

/** Times each session on `feeds`: one cold run, `warmup` untimed runs, then `runs` interleaved timed runs. */
export async function measureLatency(sessions: EvalSession[], feeds: Feeds, options: LatencyOptions = {}): Promise<LatencyStats[]> {
  const now = options.now ?? (() => performance.now());
  const warmup = options.warmup ?? 3;
  const warmupMs = options.warmupMs ?? 200;
  const runs = Math.max(1, options.runs ?? 20);
  const first: number[] = [];
  for (const s of sessions) {
    abortIfNeeded(options.signal);
    const t0 = now();
    await s.run(feeds);
    first.push(now() - t0);
    const warmStart = now();
    for (let w = 0; w < warmup || now() - warmStart < warmupMs; w++) await s.run(feeds);
  }
  // Group inferences so one timed sample lasts ≥ MIN_SAMPLE_MS for the fastest session (the same group size for all, so the
  // comparison stays fair).
  let fastest = Infinity;
  for (const s of sessions) {
    const t0 = now();
    await s.run(feeds);
    fastest = Math.min(fastest, now() - t0);
  }
  const group = Math.max(1, Math.min(256, Math.ceil(MIN_SAMPLE_MS / Math.max(fastest, 1e-3))));
  const times = sessions.map(() => [] as number[]);
  const total = runs * sessions.length;
  for (let r = 0; r < runs; r++) {
    abortIfNeeded(options.signal);
    const order = sessions.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      const t0 = now();
      for (let g = 0; g < group; g++) await sessions[i]!.run(feeds);
      times[i]!.push((now() - t0) / group);
    }
    options.onProgress?.((r + 1) * sessions.length, total);
  }
  return times.map((t, i) => summarizeTimes(t, first[i]!, group));
}
