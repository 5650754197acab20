import { useRef, type KeyboardEvent, type PointerEvent } from 'react';
import type { Pane } from './layout';

const STEP = 16;
const BIG_STEP = 64;

/**
 * A vertical splitter between two panes (role=separator, focusable): drag it, or use the arrow keys (Shift for big
 * steps), Home / End for the narrowest / widest, Enter to put back the default width. Its value is the width of the
 * pane it controls; for the right panel, moving the splitter left widens the pane.
 */
export function Separator({
  pane,
  controls,
  label,
  value,
  min,
  max,
  defaultWidth,
  onResize,
  onCommit,
}: {
  pane: Pane;
  /** The id of the pane it resizes. */
  controls: string;
  label: string;
  value: number;
  min: number;
  max: number;
  defaultWidth: number;
  /** A new width (already clamped to min…max); commit=false while a drag is under way. */
  onResize(width: number, commit: boolean): void;
  onCommit(): void;
}) {
  const drag = useRef<{ x: number; width: number; id: number } | null>(null);
  const sign = pane === 'left' ? 1 : -1;
  const clamp = (w: number) => Math.round(Math.min(max, Math.max(min, w)));

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.shiftKey ? BIG_STEP : STEP;
    let next: number | null = null;
    if (event.key === 'ArrowRight') next = value + sign * step;
    else if (event.key === 'ArrowLeft') next = value - sign * step;
    else if (event.key === 'Home') next = min;
    else if (event.key === 'End') next = max;
    else if (event.key === 'Enter') next = defaultWidth;
    if (next === null) return;
    event.preventDefault();
    onResize(clamp(next), true);
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    event.currentTarget.focus();
    drag.current = { x: event.clientX, width: value, id: event.pointerId };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d || d.id !== event.pointerId) return;
    onResize(clamp(d.width + sign * (event.clientX - d.x)), false);
  };
  const onPointerEnd = (event: PointerEvent<HTMLDivElement>) => {
    if (!drag.current || drag.current.id !== event.pointerId) return;
    drag.current = null;
    onCommit();
  };

  return (
    <div
      role="separator"
      tabIndex={0}
      aria-orientation="vertical"
      aria-label={label}
      aria-controls={controls}
      aria-valuenow={value}
      aria-valuemin={min}
      aria-valuemax={max}
      aria-valuetext={`${value} pixels wide`}
      title={`${label}: drag, or focus and use the arrow keys (Shift for bigger steps), Home / End; Enter resets, double-click too.`}
      className={`ws-sep ws-sep--${pane}`}
      data-testid={`separator-${pane}`}
      onKeyDown={onKeyDown}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerEnd}
      onPointerCancel={onPointerEnd}
      onDoubleClick={() => onResize(clamp(defaultWidth), true)}
    />
  );
}
