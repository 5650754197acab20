import { useId, type ReactNode } from 'react';
import { Field } from './Field';

/**
 * A labelled native range input (keyboard: arrows, Page Up/Down, Home/End) with its value and unit shown
 * next to the label, and tick marks from a datalist.
 */
export function RangeSlider({
  label,
  value,
  min,
  max,
  step,
  onChange,
  display,
  valueText,
  help,
  ticks,
  disabled,
  testId,
}: {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  onChange(value: number): void;
  /** The value as shown, with its unit. */
  display: ReactNode;
  /** The value as read out by screen readers, e.g. "4 bits". */
  valueText: string;
  help?: ReactNode;
  ticks?: { value: number; label: string }[];
  disabled?: boolean;
  testId?: string;
}) {
  const id = useId();
  const listId = `${id}-ticks`;
  return (
    <Field
      label={label}
      htmlFor={id}
      help={help}
      aside={
        <output htmlFor={id} className="cfield__value">
          {display}
        </output>
      }
      testId={testId}
    >
      <input
        id={id}
        className="range"
        type="range"
        min={min}
        max={max}
        step={step}
        value={value}
        disabled={disabled}
        aria-valuetext={valueText}
        list={ticks ? listId : undefined}
        onChange={(e) => onChange(Number(e.currentTarget.value))}
      />
      {ticks && (
        <>
          <datalist id={listId}>
            {ticks.map((t) => (
              <option key={t.value} value={t.value} />
            ))}
          </datalist>
          <div className="range__ticks" aria-hidden="true">
            {ticks.map((t) => (
              <span key={t.value} style={{ left: `${((t.value - min) / (max - min)) * 100}%` }}>
                {t.label}
              </span>
            ))}
          </div>
        </>
      )}
    </Field>
  );
}
