import { describe, expect, it } from 'vitest';
import { channelVerdict, outlierReading } from './readings';

const ranges = (pairs: [number, number][]) => ({
  axis: 0,
  min: pairs.map((p) => p[0]),
  max: pairs.map((p) => p[1]),
  std: pairs.map(() => 0.1),
  absMax: pairs.map(([lo, hi]) => Math.max(-lo, hi)),
});

describe('outlierReading', () => {
  it('calls ≈3–5 normal, and much higher an outlier problem', () => {
    expect(outlierReading(4, 50_000).label).toBe('normal');
    expect(outlierReading(1.7, 1000).label).toBe('compact');
    expect(outlierReading(9, 50_000).severity).toBe('warn');
    expect(outlierReading(40, 50_000).severity).toBe('bad');
    expect(outlierReading(40, 50_000).text).toContain('a few outliers stretch the range quantization must cover');
  });

  it('expects a slightly larger maximum from a huge bell-shaped tensor', () => {
    // √(2 ln 1e9) ≈ 6.4: a 7σ maximum among a billion values is ordinary.
    expect(outlierReading(7, 1e9).label).toBe('normal');
    expect(outlierReading(7, 1000).label).toBe('some outliers');
  });

  it('has nothing to say about constant tensors', () => {
    expect(outlierReading(0, 100).severity).toBe('neutral');
    expect(outlierReading(NaN, 0).severity).toBe('neutral');
  });
});

describe('channelVerdict', () => {
  it('finds per-tensor quantization fine when channel ranges are alike', () => {
    const v = channelVerdict(
      ranges([
        [-1, 1],
        [-0.9, 1],
        [-1, 0.8],
      ]),
    );
    expect(v.severity).toBe('good');
    expect(v.ratio).toBeCloseTo(2 / 1.9, 5);
  });

  it('warns when one channel is far wider than the median and counts the int8 levels left', () => {
    const v = channelVerdict(
      ranges([
        [-0.1, 0.1],
        [-0.1, 0.1],
        [-0.1, 0.1],
        [-2, 2],
      ]),
    );
    expect(v.severity).toBe('bad');
    expect(v.ratio).toBeCloseTo(20, 5);
    expect(v.medianLevels).toBe(13); // 256 × 0.2 / 4
    expect(v.text).toContain('20×');
  });

  it('skips channels without finite values', () => {
    const v = channelVerdict(
      ranges([
        [NaN, NaN],
        [-1, 1],
        [-1, 1],
      ]),
    );
    expect(v.emptyChannels).toBe(1);
    expect(v.ratio).toBe(1);
    expect(channelVerdict(ranges([[NaN, NaN]])).severity).toBe('neutral');
  });
});
