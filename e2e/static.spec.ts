/**
 * Static int8 in the studio: the format in the Quantize panel calibrates the demo model in the evaluation worker
 * (onnxruntime-web, on the demo digits), shows the ops that run on integer kernels, and downloads a model that
 * onnxruntime-node runs as QLinearConv/QGemm with the original's predictions.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { demoDigits, demoModelPath, expect, openStudio, openView, test, topClasses } from './support';

const result = (page: import('@playwright/test').Page) => page.getByTestId('compress-result');
/** Top-1 classes at onnxruntime's 'extended' optimization level, optionally saving the optimized graph. */
const classes = (model: string, input: ort.Tensor, optimized?: string) =>
  topClasses(model, input, { graphOptimizationLevel: 'extended', ...(optimized ? { optimizedModelFilePath: optimized } : {}) });

test('static int8: calibrated in the evaluation worker, integer-kernel ops, a download onnxruntime runs as QLinearConv', async ({ page }) => {
  // Calibration runs the original model on 64 samples in wasm, then compresses: a minute of CPU on a loaded 2-core box.
  test.setTimeout(240_000);
  await openStudio(page);
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  const q = page.getByTestId('step-quantize');
  await q.getByLabel('Format').selectOption('static');
  await expect(page.getByTestId('static-note')).toBeVisible();
  await page.getByTestId('calibration-samples').fill('32');
  await page.getByTestId('bias-correction').check();
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 100_000 });
  await expect(page.getByTestId('result-static')).toContainText('4 of 4');
  await expect(page.getByTestId('result-static')).toContainText('32 samples');
  await expect(page.getByTestId('result-static')).toContainText('4 biases corrected');
  await expect(page.getByTestId('result-warnings')).toContainText('Activations calibrated on 32 samples of MNIST demo digits');
  // Another range method reuses the statistics (whole histograms) and still gives a current result.
  await page.getByTestId('calibration-method').selectOption('percentile');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 100_000 });
  await expect(page.getByTestId('result-static')).toContainText('percentile');
  await page.getByTestId('calibration-method').selectOption('minmax');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 100_000 });

  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  const file = await pending;
  expect(file.suggestedFilename()).toBe('mnist-cnn.static-int8.onnx');
  const downloaded = (await file.path())!;
  const optimized = path.join(mkdtempSync(path.join(tmpdir(), 'static-e2e-')), 'opt.onnx');
  const input = demoDigits(200);
  const original = await classes(demoModelPath, input);
  const got = await classes(downloaded, input, optimized);
  const agree = got.filter((c, i) => c === original[i]).length / got.length;
  expect(agree).toBeGreaterThanOrEqual(0.98);
  const ops = fromBinary(ModelProtoSchema, readFileSync(optimized)).graph!.node.map((n) => n.opType);
  expect(ops.filter((o) => o === 'QLinearConv')).toHaveLength(2);
  expect(ops).not.toContain('Conv');

  // The Evaluation lab calibrates the same way and judges the static model on the samples calibration did not see.
  const lab = page.getByTestId('evaluate-panel');
  await openView(page, 'evaluate');
  await lab.scrollIntoViewIfNeeded();
  await lab.getByTestId('eval-samples').fill('100');
  await lab.getByTestId('eval-samples').press('Enter');
  await lab.getByTestId('eval-runs').fill('3');
  await lab.getByTestId('eval-runs').press('Enter');
  await lab.getByTestId('evaluate-button').click();
  const wasm = lab.getByTestId('backend-wasm');
  await expect(wasm.getByTestId('accuracy-candidate')).toHaveText(/^\d{2,3}\.\d%$/, { timeout: 100_000 });
  await expect(lab).toContainText('MNIST demo digits (500, labelled), 468 held out from calibration');
  await expect(wasm.getByTestId('latency-median')).toHaveText(/\d (µs|ms|s)/);
  test.info().annotations.push({ type: 'measurement', description: `demo static int8 in the lab (wasm): ${await wasm.innerText()}`.slice(0, 600) });
});
