import { describe, expect, it } from 'vitest';
import { buildSubgraphs } from '../../../test/fixtures/build';
import { openModel, summarizeModel } from '../onnx/open';
import { bytesSource } from '../onnx/source';
import { graphSvg, modelExplorerNodeData } from './export';
import { layoutGraph } from './layout';
import { buildModelGraph, visibleGraph } from './model';
import { computeOverlay, scaleColor, SCALE } from './overlay';

async function setup() {
  const opened = await openModel([bytesSource('model.onnx', buildSubgraphs().bytes)]);
  const summary = summarizeModel(opened);
  const graph = buildModelGraph(opened.catalog);
  const id = (name: string) => summary.tensors.find((t) => t.name === name)!.id;
  const sources = {
    tensorBytes: (i: number) => summary.tensors[i]!.bytes,
    tensorName: (i: number) => summary.tensors[i]!.name,
    recipe: { version: 1 as const, quantize: { overrides: [{ match: 'loop_w', bits: 4 }] } } as never,
    quantize: [
      { entryId: id('main_w'), name: 'main_w', layer: 'matmul_main', action: 'quantize', sqnrDb: 40 },
      { entryId: id('else_w'), name: 'else_w', layer: 'else_mm', action: 'quantize', sqnrDb: 20 },
      { entryId: id('loop_w'), name: 'loop_w', layer: 'loop_mm', action: 'quantize', sqnrDb: 10 },
      { entryId: id('then_b'), name: 'then_b', layer: 'then_add', action: 'skip', reason: 'excluded by name' },
    ],
  };
  return { summary, graph, sources };
}

describe('overlays and exports', () => {
  it('SQNR overlay: per-node values from the result, a scale legend, grey (null) where not measured', async () => {
    const { graph, sources } = await setup();
    const o = computeOverlay(graph, 'sqnr', sources);
    const at = (name: string) => o.values[graph.nodes.find((n) => n.name === name)!.id]!;
    expect(at('matmul_main')).toBe(40);
    expect(at('loop_mm')).toBe(10);
    expect(Number.isNaN(at('then_add'))).toBe(true);
    expect(o.legend).toMatchObject({ type: 'scale', min: 10, max: 40, unit: 'dB', measured: 3 });
    expect(o.colors[graph.nodes.find((n) => n.name === 'then_add')!.id]).toBeNull();
    expect(o.colors[graph.nodes.find((n) => n.name === 'loop_mm')!.id]).toBe(SCALE[0]);
    // Not measured at all: no scale, a note.
    expect(computeOverlay(graph, 'sensitivity', sources).legend).toMatchObject({ type: 'none', note: expect.stringMatching(/not measured/) });
    expect(computeOverlay(graph, 'sqnr', { ...sources, quantize: undefined }).legend.type).toBe('none');
  });

  it('CPU fallback overlay: the nodes onnxruntime placed on the CPU, by name', async () => {
    const { graph, sources } = await setup();
    expect(computeOverlay(graph, 'cpu', sources).legend).toMatchObject({ type: 'none', note: expect.stringMatching(/not measured/) });
    const o = computeOverlay(graph, 'cpu', { ...sources, cpuNodes: ['if0 (If)'] });
    const at = (name: string) => o.format(o.values[graph.nodes.find((n) => n.name === name)!.id]!);
    expect(at('if0')).toBe('On the CPU');
    expect(at('matmul_main')).toBe('On WebGPU');
    expect(o.legend).toMatchObject({ type: 'categories', items: [{ count: 1 }, { count: 1 }] });
  });

  it('status overlay: excluded, overridden and compressed weights as categories', async () => {
    const { graph, sources } = await setup();
    const o = computeOverlay(graph, 'status', sources);
    const at = (name: string) => o.format(o.values[graph.nodes.find((n) => n.name === name)!.id]!);
    expect(at('then_add')).toBe('Excluded');
    expect(at('loop_mm')).toBe('Overridden');
    expect(at('matmul_main')).toBe('Compressed');
    expect(o.legend.type).toBe('categories');
  });

  it('bytes overlay and the Model Explorer node-data shape', async () => {
    const { summary, graph, sources } = await setup();
    const o = computeOverlay(graph, 'bytes', sources);
    const mm = graph.nodes.find((n) => n.name === 'matmul_main')!;
    expect(o.values[mm.id]).toBe(summary.tensors.find((t) => t.name === 'main_w')!.bytes);
    // Bytes span orders of magnitude: coloured on a log scale, the smallest darkest, the largest brightest.
    expect(o.legend).toMatchObject({ type: 'scale', unit: 'bytes, log scale' });
    const legend = o.legend as { min: number; max: number };
    const colorOfBytes = (b: number) => o.colors[graph.nodes.find((n) => o.values[n.id] === b)!.id];
    expect(colorOfBytes(legend.min)).toBe(SCALE[0]);
    expect(colorOfBytes(legend.max)).toBe(SCALE.at(-1));
    const data = modelExplorerNodeData(graph, o, 'Weight bytes');
    expect(Object.keys(data)).toEqual(['subgraphs']);
    const g = data.subgraphs!;
    expect(g.name).toBe('Weight bytes');
    // Keyed by each node's first output tensor name, numeric values, a gradient from stop 0 to stop 1.
    expect(g.results['Xm']).toEqual({ value: 64 });
    expect(g.gradient![0]).toEqual({ stop: 0, bgColor: SCALE[0] });
    expect(g.gradient!.at(-1)!.stop).toBe(1);
    for (const r of Object.values(g.results)) expect(typeof r.value).toBe('number');
    // Categorical overlays carry a label and a colour per node.
    const status = modelExplorerNodeData(graph, computeOverlay(graph, 'status', sources), 'Status');
    expect(status.subgraphs!.results['t2']).toEqual({ value: 'Excluded', bgColor: expect.stringMatching(/^#/) });
    expect(status.subgraphs!.gradient).toBeUndefined();
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
  });

  it('SVG export draws every visible node and edge', async () => {
    const { graph, sources } = await setup();
    const visible = visibleGraph(graph, new Set());
    const widths = new Float32Array(visible.ids.length).fill(80);
    const heights = new Float32Array(visible.ids.length).fill(36);
    const layout = layoutGraph({ widths, heights, edges: visible.edges.slice(), clusters: visible.clusters });
    const c = { background: '#fff', node: '#eee', border: '#999', text: '#000', muted: '#555', edge: '#888', cluster: '#aaa' };
    const svg = graphSvg(graph, visible, layout, { widths, heights }, computeOverlay(graph, 'bytes', sources), c);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect [^>]*rx=/g)!.length).toBe(visible.ids.length);
    expect(svg.match(/<polyline/g)!.length).toBe(visible.edges.length / 2);
    expect(svg).toContain('If ▸');
  });

  it('scale colours interpolate between the stops', () => {
    expect(scaleColor(0)).toBe(SCALE[0]);
    expect(scaleColor(1)).toBe(SCALE.at(-1));
    expect(scaleColor(Number.NaN)).toBe(SCALE[0]);
  });
});
