/**
 * SparseGPT in the studio: the Prune panel's "Pruning method" select calibrates the demo model in the evaluation
 * worker (the Hessians of each layer's inputs on the demo digits, as GPTQ does), and the 2:4 and 50 % unstructured
 * downloads agree with the original more often than the magnitude-pruned downloads (onnxruntime-node, 500 digits).
 */
import type { Page } from '@playwright/test';
import { demoDigits, demoModelPath, expect, openStudio, test, topClasses } from './support';

const result = (page: Page) => page.getByTestId('compress-result');
const pruneStep = (page: Page) => page.getByTestId('step-prune');

test('Pruning method SparseGPT: calibrated in the evaluation worker, downloads closer to the original than magnitude (2:4 and 50 %)', async ({ page }) => {
  // Four compressions, two of them calibrated, on a shared CPU.
  test.setTimeout(480_000);
  await openStudio(page);
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  await page.getByLabel('Prune weights').check();
  await page.getByLabel('Quantize weights').uncheck();
  const download = async () => {
    await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 180_000 });
    const pending = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    return (await (await pending).path())!;
  };
  const method = page.getByTestId('prune-method');
  await expect(method).toHaveValue('magnitude');

  await pruneStep(page).getByText('2:4', { exact: true }).click();
  const mag24 = await download();
  await method.selectOption('sparsegpt');
  await page.getByTestId('prune-calibration-samples').fill('64');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 180_000 });
  await expect(page.getByTestId('result-warnings')).toContainText('SparseGPT calibrated on 64 samples of MNIST demo digits');
  const sgpt24 = await download();

  await pruneStep(page).getByText('Unstructured', { exact: true }).click();
  await page.getByLabel('Sparsity', { exact: true }).fill('50');
  const sgpt50 = await download();
  await method.selectOption('magnitude');
  const mag50 = await download();

  // Channel pruning keeps magnitude: the select is disabled there and says why.
  await pruneStep(page).getByText('Channels (structured)', { exact: true }).click();
  await expect(method).toBeDisabled();

  const input = demoDigits(500);
  const original = await topClasses(demoModelPath, input);
  const agree = async (file: string) => (await topClasses(file, input)).filter((c, i) => c === original[i]).length / original.length;
  const [a24, b24, a50, b50] = [await agree(mag24), await agree(sgpt24), await agree(mag50), await agree(sgpt50)];
  console.log(
    `demo, top-1 agreement with the original on 500 digits: 2:4 magnitude ${a24}, SparseGPT ${b24}; 50 % unstructured magnitude ${a50}, SparseGPT ${b50}`,
  );
  expect(b24).toBeGreaterThan(a24);
  expect(b50).toBeGreaterThan(a50);
});
