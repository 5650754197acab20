/**
 * The recipe as a thing of its own: presets, the recipe in the link (reload, a link opened fresh, a bad
 * link), and undo / redo from buttons and the keyboard, with a slider drag as one step.
 */
import type { Page } from '@playwright/test';
import { openLab, panel, setNumber } from './lab';
import { expect, openStudio, test } from './support';

const result = (page: Page) => page.getByTestId('compress-result');
const preset = (page: Page) => page.getByLabel('Preset', { exact: true });
const bits = (page: Page) => page.getByTestId('step-quantize').getByRole('slider', { name: 'Bit width' });

async function settledBytes(page: Page): Promise<number> {
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  return Number(await result(page).getAttribute('data-output-bytes'));
}

/**
 * The recipe the URL holds now, or null while it holds none: the URL is rewritten 250 ms after the last
 * change, so callers poll. It never throws, as a throw inside expect.poll ends the poll at once.
 */
async function hashRecipe(page: Page): Promise<Record<string, unknown> | null> {
  const hash = await page.evaluate(() => location.hash);
  const text = new URLSearchParams(hash.slice(1)).get('recipe');
  return text === null ? null : (JSON.parse(text) as Record<string, unknown>);
}

test('a preset sets the recipe, the link keeps it across a reload and into a fresh tab', async ({ page, context }) => {
  await openStudio(page);
  await expect(preset(page)).toHaveValue('int8-channel');
  await expect(page.getByTestId('preset-description')).toContainText('one scale per output channel');
  const int8 = await settledBytes(page);

  await preset(page).selectOption({ label: 'int4 blocks of 32' });
  await expect(page.getByTestId('preset-description')).toContainText('scale per 32 weights');
  await expect(bits(page)).toHaveValue('4');
  const int4 = await settledBytes(page);
  expect(int4).toBeLessThan(int8);
  await expect.poll(() => hashRecipe(page)).toEqual({ version: 1, quantize: { bits: 4, granularity: 'block' } });

  // Moving a control makes it a custom recipe, in the link too.
  await bits(page).focus();
  await page.keyboard.press('ArrowRight');
  await expect(preset(page)).toHaveValue('custom');
  await expect.poll(() => hashRecipe(page)).toEqual({ version: 1, quantize: { bits: 5, granularity: 'block' } });

  await page.reload();
  await expect(page.getByTestId('model-name')).toHaveText('mnist-cnn.onnx');
  await expect(bits(page)).toHaveValue('5');
  await expect(page.getByTestId('step-quantize').getByRole('radio', { name: 'Per block' })).toBeChecked();
  await settledBytes(page);

  // The link opened in another tab applies the same recipe to the model it opens.
  const link = page.url();
  const other = await context.newPage();
  await other.goto(link);
  await expect(other.getByTestId('model-name')).toHaveText('mnist-cnn.onnx');
  await expect(bits(other)).toHaveValue('5');
  await other.close();
});

test('2:4 + int8 preset switches pruning on; undo and redo by keyboard and buttons; a drag is one step', async ({ page }) => {
  await openStudio(page);
  await settledBytes(page);
  const undo = page.getByRole('button', { name: /^Undo/ });
  const redo = page.getByRole('button', { name: /^Redo/ });
  await expect(undo).toBeDisabled();

  await preset(page).selectOption({ label: '2:4 sparse + int8' });
  await expect(page.getByRole('switch', { name: 'Prune weights' })).toBeChecked();
  await settledBytes(page);
  await expect(undo).toHaveText('Undo (1)');

  // Straight after choosing, with focus still on the picker, Ctrl+Z takes the preset back.
  await preset(page).focus();
  await page.keyboard.press('Control+z');
  await expect(preset(page)).toHaveValue('int8-channel');
  await page.keyboard.press('Control+Shift+z');
  await expect(preset(page)).toHaveValue('2of4-int8');

  // Ctrl+Z with focus outside a text field.
  await page.locator('body').click({ position: { x: 2, y: 2 } });
  await page.keyboard.press('Control+z');
  await expect(page.getByRole('switch', { name: 'Prune weights' })).not.toBeChecked();
  await expect(preset(page)).toHaveValue('int8-channel');
  await expect(redo).toHaveText('Redo (1)');
  await page.keyboard.press('Control+Shift+z');
  await expect(page.getByRole('switch', { name: 'Prune weights' })).toBeChecked();
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+y');
  await expect(preset(page)).toHaveValue('2of4-int8');

  // Three slider steps in a row: one undo step.
  await bits(page).focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
  await expect(bits(page)).toHaveValue('5');
  await expect(undo).toHaveText('Undo (2)');
  await settledBytes(page);

  // The buttons, from the keyboard.
  await undo.focus();
  await page.keyboard.press('Enter');
  await expect(bits(page)).toHaveValue('8');
  await expect(preset(page)).toHaveValue('2of4-int8');
  await redo.focus();
  await page.keyboard.press('Enter');
  await expect(bits(page)).toHaveValue('5');

  // Ctrl+Z inside a text field belongs to the field.
  const pattern = page.getByTestId('step-quantize').getByRole('textbox').first();
  await pattern.fill('conv*');
  await pattern.press('Control+z');
  await expect(bits(page)).toHaveValue('5');
});

test('a bad or foreign recipe in the link: a clear message, the defaults, dismissable', async ({ page }) => {
  await page.goto('/#recipe=' + encodeURIComponent('{"version":1,"quantize":{"bits":12}}'));
  await expect(page.getByTestId('model-name')).toHaveText('mnist-cnn.onnx');
  const alert = page.getByTestId('url-recipe-error');
  await expect(alert).toContainText('quantize.bits must be an integer from 2 to 8 (got 12)');
  await expect(alert).toContainText('The default settings apply');
  await expect(preset(page)).toHaveValue('int8-channel');
  await settledBytes(page);
  await page.getByRole('button', { name: "Dismiss the link's recipe error" }).click();
  await expect(alert).toHaveCount(0);

  await page.goto('/#recipe=' + encodeURIComponent('{"precision":"int8","model":"resnet"}'));
  await page.reload();
  await expect(page.getByTestId('url-recipe-error')).toContainText('fields this studio does not know (precision, model)');
  await expect(bits(page)).toHaveValue('8');
});

test('pin a result, change the recipe: the two side by side with per-layer SQNR deltas', async ({ page }) => {
  await openStudio(page);
  const int8 = await settledBytes(page);
  const int8Text = await page.getByTestId('result-output-size').textContent();
  await page.getByRole('button', { name: 'Pin this result' }).click();
  const compare = page.getByTestId('pin-compare');
  await expect(compare).toBeVisible();
  await expect(page.getByTestId('pin-recipe-pinned')).toHaveText('int8 per channel');

  await preset(page).selectOption({ label: 'int4 blocks of 32' });
  const int4 = await settledBytes(page);
  await expect(page.getByTestId('pin-recipe-current')).toHaveText('int4 blocks of 32');
  await expect(page.getByTestId('pin-size-pinned')).toHaveText(int8Text!);
  expect(int4).toBeLessThan(int8);
  await expect(page.getByTestId('pin-size-current')).toContainText('↓');
  // Every quantized weight lost SQNR going from 8 to 4 bits.
  const deltas = page.getByTestId('pin-layers').locator('tbody tr td:last-child');
  await expect(deltas.first()).toContainText(/^-\d+(\.\d)? dB$/);
  const texts = await deltas.allTextContents();
  expect(texts.length).toBeGreaterThan(0);
  for (const t of texts) expect(Number.parseFloat(t)).toBeLessThan(0);
  await expect(compare).toContainText('not measured');

  // Undo brings back the pinned recipe: no difference left.
  await page.getByRole('button', { name: /^Undo/ }).click();
  await settledBytes(page);
  await expect(page.getByTestId('pin-recipe-current')).toHaveText('int8 per channel');
  await expect(deltas.first()).toHaveText('0.0 dB');
  await page.getByRole('button', { name: 'Unpin the pinned result' }).click();
  await expect(compare).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Pin this result' })).toBeEnabled();
});

test('pinned and current show the latency and accuracy the lab measured for their recipes', async ({ page }) => {
  test.setTimeout(90_000);
  await openLab(page);
  const lab = panel(page);
  await lab.getByRole('checkbox', { name: 'webgpu', exact: true }).uncheck();
  await setNumber(lab.getByTestId('eval-samples'), 100);
  await setNumber(lab.getByTestId('eval-runs'), 3);

  // Measure int8, pin it, then measure int4 blocks.
  await lab.getByTestId('evaluate-button').click();
  const accuracy = lab.getByTestId('backend-wasm').getByTestId('accuracy-candidate');
  await expect(accuracy).toHaveText(/^\d{2,3}\.\d%$/, { timeout: 30_000 });
  const int8Accuracy = await accuracy.textContent();
  await page.getByRole('button', { name: 'Pin this result' }).click();
  const compare = page.getByTestId('pin-compare');
  await expect(compare.getByRole('row', { name: /^Accuracy/ })).toContainText(int8Accuracy!);
  await expect(
    compare
      .getByRole('row', { name: /^Latency/ })
      .getByRole('cell')
      .first(),
  ).toContainText(/^×\d+\.\d\d of original$/);

  await preset(page).selectOption({ label: 'int4 blocks of 32' });
  await settledBytes(page);
  await expect(
    compare
      .getByRole('row', { name: /^Accuracy/ })
      .getByRole('cell')
      .nth(1),
  ).toHaveText('not measured');
  await lab.getByTestId('evaluate-button').click();
  await expect(
    compare
      .getByRole('row', { name: /^Accuracy/ })
      .getByRole('cell')
      .nth(1),
  ).toHaveText(/^\d{2,3}\.\d%$/, { timeout: 30_000 });
  // The pinned column keeps int8's numbers, measured before the pin.
  await expect(
    compare
      .getByRole('row', { name: /^Accuracy/ })
      .getByRole('cell')
      .first(),
  ).toHaveText(int8Accuracy!);
});
