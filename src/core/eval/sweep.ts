/**
 * The trade-off explorer: a grid of recipes (bit widths × sparsities × granularities, or presets),
 * each compressed and measured; the Pareto frontier of quality against latency. Compression and
 * measurement are passed in, so the same loop runs on worker bridges (UI) and in Node (CLI).
 */
import type { Granularity } from '../compress/quantize/math';
import { RECIPE_PRESETS } from '../presets';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type PrunePattern, type Recipe } from '../recipe';
import type { CandidateMeasure } from './candidate';
import type { LatencyStats } from './latency';

export interface SweepGrid {
  /** Weight bit widths; 32 means "no quantization" (float weights). */
  bits: number[];
  /** Fractions of weights pruned; 0 means no pruning. */
  sparsities: number[];
  granularities: Granularity[];
  /** Pruning pattern for sparsities > 0 (default unstructured). */
  pattern?: PrunePattern;
  blockSize?: number;
}

export interface SweepCandidate {
  label: string;
  recipe: Recipe;
}

export interface SweepPoint extends SweepCandidate {
  id: number;
  /** The unchanged model, measured like every other point. */
  isOriginal: boolean;
  sizeBytes: number;
  latency?: LatencyStats;
  /** Latency of the original measured alongside this point (interleaved). */
  originalLatency?: LatencyStats;
  /**
   * Median latency as a multiple of the original's, both timed interleaved in the same run (1 for the original).
   * Drift on a busy machine moves both alike, so this is the number to compare points by.
   */
  relativeLatency?: number;
  /** Candidate accuracy on labelled data, else undefined. */
  accuracy?: number;
  /** The first output's headline metric (top-1 agreement, mask IoU, …) and its cosine / SQNR. */
  headline?: { metric: string; value: number };
  cosine?: number;
  sqnrDb?: number | null;
  /** Why this point has no measurement (the recipe did not apply, the runtime refused the model). */
  error?: string;
  frontier: boolean;
}

/** The presets the explorer measures (src/core/presets.ts marks them). */
export const PRESETS: SweepCandidate[] = RECIPE_PRESETS.filter((p) => p.sweep).map((p) => ({ label: p.label, recipe: p.recipe }));

/**
 * A preset with the teacher-guided methods of `base` (the Compress panel's recipe), as the grid's points take them:
 * GPTQ for integer weights, SparseGPT for unstructured / N:M masks, the refit for channel pruning, each with its
 * calibration sample count. Formats stay the preset's own. The label names what was added ("int4 blocks of 32 (GPTQ)").
 */
export function withTeacherMethods(preset: SweepCandidate, base: Recipe): SweepCandidate {
  const recipe: Recipe = { ...preset.recipe };
  const added: string[] = [];
  const [p, bp] = [recipe.prune, base.prune];
  const pruneSamples = bp?.calibrationSamples !== undefined ? { calibrationSamples: bp.calibrationSamples } : {};
  if (p && bp?.method === 'sparsegpt' && p.pattern !== 'channel') {
    recipe.prune = { ...p, method: 'sparsegpt', ...pruneSamples };
    added.push('SparseGPT');
  } else if (p && bp?.refit && p.pattern === 'channel') {
    recipe.prune = { ...p, refit: true, ...pruneSamples };
    added.push('refit');
  }
  const [q, bq] = [recipe.quantize, base.quantize];
  if (q && bq?.gptq?.enabled && q.format !== 'fp16') {
    recipe.quantize = { ...q, gptq: bq.gptq, ...(bq.calibrationSamples !== undefined ? { calibrationSamples: bq.calibrationSamples } : {}) };
    added.push('GPTQ');
  }
  return added.length ? { label: `${preset.label} (${added.join(', ')})`, recipe } : preset;
}

const GRANULARITY_LABEL: Record<Granularity, string> = { tensor: 'per tensor', channel: 'per channel', block: 'blocks' };

/**
 * The recipes of a grid, built on `base` (its range method, exclusions, format… are kept). Points
 * with neither quantization nor pruning are left out (the original is always measured); float
 * points are not repeated for each granularity.
 */
export function gridCandidates(grid: SweepGrid, base: Recipe = { version: 1 }): SweepCandidate[] {
  const out: SweepCandidate[] = [];
  const seen = new Set<string>();
  const quantBase = base.quantize ?? DEFAULT_QUANTIZE;
  const pruneBase = base.prune ?? DEFAULT_PRUNE;
  const pattern = grid.pattern ?? base.prune?.pattern ?? 'unstructured';
  for (const sparsity of grid.sparsities) {
    for (const bits of grid.bits) {
      for (const granularity of grid.granularities) {
        if (bits >= 32 && sparsity <= 0) continue;
        const recipe: Recipe = { version: 1 };
        const parts: string[] = [];
        if (sparsity > 0) {
          const nm = pattern === '2:4' || pattern === '4:8';
          recipe.prune = { ...pruneBase, pattern, sparsity: nm ? 0.5 : sparsity };
          parts.push(nm ? `${pattern} sparse` : `${Math.round(sparsity * 100)}% ${pattern === 'channel' ? 'channels pruned' : 'pruned'}`);
        }
        if (bits < 32) {
          const blockSize = grid.blockSize ?? quantBase.blockSize;
          recipe.quantize = { ...quantBase, bits, granularity, blockSize, format: quantBase.format === 'fp16' ? 'auto' : quantBase.format };
          parts.push(`int${bits} ${granularity === 'block' ? `blocks of ${blockSize}` : GRANULARITY_LABEL[granularity]}`);
        }
        const key = JSON.stringify(recipe);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ label: parts.join(' + '), recipe });
      }
    }
  }
  return out;
}

/** The quality a point is judged by: accuracy when labelled, else the headline fidelity metric. */
export function pointQuality(p: SweepPoint): number | undefined {
  return p.accuracy ?? p.headline?.value;
}

/**
 * The points with their `frontier` flag: true for those no other point beats — none has higher-or-equal
 * quality with lower-or-equal latency (and is strictly better in one). Latency is the median relative to the
 * original timed alongside; points without latency fall back to size. Returns new objects (the UI may freeze them).
 */
export function markFrontier(points: readonly SweepPoint[]): SweepPoint[] {
  const cost = (p: SweepPoint) => p.relativeLatency ?? p.latency?.medianMs ?? p.sizeBytes;
  const ok = points.filter((p) => !p.error && pointQuality(p) !== undefined);
  const beaten = (p: SweepPoint) => {
    const q = pointQuality(p)!;
    const c = cost(p);
    return ok.some((o) => o !== p && pointQuality(o)! >= q && cost(o) <= c && (pointQuality(o)! > q || cost(o) < c));
  };
  return points.map((p) => ({ ...p, frontier: ok.includes(p) && !beaten(p) }));
}

/** `C`: how a compressed candidate reaches `measure` (its bytes, or a handle such as the studio's candidate id). */
export interface SweepDeps<C = Uint8Array> {
  /** Compresses the open model with a recipe and returns the file (or a handle to it). */
  compress(recipe: Recipe, signal?: AbortSignal): Promise<C>;
  /** Measures a candidate against the original (see CandidateEvaluator.evaluate). */
  measure(candidate: C, signal?: AbortSignal): Promise<CandidateMeasure>;
  /** Measures the original alone: its size, latency and accuracy. */
  original(signal?: AbortSignal): Promise<{ sizeBytes: number; latency?: LatencyStats; accuracy?: number }>;
}

export interface SweepProgress {
  done: number;
  total: number;
  /** Label of the point being measured. */
  current?: string;
  /** Seconds left, from the mean time per finished point. */
  etaSeconds?: number;
  point?: SweepPoint;
}

function fromMeasure(id: number, c: SweepCandidate, m: CandidateMeasure): SweepPoint {
  const first = m.fidelity[0];
  return {
    id,
    ...c,
    isOriginal: false,
    sizeBytes: m.sizeBytes,
    latency: m.latency?.candidate,
    originalLatency: m.latency?.original,
    relativeLatency: m.latency ? m.latency.candidate.medianMs / m.latency.original.medianMs : undefined,
    accuracy: m.accuracy?.candidate,
    headline: first?.headline,
    cosine: first?.cosine,
    sqnrDb: first?.sqnrDb,
    frontier: false,
  };
}

/** Runs every candidate (after the original), reporting each point as it lands. Points that fail keep their error. */
export async function runSweep<C = Uint8Array>(
  candidates: SweepCandidate[],
  deps: SweepDeps<C>,
  options: { signal?: AbortSignal; onProgress?: (p: SweepProgress) => void; now?: () => number } = {},
): Promise<SweepPoint[]> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const total = candidates.length + 1;
  const points: SweepPoint[] = [];
  const check = () => {
    if (options.signal?.aborted) throw new DOMException('Sweep cancelled', 'AbortError');
  };
  const eta = (done: number) => (done > 0 ? (((now() - started) / done) * (total - done)) / 1000 : undefined);
  options.onProgress?.({ done: 0, total, current: 'original' });
  const o = await deps.original(options.signal);
  const original: SweepPoint = {
    id: 0,
    label: 'original',
    recipe: { version: 1 },
    isOriginal: true,
    sizeBytes: o.sizeBytes,
    latency: o.latency,
    originalLatency: o.latency,
    relativeLatency: o.latency ? 1 : undefined,
    accuracy: o.accuracy,
    headline: undefined,
    frontier: false,
  };
  points.push(original);
  options.onProgress?.({ done: 1, total, current: candidates[0]?.label, etaSeconds: eta(1), point: original });
  for (const [i, c] of candidates.entries()) {
    check();
    let point: SweepPoint;
    try {
      const bytes = await deps.compress(c.recipe, options.signal);
      check();
      point = fromMeasure(i + 1, c, await deps.measure(bytes, options.signal));
    } catch (err) {
      if ((err instanceof Error || err instanceof DOMException) && err.name === 'AbortError') throw err;
      point = { id: i + 1, ...c, isOriginal: false, sizeBytes: 0, error: err instanceof Error ? err.message : String(err), frontier: false };
    }
    points.push(point);
    options.onProgress?.({ done: i + 2, total, current: candidates[i + 1]?.label, etaSeconds: eta(i + 2), point });
  }
  // The original's headline is perfect agreement with itself.
  const metric = points.find((p) => p.headline)?.headline?.metric;
  if (metric) original.headline = { metric, value: 1 };
  original.cosine = 1;
  original.sqnrDb = null;
  return markFrontier(points);
}

/** The table as CSV (one row per point). */
export function sweepCsv(points: SweepPoint[]): string {
  const header = [
    'id',
    'label',
    'size_bytes',
    'latency_median_ms',
    'latency_p90_ms',
    'original_latency_median_ms',
    'latency_x_original',
    'accuracy',
    'headline_metric',
    'headline',
    'cosine',
    'sqnr_db',
    'frontier',
    'error',
    'recipe',
  ];
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows = points.map((p) =>
    [
      p.id,
      p.label,
      p.sizeBytes,
      p.latency?.medianMs,
      p.latency?.p90Ms,
      p.originalLatency?.medianMs,
      p.relativeLatency,
      p.accuracy,
      p.headline?.metric,
      p.headline?.value,
      p.cosine,
      p.sqnrDb,
      p.frontier,
      p.error,
      JSON.stringify(p.recipe),
    ]
      .map(cell)
      .join(','),
  );
  return [header.join(','), ...rows].join('\n') + '\n';
}
