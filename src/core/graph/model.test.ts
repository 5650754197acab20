import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSubgraphs } from '../../../test/fixtures/build';
import { openModel, summarizeModel } from '../onnx/open';
import { bytesSource } from '../onnx/source';
import { layoutGraph } from './layout';
import { buildModelGraph, groupsAbove, nodeOfTensor, boxSizes, searchNodes, shownAs, visibleGraph, type ModelGraph } from './model';

const demoBytes = () => new Uint8Array(readFileSync(new URL('../../../public/demo/mnist-cnn.onnx', import.meta.url)));

async function open(bytes: Uint8Array) {
  const opened = await openModel([bytesSource('model.onnx', bytes)]);
  return { opened, summary: summarizeModel(opened), graph: buildModelGraph(opened.catalog) };
}

function layoutOf(graph: ModelGraph, expanded: Set<number>, engine?: 'dagre' | 'fast') {
  const visible = visibleGraph(graph, expanded);
  const { widths, heights } = boxSizes(graph, visible);
  return { visible, layout: layoutGraph({ widths, heights, edges: visible.edges.slice(), clusters: visible.clusters, engine }) };
}

describe('graph model', () => {
  it('demo: one node per op plus the graph inputs and outputs, weights as badges, a connected chain', async () => {
    const { summary, graph } = await open(demoBytes());
    expect(graph.opCount).toBe(summary.nodeCount);
    expect(graph.nodes.filter((n) => n.kind === 'input').length).toBe(summary.inputs.length);
    expect(graph.nodes.filter((n) => n.kind === 'output').length).toBe(summary.outputs.length);
    expect(graph.nodes.length).toBe(summary.nodeCount + summary.inputs.length + summary.outputs.length);
    expect(graph.groupCount).toBe(0);
    // Every op is reached: each node but the inputs has an incoming edge.
    const fed = new Set(graph.edges.map((e) => e.to));
    for (const n of graph.nodes) if (n.kind !== 'input') expect(fed.has(n.id), n.name).toBe(true);
    // Initializers are badges, not nodes: every weight of the summary sits on a node, and none is a node of its own.
    for (const t of summary.tensors.filter((t) => t.isWeight)) {
      const id = nodeOfTensor(graph, t.id);
      expect(id, t.name).toBeDefined();
      expect(graph.nodes[id!]!.name).toBe(t.layer ?? graph.nodes[id!]!.name);
    }
    expect(graph.nodes.some((n) => summary.tensors.some((t) => t.location === 'initializer' && t.name === n.name))).toBe(false);
    const { visible, layout } = layoutOf(graph, new Set());
    expect(visible.ids.length).toBe(graph.nodes.length);
    expect(layout.engine).toBe('dagre');
    expect(layout.offsets.length).toBe(visible.edges.length / 2 + 1);
    // Layered: every edge points downwards.
    for (let i = 0; i < visible.edges.length; i += 2) expect(layout.y[visible.edges[i + 1]!]!).toBeGreaterThan(layout.y[visible.edges[i]!]!);
  });

  it('If with a Loop inside: bodies are collapsed groups, expanding shows them inside a cluster', async () => {
    const fx = buildSubgraphs();
    const { summary, graph } = await open(fx.bytes);
    expect(graph.opCount).toBe(summary.nodeCount);
    expect(graph.opCount).toBe(14);
    expect(graph.groupCount).toBe(2);
    expect(graph.nodes.length).toBe(14 + 2 + 1);
    const ifNode = graph.nodes.find((n) => n.name === 'if0')!;
    const loop = graph.nodes.find((n) => n.name === 'loop0')!;
    expect(ifNode.isGroup && loop.isGroup).toBe(true);
    expect(loop.parent).toBe(ifNode.id);
    const loopMm = graph.nodes.find((n) => n.name === 'loop_mm')!;
    expect(groupsAbove(graph, loopMm.id)).toEqual([loop.id, ifNode.id]);
    expect(shownAs(graph, loopMm.id, new Set())).toBe(ifNode.id);
    expect(shownAs(graph, loopMm.id, new Set([ifNode.id]))).toBe(loop.id);

    // Collapsed: X, cond, matmul_main, if0, Y; X→matmul, cond→if0, matmul→if0 (the branches read Xm), if0→Y.
    const collapsed = layoutOf(graph, new Set());
    expect(collapsed.visible.ids.length).toBe(5);
    expect(collapsed.visible.edges.length / 2).toBe(4);
    expect(collapsed.visible.clusters).toEqual([]);

    // if0 open: its 7 branch nodes join (the Loop body stays folded into loop0), inside one cluster.
    const open1 = layoutOf(graph, new Set([ifNode.id]));
    expect(open1.visible.ids.length).toBe(12);
    expect(open1.visible.clusters.length).toBe(1);
    expect(open1.visible.clusters[0]!.members.length).toBe(7);
    const box = open1.layout.clusterBoxes;
    for (const m of open1.visible.clusters[0]!.members) {
      expect(open1.layout.x[m]!).toBeGreaterThan(box[0]!);
      expect(open1.layout.x[m]!).toBeLessThan(box[0]! + box[2]!);
    }
    // Both open: all nodes; the Loop body's cluster nests in the If's.
    const open2 = layoutOf(graph, new Set([ifNode.id, loop.id]));
    expect(open2.visible.ids.length).toBe(graph.nodes.length);
    expect(open2.visible.clusters.map((c) => c.parent)).toEqual([-1, 0]);

    // Weights inside bodies sit on their readers; an outer-scope initializer read inside else_branch too.
    const shared = summary.tensors.find((t) => t.name === 'shared_bias')!;
    expect(graph.nodes[nodeOfTensor(graph, shared.id)!]!.name).toBe('else_add');
    const loopW = summary.tensors.find((t) => t.name === 'loop_w')!;
    expect(nodeOfTensor(graph, loopW.id)).toBe(loopMm.id);
  });

  it('search finds nodes by name, op type and tensor name', async () => {
    const { summary, graph } = await open(buildSubgraphs().bytes);
    const name = (id: number) => summary.tensors[id]?.name;
    expect(searchNodes(graph, 'loop_mm', name).map((r) => graph.nodes[r.id]!.name)).toEqual(['loop_mm']);
    expect(searchNodes(graph, 'matmul', name).length).toBe(4);
    expect(searchNodes(graph, 'else_w', name).map((r) => graph.nodes[r.id]!.name)).toEqual(['else_mm']);
    expect(searchNodes(graph, '   ', name)).toEqual([]);
  });

  it('the fast layered layout keeps edges pointing down on a large graph', () => {
    const n = 3000;
    const edges: number[] = [];
    for (let i = 1; i < n; i++) {
      edges.push(i - 1, i);
      if (i % 4 === 0) edges.push(i - 4, i);
    }
    const widths = new Float32Array(n).fill(100);
    const heights = new Float32Array(n).fill(36);
    const layout = layoutGraph({ widths, heights, edges: Int32Array.from(edges), clusters: [] });
    expect(layout.engine).toBe('fast');
    for (let i = 0; i < edges.length; i += 2) expect(layout.y[edges[i + 1]!]!).toBeGreaterThan(layout.y[edges[i]!]!);
    // No overlaps within a rank.
    const byY = new Map<number, number[]>();
    for (let v = 0; v < n; v++) byY.set(layout.y[v]!, [...(byY.get(layout.y[v]!) ?? []), layout.x[v]!]);
    for (const xs of byY.values()) xs.sort((a, b) => a - b).forEach((x, i) => i > 0 && expect(x - xs[i - 1]!).toBeGreaterThanOrEqual(100));
  });
});
