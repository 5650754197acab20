import { useId } from 'react';
import { useStudio } from '../../state/store';
import { formatInteger } from '../format';

export function TensorToolbar({
  shown,
  total,
  hiddenNonWeights,
  filteredOut,
}: {
  shown: number;
  total: number;
  hiddenNonWeights: number;
  filteredOut: number;
}) {
  const filter = useStudio((s) => s.tableFilter);
  const setTableFilter = useStudio((s) => s.setTableFilter);
  const showNonWeights = useStudio((s) => s.showNonWeights);
  const setShowNonWeights = useStudio((s) => s.setShowNonWeights);
  const filterId = useId();
  const hintId = useId();

  const parts = [`Showing ${formatInteger(shown)} of ${formatInteger(total)} tensors`];
  if (filteredOut > 0) parts.push(`${formatInteger(filteredOut)} not matching the filter`);
  if (hiddenNonWeights > 0) parts.push(`${formatInteger(hiddenNonWeights)} non-weight tensor${hiddenNonWeights === 1 ? '' : 's'} hidden`);

  return (
    <div className="tt-toolbar">
      <div className="field">
        <label htmlFor={filterId} className="field__label">
          Filter
        </label>
        <input
          id={filterId}
          type="search"
          className="input"
          placeholder="Name, operation or type (e.g. conv, float32)"
          value={filter}
          onChange={(event) => setTableFilter(event.currentTarget.value)}
          aria-describedby={hintId}
          title="Show only tensors whose name, operation or number type contains this text."
          spellCheck={false}
          autoComplete="off"
        />
      </div>
      <label className="checkbox" title="Also list tensors that are not learned weights: shapes, indices, scalars and other helper values.">
        <input type="checkbox" checked={showNonWeights} onChange={(event) => setShowNonWeights(event.currentTarget.checked)} />
        Show non-weight tensors
      </label>
      <p className="tt-count" id={hintId} aria-live="polite" data-testid="tensor-count">
        {parts.join(' · ')}
      </p>
    </div>
  );
}
