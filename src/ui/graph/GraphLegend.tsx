import type { Overlay, OverlayKind } from '../../core/graph/overlay';

/** The overlay's key: a colour scale with its range and units, or the categories with their counts. */
export function GraphLegend({ overlay, kind }: { overlay: Overlay | null; kind: OverlayKind }) {
  if (!overlay || kind === 'none') return null;
  const legend = overlay.legend;
  return (
    <div className="graph-legend" data-testid="graph-legend" aria-live="polite">
      {legend.type === 'none' && (
        <p className="graph-legend__note" data-testid="graph-legend-note">
          <span className="graph-legend__swatch graph-legend__swatch--unmeasured" /> {legend.note ?? 'Not measured'}
        </p>
      )}
      {legend.type === 'scale' && (
        <>
          <p className="graph-legend__title">
            {legend.label} <span className="muted">({legend.unit})</span>
          </p>
          <div className="graph-legend__bar" style={{ background: `linear-gradient(to right, ${legend.stops.join(', ')})` }} />
          <div className="graph-legend__range">
            <span data-testid="graph-legend-min">{overlay.format(legend.min)}</span>
            <span data-testid="graph-legend-max">{overlay.format(legend.max)}</span>
          </div>
          <div className="graph-legend__range muted">
            <span>{legend.lowLabel}</span>
            <span>{legend.highLabel}</span>
          </div>
          <p className="graph-legend__note">
            <span className="graph-legend__swatch graph-legend__swatch--unmeasured" /> not measured · {legend.measured} measured
          </p>
        </>
      )}
      {legend.type === 'categories' && (
        <>
          <p className="graph-legend__title">{legend.label}</p>
          <ul className="graph-legend__items">
            {legend.items.map((item) => (
              <li key={item.label}>
                <span className="graph-legend__swatch" style={{ background: item.color }} /> {item.label} <span className="muted">{item.count}</span>
              </li>
            ))}
            <li>
              <span className="graph-legend__swatch graph-legend__swatch--unmeasured" /> no value
            </li>
          </ul>
        </>
      )}
    </div>
  );
}
