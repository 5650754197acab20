/** Plain-language readings of analysis numbers. Pure functions, unit-tested. */
import type { ChannelRanges } from '../../core/analysis/stats';

export type Severity = 'good' | 'warn' | 'bad' | 'neutral';

export interface Reading {
  severity: Severity;
  /** A short label, e.g. "normal". */
  label: string;
  text: string;
}

export const OUTLIER_HELP =
  'Outlier score = abs-max ÷ std: how many standard deviations the largest value lies from zero. ≈3–5 is normal for bell-shaped weights; much higher means a few outliers stretch the range quantization must cover.';

/**
 * Reading of abs-max / std. The largest of n bell-shaped (Gaussian) values lies about √(2 ln n)
 * standard deviations out — 3.7 for a thousand values, 5.7 for ten million — so the limits grow a
 * little with the tensor's size instead of calling every big tensor an outlier.
 */
export function outlierReading(score: number, finiteCount: number): Reading {
  const expected = Math.sqrt(2 * Math.log(Math.max(2, finiteCount)));
  const normalLimit = Math.max(6, 1.25 * expected);
  const strongLimit = Math.max(12, 2 * expected);
  if (!Number.isFinite(score) || score === 0 || finiteCount < 2) {
    return { severity: 'neutral', label: 'n/a', text: 'All values are equal (or there are too few), so there is no spread to judge.' };
  }
  if (score < 3) {
    return {
      severity: 'good',
      label: 'compact',
      text: 'Below 3: values fill their range evenly (flatter than a bell curve), so the whole quantization range is put to use.',
    };
  }
  if (score <= normalLimit) {
    return {
      severity: 'good',
      label: 'normal',
      text: '≈3–5 is normal for bell-shaped weights: the range quantization must cover is not stretched by outliers.',
    };
  }
  if (score <= strongLimit) {
    return {
      severity: 'warn',
      label: 'some outliers',
      text: 'Higher than the ≈3–5 of bell-shaped weights: a few large values stretch the range, so 8-bit steps get coarser for everything else. Clipping to the 99.9th percentile may help.',
    };
  }
  return {
    severity: 'bad',
    label: 'strong outliers',
    text: 'Much higher than the ≈3–5 of bell-shaped weights: a few outliers stretch the range quantization must cover, leaving few levels for the bulk of the values. Clip them, or keep this tensor in higher precision.',
  };
}

export interface ChannelVerdict extends Reading {
  /** Widest channel range ÷ median channel range. */
  ratio: number;
  /** int8 levels (of 256) the median channel would use under one per-tensor range. */
  medianLevels: number;
  channels: number;
  /** Channels without any finite value (left out). */
  emptyChannels: number;
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/**
 * Would one range for the whole tensor (per-tensor quantization) hurt? Compares each output
 * channel's range (max − min) with the median channel's and with the tensor's.
 */
export function channelVerdict(ch: ChannelRanges): ChannelVerdict {
  const ranges = new Float64Array(ch.min.length);
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let c = 0; c < ch.min.length; c++) {
    const min = ch.min[c]!;
    const max = ch.max[c]!;
    if (!Number.isFinite(min) || !Number.isFinite(max)) continue;
    ranges[n++] = max - min;
    if (min < lo) lo = min;
    if (max > hi) hi = max;
  }
  const channels = ch.min.length;
  const emptyChannels = channels - n;
  if (n === 0) {
    return { severity: 'neutral', label: 'n/a', text: 'No channel holds a finite value.', ratio: NaN, medianLevels: NaN, channels, emptyChannels };
  }
  // A typed-array sort is numeric and several times faster than Array#sort with a comparator.
  const sorted = ranges.subarray(0, n).sort();
  const med = median(sorted);
  const widest = sorted[n - 1]!;
  const tensorRange = hi - lo;
  const ratio = med > 0 ? widest / med : widest > 0 ? Infinity : 1;
  const medianLevels = tensorRange > 0 ? Math.max(1, Math.round((256 * med) / tensorRange)) : 256;
  const times = Number.isFinite(ratio) ? `${ratio < 10 ? ratio.toFixed(1) : Math.round(ratio)}×` : 'far more than';
  if (ratio <= 2) {
    return {
      severity: 'good',
      label: 'per-tensor is fine',
      text: `Channel ranges are similar (the widest is ${times} the median): one range for the whole tensor (per-tensor quantization) should be fine.`,
      ratio,
      medianLevels,
      channels,
      emptyChannels,
    };
  }
  if (ratio <= 5) {
    return {
      severity: 'warn',
      label: 'per-channel advised',
      text: `The widest channel spans ${times} the median channel's range: with one range for the whole tensor the median channel gets ~${medianLevels} of 256 int8 levels. Per-channel quantization is safer.`,
      ratio,
      medianLevels,
      channels,
      emptyChannels,
    };
  }
  return {
    severity: 'bad',
    label: 'per-tensor will hurt',
    text: `The widest channel spans ${times} the median channel's range: with one range for the whole tensor the median channel would use only ~${medianLevels} of 256 int8 levels. Quantize this layer per channel.`,
    ratio,
    medianLevels,
    channels,
    emptyChannels,
  };
}
