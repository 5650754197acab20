import { useId } from 'react';

export interface SegmentedOption<T extends string> {
  value: T;
  label: string;
  help?: string;
  disabled?: boolean;
}

/** A row of radio buttons styled as a segmented control; arrow keys move between options (native radios). */
export function Segmented<T extends string>({
  label,
  options,
  value,
  onChange,
  small,
  testId,
}: {
  label: string;
  options: SegmentedOption<T>[];
  value: T;
  onChange(value: T): void;
  small?: boolean;
  testId?: string;
}) {
  const name = useId();
  return (
    <div className={`segmented${small ? ' segmented--small' : ''}`} role="radiogroup" aria-label={label} data-testid={testId}>
      {options.map((o) => (
        <label key={o.value} className={`segmented__option${o.disabled ? ' is-disabled' : ''}`} title={o.help}>
          <input type="radio" name={name} value={o.value} checked={value === o.value} disabled={o.disabled} onChange={() => onChange(o.value)} />
          <span>{o.label}</span>
        </label>
      ))}
    </div>
  );
}
