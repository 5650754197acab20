/** Host tensor helpers: numbers out of any dtype, element counts, per-sample slicing. */
import type { HostTensor } from './types';

/** Values as float64 numbers (int64 through Number; float16 decoded). */
export function tensorValues(t: HostTensor): Float64Array | Float32Array {
  const d = t.data;
  if (d instanceof Float32Array || d instanceof Float64Array) {
    return d;
  }
  const out = new Float64Array(d.length);
  if (d instanceof BigInt64Array) for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
  else if (t.dtype === 'float16') for (let i = 0; i < d.length; i++) out[i] = halfToFloat((d as Uint16Array)[i]!);
  else for (let i = 0; i < d.length; i++) out[i] = (d as Int32Array)[i]!;
  return out;
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function describeDims(dims: readonly number[]): string {
  return dims.length ? dims.join(' × ') : 'scalar';
}
