import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface TabOption<T extends string> {
  value: T;
  label: ReactNode;
  title?: string;
  testId?: string;
}

export const tabId = (idBase: string, value: string) => `${idBase}-tab-${value}`;
export const tabPanelId = (idBase: string, value: string) => `${idBase}-panel-${value}`;

/**
 * An ARIA tab list: one tab in the Tab order (the selected one), arrow keys move and select (wrapping), Home / End
 * go to the first / last. Pair each tab with an element carrying tabPanelProps(idBase, value, selected).
 */
export function Tabs<T extends string>({
  label,
  idBase,
  tabs,
  value,
  onChange,
  className,
  testId,
}: {
  label: string;
  idBase: string;
  tabs: readonly TabOption<T>[];
  value: T;
  onChange(value: T): void;
  className?: string;
  testId?: string;
}) {
  const listRef = useRef<HTMLDivElement>(null);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = tabs.findIndex((t) => t.value === value);
    const next =
      event.key === 'ArrowRight' || event.key === 'ArrowDown'
        ? (index + 1) % tabs.length
        : event.key === 'ArrowLeft' || event.key === 'ArrowUp'
          ? (index - 1 + tabs.length) % tabs.length
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? tabs.length - 1
              : -1;
    if (next < 0) return;
    event.preventDefault();
    const target = tabs[next]!.value;
    onChange(target);
    listRef.current?.querySelector<HTMLElement>(`#${CSS.escape(tabId(idBase, target))}`)?.focus();
  };
  return (
    <div ref={listRef} role="tablist" aria-label={label} className={`tabs${className ? ` ${className}` : ''}`} data-testid={testId} onKeyDown={onKeyDown}>
      {tabs.map((t) => {
        const selected = t.value === value;
        return (
          <button
            key={t.value}
            type="button"
            role="tab"
            id={tabId(idBase, t.value)}
            aria-selected={selected}
            aria-controls={tabPanelId(idBase, t.value)}
            tabIndex={selected ? 0 : -1}
            className={`tabs__tab${selected ? ' is-selected' : ''}`}
            title={t.title}
            data-testid={t.testId}
            onClick={() => onChange(t.value)}
          >
            {t.label}
          </button>
        );
      })}
    </div>
  );
}

/** Props for a tab's panel: hidden (but kept mounted, with its state) while another tab is selected. */
export function tabPanelProps(idBase: string, value: string, selected: boolean) {
  return { role: 'tabpanel', id: tabPanelId(idBase, value), 'aria-labelledby': tabId(idBase, value), hidden: !selected } as const;
}
