/**
 * Layered (Sugiyama) layout of the visible graph. Small and medium graphs go to dagre (a maintained library made
 * for this: network-simplex ranking, crossing minimisation, Brandes–Köpf placement, routed edges). dagre's cost
 * grows fast (measured on the shared 2-core dev box: 3–9 s for 1,000 nodes by load, ~27 s for 10,000 with its cheapest ranker,
 * and its recursive passes overflow the stack on chains ~10,000 deep), so above DAGRE_MAX_NODES (where dagre takes
 * about a second here) a linear-time
 * layered layout takes over: longest-path ranks, two barycentre sweeps to order each rank, barycentric x with
 * packing, straight edges. Both run in the layout worker; the result is typed arrays, transferred.
 */
import dagre from '@dagrejs/dagre';

export const DAGRE_MAX_NODES = 500;

export interface LayoutInput {
  /** Width and height of each visible node. */
  widths: Float32Array;
  heights: Float32Array;
  /** Pairs of visible indices (from, to). */
  edges: Int32Array;
  /** Expanded groups: the members' visible indices and the enclosing cluster (-1 for none). */
  clusters: { members: number[]; parent: number }[];
  /** Forces the fast layout (benchmarks and tests). */
  engine?: 'dagre' | 'fast';
}

export interface LayoutResult {
  /** Centre of each node. */
  x: Float32Array;
  y: Float32Array;
  /** Edge polylines: points of edge i are xy[offsets[i] .. offsets[i+1]) as x,y pairs. */
  points: Float32Array;
  offsets: Int32Array;
  /** Cluster boxes, x,y (top-left), w,h per cluster, in input order. */
  clusterBoxes: Float32Array;
  width: number;
  height: number;
  engine: 'dagre' | 'fast';
  ms: number;
}

const NODE_SEP = 24;
const RANK_SEP = 36;
const CLUSTER_PAD = 16;

export function layoutGraph(input: LayoutInput): LayoutResult {
  const started = performance.now();
  const n = input.widths.length;
  const engine = input.engine ?? (n <= DAGRE_MAX_NODES ? 'dagre' : 'fast');
  const result = engine === 'dagre' ? layoutDagre(input) : layoutFast(input);
  // An empty graph (a model without nodes) has no extent.
  const width = Number.isFinite(result.width) ? Math.max(0, result.width) : 0;
  const height = Number.isFinite(result.height) ? Math.max(0, result.height) : 0;
  return { ...result, width, height, engine, ms: performance.now() - started };
}

function layoutDagre(input: LayoutInput): Omit<LayoutResult, 'engine' | 'ms'> {
  const n = input.widths.length;
  const compound = input.clusters.length > 0;
  const g = new dagre.graphlib.Graph({ compound, multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: NODE_SEP, ranksep: RANK_SEP, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (let i = 0; i < n; i++) g.setNode(String(i), { width: input.widths[i]!, height: input.heights[i]! });
  input.clusters.forEach((_, k) =>
    g.setNode(`c${k}`, { paddingTop: CLUSTER_PAD, paddingBottom: CLUSTER_PAD, paddingLeft: CLUSTER_PAD, paddingRight: CLUSTER_PAD }),
  );
  input.clusters.forEach((c, k) => {
    if (c.parent >= 0) g.setParent(`c${k}`, `c${c.parent}`);
    for (const m of c.members) g.setParent(String(m), `c${k}`);
  });
  const e = input.edges;
  for (let i = 0; i < e.length; i += 2) g.setEdge(String(e[i]), String(e[i + 1]));
  dagre.layout(g);

  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const node = g.node(String(i)) as { x: number; y: number };
    x[i] = node.x;
    y[i] = node.y;
  }
  const offsets = new Int32Array(e.length / 2 + 1);
  const pts: number[] = [];
  for (let i = 0; i < e.length; i += 2) {
    const label = g.edge(String(e[i]), String(e[i + 1])) as { points?: { x: number; y: number }[] } | undefined;
    for (const p of label?.points ?? []) pts.push(p.x, p.y);
    offsets[i / 2 + 1] = pts.length;
  }
  const clusterBoxes = new Float32Array(input.clusters.length * 4);
  input.clusters.forEach((_, k) => {
    const c = g.node(`c${k}`) as { x: number; y: number; width: number; height: number };
    clusterBoxes.set([c.x - c.width / 2, c.y - c.height / 2, c.width, c.height], k * 4);
  });
  const graph = g.graph() as { width?: number; height?: number };
  return { x, y, points: Float32Array.from(pts), offsets, clusterBoxes, width: graph.width ?? 0, height: graph.height ?? 0 };
}

/** Linear-time layered layout for graphs dagre cannot lay out in time. */
function layoutFast(input: LayoutInput): Omit<LayoutResult, 'engine' | 'ms'> {
  const { widths, heights, edges } = input;
  const n = widths.length;
  const m = edges.length / 2;
  // Adjacency in CSR form (typed arrays: this runs on 10,000+ nodes).
  const outDeg = new Int32Array(n);
  const inDeg = new Int32Array(n);
  for (let i = 0; i < m; i++) {
    outDeg[edges[2 * i]!]!++;
    inDeg[edges[2 * i + 1]!]!++;
  }
  const outStart = prefix(outDeg);
  const inStart = prefix(inDeg);
  const outAdj = new Int32Array(m);
  const inAdj = new Int32Array(m);
  const oFill = outStart.slice(0, n);
  const iFill = inStart.slice(0, n);
  for (let i = 0; i < m; i++) {
    const a = edges[2 * i]!;
    const b = edges[2 * i + 1]!;
    outAdj[oFill[a]!++] = b;
    inAdj[iFill[b]!++] = a;
  }
  // Longest-path ranks in topological order (Kahn); nodes left on a cycle keep the rank reached so far.
  const rank = new Int32Array(n);
  const pending = inDeg.slice();
  const order = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let v = 0; v < n; v++) if (pending[v] === 0) order[tail++] = v;
  while (head < tail) {
    const v = order[head++]!;
    for (let k = outStart[v]!; k < outStart[v + 1]!; k++) {
      const w = outAdj[k]!;
      if (rank[w]! < rank[v]! + 1) rank[w] = rank[v]! + 1;
      if (--pending[w]! === 0) order[tail++] = w;
    }
  }
  for (let v = 0; v < n; v++) if (pending[v]! > 0) order[tail++] = v;
  let ranks = 0;
  for (let v = 0; v < n; v++) ranks = Math.max(ranks, rank[v]! + 1);
  // Rank lists, first in topological order.
  const layers: number[][] = Array.from({ length: ranks }, () => []);
  for (let k = 0; k < n; k++) layers[rank[order[k]!]!]!.push(order[k]!);
  const pos = new Float64Array(n);
  const setPositions = () => layers.forEach((layer) => layer.forEach((v, i) => (pos[v] = i)));
  setPositions();
  const sweep = (start: Int32Array, adj: Int32Array, range: Iterable<number>) => {
    const key = new Float64Array(n);
    for (const r of range) {
      const layer = layers[r]!;
      for (const v of layer) {
        let sum = 0;
        let count = 0;
        for (let k = start[v]!; k < start[v + 1]!; k++) {
          sum += pos[adj[k]!]!;
          count++;
        }
        key[v] = count ? sum / count : pos[v]!;
      }
      layer.sort((a, b) => key[a]! - key[b]!);
      layer.forEach((v, i) => (pos[v] = i));
    }
  };
  const down = () => Array.from({ length: ranks - 1 }, (_, i) => i + 1);
  sweep(inStart, inAdj, down());
  sweep(
    outStart,
    outAdj,
    down()
      .reverse()
      .map((r) => r - 1),
  );
  sweep(inStart, inAdj, down());

  // x: each node wants the mean x of its predecessors; packing keeps the rank's order and spacing.
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  let top = 8;
  let minX = Infinity;
  let maxX = -Infinity;
  for (let r = 0; r < ranks; r++) {
    const layer = layers[r]!;
    let height = 0;
    let right = -Infinity;
    for (const v of layer) {
      let sum = 0;
      let count = 0;
      for (let k = inStart[v]!; k < inStart[v + 1]!; k++) {
        sum += x[inAdj[k]!]!;
        count++;
      }
      const want = count ? sum / count : right === -Infinity ? 0 : right + NODE_SEP + widths[v]! / 2;
      const left = right === -Infinity ? -Infinity : right + NODE_SEP;
      const cx = Math.max(want, left + widths[v]! / 2);
      x[v] = cx;
      right = cx + widths[v]! / 2;
      height = Math.max(height, heights[v]!);
    }
    for (const v of layer) y[v] = top + height / 2;
    if (layer.length) {
      minX = Math.min(minX, x[layer[0]!]! - widths[layer[0]!]! / 2);
      maxX = Math.max(maxX, right);
    }
    top += height + RANK_SEP;
  }
  if (!Number.isFinite(minX)) minX = maxX = 0;
  const shift = 8 - minX;
  for (let v = 0; v < n; v++) x[v]! += shift;

  const points = new Float32Array(m * 4);
  const offsets = new Int32Array(m + 1);
  for (let i = 0; i < m; i++) {
    const a = edges[2 * i]!;
    const b = edges[2 * i + 1]!;
    points.set([x[a]!, y[a]! + heights[a]! / 2, x[b]!, y[b]! - heights[b]! / 2], i * 4);
    offsets[i + 1] = (i + 1) * 4;
  }
  const clusterBoxes = new Float32Array(input.clusters.length * 4);
  // Innermost clusters first would be ideal; members are plain nodes here, so a box spans its members (and any
  // nested box computed before it: clusters come in graph order, parents before children, so go backwards).
  const boxes: [number, number, number, number][] = input.clusters.map(() => [Infinity, Infinity, -Infinity, -Infinity]);
  for (let k = input.clusters.length - 1; k >= 0; k--) {
    const b = boxes[k]!;
    for (const v of input.clusters[k]!.members) {
      b[0] = Math.min(b[0], x[v]! - widths[v]! / 2);
      b[1] = Math.min(b[1], y[v]! - heights[v]! / 2);
      b[2] = Math.max(b[2], x[v]! + widths[v]! / 2);
      b[3] = Math.max(b[3], y[v]! + heights[v]! / 2);
    }
    const parent = input.clusters[k]!.parent;
    if (parent >= 0) {
      const p = boxes[parent]!;
      p[0] = Math.min(p[0], b[0] - CLUSTER_PAD);
      p[1] = Math.min(p[1], b[1] - CLUSTER_PAD);
      p[2] = Math.max(p[2], b[2] + CLUSTER_PAD);
      p[3] = Math.max(p[3], b[3] + CLUSTER_PAD);
    }
    if (Number.isFinite(b[0])) clusterBoxes.set([b[0] - CLUSTER_PAD, b[1] - CLUSTER_PAD, b[2] - b[0] + 2 * CLUSTER_PAD, b[3] - b[1] + 2 * CLUSTER_PAD], k * 4);
  }
  return { x, y, points, offsets, clusterBoxes, width: maxX - minX + 16, height: top - RANK_SEP + 8 };
}

function prefix(counts: Int32Array): Int32Array {
  const out = new Int32Array(counts.length + 1);
  for (let i = 0; i < counts.length; i++) out[i + 1] = out[i]! + counts[i]!;
  return out;
}
