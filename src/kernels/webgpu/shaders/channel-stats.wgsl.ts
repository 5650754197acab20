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
 */
export const CHANNEL_STATS_WGSL = /* wgsl */ `
${COMMON_WGSL}
struct Params {
  outer: u32, channels: u32, inner: u32, segStart: u32,
  segLen: u32, wgCount: u32, oSlices: u32, iBlocks: u32,
  oPer: u32, iLen: u32, rowsPer: u32, colBlocks: u32,
  rowsPerPass: u32, cols: u32, wgBase: u32, pad0: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> part: array<u32>;
@group(0) @binding(2) var<uniform> prm: Params;

var<private> aMin: u32;
var<private> aMax: u32;
var<private> aSum: f32;
var<private> aSq: f32;

var<workgroup> sMin: array<u32, WG>;
var<workgroup> sMax: array<u32, WG>;
var<workgroup> sSum: array<f32, WG>;
var<workgroup> sSq: array<f32, WG>;

fn acc_reset() {
  aMin = 0xffffffffu;
  aMax = 0u;
  aSum = 0.0f;
  aSq = 0.0f;
}

// Accumulates the element at global index g if it lies in this dispatch's segment and is finite.
fn acc(g: u32) {
  let l = g - prm.segStart; // wraps to a huge value below the segment
  if (l >= prm.segLen) { return; }
  let u = src[l];
  if (!is_finite_bits(u)) { return; }
  let k = okey(u);
  aMin = min(aMin, k);
  aMax = max(aMax, k);
  let x = bitcast<f32>(u);
  aSum += x;
  aSq += x * x;
}

fn merge(q: u32, mn: u32, mx: u32, s: f32, s2: f32) {
  let b = q * 4u;
  part[b] = max(part[b], ~mn);
  part[b + 1u] = max(part[b + 1u], mx);
  part[b + 2u] = bitcast<u32>(bitcast<f32>(part[b + 2u]) + s);
  part[b + 3u] = bitcast<u32>(bitcast<f32>(part[b + 3u]) + s2);
}

fn share(lid: u32) {
  sMin[lid] = aMin; sMax[lid] = aMax; sSum[lid] = aSum; sSq[lid] = aSq;
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
      let o = lid + off;
      sMin[lid] = min(sMin[lid], sMin[o]);
      sMax[lid] = max(sMax[lid], sMax[o]);
      sSum[lid] = sSum[lid] + sSum[o];
      sSq[lid] = sSq[lid] + sSq[o];
    }
    workgroupBarrier();
  }
  if (lid == 0u) { merge(w, sMin[0], sMax[0], sSum[0], sSq[0]); }
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
      var mn = sMin[lid];
      var mx = sMax[lid];
      var s = sSum[lid];
      var s2 = sSq[lid];
      for (var t = lid + prm.cols; t < P * prm.cols; t += prm.cols) {
        mn = min(mn, sMin[t]);
        mx = max(mx, sMax[t]);
        s += sSum[t];
        s2 += sSq[t];
      }
      merge(y * prm.cols + lid, mn, mx, s, s2);
    }
  } else if (valid) {
    merge(y * prm.cols + j, aMin, aMax, aSum, aSq);
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
  merge(c, aMin, aMax, aSum, aSq);
}
`;
