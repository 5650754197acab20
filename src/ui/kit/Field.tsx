import type { ReactNode } from 'react';

/** A control with its label on top and a line of plain-language help under it. */
export function Field({
  label,
  htmlFor,
  help,
  children,
  aside,
  testId,
}: {
  label: ReactNode;
  /** The control's id, when the label names a single input; otherwise the label is a caption. */
  htmlFor?: string;
  help?: ReactNode;
  children: ReactNode;
  /** Shown on the label's line, at the right (e.g. the current value). */
  aside?: ReactNode;
  testId?: string;
}) {
  return (
    <div className="cfield" data-testid={testId}>
      <div className="cfield__head">
        {htmlFor ? (
          <label className="cfield__label" htmlFor={htmlFor}>
            {label}
          </label>
        ) : (
          <span className="cfield__label">{label}</span>
        )}
        {aside && <span className="cfield__aside">{aside}</span>}
      </div>
      {children}
      {help && <p className="cfield__help">{help}</p>}
    </div>
  );
}
