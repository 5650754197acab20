import { describe, expect, it } from 'vitest';
import type { CrossBackendCheck } from '../../core/eval/evaluate';
import { pointQuality, type SweepPoint } from '../../core/eval/sweep';
import {
  comparePoints,
  crossVerdict,
  estimateSweepSeconds,
  fidelityReading,
  formatAccuracy,
  formatCosine,
  formatEta,
  formatLatency,
  formatShare,
  frontierLine,
  niceTicks,
  paddedDomain,
  parseNumberList,
  pointsDelta,
  pointsTone,
  ratioText,
  ratioTone,
  sortPoints,
  sqnrText,
} from './readings';

function point(id: number, over: Partial<SweepPoint> = {}): SweepPoint {
  return { id, label: `p${id}`, recipe: { version: 1 }, isOriginal: id === 0, sizeBytes: 1000 - id * 100, frontier: false, ...over };
}
const lat = (medianMs: number) => ({
  runs: 3,
  firstRunMs: 1,
  medianMs,
  p90Ms: medianMs,
  p10Ms: medianMs,
  minMs: medianMs,
  maxMs: medianMs,
  meanMs: medianMs,
  spreadPct: 0,
  inferencesPerSample: 1,
});

describe('accuracy and deltas', () => {
  it('formats accuracy with one decimal', () => {
    expect(formatAccuracy(0.978)).toBe('97.8%');
    expect(formatAccuracy(1)).toBe('100.0%');
    expect(formatAccuracy(undefined)).toBe('—');
  });
  it('writes percentage points with a real minus sign', () => {
    expect(pointsDelta(0.978, 0.962)).toBe('−1.6 pp');
    expect(pointsDelta(0.9, 0.904)).toBe('+0.4 pp');
    expect(pointsDelta(0.5, 0.5)).toBe('±0 pp');
    expect(pointsTone(0.978, 0.962)).toBe('bad');
    expect(pointsTone(0.978, 0.976)).toBe('warn');
    expect(pointsTone(0.978, 0.978)).toBe('good');
  });
  it('gives latency ratios candidate ÷ original', () => {
    expect(ratioText(0.8, 1)).toBe('×0.80');
    expect(ratioText(25, 2)).toBe('×12.5');
    expect(ratioText(1, 0)).toBe('—');
    expect(ratioTone(0.8, 1)).toBe('good');
    expect(ratioTone(1.02, 1)).toBe('neutral');
    expect(ratioTone(1.5, 1)).toBe('bad');
  });
});

describe('fidelity numbers', () => {
  it('says identical for a null SQNR', () => {
    expect(sqnrText(null)).toBe('identical');
    expect(sqnrText(32.14)).toBe('32.1 dB');
    expect(sqnrText(-Infinity)).toBe('−∞ dB');
  });
  it('shows shares and cosines with useful precision', () => {
    expect(formatShare(1)).toBe('100%');
    expect(formatShare(0.9987)).toBe('99.87%');
    expect(formatShare(0.5)).toBe('50.0%');
    expect(formatCosine(0.99999912)).toBe('0.999999');
    expect(formatCosine(0.98765)).toBe('0.9877');
  });
  it('reads the headline value', () => {
    expect(fidelityReading({ headline: { metric: 'top-1 agreement', value: 1 }, cosine: 0.999 }).severity).toBe('good');
    expect(fidelityReading({ headline: { metric: 'top-1 agreement', value: 0.96 }, cosine: 0.99 }).severity).toBe('warn');
    expect(fidelityReading({ headline: { metric: 'cosine', value: 0.99 }, cosine: 0.99 }).severity).toBe('bad');
  });
  it('says not to trust a backend that disagrees', () => {
    const check: CrossBackendCheck = {
      model: 'candidate',
      backend: 'webgpu',
      reference: 'wasm',
      outputs: [],
      agrees: false,
      tolerance: { minCosine: 0.999, maxRelError: 0.01 },
    };
    expect(crossVerdict(check).text).toContain('do not trust webgpu numbers for this model');
    expect(crossVerdict({ ...check, agrees: true }).severity).toBe('good');
  });
});

describe('sweep helpers', () => {
  const points = [
    point(0, { latency: lat(2), accuracy: 0.98, frontier: true }),
    point(1, { latency: lat(1), accuracy: 0.97, frontier: true }),
    point(2, { latency: lat(3), accuracy: 0.9 }),
    point(3, { error: 'failed', sizeBytes: 0 }),
  ];
  it('joins frontier points by latency', () => {
    expect(frontierLine(points, pointQuality).map((p) => p.id)).toEqual([1, 0]);
  });
  it('sorts with missing values last in both directions', () => {
    expect(sortPoints(points, 'latency', 'asc', pointQuality).map((p) => p.id)).toEqual([1, 0, 2, 3]);
    expect(sortPoints(points, 'latency', 'desc', pointQuality).map((p) => p.id)).toEqual([2, 0, 1, 3]);
    expect(sortPoints(points, 'quality', 'desc', pointQuality).map((p) => p.id)).toEqual([0, 1, 2, 3]);
    expect(sortPoints(points, 'label', 'asc', pointQuality)[0]!.label).toBe('p0');
  });
  it('compares two points', () => {
    const c = comparePoints(points[0]!, points[1]!, pointQuality);
    expect(c.latency).toBe('×0.50');
    expect(c.quality).toBe('−1.0 pp');
    expect(c.qualityTone).toBe('bad');
  });
  it('estimates a sweep roughly', () => {
    const s = estimateSweepSeconds({ points: 5, samples: 100, runs: 3, backend: 'wasm' });
    expect(s).toBeGreaterThan(2);
    expect(s).toBeLessThan(10);
    expect(estimateSweepSeconds({ points: 5, samples: 100, runs: 3, backend: 'webgpu' })).toBeGreaterThan(s);
    expect(formatEta(12.4)).toBe('about 12 s');
    expect(formatEta(600)).toBe('about 10 min');
  });
  it('parses mean / std lists', () => {
    expect(parseNumberList('0.485, 0.456 0.406')).toEqual([0.485, 0.456, 0.406]);
    expect(parseNumberList('  ')).toBeUndefined();
    expect(parseNumberList('0.5, x')).toBeNull();
  });
});

describe('chart scales', () => {
  it('picks round ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.23, 0.61, 4)).toEqual([0.3, 0.4, 0.5, 0.6]);
    expect(niceTicks(94.2, 98.1, 5)).toEqual([95, 96, 97, 98]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
  it('pads domains and respects bounds', () => {
    expect(paddedDomain([1, 2], 0.1)).toEqual([0.9, 2.1]);
    expect(paddedDomain([99, 100], 0.5, 0, 100)).toEqual([98.5, 100]);
    const [lo, hi] = paddedDomain([5, 5]);
    expect(lo).toBeLessThan(5);
    expect(hi).toBeGreaterThan(5);
  });
});

describe('latency', () => {
  it('keeps sub-millisecond precision', () => {
    expect(formatLatency(0.0342)).toBe('34 µs');
    expect(formatLatency(0.0042)).toBe('4.2 µs');
    expect(formatLatency(2.345)).toBe('2.35 ms');
    expect(formatLatency(15.04)).toBe('15.0 ms');
    expect(formatLatency(2500)).toBe('2.50 s');
  });
});
