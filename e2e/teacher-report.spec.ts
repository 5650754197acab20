/**
 * The layer-by-layer check against the original on the demo model: 4-bit with GPTQ, the button runs the report in
 * the evaluation worker (the original and each step on the calibration digits), and the table has one row per
 * compressed layer (conv1, conv2, fc1, fc2), a column per step, the layer that hurts most first.
 */
import { expect, openStudio, openView, test } from './support';

// Each test calibrates and compresses several times: one at a time on a small machine.
test.describe.configure({ mode: 'serial' });

const result = (page: import('@playwright/test').Page) => page.getByTestId('compress-result');

/** "12.3 dB" → 12.3, "∞ dB" → Infinity. */
const db = (text: string) => (text.startsWith('∞') ? Infinity : Number.parseFloat(text));

test('layer-by-layer check: one row per compressed layer, round to nearest → GPTQ, worst first', async ({ page }) => {
  test.setTimeout(180_000);
  await openStudio(page);
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  await page.getByLabel('Bit width').fill('4');
  await page.getByTestId('gptq').check();
  await page.getByTestId('calibration-samples').fill('32');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 120_000 });

  const report = page.getByTestId('teacher-report');
  await expect(report).toContainText('higher dB is closer');
  await report.getByTestId('teacher-report-run').click();
  const rows = report.getByTestId('teacher-report-row');
  await expect(rows).toHaveCount(4, { timeout: 120_000 });
  await expect(report.getByTestId('teacher-report-summary')).toContainText('4 layers compared on 32 calibration samples of MNIST demo digits');
  const headers = await report.locator('thead th').allInnerTexts();
  expect(headers.slice(2, 4)).toEqual(['round to nearest', '+ GPTQ']);
  const names = await rows.locator('th').allInnerTexts();
  expect([...names].sort()).toEqual(['conv1', 'conv2', 'fc1', 'fc2']);
  // Columns: layer (th), op, round to nearest, + GPTQ, cosine, bar.
  const rtn = (await rows.locator('td:nth-of-type(2)').allInnerTexts()).map(db);
  const gptq = (await rows.locator('td:nth-of-type(3)').allInnerTexts()).map(db);
  console.log(`demo 4-bit per channel, layer SQNR (round to nearest → GPTQ): ${names.map((n, i) => `${n} ${rtn[i]} → ${gptq[i]}`).join(', ')}`);
  expect(gptq).toEqual([...gptq].sort((a, b) => a - b));
  for (const [i, g] of gptq.entries()) expect(g).toBeGreaterThan(rtn[i]!);
});

test('refit checkbox: channel pruning refits the next layers on calibration data; the check shows what the refit bought', async ({ page }) => {
  test.setTimeout(180_000);
  await openStudio(page);
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  await page.getByLabel('Prune weights').check();
  await page.getByLabel('Quantize weights').uncheck();
  const step = page.getByTestId('step-prune');
  await step.getByText('Channels (structured)', { exact: true }).click();
  await page.getByLabel('Sparsity', { exact: true }).fill('30');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 120_000 });
  await page.getByTestId('prune-refit').check();
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 120_000 });
  await expect(page.getByTestId('result-warnings')).toContainText('refit by least squares on 64 samples of MNIST demo digits');
  await expect(page.getByTestId('result-warnings')).not.toContainText('SparseGPT');

  const report = page.getByTestId('teacher-report');
  await report.getByTestId('teacher-report-run').click();
  const rows = report.getByTestId('teacher-report-row');
  await expect(rows).toHaveCount(4, { timeout: 90_000 });
  expect((await report.locator('thead th').allInnerTexts()).slice(2, 4)).toEqual(['pruned', '+ refit']);
  // The logits keep their shape: compared first; the pruned layers follow with the reason.
  const fc2 = rows.first();
  await expect(fc2.locator('th')).toHaveText('fc2');
  const [pruned, refit] = (await fc2.locator('td').allInnerTexts()).slice(1, 3).map(db);
  console.log(`demo 30 % channels, logits SQNR: pruned ${pruned} dB → refit ${refit} dB`);
  expect(refit).toBeGreaterThan(pruned! + 10);
  await expect(rows.nth(1)).toContainText('shapes differ');
});

test('a stalled evaluation worker is restarted and the check runs again, without the user doing anything', async ({ page }) => {
  // The watchdog waits 20 s of silence (REPORT_STALL_LIMITS) before it restarts the worker.
  test.setTimeout(240_000);
  await openStudio(page);
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  await page.getByLabel('Bit width').fill('4');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 120_000 });
  // The Evaluate view starts the evaluation worker; make it stall: from its third per-sample yield on, the
  // zero-delay timers the calibration and the comparison wait on between samples never fire (as a hung
  // onnxruntime-web call never answers).
  await openView(page, 'evaluate');
  await expect.poll(() => page.workers().filter((w) => w.url().includes('eval.worker')).length, { timeout: 30_000 }).toBe(1);
  const stalledWorker = page.workers().find((w) => w.url().includes('eval.worker'))!;
  await stalledWorker.evaluate(() => {
    const native = self.setTimeout.bind(self);
    let yields = 0;
    self.setTimeout = ((fn: TimerHandler, ms?: number, ...rest: unknown[]) => {
      const isYield = !ms && typeof fn === 'function' && String(fn).includes('[native code]');
      if (isYield && ++yields > 2) return 0;
      return native(fn, ms, ...rest);
    }) as typeof self.setTimeout;
  });
  await openView(page, 'studio');

  const report = page.getByTestId('teacher-report');
  await report.getByTestId('teacher-report-run').click();
  await expect(report.getByTestId('teacher-report-progress')).toContainText('The evaluation worker stopped responding: restarting it', { timeout: 90_000 });
  await expect(report.getByTestId('teacher-report-row')).toHaveCount(4, { timeout: 120_000 });
  await expect(report.getByTestId('teacher-report-error')).toHaveCount(0);
  // A fresh worker did the work; the stalled one is gone.
  expect(page.workers()).not.toContain(stalledWorker);
  expect(page.workers().filter((w) => w.url().includes('eval.worker'))).toHaveLength(1);
});
