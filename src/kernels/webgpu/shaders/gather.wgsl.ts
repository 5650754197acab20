import { COMMON_WGSL, HIST_BIN_WGSL, HIST_PARAMS_WGSL } from './common.wgsl';

/** Elements per thread of the gather kernel (a workgroup handles a tile of WG * GATHER_K elements). */
export const GATHER_K = 8;
/** Wanted bins handled per pass (workgroup-private slot counters). */
export const GATHER_SLOTS = 256;

/**
 * GPU compaction for gatherBins, one segment per dispatch. slotOf[bin] is the slot (0..nslots-1) of a
 * wanted bin or -1. Each workgroup counts its matches per slot with workgroup atomics (which also gives every
 * element its offset), reserves one range per slot with a single global atomicAdd on cursor[slot] (preset to
 * the slot's start in the output by the host from the histogram), then writes the values there.
 */
export const GATHER_WGSL = /* wgsl */ `
${COMMON_WGSL}
${HIST_PARAMS_WGSL}
const K: u32 = ${GATHER_K}u;

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> slotOf: array<i32>;
@group(0) @binding(2) var<storage, read_write> cursor: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> outv: array<u32>;
@group(0) @binding(4) var<uniform> prm: Params;

var<workgroup> lc: array<atomic<u32>, ${GATHER_SLOTS}>;
var<workgroup> lbase: array<u32, ${GATHER_SLOTS}>;
${HIST_BIN_WGSL}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let wg = flat_wg(wid, nwg);
  if (wg >= prm.wgCount) { return; }
  var vals: array<u32, K>;
  var slot: array<i32, K>;
  var off: array<u32, K>;
  let tile = wg * WG * K;
  for (var k = 0u; k < K; k++) {
    slot[k] = -1;
    let idx = tile + k * WG + lid;
    if (idx < prm.n) {
      let u = src[idx];
      vals[k] = u;
      let b = hist_bin(u);
      if (b >= 0) {
        let s = slotOf[u32(b)];
        if (s >= 0) {
          slot[k] = s;
          off[k] = atomicAdd(&lc[u32(s)], 1u);
        }
      }
    }
  }
  workgroupBarrier();
  if (lid < prm.nslots) {
    let c = atomicLoad(&lc[lid]);
    if (c != 0u) { lbase[lid] = atomicAdd(&cursor[lid], c); }
  }
  workgroupBarrier();
  for (var k = 0u; k < K; k++) {
    let s = slot[k];
    if (s >= 0) { outv[lbase[u32(s)] + off[k]] = vals[k]; }
  }
}
`;
