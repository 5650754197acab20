import { useStudio } from '../../state/store';

/**
 * Announces loads to screen readers. While a model is shown it is also a slim visible line that
 * fades in (quick loads do not flash); with no model the empty-state card says it instead.
 */
export function LoadingStatus() {
  const loadingName = useStudio((s) => (s.status === 'loading' ? s.loadingName : null));
  const hasModel = useStudio((s) => s.summary !== null);
  return (
    <div role="status" aria-live="polite" className={hasModel ? 'loading-slot' : 'visually-hidden'}>
      {loadingName && (
        <div className="loading-line">
          <span className="spinner" aria-hidden="true" />
          Opening {loadingName}…
        </div>
      )}
    </div>
  );
}
