/**
 * Several unrelated models dropped at once open as a list to switch between (not as one model with
 * external data); the recipe carries over to the model switched to.
 */
import { readFileSync } from 'node:fs';
import { dropFiles, embeddingModel, expect, modelName, openStudio, test } from './support';

const demo = () => ({ name: 'mnist-cnn.onnx', bytes: readFileSync(new URL('../public/demo/mnist-cnn.onnx', import.meta.url)) });

test('dropping two models lists both; switching keeps the recipe', async ({ page }) => {
  await openStudio(page);
  await page.getByLabel('Preset', { exact: true }).selectOption({ label: 'int4 blocks of 32' });
  await expect(page.getByTestId('compress-result')).toHaveAttribute('data-current', 'true');

  await dropFiles(page, [embeddingModel(), demo()]);
  const list = page.getByTestId('model-list');
  await expect(list).toContainText('Models opened (2)');
  await expect(modelName(page)).toHaveText('embedding_model.onnx');
  const items = list.getByRole('button');
  await expect(items).toHaveCount(2);
  await expect(items.nth(0)).toHaveAttribute('aria-current', 'true');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByLabel('Preset', { exact: true })).toHaveValue('int4-block32');

  // Keyboard: focus the second and press Enter.
  await items.nth(1).focus();
  await page.keyboard.press('Enter');
  await expect(modelName(page)).toHaveText('mnist-cnn.onnx');
  await expect(items.nth(1)).toHaveAttribute('aria-current', 'true');
  await expect(items.nth(0)).not.toHaveAttribute('aria-current', 'true');
  await expect(page.getByLabel('Preset', { exact: true })).toHaveValue('int4-block32');
  await expect(page.getByTestId('compress-result')).toHaveAttribute('data-current', 'true');
  expect(await page.getByTestId('download-name').textContent()).toBe('mnist-cnn.q4.onnx');

  // One model dropped alone replaces the list.
  await dropFiles(page, [embeddingModel()]);
  await expect(modelName(page)).toHaveText('embedding_model.onnx');
  await expect(list).toHaveCount(0);
});
