import { useStudio } from '../../state/store';

export function ErrorBanner() {
  const error = useStudio((s) => s.error);
  const hasModel = useStudio((s) => s.summary !== null);
  const dismissError = useStudio((s) => s.dismissError);
  if (!error) return null;
  return (
    <div className="banner banner--error" role="alert">
      <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" className="banner__icon">
        <circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" strokeWidth="2" />
        <path d="M12 7v6M12 16.5v.5" stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" />
      </svg>
      <div className="banner__body">
        <p className="banner__title">Could not open that model</p>
        <p className="banner__message">{error}</p>
        {hasModel && <p className="banner__note">The model you had open is still shown below.</p>}
      </div>
      <button type="button" className="button button--ghost button--small" onClick={dismissError} aria-label="Dismiss error">
        Dismiss
      </button>
    </div>
  );
}

/** The model worker crashed (e.g. out of memory) and was restarted with the open model and recipe. */
export function WorkerNotice() {
  const notice = useStudio((s) => s.workerNotice);
  const dismiss = useStudio((s) => s.dismissWorkerNotice);
  if (!notice) return null;
  return (
    <div className="banner banner--error" role="status" data-testid="worker-notice">
      <div className="banner__body">
        <p className="banner__title">The studio's worker restarted</p>
        <p className="banner__message">{notice}</p>
      </div>
      <button type="button" className="button button--ghost button--small" onClick={dismiss} aria-label="Dismiss notice">
        Dismiss
      </button>
    </div>
  );
}
