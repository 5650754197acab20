/**
 * Main-thread responsiveness while the studio works (weight analysis, the evaluation lab). This project runs after
 * every other spec, alone and serially: on a 2-core machine a parallel spec starves the page of CPU, which says
 * nothing about the app.
 *
 * What is asserted is that the page never freezes (no main-thread task over FREEZE_MS, best of up to three
 * attempts); the 50 ms target is measured by `npm run bench` (benchSweep), not asserted here. Long tasks are wall
 * time: on an idle 2-core machine these specs read none over 50 ms, but with other work on every core the same
 * sub-5 ms message handlers read 50–200 ms (CI and a CPU hog), which measures the scheduler, not the app.
 */
import { writeFileSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';
import type { Page } from '@playwright/test';
import { DT, graph, model, node, serialize, tensor, valueInfo } from '../test/fixtures/onnx-helpers.ts';
import { expect, modelName, openCentreTab, openStudio, tensorTable, test, type NamedBytes } from './support';
import { longTasksDuring, openLab, panel, setNumber } from './lab';

/** A pause a person notices as a freeze. */
const FREEZE_MS = 250;

// Playwright's trace recorder snapshots the page's DOM after every action, on the page's main thread (200–400 ms on a
// big page, measured with a Chromium trace): it would be counted as the studio's long tasks.
test.use({ trace: 'off' });

const detail = (page: Page) => page.getByTestId('tensor-detail');
const histogram = (page: Page) => page.getByTestId('histogram');
const binsSelect = (page: Page) => detail(page).getByLabel('Bins', { exact: true });

test.describe.configure({ mode: 'serial' });

test('the page never freezes during a sweep (no main-thread task over 250 ms; the 50 ms target is in the bench)', async ({ page }) => {
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
    if (Math.max(0, ...attempt.tasks) <= 50) break; // as good as the bench's target: no need for another attempt
  }
  await expect(sweep.getByTestId('sweep-error')).toHaveCount(0);
  const summary = `long tasks during a 5-point sweep, per attempt: ${attempts.map((a) => JSON.stringify(a.tasks)).join(' | ')}`;
  console.log(summary);
  test.info().annotations.push({ type: 'measurement', description: summary });
  const frames = attempts.map((a, i) => `attempt ${i + 1} long frames:\n  ${a.frames.join('\n  ') || 'none'}`).join('\n');
  expect(Math.min(...attempts.map((a) => Math.max(0, ...a.tasks))), `${summary}\n${frames}`).toBeLessThanOrEqual(FREEZE_MS);
});

/** A MatMul with one [2500, 4000] float32 weight: 10 million values, 40 MB. */
function bigModel(): NamedBytes {
  const rows = 2500;
  const cols = 4000;
  const values = new Float32Array(rows * cols);
  let seed = 12345;
  for (let i = 0; i < values.length; i += 2) {
    // Box–Muller from a small LCG: bell-shaped weights with a per-column scale.
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const u = (seed + 1) / 4294967297;
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const v = seed / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    const scale = 0.02 * (1 + ((i % cols) % 97) / 40);
    values[i] = r * Math.cos(2 * Math.PI * v) * scale;
    values[i + 1] = r * Math.sin(2 * Math.PI * v) * scale;
  }
  const weight = create(TensorProtoSchema, {
    name: 'big.weight',
    dataType: DT.FLOAT,
    dims: [BigInt(rows), BigInt(cols)],
    rawData: new Uint8Array(values.buffer),
  });
  const bytes = serialize(
    model(
      graph({
        name: 'big',
        inputs: [valueInfo('X', DT.FLOAT, ['batch', rows])],
        outputs: [valueInfo('Y', DT.FLOAT, ['batch', cols])],
        initializers: [weight, tensor({ name: 'big.bias', dtype: DT.FLOAT, dims: [cols], values: Array.from({ length: cols }, (_, i) => Math.sin(i) / 10) })],
        nodes: [node('MatMul', 'big_matmul', ['X', 'big.weight'], ['XW']), node('Add', 'big_add', ['XW', 'big.bias'], ['Y'])],
      }),
      { '': 13 },
    ),
  );
  return { name: 'big.onnx', bytes };
}

test('analysing a 10-million-value weight never freezes the page (no main-thread task over 250 ms)', async ({ page }) => {
  test.setTimeout(180_000);
  await openStudio(page);
  // 40 MB: handed to the file input as a file on disk, so Playwright need not ship it over its
  // protocol as base64 (slow when other tests run alongside).
  const big = bigModel();
  const path = test.info().outputPath(big.name);
  writeFileSync(path, big.bytes);
  await page.getByLabel('Open model').setInputFiles(path);
  await expect(modelName(page)).toHaveText(big.name, { timeout: 60_000 });
  await openCentreTab(page, 'layer');
  await expect(page.getByTestId('sparsity-backend')).toBeVisible({ timeout: 30_000 });

  const table = tensorTable(page);
  const meta = page.getByTestId('analysis-backend');
  // Each attempt: from the small bias, with a new bin count (so no cached result), click the 10M
  // weight and wait for its statistics, histogram and 4000-channel chart. The page must stay
  // responsive throughout; on a shared, oversubscribed test machine the OS can stall the page's
  // thread by itself, so the best of three attempts is asserted and all are reported.
  const attempts: { bins: string; longTasks: number[]; report: string }[] = [];
  for (const bins of ['128', '256', '512']) {
    await table.getByRole('row', { name: /big\.bias/ }).click();
    await expect(page.getByTestId('detail-name')).toHaveText('big.bias');
    if ((await binsSelect(page).inputValue()) !== bins) await binsSelect(page).selectOption(bins);
    await expect(histogram(page)).toHaveAttribute('data-bins', bins);
    let wallMs = 0;
    const started = Date.now();
    const { tasks: longTasks } = await longTasksDuring(page, async () => {
      await table.getByRole('row', { name: /big\.weight/ }).click();
      await expect(page.getByTestId('stat-count')).toContainText('10,000,000 values', { timeout: 30_000 });
      await expect(histogram(page)).toHaveAttribute('data-bins', bins);
      await expect(page.getByTestId('channel-chart')).toHaveAttribute('data-channels', '4000');
      await expect(meta).toHaveAttribute('data-compute-ms', /\d/);
      wallMs = Date.now() - started;
    });
    const report = `10M fp32, ${bins} bins, on ${await meta.getAttribute('data-backend')}: read ${await meta.getAttribute('data-read-ms')} ms, compute ${await meta.getAttribute(
      'data-compute-ms',
    )} ms, click→stats ${wallMs} ms; long tasks ${JSON.stringify(longTasks)}`;
    console.log(report);
    test.info().annotations.push({ type: 'measurement', description: report });
    attempts.push({ bins, longTasks, report });
  }
  const longest = attempts.map((a) => Math.max(0, ...a.longTasks));
  const summary = `longest long task per attempt: ${longest.join(', ')} ms`;
  test.info().annotations.push({ type: 'measurement', description: summary });
  expect(Math.min(...longest), `${summary}\n${attempts.map((a) => a.report).join('\n')}`).toBeLessThanOrEqual(FREEZE_MS);
});
