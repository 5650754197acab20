import { useSyncExternalStore } from 'react';

const subscribe = (onChange: () => void) => {
  window.addEventListener('resize', onChange);
  return () => window.removeEventListener('resize', onChange);
};

/** The viewport's width in CSS pixels (the layout viewport, without a vertical scrollbar), kept current on resize. */
export function useViewportWidth(): number {
  return useSyncExternalStore(
    subscribe,
    () => document.documentElement.clientWidth || window.innerWidth,
    () => 1440,
  );
}
