import { useEffect, useMemo, useRef, useState } from 'react';
import type { ChannelRanges } from '../../core/analysis/stats';
import { niceTicks, prepareCanvas, useChartColors, useElementWidth } from '../charts/canvas';
import { formatInteger, formatValue } from '../format';

const RANGE_H = 180;
const STD_H = 64;
const GAP = 22;
const HEIGHT = RANGE_H + GAP + STD_H + 26;
const M = { top: 8, right: 14, left: 52 };

interface Column {
  /** Positions in display order covered by this column. */
  from: number;
  to: number;
  min: number;
  max: number;
  std: number;
}

/**
 * Per-output-channel ranges, AIMET-style: a bar from each channel's min to its max, the range one
 * per-tensor scale must cover as dashed lines, and each channel's std below. Thousands of channels
 * are summarised per pixel column (lowest min, highest max, largest std), so drawing stays cheap.
 */
export function ChannelRangeChart({ channels, sortByRange, dimmed }: { channels: ChannelRanges; sortByRange: boolean; dimmed: boolean }) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const width = useElementWidth(wrapRef);
  const colors = useChartColors();
  const [hover, setHover] = useState<number | null>(null);
  const count = channels.min.length;
  const plotW = Math.max(10, width - M.left - M.right);

  /** Channel indices in display order: as stored, or widest range first. */
  const order = useMemo(() => {
    const idx = new Int32Array(count);
    for (let i = 0; i < count; i++) idx[i] = i;
    if (!sortByRange) return idx;
    const range = new Float64Array(count);
    for (let c = 0; c < count; c++) {
      const r = channels.max[c]! - channels.min[c]!;
      range[c] = Number.isFinite(r) ? r : -1;
    }
    return idx.sort((a, b) => range[b]! - range[a]! || a - b);
  }, [channels, count, sortByRange]);

  const columns = useMemo(() => buildColumns(channels, order, Math.max(1, Math.floor(plotW))), [channels, order, plotW]);

  const extent = useMemo(() => {
    let lo = Infinity;
    let hi = -Infinity;
    let stdMax = 0;
    for (const col of columns) {
      if (col.min < lo) lo = col.min;
      if (col.max > hi) hi = col.max;
      if (col.std > stdMax) stdMax = col.std;
    }
    if (!Number.isFinite(lo)) [lo, hi] = [-1, 1];
    if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
    const pad = (hi - lo) * 0.04;
    return { lo: Math.min(lo - pad, 0), hi: Math.max(hi + pad, 0), tensorLo: lo, tensorHi: hi, stdMax: stdMax || 1 };
  }, [columns]);

  const colW = plotW / Math.max(1, columns.length);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || width === 0) return;
    const ctx = prepareCanvas(canvas, width, HEIGHT);
    if (!ctx) return;
    ctx.font = colors.font;
    const yOf = (v: number) => M.top + RANGE_H * (1 - (v - extent.lo) / (extent.hi - extent.lo));
    const stdTop = M.top + RANGE_H + GAP;
    const yStd = (s: number) => stdTop + STD_H * (1 - s / extent.stdMax);

    // Value grid.
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of niceTicks(extent.lo, extent.hi, 4)) {
      const y = Math.round(yOf(t)) + 0.5;
      ctx.strokeStyle = t === 0 ? colors.faint : colors.grid;
      ctx.beginPath();
      ctx.moveTo(M.left, y);
      ctx.lineTo(M.left + plotW, y);
      ctx.stroke();
      ctx.fillStyle = colors.muted;
      ctx.fillText(formatValue(t), M.left - 6, y);
    }

    // Min–max bar per column.
    const gap = colW > 4 ? 1 : 0;
    ctx.fillStyle = colors.accent;
    ctx.beginPath();
    columns.forEach((col, i) => {
      if (!Number.isFinite(col.min)) return;
      const top = yOf(col.max);
      ctx.rect(M.left + i * colW, top, Math.max(0.75, colW - gap), Math.max(1, yOf(col.min) - top));
    });
    ctx.fill();

    // The range a single per-tensor scale must cover.
    ctx.setLineDash([5, 3]);
    ctx.strokeStyle = colors.marker;
    ctx.fillStyle = colors.marker;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'bottom';
    for (const [v, label] of [
      [extent.tensorHi, 'per-tensor max'],
      [extent.tensorLo, 'per-tensor min'],
    ] as const) {
      const y = Math.round(yOf(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(M.left, y);
      ctx.lineTo(M.left + plotW, y);
      ctx.stroke();
      ctx.textBaseline = label.endsWith('max') ? 'bottom' : 'top';
      ctx.fillText(label, M.left + plotW - 2, y + (label.endsWith('max') ? -2 : 2));
    }
    ctx.setLineDash([]);

    // Std per column.
    ctx.fillStyle = colors.muted;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    ctx.fillText(`std per channel (max ${formatValue(extent.stdMax)})`, M.left, stdTop - 3);
    ctx.strokeStyle = colors.grid;
    ctx.beginPath();
    ctx.moveTo(M.left, stdTop + STD_H + 0.5);
    ctx.lineTo(M.left + plotW, stdTop + STD_H + 0.5);
    ctx.stroke();
    ctx.fillStyle = colors.second;
    ctx.beginPath();
    columns.forEach((col, i) => {
      if (!(col.std > 0)) return;
      const top = yStd(col.std);
      ctx.rect(M.left + i * colW, top, Math.max(0.75, colW - gap), stdTop + STD_H - top);
    });
    ctx.fill();

    if (hover !== null && columns[hover]) {
      ctx.fillStyle = colors.marker;
      ctx.globalAlpha = 0.25;
      ctx.fillRect(M.left + hover * colW, M.top, Math.max(1, colW), stdTop + STD_H - M.top);
      ctx.globalAlpha = 1;
    }

    // Channel axis.
    ctx.fillStyle = colors.muted;
    ctx.textBaseline = 'top';
    const axisY = stdTop + STD_H + 6;
    if (sortByRange) {
      ctx.textAlign = 'left';
      ctx.fillText('widest range', M.left, axisY);
      ctx.textAlign = 'right';
      ctx.fillText(`narrowest · ${formatInteger(count)} channels`, M.left + plotW, axisY);
    } else {
      ctx.textAlign = 'center';
      for (const t of niceTicks(0, count - 1, Math.max(2, Math.floor(plotW / 80)))) {
        if (!Number.isInteger(t)) continue;
        const x = M.left + ((t + 0.5) / count) * plotW;
        ctx.fillText(String(t), x, axisY);
      }
      ctx.textAlign = 'right';
    }
  }, [width, colors, columns, extent, colW, plotW, hover, sortByRange, count]);

  const hovered = hover !== null ? columns[hover] : undefined;
  const first = hovered ? order[hovered.from]! : 0;
  const verbose = hovered && hovered.to - hovered.from > 1;

  return (
    <div className={`chrange${dimmed ? ' is-stale' : ''}`} ref={wrapRef}>
      <canvas
        ref={canvasRef}
        role="img"
        data-testid="channel-chart"
        data-channels={count}
        aria-label={`Range of values in each of ${formatInteger(count)} output channels (axis ${channels.axis}), from ${formatValue(
          extent.tensorLo,
        )} to ${formatValue(extent.tensorHi)} overall, with each channel's standard deviation below.`}
        height={HEIGHT}
        onMouseMove={(event) => {
          const rect = event.currentTarget.getBoundingClientRect();
          const i = Math.floor((event.clientX - rect.left - M.left) / colW);
          setHover(i >= 0 && i < columns.length ? i : null);
        }}
        onMouseLeave={() => setHover(null)}
      />
      {hovered && (
        <div className="chart-tip" style={{ left: Math.min(Math.max(M.left + (hover! + 0.5) * colW, 110), width - 110), top: 4 }} role="presentation">
          <strong>
            {verbose ? `${formatInteger(hovered.to - hovered.from)} channels${sortByRange ? '' : ` ${first}–${order[hovered.to - 1]}`}` : `Channel ${first}`}
          </strong>
          <span>
            {verbose ? 'lowest min ' : 'min '}
            {formatValue(hovered.min)} · {verbose ? 'highest max ' : 'max '}
            {formatValue(hovered.max)}
          </span>
          <span>
            {verbose ? 'largest std ' : 'std '}
            {formatValue(hovered.std)}
          </span>
        </div>
      )}
    </div>
  );
}

/** One column per channel when they fit, else channels summarised per pixel column. */
function buildColumns(ch: ChannelRanges, order: Int32Array, maxColumns: number): Column[] {
  const n = order.length;
  const cols = Math.min(n, maxColumns);
  const out: Column[] = [];
  for (let k = 0; k < cols; k++) {
    const from = Math.floor((k * n) / cols);
    const to = Math.floor(((k + 1) * n) / cols);
    let min = Infinity;
    let max = -Infinity;
    let std = 0;
    for (let p = from; p < to; p++) {
      const c = order[p]!;
      const lo = ch.min[c]!;
      const hi = ch.max[c]!;
      if (lo < min) min = lo;
      if (hi > max) max = hi;
      if (ch.std[c]! > std) std = ch.std[c]!;
    }
    out.push({ from, to, min: min === Infinity ? NaN : min, max: max === -Infinity ? NaN : max, std });
  }
  return out;
}
