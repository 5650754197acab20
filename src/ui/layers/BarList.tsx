import type { ReactNode } from 'react';

export interface BarItem {
  key: string;
  label: string;
  /** Second line under the label, e.g. the op type. */
  sub?: string;
  value: number;
  /** The value as shown, with its unit. */
  display: string;
  title: string;
  selected: boolean;
  /** Passed to data-tensor-id so tests and the table can find the bar of a tensor. */
  tensorId: number;
}

/**
 * A horizontal bar chart made of buttons: every bar can be clicked or reached with Tab and
 * pressed with Enter, and the selected one is marked for assistive technology (aria-current).
 */
export function BarList({
  items,
  max,
  onSelect,
  label,
  testId,
  footer,
}: {
  items: BarItem[];
  max: number;
  onSelect(item: BarItem): void;
  label: string;
  testId: string;
  footer?: ReactNode;
}) {
  return (
    <div className="barlist-wrap">
      <ul className="barlist" aria-label={label} data-testid={testId}>
        {items.map((item) => (
          <li key={item.key}>
            <button
              type="button"
              className={`barlist__row${item.selected ? ' is-selected' : ''}`}
              aria-current={item.selected ? 'true' : undefined}
              title={item.title}
              data-tensor-id={item.tensorId}
              onClick={() => onSelect(item)}
            >
              <span className="barlist__label">
                <span className="ellipsis mono">{item.label}</span>
                {item.sub && <span className="barlist__sub ellipsis">{item.sub}</span>}
              </span>
              <span className="barlist__track" aria-hidden="true">
                <span className="barlist__bar" style={{ width: `${max > 0 ? Math.max((item.value / max) * 100, item.value > 0 ? 0.8 : 0) : 0}%` }} />
              </span>
              <span className="barlist__value">{item.display}</span>
            </button>
          </li>
        ))}
      </ul>
      {footer}
    </div>
  );
}
