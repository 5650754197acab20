/**
 * The lab's sweep and sensitivity with the Compress panel's teacher-guided settings: GPTQ on, every point and every
 * layer is compressed with one calibration run on the demo digits (none fails for want of Hessians), and measured
 * on the digits the calibration did not see.
 */
import { expect, test } from './support';
import { openLab, panel, result, setNumber } from './lab';

test('GPTQ on: the sweep’s points and the sensitivity’s layers are compressed with GPTQ, calibrated once', async ({ page }) => {
  // Calibration (64 digits through the original in wasm) and GPTQ per point: a few minutes on a loaded 2-core box.
  test.setTimeout(300_000);
  await openLab(page);
  await page.getByTestId('gptq').check();
  await page.getByLabel('Bit width').fill('3');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 100_000 });

  const sweep = panel(page).getByTestId('sweep');
  await sweep.getByRole('checkbox', { name: '50% sparsity' }).uncheck();
  await setNumber(sweep.getByTestId('sweep-samples'), 100);
  await setNumber(sweep.getByTestId('sweep-runs'), 1);
  await expect(sweep.getByTestId('sweep-count')).toContainText('3 points');
  await sweep.getByTestId('sweep-button').click();
  await expect(sweep.getByTestId('sweep-progress')).toBeHidden({ timeout: 150_000 });
  await expect(sweep.getByTestId('sweep-error')).toHaveCount(0);
  const rows = sweep.getByTestId('sweep-row');
  await expect(rows).toHaveCount(3);
  for (const row of await rows.all()) await expect(row).not.toContainText(/failed|calibration/i);

  const sens = panel(page).getByTestId('sensitivity');
  await sens.getByTestId('sensitivity-button').click();
  const layers = sens.getByTestId('sens-row');
  await expect(layers).toHaveCount(4, { timeout: 120_000 });
  for (const row of await layers.all()) await expect(row).not.toContainText('failed');
});
