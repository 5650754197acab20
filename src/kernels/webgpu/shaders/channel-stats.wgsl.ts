import { COMMON_WGSL } from './common.wgsl';

/**
 * Per-channel min/max/sum/sumSq over a tensor viewed as [outer, channels, inner]; element (o, c, i) sits
 * at (o * channels + c) * inner + i. Three strategies (entry points), picked by the host from the layout:
 *
 * - `runs` (inner >= 64): a workgroup reduces one channel over a block of (outer slice × inner block);
 *   threads walk the block linearly, so reads are contiguous within each run of `inner` elements.
 *   One partial per workgroup.
 * - `columns` (small inner, many rows): a thread owns one column j of the [outer, channels*inner]
 *   matrix and walks rows, so neighbouring threads read neighbouring words (coalesced, good for
 *   inner = 1, e.g. MatMul [K, N] weights). With fewer than 256 columns a workgroup covers several rows
 *   at once and folds them in workgroup memory. One partial per (row slice, column).
 * - `serial` (tiny channels, outer*inner <= 512): one thread per channel.
 *
 * Partials are 4 words [~minKey, maxKey, sum f32, sumSq f32], all-zero = empty, so a buffer cleared to zero
 * is the identity. A tensor larger than one storage binding is processed one segment per dispatch: each
 * thread loads only elements inside [segStart, segStart + segLen) and merges (read-modify-write) into its
 * partial; dispatches are ordered, and each partial has exactly one writer per dispatch.
 *
 * The same strategies compute per-channel norms for pruning (channelKernelWgsl('norms')): only the
 * accumulator differs (ACC_WGSL below). Every accumulator is a vec4<u32> in the partial's packed form, so a
 * zeroed partial is the identity and `combine` merges two of them.
 */
export type ChannelMode = 'stats' | 'norms';

/** Accumulators: `add_elem` folds one finite value's bits into a partial, `combine` merges two partials. */
const ACC_WGSL: Record<ChannelMode, string> = {
  // [~minKey, maxKey, Σx f32, Σx² f32]
  stats: /* wgsl */ `
fn add_elem(a: vec4<u32>, u: u32) -> vec4<u32> {
  let k = okey(u);
  let x = bitcast<f32>(u);
  return vec4<u32>(max(a.x, ~k), max(a.y, k), bitcast<u32>(bitcast<f32>(a.z) + x), bitcast<u32>(bitcast<f32>(a.w) + x * x));
}
fn combine(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
  return vec4<u32>(max(a.x, b.x), max(a.y, b.y), bitcast<u32>(bitcast<f32>(a.z) + bitcast<f32>(b.z)), bitcast<u32>(bitcast<f32>(a.w) + bitcast<f32>(b.w)));
}
`,
  /*
   * Norms (l1: Σ|x|, l2: Σx², chosen by the uniform word `squared`): [Σ plain, Σ big, Σ small, 0] as f32, where each
   * finite |x| goes to one of three exactly rescaled ranges so nothing overflows and no subnormal is flushed
   * (SwiftShader flushes):
   * - plain  2^-32 <= |x| < 2^32: y = |x|;
   * - big    |x| >= 2^32:         y = |x| · 2^-80 (exponent arithmetic on the bits; y in [2^-48, 2^48));
   * - small  |x| < 2^-32:         y = |x| · 2^88 (normal |x|: exponent arithmetic; subnormal: mantissa · 2^-61),
   *   y in [2^-61, 2^56).
   * l1 adds y, l2 adds y² (then in [2^-122, 2^112): normal). The host folds the three sums in float64:
   * plain + big · 2^80 + small · 2^-88 (l1), plain + big · 2^160 + small · 2^-176 (l2); see backend.ts.
   */
  norms: /* wgsl */ `
fn add_elem(a: vec4<u32>, u: u32) -> vec4<u32> {
  let m = u & 0x7fffffffu;
  var y: f32;
  var slot = 0u;
  if (m >= 0x4f800000u) { // 2^32
    y = bitcast<f32>(m - (80u << 23u));
    slot = 1u;
  } else if (m < 0x2f800000u) { // 2^-32
    if (m < 0x00800000u) {
      y = f32(m) * bitcast<f32>(0x21000000u); // subnormal: m · 2^-149 · 2^88 = m · 2^-61
    } else {
      y = bitcast<f32>(m + (88u << 23u));
    }
    slot = 2u;
  } else {
    y = bitcast<f32>(m);
  }
  let v = select(y, y * y, prm.squared != 0u);
  let add = vec4<f32>(select(0.0f, v, slot == 0u), select(0.0f, v, slot == 1u), select(0.0f, v, slot == 2u), 0.0f);
  return bitcast<vec4<u32>>(bitcast<vec4<f32>>(a) + add);
}
fn combine(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
  return bitcast<vec4<u32>>(bitcast<vec4<f32>>(a) + bitcast<vec4<f32>>(b));
}
`,
};

/** channelStats (mode 'stats') or channelNorms ('norms') kernels; entry points runs / columns / serial. */
export function channelKernelWgsl(mode: ChannelMode): string {
  return /* wgsl */ `
${COMMON_WGSL}
struct Params {
  outer: u32, channels: u32, inner: u32, segStart: u32,
  segLen: u32, wgCount: u32, oSlices: u32, iBlocks: u32,
  oPer: u32, iLen: u32, rowsPer: u32, colBlocks: u32,
  rowsPerPass: u32, cols: u32, wgBase: u32, squared: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> part: array<u32>;
@group(0) @binding(2) var<uniform> prm: Params;

${ACC_WGSL[mode]}
var<private> A: vec4<u32>;
var<workgroup> sh: array<vec4<u32>, WG>;

fn acc_reset() {
  A = vec4<u32>(0u);
}

// Accumulates the element at global index g if it lies in this dispatch's segment and is finite.
fn acc(g: u32) {
  let l = g - prm.segStart; // wraps to a huge value below the segment
  if (l >= prm.segLen) { return; }
  let u = src[l];
  if (!is_finite_bits(u)) { return; }
  A = add_elem(A, u);
}

fn merge(q: u32, a: vec4<u32>) {
  let b = q * 4u;
  let r = combine(vec4<u32>(part[b], part[b + 1u], part[b + 2u], part[b + 3u]), a);
  part[b] = r.x;
  part[b + 1u] = r.y;
  part[b + 2u] = r.z;
  part[b + 3u] = r.w;
}

fn share(lid: u32) {
  sh[lid] = A;
}

@compute @workgroup_size(WG)
fn runs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let f = flat_wg(wid, nwg);
  if (f >= prm.wgCount) { return; }
  // w = (s * channels + c) * iBlocks + b: with one row per slice, w follows memory order, so the host
  // dispatches only the workgroups that can touch the current segment (wgBase, wgCount).
  let w = prm.wgBase + f;
  let per = prm.channels * prm.iBlocks;
  let s = w / per;
  let r = w - s * per;
  let c = r / prm.iBlocks;
  let b = r - c * prm.iBlocks;
  let o0 = s * prm.oPer;
  let o1 = min(prm.outer, o0 + prm.oPer);
  let i0 = b * prm.iLen;
  let len = min(prm.inner, i0 + prm.iLen) - i0;
  // skip workgroups whose elements all lie outside this dispatch's segment (multi-buffer tensors)
  let first = (o0 * prm.channels + c) * prm.inner + i0;
  let last = ((o1 - 1u) * prm.channels + c) * prm.inner + i0 + len; // one past
  if (last <= prm.segStart || first >= prm.segStart + prm.segLen) { return; }
  let total = (o1 - o0) * len;
  // Walk k = lid, lid + WG, ... over the (o, i) block without a division per element.
  let q = WG / len;
  let rr = WG - q * len;
  var oo = lid / len;
  var ii = lid - oo * len;
  acc_reset();
  for (var k = lid; k < total; k += WG) {
    acc(((o0 + oo) * prm.channels + c) * prm.inner + i0 + ii);
    ii += rr;
    oo += q;
    if (ii >= len) { ii -= len; oo += 1u; }
  }
  share(lid);
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) {
      sh[lid] = combine(sh[lid], sh[lid + off]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) { merge(w, sh[0]); }
}

@compute @workgroup_size(WG)
fn columns(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let f = flat_wg(wid, nwg);
  if (f >= prm.wgCount) { return; }
  let w = prm.wgBase + f;
  let y = w / prm.colBlocks;
  let x = w - y * prm.colBlocks;
  let P = prm.rowsPerPass;
  var j: u32;
  var r0: u32;
  var valid: bool;
  if (P == 1u) {
    j = x * WG + lid;
    r0 = 0u;
    valid = j < prm.cols;
  } else {
    j = lid % prm.cols;
    r0 = lid / prm.cols;
    valid = lid < P * prm.cols;
  }
  let rStart = y * prm.rowsPer;
  // rows of this slice that intersect this dispatch's segment
  let segEnd = prm.segStart + prm.segLen;
  let a = max(rStart, prm.segStart / prm.cols);
  let rEnd = min(min(prm.outer, rStart + prm.rowsPer), (segEnd - 1u) / prm.cols + 1u);
  if (a >= rEnd) { return; }
  var r1 = rStart + r0;
  if (a > r1) { r1 += ((a - r1 + P - 1u) / P) * P; }
  acc_reset();
  if (valid) {
    for (var r = r1; r < rEnd; r += P) {
      acc(r * prm.cols + j);
    }
  }
  if (P > 1u) {
    share(lid);
    workgroupBarrier();
    if (lid < prm.cols) {
      var a = sh[lid];
      for (var t = lid + prm.cols; t < P * prm.cols; t += prm.cols) {
        a = combine(a, sh[t]);
      }
      merge(y * prm.cols + lid, a);
    }
  } else if (valid) {
    merge(y * prm.cols + j, A);
  }
}

@compute @workgroup_size(WG)
fn serial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let f = flat_wg(wid, nwg);
  if (f >= prm.wgCount) { return; }
  let c = (prm.wgBase + f) * WG + lid;
  if (c >= prm.channels) { return; }
  acc_reset();
  let oEnd = min(prm.outer, (prm.segStart + prm.segLen - 1u) / prm.cols + 1u);
  for (var o = prm.segStart / prm.cols; o < oEnd; o++) {
    let base = (o * prm.channels + c) * prm.inner;
    for (var i = 0u; i < prm.inner; i++) {
      acc(base + i);
    }
  }
  merge(c, A);
}
`;
}

export const CHANNEL_STATS_WGSL = channelKernelWgsl('stats');
