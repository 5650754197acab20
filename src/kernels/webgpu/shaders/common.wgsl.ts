/**
 * WGSL helpers shared by the kernels.
 *
 * Float classification and ordering are done on the raw bits (every tensor is bound as u32 words):
 * - WGSL lets implementations assume NaN/Inf never occur, so `x != x` or `x < y` on NaN is not reliable;
 * - a GPU may flush subnormals to zero in float compares/min/max; integer keys keep them exact.
 * `okey` maps float bits to a u32 whose unsigned order is the float order (-0 sorts just below +0).
 */
export const WG = 256;

/**
 * WGSL statements: a grid-stride loop over the `prm.n` u32 elements of `src` (bound as vec4 words) that calls
 * `visit(u)` on each; the last partial word is read lane by lane by one thread. Needs `wg`, `lid` and
 * `prm.wgCount` in scope.
 */
export function visitElementsWgsl(visit: string): string {
  return /* wgsl */ `
  let n = prm.n;
  let full = n / 4u; // whole vec4 words; the last partial word is read lane by lane
  let stride = prm.wgCount * WG;
  for (var i = wg * WG + lid; i < full; i += stride) {
    let v = src[i];
    ${visit}(v.x);
    ${visit}(v.y);
    ${visit}(v.z);
    ${visit}(v.w);
  }
  if (wg == 0u && lid == 0u && full * 4u < n) {
    let v = src[full];
    ${visit}(v.x);
    if (full * 4u + 1u < n) { ${visit}(v.y); }
    if (full * 4u + 2u < n) { ${visit}(v.z); }
  }`;
}

export const COMMON_WGSL = /* wgsl */ `
const WG: u32 = ${WG}u;

// Unsigned key whose order is the IEEE order of the float with bits u (NaNs sort beyond ±Inf).
fn okey(u: u32) -> u32 {
  return select(u | 0x80000000u, ~u, (u & 0x80000000u) != 0u);
}

fn is_finite_bits(u: u32) -> bool {
  return (u & 0x7f800000u) != 0x7f800000u;
}

// Flat workgroup index of a 1-D grid that may be laid out as 2-D (x <= 65535).
fn flat_wg(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}
`;

/** Uniforms of the histogram and gather kernels (16 words; see histUniformWords in ../backend.ts). */
export const HIST_PARAMS_WGSL = /* wgsl */ `
struct Params {
  n: u32, wgCount: u32, bins: u32, loKey: u32,
  hiKey: u32, lo: f32, scale: f32, nslots: u32,
  // lo * 2^64 and scale * 2^-64 (exact, host-computed), for the tiny-value path
  loS: f32, scaleS: f32, tinyLo: u32, subScale: u32,
  // scale * 2^64 when scale is subnormal
  scaleQ: f32, pad0: u32, pad1: u32, pad2: u32,
}
`;

/**
 * The histogram bin of float bits u, or -1 when not counted: the exact float32 arithmetic of
 * \`histogramBin\` in ../types.ts, t = f32(f32(x - lo) * scale), bin = min(floor(t), bins - 1).
 * Needs a module-scope uniform \`prm: Params\`.
 *
 * - Range test on integer keys of lo/hi (-0 folded onto +0, as IEEE compares), exact for any value.
 * - The arithmetic is a subtraction whose rounded result feeds a multiplication: there is no a*b+c
 *   shape, so nothing can be contracted into an FMA, and WGSL/SPIR-V do not reassociate. WGSL requires
 *   correctly rounded f32 +, -, *.
 * - Flush-to-zero devices (SwiftShader does flush): subnormal x - lo, subnormal inputs or a subnormal scale
 *   would change the result, so those cases take exact detours, all of which produce the same real
 *   product before its single rounding:
 *   * |x| and |lo| both < 2^-100 (host flag tinyLo + exponent test): X = x*2^64 built from the bits,
 *     t = (X - lo*2^64) * (scale*2^-64). A subnormal difference is exact, so X - L = fl(x - lo)*2^64.
 *   * otherwise fl(x - lo) is normal or zero and flushing a subnormal operand cannot change it
 *     (it is below a quarter ulp of the other operand);
 *   * a subnormal scale: t = (d * 2^-64) * (scale*2^64); if d < 2^-62 the true t is far below 1 anyway.
 * - NaN t (Inf*0: infinite range with scale 0, or d = 0 with an infinite scale) is detected on the bits
 *   and skipped, like the reference (floor(NaN) is never a valid bin there).
 */
export const HIST_BIN_WGSL = /* wgsl */ `
// x * 2^64 exactly, for |x| < 2^-100 (result normal or zero, so a flush-to-zero device keeps it).
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

fn hist_bin(u: u32) -> i32 {
  if (!is_finite_bits(u)) { return -1; }
  let k = okey(select(u, 0u, u == 0x80000000u));
  if (k < prm.loKey || k > prm.hiKey) { return -1; }
  var t: f32;
  if (prm.tinyLo != 0u && (u & 0x7f800000u) < (27u << 23u)) {
    let d = scaled64(u) - prm.loS;
    t = d * prm.scaleS;
  } else if (prm.subScale != 0u) {
    let d = bitcast<f32>(u) - prm.lo;
    t = (d * bitcast<f32>(0x1f800000u)) * prm.scaleQ; // 2^-64
  } else {
    let d = bitcast<f32>(u) - prm.lo;
    t = d * prm.scale;
  }
  if ((bitcast<u32>(t) & 0x7fffffffu) > 0x7f800000u) { return -1; }
  let b = floor(t);
  // bins <= 2^24, so f32(bins) is exact and the comparison clamps like the reference.
  if (b >= f32(prm.bins)) { return i32(prm.bins - 1u); }
  return i32(b);
}
`;
