/**
 * The model's graph as the graph view draws it: nodes are ops (plus the main graph's inputs and outputs), edges are
 * values. Initializers and Constant values are not nodes of their own here: each shows as a weight badge on the node
 * that reads it (a Constant node stays a node, so the op count equals the summary's node count). If/Loop/Scan bodies
 * are groups owned by their node: collapsed, the owner stands for its whole body.
 *
 * Pure data (no protobuf objects), so it crosses the worker bridge by structured clone.
 */
import type { GraphProto, NodeProto } from 'onnx-buf';
import { nodeLabel, type TensorCatalog } from '../onnx/catalog';

export type GraphNodeKind = 'op' | 'input' | 'output';

export interface GraphNode {
  id: number;
  kind: GraphNodeKind;
  /** The node's name ("OpType#index" when unnamed), or the value name of a graph input/output. */
  name: string;
  /** Op type ("Conv", "com.microsoft.MatMulNBits"), "Input" or "Output". */
  op: string;
  /** "main", or the path of the subgraph holding the node, as in the tensor catalog. */
  graph: string;
  /** The If/Loop/Scan node whose body holds this node; -1 in the main graph. */
  parent: number;
  /** True for nodes that own subgraphs (If/Loop/Scan): they can be expanded. */
  isGroup: boolean;
  /** Value names read and written. */
  inputs: string[];
  outputs: string[];
  /** Catalog ids of the stored tensors this node reads (for a Constant: the value it holds). */
  weights: number[];
  /** Bytes of those tensors. */
  weightBytes: number;
}

export interface GraphEdge {
  from: number;
  to: number;
  /** The value flowing along the edge. */
  value: string;
}

export interface ModelGraph {
  /** The main graph's name (Model Explorer keys node data by graph id). */
  name: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Op nodes in the main graph and every subgraph: equals ModelSummary.nodeCount. */
  opCount: number;
  /** Nodes that own subgraphs. */
  groupCount: number;
}

/** Builds the graph of a model from its tensor catalog (which already walked every subgraph). */
export function buildModelGraph(catalog: TensorCatalog): ModelGraph {
  const main = catalog.graphs.find((g) => g.path === 'main' && !g.isFunction);
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const idOf = new Map<NodeProto, number>();
  if (!main) return { name: 'main', nodes, edges, opCount: 0, groupCount: 0 };

  const initializerNames = new Set(main.graph.initializer.map((t) => t.name));
  const add = (partial: Omit<GraphNode, 'id' | 'weights' | 'weightBytes'>): GraphNode => {
    const n: GraphNode = { ...partial, id: nodes.length, weights: [], weightBytes: 0 };
    nodes.push(n);
    return n;
  };

  // Graph inputs that a user feeds (old exporters list initializers among inputs too).
  const mainScope = new Map<string, number>();
  for (const v of main.graph.input) {
    if (initializerNames.has(v.name)) continue;
    const n = add({ kind: 'input', name: v.name, op: 'Input', graph: 'main', parent: -1, isGroup: false, inputs: [], outputs: [v.name] });
    mainScope.set(v.name, n.id);
  }

  let opCount = 0;
  let groupCount = 0;
  /** Walks one graph: adds its nodes, then links reads to producers in this scope or an outer one. */
  const walk = (graph: GraphProto, path: string, parent: number, outer: Map<string, number>[], local: Map<string, number>) => {
    const scopes = [local, ...outer];
    const added: { proto: NodeProto; id: number }[] = [];
    graph.node.forEach((proto, index) => {
      const op = proto.domain && proto.domain !== 'ai.onnx' ? `${proto.domain}.${proto.opType}` : proto.opType;
      const isGroup = proto.attribute.some((a) => a.g || a.graphs.length > 0);
      const n = add({ kind: 'op', name: nodeLabel(proto, index), op, graph: path, parent, isGroup, inputs: [...proto.input], outputs: [...proto.output] });
      opCount++;
      if (isGroup) groupCount++;
      idOf.set(proto, n.id);
      for (const out of proto.output) if (out) local.set(out, n.id);
      added.push({ proto, id: n.id });
    });
    for (const { proto, id } of added) {
      const label = nodes[id]!.name;
      proto.input.forEach((value) => {
        if (!value) return;
        const from = lookup(scopes, value);
        if (from !== undefined && from !== id) edges.push({ from, to: id, value });
      });
      for (const attr of proto.attribute) {
        const bodies = attr.g ? [{ g: attr.g, path: `${path}/${label}.${attr.name}` }] : [];
        attr.graphs.forEach((g, k) => bodies.push({ g, path: `${path}/${label}.${attr.name}[${k}]` }));
        for (const body of bodies) {
          const inner = new Map<string, number>();
          walk(body.g, body.path, id, scopes, inner);
          // What the body returns flows out through its owner.
          for (const out of body.g.output) {
            const from = inner.get(out.name);
            if (from !== undefined) edges.push({ from, to: id, value: out.name });
          }
        }
      }
    }
  };
  walk(main.graph, 'main', -1, [], mainScope);

  for (const v of main.graph.output) {
    const n = add({ kind: 'output', name: v.name, op: 'Output', graph: 'main', parent: -1, isGroup: false, inputs: [v.name], outputs: [] });
    const from = mainScope.get(v.name);
    if (from !== undefined) edges.push({ from, to: n.id, value: v.name });
  }

  // Weight badges: every stored tensor on the nodes that read it (and a Constant's value on the Constant).
  for (const entry of catalog.entries) {
    const holders = new Set<number>();
    if (entry.constantNode) {
      const id = idOf.get(entry.constantNode);
      if (id !== undefined) holders.add(id);
    }
    for (const c of entry.consumers) {
      const id = idOf.get(c.node);
      if (id !== undefined) holders.add(id);
    }
    for (const id of holders) {
      const n = nodes[id]!;
      if (n.weights.includes(entry.id)) continue;
      n.weights.push(entry.id);
      n.weightBytes += entry.bytes;
    }
  }
  return { name: main.graph.name || 'main', nodes, edges, opCount, groupCount };
}

function lookup(scopes: Map<string, number>[], value: string): number | undefined {
  for (const scope of scopes) {
    const id = scope.get(value);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** The node whose weight badge carries `tensorId`: the op that reads it rather than the Constant that holds it. */
export function nodeOfTensor(graph: ModelGraph, tensorId: number): number | undefined {
  let holder: number | undefined;
  for (const n of graph.nodes) {
    if (!n.weights.includes(tensorId)) continue;
    if (n.op !== 'Constant') return n.id;
    holder ??= n.id;
  }
  return holder;
}

/** The weight a click on a node selects: its largest tensor. */
export function mainWeightOf(node: GraphNode, bytesOf: (tensorId: number) => number): number | undefined {
  let best: number | undefined;
  for (const id of node.weights) if (best === undefined || bytesOf(id) > bytesOf(best)) best = id;
  return best;
}

/** The nodes currently shown (main graph plus the bodies of expanded groups), and the edges between them. */
export interface VisibleGraph {
  /** Model node id per visible index. */
  ids: Int32Array;
  /** Visible index per model node id; -1 for hidden nodes. */
  indexOf: Int32Array;
  /** Pairs of visible indices (from, to), deduplicated. */
  edges: Int32Array;
  /** Expanded groups: model node id of the owner, and the visible index of each member. */
  clusters: { owner: number; members: number[]; parent: number }[];
}

/** Is `id` shown when `expanded` holds the open groups? */
export function isShown(graph: ModelGraph, id: number, expanded: ReadonlySet<number>): boolean {
  for (let p = graph.nodes[id]!.parent; p !== -1; p = graph.nodes[p]!.parent) if (!expanded.has(p)) return false;
  return true;
}

/** The node that stands for `id` on screen: itself, or the outermost collapsed group that hides it. */
export function shownAs(graph: ModelGraph, id: number, expanded: ReadonlySet<number>): number {
  let shown = id;
  for (let p = graph.nodes[id]!.parent; p !== -1; p = graph.nodes[p]!.parent) if (!expanded.has(p)) shown = p;
  return shown;
}

/** The groups to open so that `id` is shown. */
export function groupsAbove(graph: ModelGraph, id: number): number[] {
  const out: number[] = [];
  for (let p = graph.nodes[id]!.parent; p !== -1; p = graph.nodes[p]!.parent) out.push(p);
  return out;
}

export function visibleGraph(graph: ModelGraph, expanded: ReadonlySet<number>): VisibleGraph {
  const n = graph.nodes.length;
  const indexOf = new Int32Array(n).fill(-1);
  const ids: number[] = [];
  const rep = new Int32Array(n);
  for (const node of graph.nodes) {
    rep[node.id] = shownAs(graph, node.id, expanded);
    if (rep[node.id] === node.id) {
      indexOf[node.id] = ids.length;
      ids.push(node.id);
    }
  }
  const seen = new Set<number>();
  const pairs: number[] = [];
  for (const e of graph.edges) {
    const a = indexOf[rep[e.from]!]!;
    const b = indexOf[rep[e.to]!]!;
    if (a === b) continue;
    const key = a * n + b;
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push(a, b);
  }
  const clusters: VisibleGraph['clusters'] = [];
  const clusterOf = new Map<number, number>();
  for (const owner of graph.nodes) {
    if (!owner.isGroup || !expanded.has(owner.id) || indexOf[owner.id] === -1) continue;
    clusterOf.set(owner.id, clusters.length);
    clusters.push({ owner: owner.id, members: [], parent: -1 });
  }
  for (const c of clusters) c.parent = clusterOf.get(graph.nodes[c.owner]!.parent) ?? -1;
  for (let i = 0; i < ids.length; i++) {
    const c = clusterOf.get(graph.nodes[ids[i]!]!.parent);
    if (c !== undefined) clusters[c]!.members.push(i);
  }
  return { ids: Int32Array.from(ids), indexOf, edges: Int32Array.from(pairs), clusters };
}

/** Nodes whose name, op type, or read/written value names contain `query` (case-insensitive), best first. */
export function searchNodes(graph: ModelGraph, query: string, tensorName: (id: number) => string | undefined, limit = 50): { id: number; match: string }[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const exact: { id: number; match: string }[] = [];
  const partial: { id: number; match: string }[] = [];
  for (const n of graph.nodes) {
    if (n.name.toLowerCase() === q || n.op.toLowerCase() === q) exact.push({ id: n.id, match: n.name.toLowerCase() === q ? 'name' : 'op' });
    else if (n.name.toLowerCase().includes(q)) partial.push({ id: n.id, match: 'name' });
    else if (n.op.toLowerCase().includes(q)) partial.push({ id: n.id, match: 'op' });
    else {
      const value = [...n.inputs, ...n.outputs, ...n.weights.map((w) => tensorName(w) ?? '')].find((v) => v.toLowerCase().includes(q));
      if (value) partial.push({ id: n.id, match: `tensor ${value}` });
    }
    if (exact.length >= limit) break;
  }
  return [...exact, ...partial].slice(0, limit);
}

/** Box size for a node's label (kept here, not in layout.ts, so the page does not bundle dagre): the op type on the first line, the name (cut) on the second. */
export function nodeSize(op: string, name: string): { width: number; height: number } {
  const chars = Math.min(28, Math.max(op.length, Math.min(name.length, 28)));
  return { width: Math.max(64, 16 + chars * 7), height: 36 };
}

/** The box size of every shown node, in the order of `visible.ids` (what the layout and the drawing take). */
export function boxSizes(graph: ModelGraph, visible: VisibleGraph): { widths: Float32Array; heights: Float32Array } {
  const widths = new Float32Array(visible.ids.length);
  const heights = new Float32Array(visible.ids.length);
  visible.ids.forEach((id, i) => {
    const s = nodeSize(graph.nodes[id]!.op, graph.nodes[id]!.name);
    widths[i] = s.width;
    heights[i] = s.height;
  });
  return { widths, heights };
}
