import { useEffect, useMemo, useRef, useState } from 'react';
import type { HistogramData } from '../../core/analysis/analyze';
import { countTicks, niceTicks, prepareCanvas, useChartColors, useElementWidth } from '../charts/canvas';
import { formatCount, formatFraction, formatInteger, formatValue } from '../format';

const HEIGHT = 240;
const M = { top: 10, right: 14, bottom: 30, left: 52 };

export interface HistogramMarker {
  value: number;
  label: string;
}

/** What quantization draws over a histogram: the values its grid can represent and the range it clips to. */
export interface QuantOverlay {
  /** Representable values (sorted); drawn as thin lines, thinned out when they would crowd the plot. */
  levels: number[];
  /** Values outside are clipped to the nearest end. */
  clip: [number, number];
}

/**
 * A histogram drawn on a canvas. Measured in Chromium (PerformanceObserver 'longtask', fc1.weight of
 * the demo): a recharts BarChart with 512 bins caused main-thread long tasks of 70–190 ms per change
 * in a production build (115–300 ms in dev); this canvas caused none over 50 ms.
 */
export function HistogramChart({
  histogram,
  logCounts,
  markers,
  total,
  dimmed,
  overlay,
  testId = 'histogram',
  height = HEIGHT,
  tone = 'accent',
  valueLabel = 'values',
}: {
  histogram: HistogramData;
  logCounts: boolean;
  markers: HistogramMarker[];
  /** Finite values in the tensor, for the share of each bin. */
  total: number;
  dimmed: boolean;
  overlay?: QuantOverlay;
  testId?: string;
  height?: number;
  /** Bar colour: the accent, or the second series colour (e.g. for errors). */
  tone?: 'accent' | 'second';
  /** What the counted things are called in the tooltip and description. */
  valueLabel?: string;
}) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const width = useElementWidth(wrapRef);
  const colors = useChartColors();
  const [hover, setHover] = useState<number | null>(null);
  const { lo, hi, counts } = histogram;
  const bins = counts.length;
  const maxCount = useMemo(() => counts.reduce((m, c) => (c > m ? c : m), 0), [counts]);

  const plotW = Math.max(10, width - M.left - M.right);
  const plotH = height - M.top - M.bottom;
  const xOf = (v: number) => M.left + ((v - lo) / (hi - lo)) * plotW;
  const yOf = (count: number) => {
    if (maxCount === 0 || count <= 0) return M.top + plotH;
    const f = logCounts ? Math.log10(1 + count) / Math.log10(1 + maxCount) : count / maxCount;
    return M.top + plotH * (1 - f);
  };

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || width === 0) return;
    const ctx = prepareCanvas(canvas, width, height);
    if (!ctx) return;
    ctx.font = colors.font;

    // Count axis: grid lines and labels.
    const yTicks = logCounts ? [0, ...Array.from({ length: Math.floor(Math.log10(Math.max(1, maxCount))) + 1 }, (_, i) => 10 ** i)] : countTicks(maxCount, 4);
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.muted;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of yTicks) {
      const y = Math.round(yOf(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(M.left, y);
      ctx.lineTo(M.left + plotW, y);
      ctx.stroke();
      ctx.fillText(formatCount(t), M.left - 6, y);
    }

    // Clipped zones (outside the quantization range): a soft band, behind the bars.
    if (overlay) {
      const [c0, c1] = overlay.clip;
      ctx.fillStyle = colors.danger;
      ctx.globalAlpha = 0.1;
      const x0 = Math.max(M.left, Math.min(M.left + plotW, xOf(c0)));
      const x1 = Math.max(M.left, Math.min(M.left + plotW, xOf(c1)));
      if (x0 > M.left) ctx.fillRect(M.left, M.top, x0 - M.left, plotH);
      if (x1 < M.left + plotW) ctx.fillRect(x1, M.top, M.left + plotW - x1, plotH);
      ctx.globalAlpha = 1;
    }

    // Bars: one rectangle per bin, merged into a single path.
    const binW = plotW / bins;
    ctx.fillStyle = tone === 'second' ? colors.second : colors.accent;
    ctx.beginPath();
    for (let b = 0; b < bins; b++) {
      const c = counts[b]!;
      if (c === 0) continue;
      const y = yOf(c);
      const x0 = M.left + b * binW;
      const gap = binW > 4 ? 1 : 0;
      ctx.rect(x0, y, Math.max(0.75, binW - gap), Math.max(1, M.top + plotH - y));
    }
    ctx.fill();
    if (hover !== null) {
      const c = counts[hover]!;
      ctx.fillStyle = colors.marker;
      const y = yOf(c);
      ctx.fillRect(M.left + hover * binW, c ? y : M.top + plotH - 2, Math.max(1.5, binW - (binW > 4 ? 1 : 0)), c ? M.top + plotH - y : 2);
    }

    // Value axis.
    ctx.strokeStyle = colors.muted;
    ctx.beginPath();
    ctx.moveTo(M.left, M.top + plotH + 0.5);
    ctx.lineTo(M.left + plotW, M.top + plotH + 0.5);
    ctx.stroke();
    ctx.fillStyle = colors.muted;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const xTicks = niceTicks(lo, hi, Math.max(2, Math.floor(plotW / 90)));
    for (const t of xTicks) {
      const x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, M.top + plotH);
      ctx.lineTo(x, M.top + plotH + 4);
      ctx.stroke();
      ctx.fillText(formatValue(t), x, M.top + plotH + 7);
    }

    // Markers (zero, percentiles): dashed vertical lines labelled at the top.
    ctx.setLineDash([4, 3]);
    ctx.textBaseline = 'top';
    for (const m of markers) {
      if (!(m.value >= lo && m.value <= hi)) continue;
      const x = Math.round(xOf(m.value)) + 0.5;
      ctx.strokeStyle = m.label === '0' ? colors.faint : colors.marker;
      ctx.beginPath();
      ctx.moveTo(x, M.top);
      ctx.lineTo(x, M.top + plotH);
      ctx.stroke();
      if (m.label !== '0') {
        ctx.fillStyle = colors.marker;
        ctx.textAlign = x > M.left + plotW / 2 ? 'right' : 'left';
        ctx.fillText(m.label, x + (ctx.textAlign === 'right' ? -4 : 4), M.top + 2);
      }
    }
    ctx.setLineDash([]);

    // Quantization grid: a thin line per representable value (every k-th when they would be under 3 px
    // apart), and the clipping range as solid lines.
    if (overlay) {
      const visible = overlay.levels.filter((v) => v >= lo && v <= hi);
      const spacing = visible.length > 1 ? (xOf(visible[visible.length - 1]!) - xOf(visible[0]!)) / (visible.length - 1) : Infinity;
      const every = spacing >= 3 ? 1 : Math.ceil(3 / Math.max(spacing, 1e-9));
      ctx.strokeStyle = colors.text;
      // A dense grid (8 bits: 255 lines) reads as a texture; keep it faint so the bars stay in front.
      ctx.globalAlpha = every > 1 || visible.length > 64 ? 0.16 : 0.35;
      ctx.beginPath();
      visible.forEach((v, i) => {
        if (i % every !== 0) return;
        const x = Math.round(xOf(v)) + 0.5;
        ctx.moveTo(x, M.top);
        ctx.lineTo(x, M.top + plotH);
      });
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.strokeStyle = colors.danger;
      ctx.fillStyle = colors.danger;
      ctx.lineWidth = 1.5;
      ctx.textBaseline = 'top';
      overlay.clip.forEach((v, i) => {
        if (!(v >= lo && v <= hi)) return;
        const x = Math.round(xOf(v)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, M.top);
        ctx.lineTo(x, M.top + plotH);
        ctx.stroke();
        ctx.textAlign = i === 0 ? 'left' : 'right';
        ctx.fillText('clip', x + (i === 0 ? 4 : -4), M.top + 2);
      });
      ctx.lineWidth = 1;
    }
    // The painted pixels are the point: no React state changes here. (The geometry is derived from these values.)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [width, height, colors, counts, lo, hi, logCounts, markers, hover, maxCount, overlay, tone]);

  const binWidth = (hi - lo) / bins;
  const hovered =
    hover === null ? null : { from: lo + hover * binWidth, to: lo + (hover + 1) * binWidth, count: counts[hover]!, left: xOf(lo + (hover + 0.5) * binWidth) };

  const peak = counts.indexOf(maxCount);
  const description =
    maxCount === 0
      ? 'Histogram with no finite values.'
      : `Histogram of ${bins} bins from ${formatValue(lo)} to ${formatValue(hi)}; the fullest bin, around ${formatValue(
          lo + (peak + 0.5) * binWidth,
        )}, holds ${formatInteger(maxCount)} ${valueLabel}. Count axis ${logCounts ? 'logarithmic' : 'linear'}.${
          overlay
            ? ` ${formatInteger(overlay.levels.length)} quantization levels drawn as lines; values outside ${formatValue(overlay.clip[0])} to ${formatValue(overlay.clip[1])} are clipped.`
            : ''
        }`;

  return (
    <div className={`hist${dimmed ? ' is-stale' : ''}`} ref={wrapRef}>
      <canvas
        ref={canvasRef}
        role="img"
        aria-label={description}
        data-testid={testId}
        data-bins={bins}
        data-levels={overlay?.levels.length}
        data-clip-lo={overlay?.clip[0]}
        data-clip-hi={overlay?.clip[1]}
        data-log={logCounts ? 'true' : 'false'}
        data-lo={lo}
        data-hi={hi}
        height={height}
        onMouseMove={(event) => {
          const rect = event.currentTarget.getBoundingClientRect();
          const x = event.clientX - rect.left - M.left;
          const b = Math.floor((x / plotW) * bins);
          setHover(b >= 0 && b < bins ? b : null);
        }}
        onMouseLeave={() => setHover(null)}
      />
      {hovered && (
        <div className="chart-tip" style={{ left: Math.min(Math.max(hovered.left, 90), width - 90), top: 4 }} role="presentation">
          <strong>
            {formatValue(hovered.from)} to {formatValue(hovered.to)}
          </strong>
          <span>
            {formatInteger(hovered.count)} {valueLabel} · {formatFraction(total ? hovered.count / total : 0)}
          </span>
        </div>
      )}
    </div>
  );
}
