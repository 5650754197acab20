/** Helpers for the evaluation lab's specs. */
import type { Locator, Page } from '@playwright/test';
import { expect, openStudio, openView } from './support';

export const panel = (page: Page) => page.getByTestId('evaluate-panel');
export const result = (page: Page) => page.getByTestId('compress-result');

/** Fills a commit-on-blur number input and commits it with Enter. */
export async function setNumber(input: Locator, value: number) {
  await input.fill(String(value));
  await input.press('Enter');
  await expect(input).toHaveValue(String(value));
}

export async function openLab(page: Page) {
  await openStudio(page);
  // The demo is compressed to int8 per channel as soon as it opens.
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  // The lab has a view of its own (the recipe stays beside it).
  await openView(page, 'evaluate');
  await panel(page).scrollIntoViewIfNeeded();
  // onnxruntime-web starts once the panel is on screen; headless Chromium offers SwiftShader for WebGPU.
  await expect(panel(page).getByTestId('env-webgpu')).toContainText('shader-f16');
}

/**
 * Long tasks (ms) on the page's main thread while `run` runs, with the long animation frames (> 50 ms) and the
 * scripts that ran in them, for the report (a frame with no script in it means the thread was starved, not busy).
 */
export async function longTasksDuring(page: Page, run: () => Promise<void>): Promise<{ tasks: number[]; frames: string[] }> {
  await page.evaluate(() => {
    const w = window as unknown as { __longTasks: number[]; __longTaskObserver?: PerformanceObserver };
    w.__longTaskObserver?.disconnect();
    w.__longTasks = [];
    w.__longTaskObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__longTasks.push(Math.round(entry.duration));
    });
    w.__longTaskObserver.observe({ type: 'longtask' });
    const f = window as unknown as { __frames: string[]; __frameObserver?: PerformanceObserver };
    f.__frameObserver?.disconnect();
    f.__frames = [];
    f.__frameObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as {
        duration: number;
        renderStart: number;
        startTime: number;
        scripts: { duration: number; invoker: string; sourceFunctionName: string }[];
      }[]) {
        if (e.duration <= 50) continue;
        const scripts = e.scripts.map((x) => `${Math.round(x.duration)} ${x.invoker}/${x.sourceFunctionName}`).join(', ');
        f.__frames.push(`${Math.round(e.duration)} ms (render ${Math.round(e.renderStart ? e.startTime + e.duration - e.renderStart : 0)}): ${scripts}`);
      }
    });
    f.__frameObserver.observe({ type: 'long-animation-frame' });
  });
  await run();
  await page.waitForTimeout(300);
  const frames = await page.evaluate(() => (window as unknown as { __frames: string[] }).__frames);
  const tasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
  return { tasks, frames };
}
