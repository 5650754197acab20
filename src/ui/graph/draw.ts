/**
 * Draws the laid-out graph on a 2D canvas. Only what intersects the viewport is drawn (culling by node box and by
 * edge bounding box), edges go in one path, and text appears only when it is big enough to read, so a frame of a
 * 10,000-node graph stays a few milliseconds.
 */
import type { LayoutResult } from '../../core/graph/layout';
import type { ModelGraph, VisibleGraph } from '../../core/graph/model';
import { textOn } from '../../core/graph/overlay';
import { cut } from '../../core/graph/export';

export interface Scene {
  graph: ModelGraph;
  visible: VisibleGraph;
  layout: LayoutResult;
  widths: Float32Array;
  heights: Float32Array;
  /** Bounding box of each edge polyline: x0, y0, x1, y1. */
  edgeBoxes: Float32Array;
}

/** screen = world · k + (tx, ty), in CSS pixels. */
export interface View {
  k: number;
  tx: number;
  ty: number;
}

export interface GraphColors {
  background: string;
  node: string;
  nodeIo: string;
  border: string;
  text: string;
  muted: string;
  edge: string;
  cluster: string;
  accent: string;
  badge: string;
  unmeasured: string;
  font: string;
}

export function readGraphColors(el: Element): GraphColors {
  const style = getComputedStyle(el);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    background: v('--bg', '#f5f6f8'),
    node: v('--surface', '#ffffff'),
    nodeIo: v('--accent-soft', '#e7ecff'),
    border: v('--border-strong', '#c5ccd8'),
    text: v('--text', '#1b2230'),
    muted: v('--text-muted', '#5a6577'),
    edge: v('--text-faint', '#7d8797'),
    cluster: v('--border-strong', '#c5ccd8'),
    accent: v('--accent', '#3b5bdb'),
    badge: v('--series-3', '#e8590c'),
    unmeasured: v('--surface-2', '#f0f2f5'),
    font: v('--font-sans', 'sans-serif'),
  };
}

export function makeScene(graph: ModelGraph, visible: VisibleGraph, layout: LayoutResult, widths: Float32Array, heights: Float32Array): Scene {
  const m = layout.offsets.length - 1;
  const edgeBoxes = new Float32Array(m * 4);
  for (let i = 0; i < m; i++) {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let k = layout.offsets[i]!; k < layout.offsets[i + 1]!; k += 2) {
      const x = layout.points[k]!;
      const y = layout.points[k + 1]!;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    edgeBoxes.set([x0, y0, x1, y1], i * 4);
  }
  return { graph, visible, layout, widths, heights, edgeBoxes };
}

/** The visible index of the node under a screen point, or -1. */
export function hitTest(scene: Scene, view: View, sx: number, sy: number): number {
  const wx = (sx - view.tx) / view.k;
  const wy = (sy - view.ty) / view.k;
  const { x, y } = scene.layout;
  for (let i = 0; i < scene.visible.ids.length; i++) {
    if (Math.abs(wx - x[i]!) <= scene.widths[i]! / 2 && Math.abs(wy - y[i]!) <= scene.heights[i]! / 2) return i;
  }
  return -1;
}

export interface DrawOptions {
  /** Overlay colour per model node id (null: not measured); undefined when no overlay is shown. */
  overlayColors?: (string | null)[];
  selected: number;
  /** Visible indices to outline (search results). */
  marked: ReadonlySet<number>;
  expanded: ReadonlySet<number>;
}

/** Draws one frame; returns how many nodes are on screen. */
export function drawScene(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  scene: Scene,
  view: View,
  colors: GraphColors,
  options: DrawOptions,
): number {
  const { graph, visible, layout, widths, heights } = scene;
  const { k, tx, ty } = view;
  ctx.fillStyle = colors.background;
  ctx.fillRect(0, 0, width, height);
  // The world rectangle on screen (with a margin so strokes at the edge are not cut).
  const wx0 = (-tx - 20) / k;
  const wy0 = (-ty - 20) / k;
  const wx1 = (width - tx + 20) / k;
  const wy1 = (height - ty + 20) / k;
  ctx.save();
  ctx.transform(k, 0, 0, k, tx, ty);

  // Expanded groups: dashed boxes.
  if (visible.clusters.length) {
    ctx.strokeStyle = colors.cluster;
    ctx.lineWidth = 1 / Math.max(k, 0.25);
    ctx.setLineDash([6, 4]);
    for (let c = 0; c < visible.clusters.length; c++) {
      const [x, y, w, h] = layout.clusterBoxes.subarray(c * 4, c * 4 + 4) as unknown as number[];
      if (x! > wx1 || y! > wy1 || x! + w! < wx0 || y! + h! < wy0) continue;
      ctx.strokeRect(x!, y!, w!, h!);
    }
    ctx.setLineDash([]);
  }

  // Edges: one path.
  const { points, offsets } = layout;
  const boxes = scene.edgeBoxes;
  ctx.beginPath();
  // Far out, an edge shorter than a pixel each way lies under the boxes it joins: skip it.
  const minSpan = 1.5 / k;
  for (let i = 0; i + 1 < offsets.length; i++) {
    if (boxes[i * 4]! > wx1 || boxes[i * 4 + 1]! > wy1 || boxes[i * 4 + 2]! < wx0 || boxes[i * 4 + 3]! < wy0) continue;
    if (boxes[i * 4 + 2]! - boxes[i * 4]! < minSpan && boxes[i * 4 + 3]! - boxes[i * 4 + 1]! < minSpan) continue;
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    if (end - start < 4) continue;
    ctx.moveTo(points[start]!, points[start + 1]!);
    for (let p = start + 2; p < end; p += 2) ctx.lineTo(points[p]!, points[p + 1]!);
  }
  ctx.strokeStyle = colors.edge;
  ctx.lineWidth = 1 / Math.max(k, 0.5);
  ctx.stroke();

  // Nodes: one path per fill colour (a few state changes instead of one per node).
  const detailed = k >= 0.3;
  const drawn: number[] = [];
  const { x, y } = layout;
  const overlay = options.overlayColors;
  const byFill = new Map<string, number[]>();
  // Far out (boxes under 3 px), boxes landing on the same screen pixel are drawn once: a 10,000-node chain at
  // "fit" is a few hundred rectangles, not ten thousand.
  const pixels = k * 36 < 3 ? new Set<number>() : null;
  let onScreen = 0;
  for (let i = 0; i < visible.ids.length; i++) {
    const hw = widths[i]! / 2;
    const hh = heights[i]! / 2;
    const cx = x[i]!;
    const cy = y[i]!;
    if (cx - hw > wx1 || cx + hw < wx0 || cy - hh > wy1 || cy + hh < wy0) continue;
    onScreen++;
    if (pixels) {
      const key = Math.round(cx * k + tx) * 65536 + Math.round(cy * k + ty);
      if (pixels.has(key)) continue;
      pixels.add(key);
    }
    drawn.push(i);
    const node = graph.nodes[visible.ids[i]!]!;
    const fill = overlay ? (overlay[node.id] ?? colors.unmeasured) : node.kind === 'op' ? colors.node : colors.nodeIo;
    const list = byFill.get(fill);
    if (list) list.push(i);
    else byFill.set(fill, [i]);
  }
  // Far out, a node is under a pixel: draw it at least one pixel big so the graph's shape stays visible.
  const minSize = 1 / k;
  for (const [fill, list] of byFill) {
    ctx.fillStyle = fill;
    ctx.beginPath();
    for (const i of list) {
      const w = Math.max(widths[i]!, minSize);
      const h = Math.max(heights[i]!, minSize);
      ctx.rect(x[i]! - w / 2, y[i]! - h / 2, w, h);
    }
    ctx.fill();
  }
  if (!detailed && !overlay) {
    // Zoomed out without an overlay, white boxes vanish on a light background: outline them in one stroke.
    ctx.strokeStyle = colors.border;
    ctx.lineWidth = 1 / k;
    ctx.beginPath();
    for (const i of drawn) ctx.rect(x[i]! - widths[i]! / 2, y[i]! - heights[i]! / 2, widths[i]!, heights[i]!);
    ctx.stroke();
  }
  if (detailed) {
    ctx.strokeStyle = colors.border;
    ctx.lineWidth = 1 / k;
    ctx.beginPath();
    for (const i of drawn) ctx.rect(x[i]! - widths[i]! / 2, y[i]! - heights[i]! / 2, widths[i]!, heights[i]!);
    ctx.stroke();
    // Groups: a second border; weight badges: a dot in the top-right corner.
    ctx.beginPath();
    for (const i of drawn) {
      const node = graph.nodes[visible.ids[i]!]!;
      if (node.isGroup) ctx.rect(x[i]! - widths[i]! / 2 + 3, y[i]! - heights[i]! / 2 + 3, widths[i]! - 6, heights[i]! - 6);
    }
    ctx.stroke();
    ctx.fillStyle = colors.badge;
    ctx.beginPath();
    for (const i of drawn) {
      const node = graph.nodes[visible.ids[i]!]!;
      if (!node.weights.length) continue;
      const bx = x[i]! + widths[i]! / 2 - 6;
      const by = y[i]! - heights[i]! / 2 + 6;
      ctx.moveTo(bx + 3.5, by);
      ctx.arc(bx, by, 3.5, 0, Math.PI * 2);
    }
    ctx.fill();
  }
  // Search matches and the selection: thick outlines, at any zoom.
  ctx.lineWidth = 2.5 / Math.min(k, 1);
  if (options.marked.size) {
    ctx.strokeStyle = colors.badge;
    ctx.beginPath();
    for (const i of options.marked) ctx.rect(x[i]! - widths[i]! / 2 - 2, y[i]! - heights[i]! / 2 - 2, widths[i]! + 4, heights[i]! + 4);
    ctx.stroke();
  }
  if (options.selected >= 0 && options.selected < visible.ids.length) {
    const i = options.selected;
    ctx.strokeStyle = colors.accent;
    ctx.lineWidth = 3 / Math.min(k, 1);
    ctx.strokeRect(x[i]! - widths[i]! / 2 - 3, y[i]! - heights[i]! / 2 - 3, widths[i]! + 6, heights[i]! + 6);
  }

  // Labels: op type when 12 px text would be at least ~6 px on screen, the name from ~8 px.
  if (k >= 0.5) {
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const names = k >= 0.7;
    for (const i of drawn) {
      const node = graph.nodes[visible.ids[i]!]!;
      const tint = overlay?.[node.id];
      const text = tint ? textOn(tint) : colors.text;
      ctx.fillStyle = text;
      ctx.font = `600 12px ${colors.font}`;
      const marker = node.isGroup ? (options.expanded.has(node.id) ? ' ▾' : ' ▸') : '';
      ctx.fillText(`${node.op}${marker}`, x[i]!, names ? y[i]! - 7 : y[i]!, widths[i]! - 8);
      if (names) {
        ctx.fillStyle = tint ? text : colors.muted;
        ctx.font = `10px ${colors.font}`;
        ctx.fillText(cut(node.name, 28), x[i]!, y[i]! + 8, widths[i]! - 8);
      }
    }
  }
  ctx.restore();
  return onScreen;
}

/** The view that shows the whole graph in a width × height viewport (never magnified past 1:1). */
export function fitView(layout: LayoutResult, width: number, height: number): View {
  const k = Math.min(1, (width - 24) / Math.max(1, layout.width), (height - 24) / Math.max(1, layout.height));
  return { k, tx: (width - layout.width * k) / 2, ty: (height - layout.height * k) / 2 };
}

/** The view centred on world point (wx, wy) at zoom k. */
export function centreView(wx: number, wy: number, k: number, width: number, height: number): View {
  return { k, tx: width / 2 - wx * k, ty: height / 2 - wy * k };
}

export function zoomAt(view: View, factor: number, sx: number, sy: number): View {
  const k = Math.min(4, Math.max(0.005, view.k * factor));
  const f = k / view.k;
  return { k, tx: sx - (sx - view.tx) * f, ty: sy - (sy - view.ty) * f };
}

/** Above this many boxes a frame is drawn from a cached picture while only the view's offset changes. */
export const CACHE_MIN_NODES = 2000;

/**
 * Paints frames. For big graphs it keeps a picture twice the viewport's size at the current zoom and only copies it,
 * shifted, while panning: one drawImage per frame instead of thousands of boxes. The picture is (re)drawn on the first
 * frame of a pan (same zoom and drawing as the frame before, only the offset moved) when the view has left it; a frame
 * with a new zoom or new content (`version`) is drawn straight to the screen, a quarter of the picture's area, so a
 * wheel or pinch zoom never pays for a picture it will not reuse.
 */
export class GraphPainter {
  private cache: {
    canvas: HTMLCanvasElement | OffscreenCanvas;
    k: number;
    tx: number;
    ty: number;
    w: number;
    h: number;
    version: unknown;
    scene: Scene;
  } | null = null;
  private canvas: HTMLCanvasElement | OffscreenCanvas | null = null;
  /** What the previous frame showed, to tell a pan from a zoom. */
  private last: { k: number; width: number; height: number; version: unknown; scene: Scene } | null = null;

  /** Draws a frame; returns the number of nodes in the last full drawing (-1 when copied) and whether the cache served this frame. */
  paint(
    ctx: CanvasRenderingContext2D,
    width: number,
    height: number,
    ratio: number,
    scene: Scene,
    view: View,
    colors: GraphColors,
    options: DrawOptions,
    version: unknown,
  ): { drawn: number; cached: boolean } {
    const last = this.last;
    const panning = !!last && last.k === view.k && last.width === width && last.height === height && last.version === version && last.scene === scene;
    this.last = { k: view.k, width, height, version, scene };
    if (scene.visible.ids.length < CACHE_MIN_NODES) {
      this.cache = null;
      return { drawn: drawScene(ctx, width, height, scene, view, colors, options), cached: false };
    }
    let c = this.cache;
    const dx = c ? view.tx - c.tx : 0;
    const dy = c ? view.ty - c.ty : 0;
    const fits =
      !!c &&
      c.k === view.k &&
      c.version === version &&
      c.scene === scene &&
      c.w === width * 2 &&
      c.h === height * 2 &&
      dx <= 0 &&
      dy <= 0 &&
      dx + c.w >= width &&
      dy + c.h >= height;
    let drawn = -1;
    if (!fits) {
      if (!panning) {
        this.cache = null;
        return { drawn: drawScene(ctx, width, height, scene, view, colors, options), cached: false };
      }
      const w = width * 2;
      const h = height * 2;
      const canvas = (this.canvas ??= typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(1, 1) : document.createElement('canvas'));
      if (canvas.width !== Math.round(w * ratio)) canvas.width = Math.round(w * ratio);
      if (canvas.height !== Math.round(h * ratio)) canvas.height = Math.round(h * ratio);
      const cctx = canvas.getContext('2d') as CanvasRenderingContext2D | null;
      if (!cctx) return { drawn: drawScene(ctx, width, height, scene, view, colors, options), cached: false };
      cctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      // The viewport sits in the middle of the picture.
      const cacheView = { k: view.k, tx: view.tx + width / 2, ty: view.ty + height / 2 };
      drawn = drawScene(cctx, w, h, scene, cacheView, colors, options);
      c = this.cache = { canvas, k: view.k, tx: cacheView.tx, ty: cacheView.ty, w, h, version, scene };
    }
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(c!.canvas, Math.round((view.tx - c!.tx) * ratio), Math.round((view.ty - c!.ty) * ratio));
    ctx.restore();
    return { drawn, cached: fits };
  }
}
