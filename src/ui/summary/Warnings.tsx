export function Warnings({ warnings }: { warnings: string[] }) {
  if (warnings.length === 0) return null;
  return (
    <div className="banner banner--warning" role="status" data-testid="model-warnings">
      <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" className="banner__icon">
        <path d="M12 3 2 20h20L12 3Z" fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round" />
        <path d="M12 10v4M12 17v.5" stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" />
      </svg>
      <div className="banner__body">
        <p className="banner__title">{warnings.length === 1 ? 'One thing to know about this model' : `${warnings.length} things to know about this model`}</p>
        <ul className="banner__list">
          {warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      </div>
    </div>
  );
}
