import { COMMON_WGSL, visitElementsWgsl, HIST_BIN_WGSL, HIST_PARAMS_WGSL } from './common.wgsl';

/**
 * Histogram, one segment per dispatch, grid-stride over vec4<u32> words.
 * localBins > 0: workgroup-private atomic<u32> bins (localBins >= bins), flushed with one global atomicAdd
 * per non-empty bin. localBins = 0: global atomics only (for bin counts beyond workgroup memory).
 * Workgroup memory is zero-initialised by WGSL, so the private bins need no clearing pass.
 */
export function histogramWgsl(localBins: number): string {
  const local = localBins > 0;
  return /* wgsl */ `
${COMMON_WGSL}
${HIST_PARAMS_WGSL}

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> prm: Params;
${local ? `var<workgroup> lb: array<atomic<u32>, ${localBins}>;` : ''}
${HIST_BIN_WGSL}
fn count(u: u32) {
  let b = hist_bin(u);
  if (b >= 0) {
    ${local ? 'atomicAdd(&lb[u32(b)], 1u);' : 'atomicAdd(&counts[u32(b)], 1u);'}
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let wg = flat_wg(wid, nwg);
  if (wg >= prm.wgCount) { return; }
${visitElementsWgsl('count')}
  ${
    local
      ? `workgroupBarrier();
  for (var j = lid; j < prm.bins; j += WG) {
    let c = atomicLoad(&lb[j]);
    if (c != 0u) { atomicAdd(&counts[j], c); }
  }`
      : ''
  }
}
`;
}
