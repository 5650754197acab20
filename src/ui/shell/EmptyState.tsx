import { useStudio } from '../../state/store';
import { DROP_MESSAGE } from './DropZone';

export function EmptyState() {
  const loadingName = useStudio((s) => (s.status === 'loading' ? s.loadingName : null));
  if (loadingName) {
    return (
      <section className="card empty-state" aria-busy="true">
        <span className="spinner spinner--large" aria-hidden="true" />
        <h2>Opening {loadingName}…</h2>
        <p>Reading the model's structure. Large models take a few seconds; the weights stay on your computer.</p>
      </section>
    );
  }
  return (
    <section className="card empty-state">
      <h2>No model open</h2>
      <p>
        An ONNX file describes a neural network: the operations it runs and the numbers (weights) it learned. Open one to see its size, its inputs and outputs,
        and every weight tensor.
      </p>
      <p className="empty-state__hint">{DROP_MESSAGE} anywhere on this page, or use the buttons above.</p>
      <p className="empty-state__hint">Nothing is uploaded: files are read in your browser.</p>
    </section>
  );
}
