/**
 * Small helpers for charts drawn on a canvas (histograms with hundreds of bins, channel ranges
 * with thousands of channels): one draw call per frame instead of thousands of SVG nodes.
 */
import { useEffect, useLayoutEffect, useState, type RefObject } from 'react';
import { useStudio } from '../../state/store';

/**
 * Width of an element in CSS pixels, following resizes. Read from the ResizeObserver's first report
 * (after the browser's own layout) rather than clientWidth in a layout effect: that would force a
 * synchronous layout and a second render inside the same main-thread task.
 */
export function useElementWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.floor(entry!.contentRect.width)));
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

/** The element's content height, kept current with a ResizeObserver. */
export function useElementHeight(ref: RefObject<HTMLElement | null>): number {
  const [height, setHeight] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => setHeight(Math.floor(entry!.contentRect.height)));
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return height;
}

/** Sizes the canvas backing store for the screen's pixel ratio; returns a context in CSS pixels. */
export function prepareCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D | null {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * ratio));
  const h = Math.max(1, Math.round(height * ratio));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

export interface ChartColors {
  accent: string;
  accentSoft: string;
  text: string;
  muted: string;
  faint: string;
  grid: string;
  marker: string;
  second: string;
  danger: string;
  font: string;
}

/** Chart colours from the design tokens of the current theme (re-read when the theme changes). */
export function useChartColors(): ChartColors {
  const theme = useStudio((s) => s.theme);
  const [colors, setColors] = useState<ChartColors>(() => colorsFor(theme));
  // The theme attribute is set in a layout effect of <App>, which runs before this one.
  useLayoutEffect(() => setColors(colorsFor(theme)), [theme]);
  return colors;
}

/** Reading custom properties forces a style recalculation: do it once per theme, not per chart. */
const colorCache = new Map<string, ChartColors>();
function colorsFor(theme: string): ChartColors {
  if (document.documentElement.dataset.theme !== theme) return readColors();
  let colors = colorCache.get(theme);
  if (!colors) colorCache.set(theme, (colors = readColors()));
  return colors;
}

function readColors(): ChartColors {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string) => style.getPropertyValue(name).trim();
  return {
    accent: v('--accent'),
    accentSoft: v('--accent-soft'),
    text: v('--text'),
    muted: v('--text-muted'),
    faint: v('--text-faint'),
    grid: v('--border'),
    marker: v('--series-3'),
    second: v('--series-2'),
    danger: v('--danger'),
    font: `11px ${v('--font-sans') || 'sans-serif'}`,
  };
}

/** About `count` round tick values covering [lo, hi] (1, 2 or 5 × a power of ten apart). */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return ticks;
}

/** Integer count ticks for a linear axis from 0 to max. */
export function countTicks(max: number, count: number): number[] {
  if (max <= 0) return [0];
  return niceTicks(0, max, count).filter((t) => Number.isInteger(t) || t < 1);
}
