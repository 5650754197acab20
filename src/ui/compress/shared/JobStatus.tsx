import { useStudio } from '../../../state/store';
import { formatInteger } from '../../format';
import { usePast } from './useElapsed';

/** Quick runs show nothing extra: the spinner, progress and Cancel appear only after this long. */
export const SPINNER_AFTER_MS = 500;

/** "Compressing…" with progress and Cancel, for runs that take a while; an error message when one failed. */
export function JobStatus() {
  const job = useStudio((s) => s.compression);
  const cancel = useStudio((s) => s.cancelCompression);
  const compressNow = useStudio((s) => s.compressNow);
  const slow = usePast(job.status === 'running' ? job.startedAt : null, SPINNER_AFTER_MS);
  const pruneOn = useStudio((s) => s.pruneOn);

  if (job.status === 'error') {
    return (
      <div className="banner banner--error job-status" role="alert" data-testid="compress-error">
        <div className="banner__body">
          <p className="banner__title">Could not compress the model</p>
          <p className="banner__message">{job.error}</p>
        </div>
        <button type="button" className="button button--small" onClick={compressNow}>
          Try again
        </button>
      </div>
    );
  }
  if (job.status === 'cancelled') {
    return (
      <div className="job-status job-status--line" data-testid="compress-cancelled">
        Cancelled. {job.result ? 'The results shown are from earlier settings.' : ''}
        <button type="button" className="button button--small" onClick={compressNow}>
          Compress
        </button>
      </div>
    );
  }
  if (job.status !== 'running' || !slow) return null;
  const { progress } = job;
  const label = progress ? `Quantizing weight ${formatInteger(progress.done)} of ${formatInteger(progress.total)}…` : pruneOn ? 'Pruning…' : 'Compressing…';
  return (
    <div className="job-status job-status--line" data-testid="compress-progress">
      <span className="spinner" aria-hidden="true" />
      <span role="status">{label}</span>
      {progress && progress.total > 0 && <progress className="job-status__bar" max={progress.total} value={progress.done} aria-label="Compression progress" />}
      <button type="button" className="button button--small" onClick={cancel}>
        Cancel
      </button>
    </div>
  );
}
