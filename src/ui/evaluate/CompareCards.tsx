import { memo } from 'react';
import type { SweepPoint } from '../../core/eval/sweep';
import { useStudio } from '../../state/store';
import { deltaText, deltaTone } from '../compress/shared/delta';
import { formatBytes } from '../format';
import { comparePoints, formatCosine, formatLatency, formatShare, qualityOf, ratioText, sqnrText } from './readings';
import { Badge } from '../kit/controls';

/** Two sweep points side by side, the second with its change from the first. */
export const CompareCards = memo(function CompareCards() {
  const points = useStudio((s) => s.sweep.points);
  const selected = useStudio((s) => s.sweep.selected);
  const toggle = useStudio((s) => s.toggleSweepPoint);
  const chosen = selected.map((id) => points.find((p) => p.id === id)).filter((p): p is SweepPoint => !!p);
  if (chosen.length < 2) {
    return (
      <p className="muted lab-compare__hint" data-testid="compare-hint">
        {chosen.length === 1
          ? `“${chosen[0]!.label}” is ticked: tick one more point to compare.`
          : 'Tick two points in the table to compare them side by side.'}
      </p>
    );
  }
  const [a, b] = chosen as [SweepPoint, SweepPoint];
  const d = comparePoints(a, b, qualityOf);
  const labelled = a.accuracy !== undefined && b.accuracy !== undefined;
  return (
    <section className="lab-compare" aria-labelledby="compare-title" data-testid="compare">
      <h4 className="lab-card__title" id="compare-title">
        Compare
      </h4>
      <div className="lab-compare__grid">
        {[a, b].map((p, i) => (
          <article key={p.id} className="lab-card" data-testid="compare-card" aria-label={p.label}>
            <header className="lab-compare__head">
              <h5 className="lab-compare__title">{p.label}</h5>
              <button type="button" className="button button--ghost button--small" onClick={() => toggle(p.id)} aria-label={`Stop comparing ${p.label}`}>
                ✕
              </button>
            </header>
            <dl className="lab-metrics">
              <div className="lab-metric">
                <dt>Size</dt>
                <dd>
                  {formatBytes(p.sizeBytes)}
                  {i === 1 && (
                    <>
                      {' '}
                      <span className={`delta delta--${deltaTone(a.sizeBytes, b.sizeBytes)}`} data-testid="compare-size-delta">
                        {deltaText(a.sizeBytes, b.sizeBytes)}
                      </span>
                    </>
                  )}
                </dd>
              </div>
              <div className="lab-metric">
                <dt>Latency (median)</dt>
                <dd>
                  {p.latency ? formatLatency(p.latency.medianMs) : '—'}
                  {i === 1 && (
                    <>
                      {' '}
                      <Badge severity={d.latencyTone} testId="compare-latency-ratio" title="Latency of this point ÷ the other's: below ×1 is faster.">
                        {d.latency}
                      </Badge>
                    </>
                  )}
                </dd>
              </div>
              <div className="lab-metric">
                <dt>{labelled ? 'Accuracy' : (p.headline?.metric ?? 'Quality')}</dt>
                <dd>
                  {qualityOf(p) === undefined ? '—' : formatShare(qualityOf(p))}
                  {i === 1 && (
                    <>
                      {' '}
                      <Badge severity={d.qualityTone} testId="compare-quality-delta" title="Change in percentage points from the other point.">
                        {d.quality}
                      </Badge>
                    </>
                  )}
                </dd>
              </div>
              <div className="lab-metric">
                <dt>Cosine / SQNR</dt>
                <dd>
                  {formatCosine(p.cosine)} / {sqnrText(p.sqnrDb)}
                </dd>
              </div>
              {p.originalLatency && !p.isOriginal && (
                <div className="lab-metric">
                  <dt>× original</dt>
                  <dd>{ratioText(p.latency?.medianMs, p.originalLatency.medianMs)}</dd>
                </div>
              )}
            </dl>
            {i === 1 && <p className="muted small">Changes are relative to “{a.label}”.</p>}
          </article>
        ))}
      </div>
    </section>
  );
});
