import type { MaskedValues, NMView, PruneKernels } from '../prune';
import type { ChannelLayout, DeviceTensor } from '../types';

export function channelNormsOf(data: Float32Array, { outer, channels, inner }: ChannelLayout, norm: 'l1' | 'l2'): Float64Array {
  const out = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let s = 0;
      for (let i = 0; i < inner; i++) {
        const x = data[base + i]!;
        if (x - x !== 0) continue;
        s += norm === 'l1' ? Math.abs(x) : x * x;
      }
      out[c]! += s;
    }
  }
  if (norm === 'l2') for (let c = 0; c < channels; c++) out[c] = Math.sqrt(out[c]!);
  return out;
}

export function maskBelowOf(data: Float32Array, threshold: number): MaskedValues {
  const values = new Float32Array(data.length);
  let zeros = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    const y = Math.abs(x) < threshold ? 0 : x;
    values[i] = y;
    if (y === 0) zeros++;
  }
  return { values, zeros };
}

export function nmMaskOf(data: Float32Array, view: NMView, n: number, m: number): MaskedValues {
  const values = Float32Array.from(data);
  const kept = new Uint8Array(m);
  for (let line = 0; line < view.lines; line++) {
    for (let start = 0; start < view.length; start += m) {
      const size = Math.min(m, view.length - start);
      const keep = size === m ? n : Math.ceil((n * size) / m);
      kept.fill(0);
      const at = (j: number) => line * view.lineStride + (start + j) * view.kStride;
      for (let r = 0; r < keep; r++) {
        let best = -1;
        for (let j = 0; j < size; j++) if (!kept[j] && (best < 0 || Math.abs(values[at(j)]!) > Math.abs(values[at(best)]!))) best = j;
        kept[best] = 1;
      }
      for (let j = 0; j < size; j++) if (!kept[j]) values[at(j)] = 0;
    }
  }
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return { values, zeros };
}

export function hostPruneKernels(host: (t: DeviceTensor) => Float32Array): PruneKernels {
  return {
    channelNorms: async (t, layout, norm) => channelNormsOf(host(t), layout, norm),
    maskBelow: async (t, threshold) => maskBelowOf(host(t), threshold),
    nmMask: async (t, view, n, m) => nmMaskOf(host(t), view, n, m),
  };
}
