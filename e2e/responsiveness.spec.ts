/**
 * Main-thread responsiveness while the evaluation lab works. This project runs after every other spec, alone
 * and serially: on a 2-core machine a parallel spec starves the page of CPU, which says nothing about the app.
 */
import { expect, test } from './support';
import { longTasksDuring, openLab, panel, setNumber } from './lab';

test.describe.configure({ mode: 'serial' });

test('the page stays responsive during a sweep (no long task over 50 ms)', async ({ page }) => {
  test.setTimeout(90_000);
  await openLab(page);
  const sweep = panel(page).getByTestId('sweep');
  await setNumber(sweep.getByTestId('sweep-samples'), 100);
  await setNumber(sweep.getByTestId('sweep-runs'), 3);
  await expect(sweep.getByTestId('sweep-count')).toContainText('5 points');
  // Each attempt: run the 5-point sweep and wait for its end with one cheap query a second (Playwright's own
  // locator polling runs on the page's main thread too). The machine is shared and noisy, so the best of up
  // to three attempts is asserted, as the analysis spec does, and all are reported.
  const attempts: { tasks: number[]; frames: string[] }[] = [];
  for (let i = 0; i < 3; i++) {
    const attempt = await longTasksDuring(page, async () => {
      await sweep.getByTestId('sweep-button').click();
      await page.waitForFunction(
        () => !document.querySelector('[data-testid="sweep-progress"]') && document.querySelectorAll('[data-testid="sweep-point"]').length === 5,
        null,
        { polling: 1000, timeout: 60_000 },
      );
    });
    attempts.push(attempt);
    if (Math.max(0, ...attempt.tasks) <= 50) break;
  }
  await expect(sweep.getByTestId('sweep-error')).toHaveCount(0);
  const summary = `long tasks during a 5-point sweep, per attempt: ${attempts.map((a) => JSON.stringify(a.tasks)).join(' | ')}`;
  console.log(summary);
  test.info().annotations.push({ type: 'measurement', description: summary });
  const frames = attempts.map((a, i) => `attempt ${i + 1} long frames:\n  ${a.frames.join('\n  ') || 'none'}`).join('\n');
  expect(Math.min(...attempts.map((a) => Math.max(0, ...a.tasks))), `${summary}\n${frames}`).toBeLessThanOrEqual(50);
});
