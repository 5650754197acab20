import { COMMON_WGSL } from './common.wgsl';

/**
 * Linear-algebra kernels (see ../linalg-gpu.ts), float32 (WGSL has no float64), 16×16 tiles through workgroup
 * memory; each invocation owns one output element and sums its terms in order.
 *
 * - GRAM_WGSL: g[i, j] = Σᵣ x[r, i]·x[r, j] for the upper-triangle tiles (tile row ≤ tile column; within a diagonal
 *   tile only j ≥ i is written). One workgroup per tile of a tiles × tiles grid; the lower tiles return at once.
 * - BLOCK_UPDATE_WGSL: w[r, c] −= Σₜ e[r, t]·u[t, c]; one workgroup per 16×16 tile of w, t in slabs of 16.
 */
export const GRAM_WGSL = /* wgsl */ `
${COMMON_WGSL}
struct Params { rows: u32, cols: u32, tiles: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> g: array<f32>;
@group(0) @binding(2) var<uniform> prm: Params;

var<workgroup> xa: array<f32, 256>;
var<workgroup> xb: array<f32, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let f = flat_wg(wid, nwg);
  if (f >= prm.tiles * prm.tiles) { return; }
  let ti = f / prm.tiles;
  let tj = f % prm.tiles;
  if (ti > tj) { return; }
  let i = ti * 16u + lid.y;
  let j = tj * 16u + lid.x;
  let ci = ti * 16u + lid.x;
  var acc: f32 = 0.0;
  for (var r0: u32 = 0u; r0 < prm.rows; r0 = r0 + 16u) {
    let r = r0 + lid.y;
    var a: f32 = 0.0;
    var b: f32 = 0.0;
    if (r < prm.rows) {
      if (ci < prm.cols) { a = x[r * prm.cols + ci]; }
      if (j < prm.cols) { b = x[r * prm.cols + j]; }
    }
    xa[lid.y * 16u + lid.x] = a;
    xb[lid.y * 16u + lid.x] = b;
    workgroupBarrier();
    for (var t: u32 = 0u; t < 16u; t = t + 1u) {
      acc = acc + xa[t * 16u + lid.y] * xb[t * 16u + lid.x];
    }
    workgroupBarrier();
  }
  if (i < prm.cols && j < prm.cols && j >= i) { g[i * prm.cols + j] = acc; }
}
`;

export const BLOCK_UPDATE_WGSL = /* wgsl */ `
${COMMON_WGSL}
struct Params { rows: u32, k: u32, n: u32, tilesN: u32, tiles: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read> e: array<f32>;
@group(0) @binding(2) var<storage, read> u: array<f32>;
@group(0) @binding(3) var<uniform> prm: Params;

var<workgroup> es: array<f32, 256>;
var<workgroup> us: array<f32, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let f = flat_wg(wid, nwg);
  if (f >= prm.tiles) { return; }
  let r = (f / prm.tilesN) * 16u + lid.y;
  let c = (f % prm.tilesN) * 16u + lid.x;
  let er = (f / prm.tilesN) * 16u + lid.y;
  let inside = r < prm.rows && c < prm.n;
  var acc: f32 = 0.0;
  if (inside) { acc = w[r * prm.n + c]; }
  for (var t0: u32 = 0u; t0 < prm.k; t0 = t0 + 16u) {
    var a: f32 = 0.0;
    var b: f32 = 0.0;
    if (er < prm.rows && t0 + lid.x < prm.k) { a = e[er * prm.k + t0 + lid.x]; }
    if (t0 + lid.y < prm.k && c < prm.n) { b = u[(t0 + lid.y) * prm.n + c]; }
    es[lid.y * 16u + lid.x] = a;
    us[lid.y * 16u + lid.x] = b;
    workgroupBarrier();
    let m = min(16u, prm.k - t0);
    for (var t: u32 = 0u; t < m; t = t + 1u) {
      acc = acc - es[lid.y * 16u + t] * us[t * 16u + lid.x];
    }
    workgroupBarrier();
  }
  if (inside) { w[r * prm.n + c] = acc; }
}
`;
