import { COMMON_WGSL } from './common.wgsl';

/**
 * Quantization kernels (see ../../quant.ts for the arithmetic every backend reproduces):
 *   q = clamp(roundHalfEven(f32(x · invScale)) + zp, qmin, qmax),  y = f32((q − zp) · scale),
 * non-finite x quantized as 0 and left out of min/max and error sums.
 *
 * Exactness on any WebGPU device (the host sends only groups whose scale and invScale are normal floats,
 * |zp| < 2^22 and |qmin|, |qmax| <= 2^16; anything else is computed on the host, see ../quant-gpu.ts):
 * - x is read as raw u32 bits; non-finite is decided on the bits (WGSL may assume no NaN/Inf).
 * - p = x · invScale is its own statement and feeds only round() (WGSL: round half to even), so nothing can
 *   be contracted into an FMA; zp is added as an i32 after the conversion. |p| >= 2^23 (including an
 *   overflow to Inf) is integral already and beyond every code range, so it clamps without a float→int
 *   conversion of a huge value.
 * - Flush-to-zero devices (SwiftShader flushes): a subnormal x is rebuilt from its bits as X = x · 2^64
 *   (exact, normal) and multiplied by invScale · 2^-64 (exact when invScale >= 2^-62; when smaller the
 *   true product is < 2^-188 and rounds to 0 either way), giving the same real product before its single
 *   rounding. A subnormal product rounds to 0 whether or not it is flushed. With a normal scale, y is 0 or
 *   normal, so storing y is exact too.
 * - max|x − y| is exact: each invocation keeps the element with the largest key (f32(|x − y|) bits, then
 *   the exact rounding remainder from TwoSum as a tie-break), reduced per workgroup; the host recomputes
 *   |x − y| in float64 from the winning (x, y) bits of every workgroup. Pairs with |x|, |y| < 2^-100 are
 *   compared after scaling both by 2^64 (exact), so subnormal differences are not flushed; pairs with a value
 *   >= 2^100 after scaling by 2^-64, so x − y cannot overflow. y is passed through a bit operation with a
 *   runtime zero so that x − y cannot be fused with the product giving y.
 * - Σx² and Σ(x − y)² are f32 per invocation and workgroup (the host adds the partials in float64); terms of
 *   values or errors >= 2^40 are accumulated scaled by 2^-192, so no partial overflows float32.
 */
export const QUANT_PARAMS_WGSL = /* wgsl */ `
struct QParams {
  segStart: u32, segLen: u32, wgCount: u32, gran: u32,
  outer: u32, D: u32, inner: u32, B: u32,
  nb: u32, qmin: i32, qmax: i32, zero: u32,
  C: u32, S: u32, L: u32, threads: u32,
  n: u32, outBase: u32, gBase: u32, pad0: u32,
}
`;

const QUANT_FNS_WGSL = /* wgsl */ `
// x * 2^64 exactly for |x| < 2^-100 (zero, subnormal or small normal bits u); the result is normal or zero.
fn scaled64(u: u32) -> f32 {
  let e = (u >> 23u) & 0xffu;
  var a: f32;
  if (e == 0u) {
    a = f32(u & 0x7fffffu) * bitcast<f32>(0x15000000u); // m * 2^-149 * 2^64 = m * 2^-85
  } else {
    a = bitcast<f32>((u & 0x7fffffffu) + (64u << 23u));
  }
  return select(a, -a, (u & 0x80000000u) != 0u);
}

// The code of float bits u: clamp(roundHalfEven(f32(x * inv)) + zp, qmin, qmax), non-finite x as 0.
fn quant_code(u: u32, inv: f32, zp: i32) -> i32 {
  let a = u & 0x7fffffffu;
  var p: f32;
  if (a >= 0x7f800000u) {
    p = 0.0f;
  } else if (a < 0x00800000u) {
    p = scaled64(u) * (inv * bitcast<f32>(0x1f800000u)); // (x * 2^64) * (inv * 2^-64)
  } else {
    p = bitcast<f32>(u) * inv;
  }
  let pb = bitcast<u32>(p);
  var q: i32;
  if ((pb & 0x7fffffffu) >= 0x4b000000u) {
    // |p| >= 2^23: far outside [qmin - zp, qmax - zp]
    if ((pb & 0x80000000u) != 0u) { return prm.qmin; }
    return prm.qmax;
  }
  q = i32(round(p)) + zp;
  if (q < prm.qmin) { return prm.qmin; }
  if (q > prm.qmax) { return prm.qmax; }
  return q;
}

fn dequant(q: i32, zp: i32, scale: f32) -> f32 {
  return f32(q - zp) * scale;
}
`;

/** Element index → group, for the three granularities (0 tensor, 1 channel, 2 block). */
const GROUP_OF_WGSL = /* wgsl */ `
fn group_of(idx: u32) -> u32 {
  if (prm.gran == 0u) { return 0u; }
  let r = idx / prm.inner; // o * D + d
  if (prm.gran == 1u) { return r % prm.D; }
  let i = idx - r * prm.inner;
  let o = r / prm.D;
  let d = r - o * prm.D;
  return (o * prm.nb + d / prm.B) * prm.inner + i;
}
`;

/**
 * quantizeGroups, one segment per dispatch: grid-stride over 4-element units (vec4 loads); writes y bits
 * (vec4 per unit) and the codes (8-bit: one u32 word of 4 bytes per unit; 16-bit: two words), and per
 * workgroup a partial of 8 words [Σx², Σ(x−y)², maxKey, remKey, x bits, y bits, Σx²·2^-192, Σ(x−y)²·2^-192] (sums
 * f32; values or errors >= 2^40 go to the scaled sums) at part[(outBase + wg) * 8]. Groups' parameters: gp[g] = (scale bits, invScale bits, zp, 0).
 */
export function quantizeWgsl(code16: boolean): string {
  return /* wgsl */ `
${COMMON_WGSL}
${QUANT_PARAMS_WGSL}
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> gp: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> yOut: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> codes: array<u32>;
@group(0) @binding(4) var<storage, read_write> part: array<u32>;
@group(0) @binding(5) var<uniform> prm: QParams;
${QUANT_FNS_WGSL}
${GROUP_OF_WGSL}

var<workgroup> sSig: array<f32, WG>;
var<workgroup> sNoi: array<f32, WG>;
var<workgroup> sKey: array<u32, WG>;
var<workgroup> sRem: array<u32, WG>;
var<workgroup> sX: array<u32, WG>;
var<workgroup> sY: array<u32, WG>;
var<workgroup> sSigB: array<f32, WG>;
var<workgroup> sNoiB: array<f32, WG>;

var<private> aSig: f32;
var<private> aNoi: f32;
var<private> aKey: u32;
var<private> aRem: u32;
var<private> aX: u32;
var<private> aY: u32;
var<private> aSigBig: f32;
var<private> aNoiBig: f32;

// The error x - y of one element, for the sums and the exact maximum:
// - key, rem: key of f32(|x - y|) (float bits, exponent allowed past 255 for huge values) and key of the signed
//   TwoSum rounding remainder; their lexicographic order is the order of the exact |x - y|.
// - sq + sqBig * 2^192 = f32 (x - y)^2: errors >= 2^40 go to the scaled part so no f32 overflows.
// x - y is computed in one of three domains so that nothing is flushed or overflows: both |x|, |y| < 2^-100:
// both scaled by 2^64 (exact); either >= 2^100: both scaled by 2^-64; else plain.
struct Err { key: u32, rem: u32, sq: f32, sqBig: f32 }

fn err_of(xb: u32, yRaw: u32) -> Err {
  let yb = yRaw | prm.zero; // opaque to the compiler: x - y cannot be fused with the product that gave y
  let xa = xb & 0x7fffffffu;
  let ya = yb & 0x7fffffffu;
  var dom = 1u;
  var a = bitcast<f32>(xb);
  var b = bitcast<f32>(yb);
  if (xa < (27u << 23u) && ya < (27u << 23u)) {
    dom = 0u;
    a = scaled64(xb);
    b = scaled64(yb);
  } else if (xa >= (227u << 23u) || ya >= (227u << 23u)) {
    dom = 2u;
    a = a * 0x1p-64f;
    b = b * 0x1p-64f;
  }
  // TwoSum of a + (-b): s + r = a - b exactly (no multiplications, so nothing to contract)
  let nb = -b;
  let s = a + nb;
  let bv = s - a;
  let av = s - bv;
  let r = (a - av) + (nb - bv);
  let sb = bitcast<u32>(s);
  let sa = sb & 0x7fffffffu;
  var er: Err;
  er.sq = 0.0f;
  er.sqBig = 0.0f;
  if (dom == 0u) {
    if (sa >= (65u << 23u)) {
      er.key = sa - (64u << 23u); // |s| >= 2^-62: f32(|x - y|) = |s| * 2^-64, normal
    } else {
      er.key = u32(abs(s) * 0x1p85f); // exact subnormal difference: |s| * 2^85 = its bits
    }
    let e = s * 0x1p-64f;
    er.sq = e * e;
  } else if (dom == 1u) {
    er.key = sa;
    if (sa >= (167u << 23u)) {
      let e = s * 0x1p-96f;
      er.sqBig = e * e;
    } else {
      er.sq = s * s;
    }
  } else {
    er.key = select(sa + (64u << 23u), 0u, sa == 0u);
    if (sa >= (103u << 23u)) {
      let e = s * 0x1p-32f; // (x - y) * 2^-96
      er.sqBig = e * e;
    } else {
      let e = s * 0x1p64f;
      er.sq = e * e;
    }
  }
  // |x - y| = |s| + r when s >= 0, |s| - r when s < 0
  var rb = bitcast<u32>(r) ^ (sb & 0x80000000u);
  if ((rb & 0x7fffffffu) == 0u) { rb = 0u; }
  er.rem = okey(rb);
  return er;
}

fn better(k: u32, r: u32, bk: u32, br: u32) -> bool {
  return k > bk || (k == bk && r > br);
}

// One element: returns (y bits, code as u32); accumulates sums and the max-error candidate.
fn one(l: u32, u: u32) -> vec2<u32> {
  if (l >= prm.segLen) { return vec2<u32>(0u, 0u); }
  let g = group_of(prm.segStart + l);
  let p = gp[g];
  let scale = bitcast<f32>(p.x);
  let zp = bitcast<i32>(p.z);
  let q = quant_code(u, bitcast<f32>(p.y), zp);
  let yb = bitcast<u32>(dequant(q, zp, scale));
  if (is_finite_bits(u)) {
    let x = bitcast<f32>(u);
    if ((u & 0x7fffffffu) >= (167u << 23u)) {
      let xs = x * 0x1p-96f;
      aSigBig += xs * xs;
    } else {
      aSig += x * x;
    }
    let ya = yb & 0x7fffffffu;
    let xa = u & 0x7fffffffu;
    let plain = (xa >= (27u << 23u) || ya >= (27u << 23u)) && xa < (227u << 23u) && ya < (227u << 23u);
    var sa = 0u;
    if (plain) {
      // the common case, cheaply: the plain-domain key is f32(|x - y|) itself
      let s = x - bitcast<f32>(yb | prm.zero);
      sa = bitcast<u32>(s) & 0x7fffffffu;
      if (sa < (167u << 23u)) {
        aNoi += s * s;
      } else {
        let e = s * 0x1p-96f;
        aNoiBig += e * e;
      }
    }
    if (!plain || sa >= aKey) {
      let er = err_of(u, yb);
      if (!plain) {
        aNoi += er.sq;
        aNoiBig += er.sqBig;
      }
      if (better(er.key, er.rem, aKey, aRem)) {
        aKey = er.key; aRem = er.rem; aX = u; aY = yb;
      }
    }
  }
  return vec2<u32>(yb, bitcast<u32>(q));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let wg = flat_wg(wid, nwg);
  if (wg >= prm.wgCount) { return; }
  let units = (prm.segLen + 3u) / 4u;
  let stride = prm.wgCount * WG;
  for (var u = wg * WG + lid; u < units; u += stride) {
    let v = src[u];
    let l = u * 4u;
    let a = one(l, v.x);
    let b = one(l + 1u, v.y);
    let c = one(l + 2u, v.z);
    let d = one(l + 3u, v.w);
    yOut[u] = vec4<u32>(a.x, b.x, c.x, d.x);
${
  code16
    ? `    codes[2u * u] = (a.y & 0xffffu) | (b.y << 16u);
    codes[2u * u + 1u] = (c.y & 0xffffu) | (d.y << 16u);`
    : `    codes[u] = (a.y & 0xffu) | ((b.y & 0xffu) << 8u) | ((c.y & 0xffu) << 16u) | (d.y << 24u);`
}
  }
  sSig[lid] = aSig; sNoi[lid] = aNoi; sKey[lid] = aKey; sRem[lid] = aRem; sX[lid] = aX; sY[lid] = aY;
  sSigB[lid] = aSigBig; sNoiB[lid] = aNoiBig;
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) {
      let o = lid + off;
      sSig[lid] = sSig[lid] + sSig[o];
      sNoi[lid] = sNoi[lid] + sNoi[o];
      sSigB[lid] = sSigB[lid] + sSigB[o];
      sNoiB[lid] = sNoiB[lid] + sNoiB[o];
      if (better(sKey[o], sRem[o], sKey[lid], sRem[lid])) {
        sKey[lid] = sKey[o]; sRem[lid] = sRem[o]; sX[lid] = sX[o]; sY[lid] = sY[o];
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let b = (prm.outBase + wg) * 8u;
    part[b] = bitcast<u32>(sSig[0]);
    part[b + 1u] = bitcast<u32>(sNoi[0]);
    part[b + 2u] = sKey[0];
    part[b + 3u] = sRem[0];
    part[b + 4u] = sX[0];
    part[b + 5u] = sY[0];
    part[b + 6u] = bitcast<u32>(sSigB[0]);
    part[b + 7u] = bitcast<u32>(sNoiB[0]);
  }
}
`;
}

/**
 * Walks the elements of group g, slice s (k in [s·L, min(size, s·L + L)) of the group's element list):
 * tensor — the whole tensor; channel d — (o, d, i) in memory order; block (o, b, i) — d in the block.
 * Elements outside this dispatch's segment are skipped (multi-buffer tensors: one dispatch per segment,
 * partials merged read-modify-write, one writer per partial per dispatch).
 */
const WALK_WGSL = /* wgsl */ `
struct Walk { first: u32, count: u32, i: u32, runLen: u32, step: u32, jump: u32 }

fn group_size(g: u32) -> u32 {
  if (prm.gran == 0u) { return prm.n; }
  if (prm.gran == 1u) { return prm.outer * prm.inner; }
  let b = (g / prm.inner) % prm.nb;
  return min(prm.B, prm.D - b * prm.B);
}

// element index of the k-th element of group g (and its position i within a run, for channel walks)
fn element_at(g: u32, k: u32) -> vec2<u32> {
  if (prm.gran == 0u) { return vec2<u32>(k, 0u); }
  if (prm.gran == 1u) {
    let o = k / prm.inner;
    let i = k - o * prm.inner;
    return vec2<u32>((o * prm.D + g) * prm.inner + i, i);
  }
  let i = g % prm.inner;
  let ob = g / prm.inner;
  let o = ob / prm.nb;
  let b = ob - o * prm.nb;
  return vec2<u32>((o * prm.D + b * prm.B + k) * prm.inner + i, 0u);
}

fn walk_of(g: u32, s: u32) -> Walk {
  var w: Walk;
  let size = group_size(g);
  let k0 = s * prm.L;
  w.count = select(0u, min(size - k0, prm.L), k0 < size);
  let e = element_at(g, k0);
  w.first = e.x;
  w.i = e.y;
  w.runLen = 0xffffffffu;
  w.step = 1u;
  w.jump = 1u;
  if (prm.gran == 1u) {
    w.runLen = prm.inner;
    w.jump = (prm.D - 1u) * prm.inner + 1u;
  } else if (prm.gran == 2u) {
    w.step = prm.inner;
  }
  if (w.count > 0u) {
    // skip walks entirely outside this segment (element indices increase along a walk)
    let last = element_at(g, k0 + w.count - 1u).x;
    if (last < prm.segStart || w.first >= prm.segStart + prm.segLen) { w.count = 0u; }
  }
  return w;
}
`;

/**
 * candidateErrors over a chunk of groups [gBase, gBase + G): one invocation per (group gBase + gl, slice s,
 * candidate c), t = (gl·S + s)·C + c; part[t] += Σ over the slice's finite x of (x − y_c)², f32 (the host sums
 * slices in float64). gp[gl·C + c] = the candidate's (scale bits, invScale bits, zp, 0).
 */
export const CANDIDATES_WGSL = /* wgsl */ `
${COMMON_WGSL}
${QUANT_PARAMS_WGSL}
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> gp: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<uniform> prm: QParams;
${QUANT_FNS_WGSL}
${WALK_WGSL}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = flat_wg(wid, nwg) * WG + lid;
  if (t >= prm.threads) { return; }
  let c = t % prm.C;
  let gs = t / prm.C;
  let gl = gs / prm.S; // group within this chunk of groups
  let s = gs - gl * prm.S;
  let w = walk_of(prm.gBase + gl, s);
  if (w.count == 0u) { return; }
  let p = gp[gl * prm.C + c];
  let scale = bitcast<f32>(p.x);
  let inv = bitcast<f32>(p.y);
  let zp = bitcast<i32>(p.z);
  var acc = 0.0f;
  var idx = w.first;
  var i = w.i;
  for (var k = 0u; k < w.count; k++) {
    let l = idx - prm.segStart;
    if (l < prm.segLen) {
      let u = src[l];
      if (is_finite_bits(u)) {
        let y = bitcast<f32>(bitcast<u32>(dequant(quant_code(u, inv, zp), zp, scale)) | prm.zero); // not fusable
        let e = bitcast<f32>(u) - y;
        acc += e * e;
      }
    }
    i += 1u;
    if (i == w.runLen) { i = 0u; idx += w.jump; } else { idx += w.step; }
  }
  part[t] = part[t] + acc;
}
`;

/**
 * groupMinMax for blocks: one invocation per group gBase + t, merged into part[2t..2t+1] = (~minKey, maxKey), all-zero =
 * empty (a cleared buffer is the identity). Whole tensors and channels use the channelStats kernels instead.
 */
export const BLOCK_MINMAX_WGSL = /* wgsl */ `
${COMMON_WGSL}
${QUANT_PARAMS_WGSL}
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> part: array<u32>;
@group(0) @binding(2) var<uniform> prm: QParams;
${WALK_WGSL}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = flat_wg(wid, nwg) * WG + lid;
  if (t >= prm.threads) { return; }
  let w = walk_of(prm.gBase + t, 0u);
  if (w.count == 0u) { return; }
  var mn = 0xffffffffu;
  var mx = 0u;
  var idx = w.first;
  for (var k = 0u; k < w.count; k++) {
    let l = idx - prm.segStart;
    if (l < prm.segLen) {
      let u = src[l];
      if (is_finite_bits(u)) {
        let key = okey(u);
        mn = min(mn, key);
        mx = max(mx, key);
      }
    }
    idx += w.step;
  }
  part[2u * t] = max(part[2u * t], ~mn);
  part[2u * t + 1u] = max(part[2u * t + 1u], mx);
}
`;

/** packNibbles: 8 codes (four u32 words of two int16 each) → one u32 of 8 nibbles, element i in nibble i. */
export const PACK_NIBBLES_WGSL = /* wgsl */ `
${COMMON_WGSL}
struct PParams { words: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> prm: PParams;

fn nib2(w: u32) -> u32 {
  return (w & 0xfu) | ((w >> 12u) & 0xf0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = flat_wg(wid, nwg) * WG + lid;
  if (t >= prm.words) { return; }
  let v = src[t];
  dst[t] = nib2(v.x) | (nib2(v.y) << 8u) | (nib2(v.z) << 16u) | (nib2(v.w) << 24u);
}
`;
