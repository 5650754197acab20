/**
 * Exposes `window.benchSweep(grid)`: opens the demo model through the studio's store, runs a sweep of the
 * grid on the evaluation worker, and reports the wall time, the points, and the longest main-thread task
 * seen meanwhile (PerformanceObserver 'longtask').
 */
import { useStudio } from '../../src/state/store';
import type { SweepSettings } from '../../src/state/store';
import type { SweepPoint } from '../../src/core/eval/sweep';

declare global {
  interface Window {
    benchSweep: (settings: Partial<SweepSettings>) => Promise<{ ms: number; points: SweepPoint[]; longTasks: number[]; error: string | null }>;
  }
}

window.benchSweep = async (settings) => {
  const store = useStudio.getState();
  await store.loadDemo();
  store.setSweepSettings(settings);
  const longTasks: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
  observer.observe({ type: 'longtask', buffered: false });
  const t0 = performance.now();
  await useStudio.getState().runSweep();
  const ms = performance.now() - t0;
  observer.disconnect();
  const { points, error } = useStudio.getState().sweep;
  return { ms, points, longTasks, error };
};
