/**
 * Pruning kernels: the part of the kernel layer that pruning uses (magnitude selection itself runs on the
 * analysis kernels: histogram + gather, see core/analysis/stats.ts orderStatistics).
 */
import type { ChannelLayout, DeviceTensor } from './types';

/** Element (line, k) of a weight sits at line·lineStride + k·kStride; groups of M run along k. */
export interface NMView {
  lines: number;
  length: number;
  lineStride: number;
  kStride: number;
}

export interface MaskedValues {
  values: Float32Array;
  zeros: number;
}

export interface PruneKernels {
  /** Σ|x| (l1) or √Σx² (l2) per channel of a [outer, channels, inner] layout (non-finite values skipped). */
  channelNorms(t: DeviceTensor, layout: ChannelLayout, norm: 'l1' | 'l2'): Promise<Float64Array>;
  /** The values with every |x| < threshold set to 0, and how many are 0 afterwards. */
  maskBelow(t: DeviceTensor, threshold: number): Promise<MaskedValues>;
  /**
   * N:M: in each run of M along k keep the N largest |x| (the earlier on ties), zero the rest; a ragged last run
   * of size r keeps ⌈N·r/M⌉.
   */
  nmMask(t: DeviceTensor, view: NMView, n: number, m: number): Promise<MaskedValues>;
}
