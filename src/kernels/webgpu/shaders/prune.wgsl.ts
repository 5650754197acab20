import { COMMON_WGSL } from './common.wgsl';

/**
 * Pruning kernels (see ../prune-gpu.ts). Everything is decided on the raw bits, so the masks are exact on any
 * device: a flush-to-zero GPU (SwiftShader) or one that assumes no NaN cannot change a comparison.
 *
 * - MASK_BELOW_WGSL: one invocation per 4 elements of a window [off, off + len) of one buffer segment: |x| < t is
 *   (bits & 0x7fffffff) < tBits, where tBits (host-computed) are the bits of the smallest float32 >= t, so the
 *   comparison equals the reference's float64 one for every x (subnormals, ±0, ±Inf; NaN bits are never below).
 *   Masked values become +0; the rest are copied bit for bit. Zeros (±0) of the output are counted: one
 *   workgroup-atomic sum, then one global atomic per workgroup.
 *   With write = 0 and tBits = 0 the same kernel only counts zeros (of nm_mask's output).
 * - NM_MASK_WGSL: one invocation per group (a run of ≤ M elements along k of one line), M <= 32 (a u32 bitmask of
 *   kept slots). The group is selected exactly as the reference: `keep` rounds, each takes the first unkept slot
 *   and replaces it with any later unkept slot whose |x| is larger, magnitudes compared as bits (unsigned order of
 *   |x|'s bits is the order of |x|), NaN never larger and never beaten (the reference's Math.abs(a) > Math.abs(b)
 *   is false whenever either is NaN). Unkept slots are set to +0 in place, in a window copy of the tensor: the
 *   window being finished is bound as `wa`, the next window as `wb`, so a run may cross one window boundary.
 */
export const NM_MAX_M = 32;

export const MASK_BELOW_WGSL = /* wgsl */ `
${COMMON_WGSL}
struct Params {
  off4: u32, len: u32, wgCount: u32, thr: u32,
  write: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> cnt: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> prm: Params;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4<u32>>;

var<workgroup> wz: atomic<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let f = flat_wg(wid, nwg);
  if (f >= prm.wgCount) { return; }
  let t = f * WG + lid;
  var z = 0u;
  if (t < (prm.len + 3u) / 4u) {
    let v = src[prm.off4 + t];
    let mag = vec4<u32>(0x7fffffffu);
    let y = select(v, vec4<u32>(0u), (v & mag) < vec4<u32>(prm.thr));
    if (prm.write != 0u) { dst[t] = y; }
    let lanes = prm.len - t * 4u; // >= 1
    let zero = (y & mag) == vec4<u32>(0u);
    z = select(0u, 1u, zero.x) + select(0u, 1u, zero.y && lanes > 1u) + select(0u, 1u, zero.z && lanes > 2u) +
        select(0u, 1u, zero.w && lanes > 3u);
  }
  atomicAdd(&wz, z);
  workgroupBarrier();
  if (lid == 0u) {
    let s = atomicLoad(&wz);
    if (s != 0u) { atomicAdd(&cnt[0], s); }
  }
}
`;

export const NM_MASK_WGSL = /* wgsl */ `
${COMMON_WGSL}
struct Params {
  lines: u32, length: u32, lineStride: u32, kStride: u32,
  n: u32, m: u32, runs: u32, lineFast: u32,
  gBase: u32, count: u32, wgCount: u32, winStart: u32,
  lenA: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> wa: array<u32>;
@group(0) @binding(1) var<storage, read_write> wb: array<u32>;
@group(0) @binding(2) var<uniform> prm: Params;

// |x| bits of the element at window offset l (wa, then wb past its end)
fn mag(l: u32) -> u32 {
  if (l < prm.lenA) { return wa[l] & 0x7fffffffu; }
  return wb[l - prm.lenA] & 0x7fffffffu;
}

fn clear(l: u32) {
  if (l < prm.lenA) { wa[l] = 0u; } else { wb[l - prm.lenA] = 0u; }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let f = flat_wg(wid, nwg);
  if (f >= prm.wgCount) { return; }
  let i = f * WG + lid;
  if (i >= prm.count) { return; }
  let g = prm.gBase + i;
  // group order: line-fastest for column-like views (neighbouring invocations read neighbouring words when
  // lineStride = 1), run-fastest for row-like views; either way group starts increase with g (see prune-gpu.ts)
  var line: u32;
  var r: u32;
  if (prm.lineFast != 0u) {
    r = g / prm.lines;
    line = g - r * prm.lines;
  } else {
    line = g / prm.runs;
    r = g - line * prm.runs;
  }
  let start = r * prm.m;
  let size = min(prm.m, prm.length - start);
  var keep = prm.n; // host clamps n to m
  if (size < prm.m) { keep = (prm.n * size + prm.m - 1u) / prm.m; }
  keep = min(keep, size);
  let base = line * prm.lineStride + start * prm.kStride - prm.winStart;
  let ks = prm.kStride;
  var kept = 0u;
  for (var k = 0u; k < keep; k++) {
    var best = 0xffffffffu;
    var bm = 0u;
    for (var j = 0u; j < size; j++) {
      if ((kept & (1u << j)) != 0u) { continue; }
      let a = mag(base + j * ks);
      if (best == 0xffffffffu || (a > bm && a <= 0x7f800000u)) {
        best = j;
        bm = a;
      }
    }
    kept |= 1u << best;
  }
  for (var j = 0u; j < size; j++) {
    if ((kept & (1u << j)) == 0u) { clear(base + j * ks); }
  }
}
`;
