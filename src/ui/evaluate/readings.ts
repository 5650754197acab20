/**
 * Plain-language readings and formatting for the evaluation lab: accuracy deltas in percentage points,
 * latency ratios, SQNR, what each fidelity metric means, the cross-backend verdict, sweep sorting, the
 * frontier line and a rough sweep ETA. Pure functions, unit-tested.
 */
import type { CrossBackendCheck } from '../../core/eval/evaluate';
import type { OutputFidelity, OutputTask } from '../../core/eval/metrics';
import type { SweepPoint } from '../../core/eval/sweep';
import type { EvalBackend } from '../../core/eval/types';
import type { Severity } from '../analysis/readings';

export type { Severity };

/** An accuracy (fraction) with one decimal: 0.978 → "97.8%". */
export function formatAccuracy(f: number | undefined): string {
  if (f === undefined || !Number.isFinite(f)) return '—';
  return `${(f * 100).toFixed(1)}%`;
}

/** The change of a share in percentage points: 0.978 → 0.962 gives "−1.6 pp"; no change "±0 pp". */
export function pointsDelta(before: number, after: number): string {
  const d = (after - before) * 100;
  if (Math.abs(d) < 0.05) return '±0 pp';
  return `${d > 0 ? '+' : '−'}${Math.abs(d).toFixed(1)} pp`;
}

/** Tone of an accuracy change: losing more than 1 point is bad, any loss a warning. */
export function pointsTone(before: number, after: number): Severity {
  const d = (after - before) * 100;
  if (d <= -1) return 'bad';
  if (d < -0.05) return 'warn';
  return 'good';
}

/** Candidate ÷ original as "×0.82" (below 1: faster). */
export function ratioText(candidate: number | undefined, original: number | undefined): string {
  if (candidate === undefined || original === undefined || !(original > 0) || !Number.isFinite(candidate)) return '—';
  const r = candidate / original;
  return `×${r >= 10 ? r.toFixed(1) : r.toFixed(2)}`;
}

/** Latency ratio tone: within ±5 % is noise on a busy machine. */
export function ratioTone(candidate: number | undefined, original: number | undefined): Severity {
  if (candidate === undefined || original === undefined || !(original > 0)) return 'neutral';
  const r = candidate / original;
  if (r <= 0.95) return 'good';
  if (r >= 1.05) return 'bad';
  return 'neutral';
}

/** SQNR in dB; null means the outputs are bit-for-bit identical. */
export function sqnrText(db: number | null | undefined): string {
  if (db === undefined) return '—';
  if (db === null) return 'identical';
  if (db === -Infinity) return '−∞ dB';
  if (db === Infinity) return 'identical';
  return `${db.toFixed(1)} dB`;
}

/** A fidelity number shown as a share: 0.9987 → "99.87%", exact 1 → "100%". */
export function formatShare(f: number | undefined): string {
  if (f === undefined || !Number.isFinite(f)) return '—';
  if (f === 1) return '100%';
  const p = f * 100;
  if (p >= 99) return `${p.toFixed(2)}%`;
  return `${p.toFixed(1)}%`;
}

/** Cosine similarity with enough digits to tell 0.9999 from 0.99. */
export function formatCosine(c: number | undefined): string {
  if (c === undefined || !Number.isFinite(c)) return '—';
  if (c === 1) return '1';
  if (c > 0.9999) return c.toFixed(6);
  return c.toFixed(4);
}

/** A small positive number (errors, KL) with 3 significant digits. */
export function formatSmall(x: number | undefined, unit = ''): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const s = x === 0 ? '0' : Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5 ? x.toExponential(2).replace('e+', 'e') : String(Number(x.toPrecision(3)));
  return unit ? `${s} ${unit}` : s;
}

/** What the headline metric means, for someone who never heard of it. */
export function headlineHelp(metric: string): string {
  if (metric === 'top-1 agreement')
    return 'Share of samples where the compressed model picks the same class as the original. 100% = it never changes its answer.';
  if (metric === 'per-position agreement')
    return 'Share of positions (e.g. characters, tokens) where the compressed model picks the same symbol as the original.';
  if (metric.startsWith('mask IoU'))
    return 'Overlap of the masks the two models draw (intersection over union of the pixels above the threshold). 100% = identical masks.';
  return 'How closely the output values follow the original: 1 = same direction exactly; 0.99 already means visible differences for sensitive outputs.';
}

export const TASK_OPTIONS: { value: OutputTask | 'auto'; label: string; help: string }[] = [
  { value: 'auto', label: 'Auto', help: 'Chosen from the output’s shape and values.' },
  { value: 'classification', label: 'Classification', help: 'Class scores or probabilities: judged by top-1 agreement and KL divergence.' },
  { value: 'map', label: 'Map', help: 'A probability per pixel (segmentation, detection heat map): judged by mask IoU at the threshold.' },
  { value: 'sequence', label: 'Sequence', help: 'Class scores per position (OCR, tokens): judged by per-position agreement.' },
  { value: 'regression', label: 'Regression', help: 'Plain values (embeddings, boxes, audio): judged by cosine and SQNR.' },
];

/** How good a fidelity result is, from its headline value. */
export function fidelityReading(f: Pick<OutputFidelity, 'headline' | 'cosine'>): { severity: Severity; label: string } {
  const v = f.headline.value;
  if (f.headline.metric === 'cosine') {
    if (v >= 0.9999) return { severity: 'good', label: 'faithful' };
    if (v >= 0.999) return { severity: 'warn', label: 'small drift' };
    return { severity: 'bad', label: 'large drift' };
  }
  if (v >= 0.99) return { severity: 'good', label: 'faithful' };
  if (v >= 0.95) return { severity: 'warn', label: 'some changes' };
  return { severity: 'bad', label: 'many changes' };
}

/** The cross-backend verdict in words. */
export function crossVerdict(check: CrossBackendCheck): { severity: Severity; label: string; text: string } {
  const model = check.model === 'original' ? 'the original model' : 'the compressed model';
  if (check.agrees) {
    return {
      severity: 'good',
      label: 'agrees',
      text: `${check.backend} computes ${model} like ${check.reference} (within cosine ≥ ${check.tolerance.minCosine}, error ≤ ${formatShare(check.tolerance.maxRelError)} of the largest value).`,
    };
  }
  return {
    severity: 'bad',
    label: 'disagrees',
    text: `${check.backend} gives different outputs from ${check.reference} for ${model}: do not trust ${check.backend} numbers for this model.`,
  };
}

/** Quality a point is judged by: accuracy when labelled, else its headline metric; the original agrees with itself. */
export function qualityOf(p: SweepPoint): number | undefined {
  return p.accuracy ?? p.headline?.value ?? (p.isOriginal && !p.error ? 1 : undefined);
}

/** Latency of a sweep point as × the original timed alongside it (the x axis; ms when no ratio is known). */
export function pointLatency(p: SweepPoint): number | undefined {
  return p.relativeLatency ?? p.latency?.medianMs;
}

/** The frontier points joined by a line: sorted by latency (then quality). */
export function frontierLine(points: SweepPoint[], quality: (p: SweepPoint) => number | undefined): SweepPoint[] {
  return points
    .filter((p) => p.frontier && !p.error && pointLatency(p) !== undefined && quality(p) !== undefined)
    .sort((a, b) => pointLatency(a)! - pointLatency(b)! || quality(a)! - quality(b)!);
}

export type SweepSortKey = 'id' | 'label' | 'size' | 'latency' | 'quality' | 'cosine' | 'frontier';

/** Points sorted by a column; missing values always last. */
export function sortPoints(points: SweepPoint[], key: SweepSortKey, dir: 'asc' | 'desc', quality: (p: SweepPoint) => number | undefined): SweepPoint[] {
  const value = (p: SweepPoint): number | string | undefined => {
    switch (key) {
      case 'id':
        return p.id;
      case 'label':
        return p.label;
      case 'size':
        return p.error ? undefined : p.sizeBytes;
      case 'latency':
        return pointLatency(p);
      case 'quality':
        return quality(p);
      case 'cosine':
        return p.cosine;
      case 'frontier':
        return p.frontier ? 1 : 0;
    }
  };
  const sign = dir === 'asc' ? 1 : -1;
  return [...points].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === undefined && vb === undefined) return a.id - b.id;
    if (va === undefined) return 1;
    if (vb === undefined) return -1;
    const c = typeof va === 'string' || typeof vb === 'string' ? String(va).localeCompare(String(vb)) : va - vb;
    return c === 0 ? a.id - b.id : sign * c;
  });
}

/** Typical milliseconds per inference when nothing was measured yet (headless SwiftShader WebGPU is slow). */
const DEFAULT_MS: Record<EvalBackend, number> = { wasm: 1, webgpu: 15, cpu: 1 };

/**
 * A rough duration of a sweep, seconds: per point, compressing and creating a session (~0.5 s), the samples
 * once, and the timed runs (plus warm-up) of the point and the original alongside it.
 */
export function estimateSweepSeconds(o: { points: number; samples: number; runs: number; backend: EvalBackend; msPerInference?: number }): number {
  const ms = Math.max(0.2, o.msPerInference ?? DEFAULT_MS[o.backend]);
  const timedMs = o.runs > 0 ? (o.runs + 5) * 2 * Math.max(ms, 1) : 0;
  const perPoint = 500 + o.samples * ms + timedMs;
  return (o.points * perPoint) / 1000;
}

/** "about 12 s" / "about 3 min". */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return 'under a second';
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  return `about ${Math.round(seconds / 60)} min`;
}

/** "0.485, 0.456 0.406" → [0.485, 0.456, 0.406]; empty → undefined; anything unreadable → null. */
export function parseNumberList(text: string): number[] | undefined | null {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) return undefined;
  const values = parts.map(Number);
  return values.every((v) => Number.isFinite(v)) ? values : null;
}

/** Differences between two sweep points, B against A. */
export function comparePoints(a: SweepPoint, b: SweepPoint, quality: (p: SweepPoint) => number | undefined) {
  const qa = quality(a);
  const qb = quality(b);
  return {
    latency: ratioText(pointLatency(b), pointLatency(a)),
    latencyTone: ratioTone(pointLatency(b), pointLatency(a)),
    quality: qa !== undefined && qb !== undefined ? pointsDelta(qa, qb) : '—',
    qualityTone: qa !== undefined && qb !== undefined ? pointsTone(qa, qb) : ('neutral' as Severity),
  };
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(decimals)));
  return out;
}

/** The domain [lo, hi] of values with a margin of `pad` (a share of the span; a fixed share of the value when all are equal). */
export function paddedDomain(values: number[], pad = 0.08, floor?: number, ceil?: number): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || Math.abs(hi) * 0.2 || 1;
  lo -= span * pad;
  hi += span * pad;
  if (floor !== undefined) lo = Math.max(floor, lo);
  if (ceil !== undefined) hi = Math.min(ceil, hi);
  return [lo, hi];
}

/** A latency with enough precision for sub-millisecond models: 0.034 → "34 µs", 0.5 → "500 µs", 2.34 → "2.3 ms". */
export function formatLatency(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 0.01) return `${(ms * 1000).toFixed(1)} µs`;
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
