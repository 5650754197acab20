import { COMMON_WGSL } from './common.wgsl';

/**
 * fp16 / bf16 bit patterns → float32 bits, two halves per u32 word (little endian: low half first).
 * Integer bit manipulation only, no float math: exact for every pattern (subnormals, ±0, ±Inf, NaN
 * payloads) even on a device that flushes denormals.
 */
export const DECODE_HALF_WGSL = /* wgsl */ `
${COMMON_WGSL}
struct Params { words: u32, kind: u32, wgCount: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec2<u32>>;
@group(0) @binding(2) var<uniform> prm: Params;

fn fp16_bits(h: u32) -> u32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0x1fu) { return s | 0x7f800000u | (m << 13u); }
  if (e != 0u) { return s | ((e + 112u) << 23u) | (m << 13u); }
  if (m == 0u) { return s; }
  // subnormal: m * 2^-24 = 2^(p-24) * (1 + (m - 2^p) / 2^p), p = index of the leading bit of m
  let p = firstLeadingBit(m);
  return s | ((p + 103u) << 23u) | ((m ^ (1u << p)) << (23u - p));
}

fn decode(h: u32) -> u32 {
  if (prm.kind == 1u) { return h << 16u; }
  return fp16_bits(h);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_wg(wid, nwg) * WG + lid;
  if (i >= prm.words) { return; }
  let w = src[i];
  dst[i] = vec2<u32>(decode(w & 0xffffu), decode(w >> 16u));
}
`;
