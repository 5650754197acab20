/**
 * A Paddle-like export at opset 9 (weights in Constant nodes, attribute-form Clip / Slice / Squeeze, Upsample):
 * compressed at 8 bits, it says what it covered and that the opset was raised, and its download runs in
 * onnxruntime-node close to the original; the summary's "Upgrade to opset N" downloads a model with the same
 * outputs; a recipe that leaves most weight bytes says so first, and one that compresses nothing offers no
 * Download, with the reason.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { Page } from '@playwright/test';
import { paddleLikeOpset9 } from '../test/fixtures/patterns';
import { compareOutputs, runAll } from '../test/helpers/ort-compare';
import { expect, modelName, openStudio, test } from './support';

const result = (page: Page) => page.getByTestId('compress-result');

async function download(page: Page, click: () => Promise<void>) {
  const pending = page.waitForEvent('download');
  await click();
  const file = await pending;
  return { name: file.suggestedFilename(), path: (await file.path())! };
}

test('an opset-9 Paddle-like model: coverage, the upgrade note, and downloads that run in onnxruntime-node', async ({ page }) => {
  test.setTimeout(90_000);
  const fixture = paddleLikeOpset9();
  const samples = [1, 2].map((seed) => ({ x: new ort.Tensor('float32', fixture.feeds(seed).x!.data as Float32Array, fixture.feeds(seed).x!.dims) }));
  const reference = await runAll(fixture.bytes, samples);

  await openStudio(page);
  await page.getByLabel('Open model').setInputFiles({ name: fixture.name, mimeType: 'application/octet-stream', buffer: Buffer.from(fixture.bytes) });
  await expect(modelName(page)).toHaveText(fixture.name);

  // Bit width 8 (the default), per channel: compressed as soon as the model opens.
  await expect(page.getByTestId('step-quantize').getByRole('slider', { name: 'Bit width' })).toHaveValue('8');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 30_000 });
  const coverage = page.getByTestId('result-coverage');
  await expect(coverage).toContainText(/9\d\.\d %/);
  expect(Number(await coverage.getAttribute('data-fraction'))).toBeGreaterThan(0.95);
  await expect(coverage).toContainText('normalization');
  await expect(page.getByTestId('coverage-banner')).toHaveCount(0);
  await expect(page.getByTestId('result-upgrade')).toContainText(/Opset 9 → 13/);
  await expect(page.getByTestId('result-upgrade')).toContainText(/Clip ×\d+/);

  const compressed = await download(page, () => page.getByRole('button', { name: 'Download', exact: true }).click());
  expect(compressed.name).toBe('paddle-like-opset9.int8.onnx');
  const fidelity = compareOutputs(reference, await runAll(new Uint8Array(readFileSync(compressed.path)), samples));
  test
    .info()
    .annotations.push({ type: 'measurement', description: `paddle-like int8: cosine ${fidelity.cosine.toFixed(5)}, SQNR ${fidelity.sqnrDb.toFixed(1)} dB` });
  expect(fidelity.cosine).toBeGreaterThan(0.99);

  // The converter alone: opset 9 → 13 with identical outputs.
  const upgrade = page.getByTestId('opset-upgrade');
  await upgrade.getByTestId('opset-upgrade-target').selectOption('13');
  await upgrade.getByTestId('opset-upgrade-button').click();
  await expect(upgrade.getByTestId('opset-upgrade-result')).toContainText(/opset 9 → 13: rewrote .*Clip ×\d+/);
  const upgraded = await download(page, () => upgrade.getByTestId('opset-upgrade-download').click());
  expect(upgraded.name).toBe('paddle-like-opset9.opset13.onnx');
  const same = compareOutputs(reference, await runAll(new Uint8Array(readFileSync(upgraded.path)), samples));
  expect(same.maxAbs).toBeLessThanOrEqual(1e-6 * same.scale);

  // Leaving every weight in float: nothing to download, and why.
  const patternInput = page.getByTestId('step-quantize').getByLabel('Names matching');
  await patternInput.fill('*');
  await patternInput.press('Enter');
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  await expect(page.getByRole('button', { name: 'Download', exact: true })).toBeDisabled();
  await expect(page.getByTestId('download-disabled-reason')).toContainText('Nothing was compressed');
  await expect(page.getByTestId('download-disabled-reason')).toContainText('excluded by pattern "*"');
});

test('a recipe that leaves more than 10 % of the weight bytes says so first', async ({ page }) => {
  await openStudio(page);
  const patternInput = page.getByTestId('step-quantize').getByLabel('Names matching');
  await patternInput.fill('fc1*');
  await patternInput.press('Enter');
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  const banner = page.getByTestId('coverage-banner');
  await expect(banner).toContainText(/Only \d+\.\d % of the weight bytes were compressed/);
  await expect(banner).toContainText('excluded by pattern "fc1*"');
  await expect(page.getByRole('button', { name: 'Download', exact: true })).toBeEnabled();
});
