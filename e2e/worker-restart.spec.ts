/**
 * The model worker crashes (an uncaught error, as an out-of-memory abort ends it): the studio restarts it, says so,
 * keeps the open model and the recipe, and compresses again on request.
 */
import { test } from '@playwright/test';
import { expect, modelName, openStudio } from './support';

test('a crashed model worker is restarted with the open model and the recipe kept, and the user is told', async ({ page }) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await openStudio(page);
  const result = page.getByTestId('compress-result');
  await page.getByLabel('Bit width').fill('4');
  await expect(page.getByTestId('bits-field')).toContainText('16 levels');
  await expect(result).toHaveAttribute('data-current', 'true', { timeout: 30_000 });

  const worker = page.workers().find((w) => w.url().includes('model.worker'));
  expect(
    worker,
    page
      .workers()
      .map((w) => w.url())
      .join(', '),
  ).toBeDefined();
  await worker!.evaluate(() => {
    setTimeout(() => {
      throw new Error('simulated crash');
    });
  });

  const notice = page.getByTestId('worker-notice');
  await expect(notice).toContainText('The model worker stopped unexpectedly');
  await expect(notice).toContainText('mnist-cnn.onnx is reopened, with your recipe as it was');
  await expect(modelName(page)).toHaveText('mnist-cnn.onnx');
  await expect(page.getByLabel('Bit width')).toHaveValue('4');

  await page.getByTestId('compress-start').getByRole('button', { name: 'Compress' }).click();
  await expect(result).toHaveAttribute('data-current', 'true', { timeout: 30_000 });
  await expect(page.getByTestId('bits-field')).toContainText('16 levels');
  // A fresh worker holds the model again: the per-tensor analysis still answers.
  expect(page.workers().filter((w) => w.url().includes('model.worker')).length).toBeGreaterThanOrEqual(1);
  await notice.getByRole('button', { name: 'Dismiss notice' }).click();
  await expect(notice).toHaveCount(0);
  expect(errors).toEqual([]);
});
