import { memo, useDeferredValue, useId, useMemo, useState } from 'react';
import type { TensorInfo } from '../../../core/onnx/types';
import { useStudio, type Step } from '../../../state/store';
import { globMatches, weightOpTypes } from '../../../state/recipeEdits';
import { formatInteger } from '../../format';

const PREVIEW_NAMES = 8;

/**
 * Leaving weights out of a step: by op type, by name pattern (glob, with a live preview of what it matches),
 * and the rows left out one by one in the per-layer table. The same control serves pruning and quantization.
 */
export const Exclusions = memo(function Exclusions({ step, tensors }: { step: Step; tensors: TensorInfo[] }) {
  const rules = useStudio((s) => (step === 'quantize' ? s.quantize : s.prune));
  const setExcludedOp = useStudio((s) => s.setExcludedOp);
  const addPattern = useStudio((s) => s.addExcludePattern);
  const removePattern = useStudio((s) => s.removeExcludePattern);
  const ops = useMemo(() => weightOpTypes(tensors), [tensors]);
  const names = useMemo(() => new Set(tensors.map((t) => t.name)), [tensors]);
  const [draft, setDraft] = useState('');
  const deferredDraft = useDeferredValue(draft);
  const preview = useMemo(() => globMatches(deferredDraft, tensors), [deferredDraft, tensors]);
  const inputId = useId();
  const previewId = useId();
  const verb = step === 'quantize' ? 'quantized' : 'pruned';
  // Exact names come from row checkboxes; everything else in `exclude` is a pattern.
  const patterns = rules.exclude.filter((g) => !names.has(g));
  const rowNames = rules.exclude.filter((g) => names.has(g));

  const add = () => {
    if (!draft.trim()) return;
    addPattern(step, draft);
    setDraft('');
  };

  return (
    <fieldset className="exclusions" data-testid={`${step}-exclusions`}>
      <legend className="exclusions__legend">Leave out</legend>
      <p className="cfield__help">Weights left out stay in float32, untouched. Tick op types, add name patterns, or untick rows in the table below.</p>

      {ops.length > 0 && (
        <div className="exclusions__ops" role="group" aria-label={`Op types left out of the ${step === 'quantize' ? 'quantization' : 'pruning'}`}>
          {ops.map(({ op, count }) => (
            <label
              key={op}
              className="checkbox"
              title={`Leave every ${op} weight (${count} in this model) ${verb === 'quantized' ? 'unquantized' : 'unpruned'}.`}
            >
              <input type="checkbox" checked={rules.excludeOps.includes(op)} onChange={(e) => setExcludedOp(step, op, e.currentTarget.checked)} />
              <span>
                {op} <span className="muted">({count})</span>
              </span>
            </label>
          ))}
        </div>
      )}

      <div className="exclusions__pattern">
        <label htmlFor={inputId} className="cfield__label">
          Names matching
        </label>
        <div className="exclusions__add">
          <input
            id={inputId}
            className="input mono"
            value={draft}
            placeholder="e.g. fc2* or *.bias"
            aria-describedby={previewId}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                add();
              }
            }}
          />
          <button type="button" className="button button--small" onClick={add} disabled={!draft.trim()}>
            Add pattern
          </button>
        </div>
        <div id={previewId} className="exclusions__preview" aria-live="polite" data-testid={`${step}-pattern-preview`}>
          {deferredDraft.trim() === '' ? (
            <span className="muted">
              <span className="mono">*</span> matches any run of characters, <span className="mono">?</span> one character; tensor and layer names both count.
            </span>
          ) : preview.length === 0 ? (
            <span className="muted">
              Matches no weight.
              {!/[*?]/.test(deferredDraft) && (
                <>
                  {' '}
                  A pattern matches whole names: try <span className="mono">*{deferredDraft.trim()}*</span>.
                </>
              )}
            </span>
          ) : (
            <>
              Matches {formatInteger(preview.length)} weight{preview.length === 1 ? '' : 's'}:{' '}
              <ul className="name-list">
                {preview.slice(0, PREVIEW_NAMES).map((t) => (
                  <li key={t.id} className="mono">
                    {t.name}
                  </li>
                ))}
                {preview.length > PREVIEW_NAMES && <li className="muted">and {formatInteger(preview.length - PREVIEW_NAMES)} more</li>}
              </ul>
            </>
          )}
        </div>
      </div>

      {(patterns.length > 0 || rowNames.length > 0) && (
        <ul
          className="exclusions__list"
          aria-label={`Left out of the ${step === 'quantize' ? 'quantization' : 'pruning'}`}
          data-testid={`${step}-excluded-list`}
        >
          {patterns.map((g) => (
            <li key={g} className="exclusion-chip">
              <span className="mono">{g}</span>
              <span className="muted"> · {formatInteger(globMatches(g, tensors).length)} match</span>
              <button type="button" className="exclusion-chip__remove" aria-label={`Remove pattern ${g}`} onClick={() => removePattern(step, g)}>
                ×
              </button>
            </li>
          ))}
          {rowNames.map((g) => (
            <li key={g} className="exclusion-chip exclusion-chip--row">
              <span className="mono">{g}</span>
              <button type="button" className="exclusion-chip__remove" aria-label={`Take ${g} back in`} onClick={() => removePattern(step, g)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
});
