import { COMMON_WGSL, visitElementsWgsl } from './common.wgsl';

/**
 * Whole-tensor moments, one segment per dispatch. Grid-stride over vec4<u32> words; each thread keeps
 * min/max keys, f32 sum and sum of squares and four u32 counts (whole vec4 words, no dynamic lane
 * indexing; the tail word is read by one thread); a workgroup tree reduction then writes one
 * partial of 8 words [minKey, maxKey, sum, sumSq, nan, +inf, -inf, zeros] at part[(outBase + wg) * 8].
 * The CPU combines the partials in float64. Counts are exact u32 (a segment has < 2^30 elements).
 */
export const MOMENTS_WGSL = /* wgsl */ `
${COMMON_WGSL}
struct Params { n: u32, wgCount: u32, outBase: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> part: array<u32>;
@group(0) @binding(2) var<uniform> prm: Params;

var<workgroup> sMin: array<u32, WG>;
var<workgroup> sMax: array<u32, WG>;
var<workgroup> sSum: array<f32, WG>;
var<workgroup> sSq: array<f32, WG>;
var<workgroup> sNan: array<u32, WG>;
var<workgroup> sPinf: array<u32, WG>;
var<workgroup> sNinf: array<u32, WG>;
var<workgroup> sZero: array<u32, WG>;

// per-invocation accumulators (private vars start at zero; the min key at its identity)
var<private> aMin: u32 = 0xffffffffu;
var<private> aMax: u32;
var<private> aSum: f32;
var<private> aSq: f32;
var<private> cN: u32;
var<private> cP: u32;
var<private> cM: u32;
var<private> cZ: u32;

fn acc(u: u32) {
  if (is_finite_bits(u)) {
    let key = okey(u);
    aMin = min(aMin, key);
    aMax = max(aMax, key);
    let x = bitcast<f32>(u);
    aSum += x;
    aSq += x * x;
    if ((u & 0x7fffffffu) == 0u) { cZ++; }
  } else if ((u & 0x007fffffu) != 0u) {
    cN++;
  } else if ((u & 0x80000000u) != 0u) {
    cM++;
  } else {
    cP++;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let wg = flat_wg(wid, nwg);
  if (wg >= prm.wgCount) { return; }
${visitElementsWgsl('acc')}
  sMin[lid] = aMin; sMax[lid] = aMax; sSum[lid] = aSum; sSq[lid] = aSq;
  sNan[lid] = cN; sPinf[lid] = cP; sNinf[lid] = cM; sZero[lid] = cZ;
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) {
      let o = lid + off;
      sMin[lid] = min(sMin[lid], sMin[o]);
      sMax[lid] = max(sMax[lid], sMax[o]);
      sSum[lid] = sSum[lid] + sSum[o];
      sSq[lid] = sSq[lid] + sSq[o];
      sNan[lid] = sNan[lid] + sNan[o];
      sPinf[lid] = sPinf[lid] + sPinf[o];
      sNinf[lid] = sNinf[lid] + sNinf[o];
      sZero[lid] = sZero[lid] + sZero[o];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let b = (prm.outBase + wg) * 8u;
    part[b] = sMin[0];
    part[b + 1u] = sMax[0];
    part[b + 2u] = bitcast<u32>(sSum[0]);
    part[b + 3u] = bitcast<u32>(sSq[0]);
    part[b + 4u] = sNan[0];
    part[b + 5u] = sPinf[0];
    part[b + 6u] = sNinf[0];
    part[b + 7u] = sZero[0];
  }
}
`;
