import { useEffect, useId, useState, type ReactNode } from 'react';
import { formatInteger } from '../format';
import type { Severity } from '../evaluate/readings';

const BADGE: Record<Severity, string> = { good: 'badge--good', warn: 'badge--warn', bad: 'badge--bad', neutral: 'badge--neutral' };

export function Badge({ severity, children, title, testId }: { severity: Severity; children: ReactNode; title?: string; testId?: string }) {
  return (
    <span className={`badge ${BADGE[severity]}`} title={title} data-testid={testId}>
      {children}
    </span>
  );
}

/**
 * A progress line for a lab job: what runs, a progress bar (role=progressbar), and Cancel. No spinner: an endless
 * animation makes Chromium composite every frame, in software where there is no GPU (measured: 70–85 % of a core
 * in its GPU process for as long as a job ran, starving onnxruntime's start on a 2-core machine).
 */
export function LabProgress({
  label,
  done,
  total,
  detail,
  onCancel,
  testId,
}: {
  label: string;
  done: number;
  total: number;
  detail?: ReactNode;
  onCancel(): void;
  testId: string;
}) {
  const pct = total > 0 ? Math.round((done / total) * 100) : 0;
  return (
    <div className="lab-progress" data-testid={testId}>
      <div className="lab-progress__line">
        <span role="status" className="lab-progress__label">
          {label}
          {total > 0 && (
            <span className="muted">
              {' '}
              · {formatInteger(done)} / {formatInteger(total)}
            </span>
          )}
        </span>
        <button type="button" className="button button--small" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <div
        className="lab-progress__bar"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${pct}%`}
      >
        <span style={{ width: `${pct}%` }} />
      </div>
      {detail && <p className="lab-progress__detail">{detail}</p>}
    </div>
  );
}

/**
 * A number input that commits on blur or Enter (not on every keystroke), clamped to [min, max].
 * Invalid text is put back to the current value.
 */
export function NumberInput({
  value,
  onCommit,
  min,
  max,
  step = 1,
  label,
  help,
  unit,
  id: givenId,
  testId,
  integer = true,
  disabled,
}: {
  value: number;
  onCommit(value: number): void;
  min: number;
  max: number;
  step?: number;
  label: string;
  help?: string;
  unit?: string;
  id?: string;
  testId?: string;
  integer?: boolean;
  disabled?: boolean;
}) {
  const ownId = useId();
  const id = givenId ?? ownId;
  const helpId = `${id}-help`;
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);
  const commit = () => {
    let v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v)) {
      setText(String(value));
      return;
    }
    if (integer) v = Math.round(v);
    v = Math.min(max, Math.max(min, v));
    setText(String(v));
    if (v !== value) onCommit(v);
  };
  return (
    <span className="lab-number">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className="input input--narrow"
        type="number"
        inputMode={integer ? 'numeric' : 'decimal'}
        min={min}
        max={max}
        step={step}
        value={text}
        disabled={disabled}
        title={help}
        aria-describedby={help ? helpId : undefined}
        data-testid={testId}
        onChange={(e) => setText(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
        }}
      />
      {unit && <span className="muted">{unit}</span>}
      {help && (
        <span id={helpId} className="visually-hidden">
          {help}
        </span>
      )}
    </span>
  );
}

/** A definition-list row: a term and its value. */
export function Fact({ term, children, title, testId }: { term: ReactNode; children: ReactNode; title?: string; testId?: string }) {
  return (
    <div className="lab-fact" title={title}>
      <dt>{term}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}
