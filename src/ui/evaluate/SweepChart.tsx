import { memo, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { SweepPoint } from '../../core/eval/sweep';
import { useStudio } from '../../state/store';
import { deltaText } from '../compress/shared/delta';
import { formatBytes } from '../format';
import { formatLatency, frontierLine, niceTicks, paddedDomain, pointLatency, qualityOf, ratioText } from './readings';

const HEIGHT = 320;
const M = { top: 16, right: 24, bottom: 46, left: 62 };
/** Bubble areas (px²) for the smallest and the largest file, like a recharts ZAxis range. */
const AREA = [60, 520] as const;

/**
 * Quality against latency, bubble area = file size; the frontier joined by a line; the original ringed.
 * Plain SVG: it redraws as each point of a running sweep lands, and a charting library's store and re-render
 * passes cost the page long tasks on slow machines, which this keeps well under a frame.
 */
export const SweepChart = memo(function SweepChart({ points }: { points: SweepPoint[] }) {
  const applyRecipe = useStudio((s) => s.applyRecipe);
  const applied = useStudio((s) => s.sweep.applied);
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  const [hover, setHover] = useState<number | null>(null);

  const labelled = points.some((p) => p.accuracy !== undefined);
  const metric = points.find((p) => p.headline)?.headline?.metric ?? 'agreement';
  const yName = labelled ? 'Accuracy' : metric.charAt(0).toUpperCase() + metric.slice(1);
  const shown = points.filter((p) => !p.error && pointLatency(p) !== undefined && qualityOf(p) !== undefined);
  const original = points.find((p) => p.isOriginal);
  const line = frontierLine(points, qualityOf);
  // Ratios to the original timed alongside each point cancel the drift of a busy machine; plot those when known.
  const relative = shown.every((p) => p.relativeLatency !== undefined);

  const [x0, x1] = paddedDomain(
    shown.map((p) => pointLatency(p)!),
    0.1,
    0,
  );
  const [y0, y1] = paddedDomain(
    shown.map((p) => qualityOf(p)! * 100),
    0.15,
    0,
    100,
  );
  const sizes = shown.map((p) => p.sizeBytes);
  const sMin = Math.min(...sizes);
  const sMax = Math.max(...sizes);
  const plotW = Math.max(10, width - M.left - M.right);
  const plotH = HEIGHT - M.top - M.bottom;
  const sx = (v: number) => M.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (v: number) => M.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;
  const radius = (bytes: number) => Math.sqrt((sMax > sMin ? AREA[0] + ((bytes - sMin) / (sMax - sMin)) * (AREA[1] - AREA[0]) : 180) / Math.PI);
  const xTicks = niceTicks(x0, x1, Math.max(2, Math.floor(plotW / 90)));
  const yTicks = niceTicks(y0, y1, 5);
  // Large bubbles first, so small ones stay clickable on top.
  const drawOrder = [...shown].sort((a, b) => b.sizeBytes - a.sizeBytes);
  const hovered = hover === null ? undefined : shown.find((p) => p.id === hover);
  const apply = (p: SweepPoint) => applyRecipe(p.recipe, p.id);

  return (
    <figure
      className="chart lab-chart lab-scatter"
      data-testid="sweep-chart"
      data-points={shown.length}
      aria-label={`${yName} against latency for ${shown.length} points; frontier: ${line.map((p) => p.label).join(', ') || 'none yet'}`}
    >
      <div className="lab-scatter__plot" ref={ref}>
        {width > 0 && (
          <svg width={width} height={HEIGHT} role="group" aria-label={`${yName} (up is better) against latency (left is faster); bubble area is the file size`}>
            <g className="lab-axis" aria-hidden="true">
              {yTicks.map((t) => (
                <g key={`y${t}`}>
                  <line x1={M.left} x2={M.left + plotW} y1={sy(t)} y2={sy(t)} className="lab-grid" />
                  <text x={M.left - 6} y={sy(t) + 4} textAnchor="end">
                    {`${Number(t.toPrecision(4))}%`}
                  </text>
                </g>
              ))}
              {xTicks.map((t) => (
                <g key={`x${t}`}>
                  <line x1={sx(t)} x2={sx(t)} y1={M.top} y2={M.top + plotH} className="lab-grid" />
                  <text x={sx(t)} y={M.top + plotH + 16} textAnchor="middle">
                    {relative ? `${Number(t.toPrecision(3))}×` : formatLatency(t)}
                  </text>
                </g>
              ))}
              <line x1={M.left} x2={M.left + plotW} y1={M.top + plotH} y2={M.top + plotH} className="lab-axis__line" />
              <line x1={M.left} x2={M.left} y1={M.top} y2={M.top + plotH} className="lab-axis__line" />
              <text x={M.left + plotW / 2} y={HEIGHT - 6} textAnchor="middle" className="lab-axis__title">
                {relative ? 'Latency × the original (medians timed interleaved; faster ←)' : 'Latency, median per inference (faster ←)'}
              </text>
              <text transform={`translate(14 ${M.top + plotH / 2}) rotate(-90)`} textAnchor="middle" className="lab-axis__title">
                {`${yName} (better ↑)`}
              </text>
            </g>
            {line.length > 1 && (
              <polyline
                className="lab-frontier"
                data-testid="frontier-line"
                points={line.map((p) => `${sx(pointLatency(p)!)},${sy(qualityOf(p)! * 100)}`).join(' ')}
                aria-hidden="true"
              />
            )}
            {drawOrder.map((p) => {
              const cx = sx(pointLatency(p)!);
              const cy = sy(qualityOf(p)! * 100);
              const r = Math.max(4, radius(p.sizeBytes));
              const onKey = (e: KeyboardEvent) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  apply(p);
                }
              };
              return (
                <g
                  key={p.id}
                  className={`lab-point${p.frontier ? ' is-frontier' : ''}${p.isOriginal ? ' is-original' : ''}${applied === p.id ? ' is-applied' : ''}`}
                  data-testid="sweep-point"
                  data-id={p.id}
                  data-label={p.label}
                  data-frontier={p.frontier ? 'true' : 'false'}
                  role="button"
                  tabIndex={0}
                  aria-label={`${p.label}: ${formatBytes(p.sizeBytes)}${original && !p.isOriginal ? ` (${deltaText(original.sizeBytes, p.sizeBytes)})` : ''}, ${relative ? `${pointLatency(p)!.toFixed(2)}× the original's latency` : formatLatency(pointLatency(p)!)}, ${yName.toLowerCase()} ${(qualityOf(p)! * 100).toFixed(1)}%${p.frontier ? ', on the frontier' : ''}. Apply its recipe to the Compress panel.`}
                  onClick={() => apply(p)}
                  onKeyDown={onKey}
                  onPointerEnter={() => setHover(p.id)}
                  onPointerLeave={() => setHover((h) => (h === p.id ? null : h))}
                  onFocus={() => setHover(p.id)}
                  onBlur={() => setHover((h) => (h === p.id ? null : h))}
                >
                  <circle cx={cx} cy={cy} r={r} className="lab-point__dot" data-testid={p.frontier ? 'frontier-point' : undefined} />
                  {p.isOriginal && (
                    <text x={cx + r + 4} y={cy - r - 2} className="lab-point__label">
                      original
                    </text>
                  )}
                </g>
              );
            })}
          </svg>
        )}
        {hovered && (
          <div className="lab-tip lab-scatter__tip" role="tooltip" style={{ left: sx(pointLatency(hovered)!), top: sy(qualityOf(hovered)! * 100) }}>
            <strong>{hovered.label}</strong>
            <span>
              size {formatBytes(hovered.sizeBytes)} {original && !hovered.isOriginal ? deltaText(original.sizeBytes, hovered.sizeBytes) : ''}
            </span>
            <span>
              latency {formatLatency(hovered.latency?.medianMs)} median{hovered.latency ? `, p90 ${formatLatency(hovered.latency.p90Ms)}` : ''}
              {!hovered.isOriginal && hovered.originalLatency
                ? ` (${ratioText(hovered.latency?.medianMs, hovered.originalLatency.medianMs)} the original)`
                : ''}
            </span>
            <span>
              {yName.toLowerCase()} {(qualityOf(hovered)! * 100).toFixed(1)}%
            </span>
            {hovered.frontier && <span>★ on the frontier</span>}
          </div>
        )}
      </div>
      <figcaption className="chart-caption lab-legend">
        <span>
          <span className="lab-dot lab-dot--frontier" aria-hidden="true" /> frontier (joined by the line)
        </span>
        <span>
          <span className="lab-dot" aria-hidden="true" /> other points
        </span>
        <span>
          <span className="lab-dot lab-dot--original" aria-hidden="true" /> original
        </span>
        <span>bubble area = file size · click a point (or focus it and press Enter) to apply its recipe</span>
      </figcaption>
    </figure>
  );
});

/** The element's content width, kept current with a ResizeObserver. */
function useWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(Math.floor(el.clientWidth));
    const observer = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      setWidth((prev) => (prev === w ? prev : w));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}
