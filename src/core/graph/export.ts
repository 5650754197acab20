/** Exports of the graph view: an overlay as Model Explorer node data, and the laid-out graph as SVG. */
import type { LayoutResult } from './layout';
import type { ModelGraph, VisibleGraph } from './model';
import { textOn, type Overlay } from './overlay';

/**
 * Model Explorer's node-data file (google-ai-edge/model-explorer, `NodeDataProviderData`): per graph id, `results`
 * keyed by node id or any output tensor name of a node, each `{ value, bgColor? }`, plus a `gradient` (stops 0..1
 * over the value range) for numeric data. Keys here are each node's first output name, which Model Explorer's ONNX
 * adapter maps to the node whatever node ids it chose.
 */
export interface ModelExplorerNodeData {
  [graphId: string]: {
    name?: string;
    results: Record<string, { value: number | string; bgColor?: string }>;
    gradient?: { stop: number; bgColor: string }[];
  };
}

export function modelExplorerNodeData(graph: ModelGraph, overlay: Overlay, name: string): ModelExplorerNodeData {
  const results: ModelExplorerNodeData[string]['results'] = {};
  const categorical = overlay.legend.type === 'categories';
  for (const node of graph.nodes) {
    const v = overlay.values[node.id]!;
    if (node.kind !== 'op' || Number.isNaN(v)) continue;
    const key = node.outputs.find(Boolean) ?? node.name;
    results[key] = categorical ? { value: overlay.format(v), bgColor: overlay.colors[node.id] ?? undefined } : { value: v };
  }
  const legend = overlay.legend;
  return {
    [graph.name]: {
      name,
      results,
      ...(legend.type === 'scale' ? { gradient: legend.stops.map((bgColor, i) => ({ stop: i / (legend.stops.length - 1), bgColor })) } : {}),
    },
  };
}

export interface SvgColors {
  background: string;
  node: string;
  border: string;
  text: string;
  muted: string;
  edge: string;
  cluster: string;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The whole laid-out graph as a standalone SVG document, nodes filled with the overlay's colours. */
export function graphSvg(
  graph: ModelGraph,
  visible: VisibleGraph,
  layout: LayoutResult,
  sizes: { widths: Float32Array; heights: Float32Array },
  overlay: Overlay | null,
  colors: SvgColors,
): string {
  const w = Math.ceil(layout.width + 16);
  const h = Math.ceil(layout.height + 16);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="${colors.background}"/>`,
  ];
  for (let k = 0; k < visible.clusters.length; k++) {
    const [x, y, cw, ch] = layout.clusterBoxes.subarray(k * 4, k * 4 + 4);
    out.push(`<rect x="${x}" y="${y}" width="${cw}" height="${ch}" rx="8" fill="none" stroke="${colors.cluster}" stroke-dasharray="4 3"/>`);
  }
  out.push(`<g fill="none" stroke="${colors.edge}" stroke-width="1">`);
  for (let i = 0; i + 1 < layout.offsets.length; i++) {
    const pts: string[] = [];
    for (let k = layout.offsets[i]!; k < layout.offsets[i + 1]!; k += 2) pts.push(`${layout.points[k]!.toFixed(1)},${layout.points[k + 1]!.toFixed(1)}`);
    if (pts.length >= 2) out.push(`<polyline points="${pts.join(' ')}"/>`);
  }
  out.push('</g>');
  for (let i = 0; i < visible.ids.length; i++) {
    const node = graph.nodes[visible.ids[i]!]!;
    const nw = sizes.widths[i]!;
    const nh = sizes.heights[i]!;
    const x = layout.x[i]! - nw / 2;
    const y = layout.y[i]! - nh / 2;
    const tinted = overlay?.colors[node.id];
    const fill = tinted ?? colors.node;
    const text = tinted ? textOn(tinted) : colors.text;
    const muted = tinted ? text : colors.muted;
    out.push(
      `<g><title>${esc(node.name)}</title><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${nw}" height="${nh}" rx="${node.kind === 'op' ? 4 : 12}" fill="${fill}" stroke="${colors.border}"/>`,
      `<text x="${layout.x[i]!.toFixed(1)}" y="${(y + 15).toFixed(1)}" text-anchor="middle" font-size="12" font-weight="600" fill="${text}">${esc(node.op)}${node.isGroup ? ' ▸' : ''}</text>`,
      `<text x="${layout.x[i]!.toFixed(1)}" y="${(y + 29).toFixed(1)}" text-anchor="middle" font-size="10" fill="${muted}">${esc(cut(node.name, 28))}</text></g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}

export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
