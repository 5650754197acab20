/**
 * Compression journeys: quantize and prune the demo model with the sliders, download the file, and run it
 * in onnxruntime-node; exclusions with a live glob preview; recipes saved, loaded and rejected.
 */
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { create, fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProtoSchema, TensorProto_DataType } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import type { Page } from '@playwright/test';
import { DT, graph, model, node, serialize, valueInfo } from '../test/fixtures/onnx-helpers.ts';
import { expect, openCentreTab, openStudio, test } from './support';

const DEMO = new URL('../public/demo/', import.meta.url);
const result = (page: Page) => page.getByTestId('compress-result');
const quantStep = (page: Page) => page.getByTestId('step-quantize');
const pruneStep = (page: Page) => page.getByTestId('step-prune');

/** Waits until the result shown answers the current controls, and returns its output size in bytes. */
async function settledBytes(page: Page): Promise<number> {
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  return Number(await result(page).getAttribute('data-output-bytes'));
}

/** The first `n` held-out digits as a [n,1,28,28] float tensor (pixel / 255) and their labels. */
function digits(n: number): { input: ort.Tensor; labels: number[] } {
  const json = JSON.parse(readFileSync(new URL('mnist-test.json', DEMO), 'utf8')) as { pixels: string; labels: number[] };
  const pixels = Buffer.from(json.pixels, 'base64');
  const data = new Float32Array(n * 784);
  for (let i = 0; i < data.length; i++) data[i] = pixels[i]! / 255;
  return { input: new ort.Tensor('float32', data, [n, 1, 28, 28]), labels: json.labels.slice(0, n) };
}

async function predictions(modelPath: string, input: ort.Tensor): Promise<{ dims: readonly number[]; classes: number[] }> {
  // Basic optimisation: onnxruntime's default level rewrites DequantizeLinear+MatMul and quantizes activations.
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'basic' });
  try {
    const out = await session.run({ input });
    const logits = out.logits!;
    const values = logits.data as Float32Array;
    const [n, k] = logits.dims as [number, number];
    const classes = Array.from({ length: n }, (_, i) => {
      const row = values.subarray(i * k, (i + 1) * k);
      return row.indexOf(Math.max(...row));
    });
    return { dims: logits.dims, classes };
  } finally {
    await session.release();
  }
}

/** Float32 parameters stored in a model file's initializers. */
function floatParams(path: string): number {
  const model = fromBinary(ModelProtoSchema, readFileSync(path));
  return model.graph!.initializer.filter((t) => t.dataType === TensorProto_DataType.FLOAT).reduce((n, t) => n + t.dims.reduce((a, d) => a * Number(d), 1), 0);
}

async function download(page: Page, button: string) {
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: button, exact: true }).click();
  const file = await pending;
  return { name: file.suggestedFilename(), path: (await file.path())! };
}

test('quantize the demo to 4 bits per block: results, layer view, and a download that runs in onnxruntime', async ({ page }) => {
  await openStudio(page);
  // Small models are compressed as soon as they open: int8 per channel by default.
  const int8 = await settledBytes(page);
  await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.int8.onnx');

  await page.getByLabel('Bit width').fill('4');
  await expect(page.getByTestId('bits-field')).toContainText('16 levels');
  const q4Channel = await settledBytes(page);
  const sliderLatency = Number(await result(page).getAttribute('data-latency-ms'));
  expect(q4Channel).toBeLessThan(int8);

  await quantStep(page).getByText('Per block', { exact: true }).click();
  await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.q4.onnx');
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  const clickLatency = Number(await result(page).getAttribute('data-latency-ms'));
  const bytes = await settledBytes(page);
  const report = `control change → results (demo): Bit width slider ${sliderLatency} ms (incl. ${120} ms debounce), granularity click ${clickLatency} ms; worker ${await result(page).getAttribute('data-worker-ms')} ms on ${await result(page).getAttribute('data-backend')}`;
  console.log(report);
  test.info().annotations.push({ type: 'measurement', description: report });

  // Size before → after with the drop, and bits per weight.
  await expect(page.getByTestId('result-size')).toContainText('210 kB');
  await expect(page.getByTestId('result-delta')).toHaveText(/^↓\d+\.\d%$/);
  await expect(page.getByTestId('result-bits')).toContainText('4 effective');
  await expect(page.getByTestId('result-bits')).toContainText('with scales');
  await expect(page.getByTestId('runtime-notes')).toContainText('MatMulNBits');

  // Per-layer table: every weight with its SQNR, worst (lowest) first.
  const table = page.getByTestId('quant-table');
  await expect(table.locator('tbody tr')).toHaveCount(4);
  const sqnr = await table.getByTestId('row-sqnr').allTextContents();
  expect(sqnr).toHaveLength(4);
  const dbs = sqnr.map((s) => Number.parseFloat(s));
  expect(dbs.every((d) => d > 10 && d < 40)).toBe(true);
  expect([...dbs].sort((a, b) => a - b)).toEqual(dbs);
  await expect(table.locator('tbody tr').first()).toContainText('MatMulNBits');
  // Sorting by name flips the order and says so.
  await table.getByRole('button', { name: /Weight/ }).click();
  await expect(table.getByRole('columnheader', { name: /Weight/ })).toHaveAttribute('aria-sort', 'ascending');
  await expect(table.locator('tbody tr').first()).toHaveAttribute('data-name', 'conv1.weight');

  // The layer view: the worst layer's histogram with 15 grid levels (symmetric 4-bit) and the clip range.
  const preview = page.getByTestId('quant-preview');
  await expect(preview).toContainText('worst layer');
  await expect(page.getByTestId('quant-histogram')).toHaveAttribute('data-levels', '15');
  await expect(page.getByTestId('quant-histogram')).toHaveAttribute('data-clip-lo', /-0\.\d+/);
  await expect(page.getByTestId('error-histogram')).toBeVisible();
  // Selecting a row shows that layer instead.
  await table.getByRole('button', { name: /^conv2\.weight/ }).click();
  await expect(preview).toHaveAttribute('data-tensor', 'conv2.weight');
  await expect(preview).toContainText('selected');

  // Download: the file is named after the original, has the size shown, and runs.
  const file = await download(page, 'Download');
  expect(file.name).toBe('mnist-cnn.q4.onnx');
  expect(statSync(file.path).size).toBe(bytes);
  await expect(page.getByTestId('result-output-size')).toHaveText(formatKb(bytes));

  const { input, labels } = digits(50);
  const original = await predictions(new URL('mnist-cnn.onnx', DEMO).pathname, input);
  const quantized = await predictions(file.path, input);
  expect(quantized.dims).toEqual([50, 10]);
  const agree = quantized.classes.filter((c, i) => c === original.classes[i]).length;
  const correct = quantized.classes.filter((c, i) => c === labels[i]).length;
  test.info().annotations.push({ type: 'measurement', description: `q4 per block: ${agree}/50 predictions equal the float model's, ${correct}/50 correct` });
  expect(agree).toBeGreaterThanOrEqual(45);

  // One image, as the brief asks: [1,1,28,28] in, [1,10] logits out.
  const one = new ort.Tensor('float32', (input.data as Float32Array).slice(0, 784), [1, 1, 28, 28]);
  const single = await predictions(file.path, one);
  expect(single.dims).toEqual([1, 10]);
});

test('weights in a separate file: model and .onnx_data download apart and run together in onnxruntime like the single file', async ({ page }) => {
  await openStudio(page);
  const single = await settledBytes(page);
  await expect(page.getByRole('button', { name: 'Download weights' })).toHaveCount(0);
  const alone = await download(page, 'Download');

  // The path every output over 2 GB takes, asked for on a small model.
  await page.getByRole('checkbox', { name: /Weights in a separate file/ }).check();
  await expect(page.getByTestId('download-data-name')).toHaveText('mnist-cnn.int8.onnx_data');
  await expect(page.getByTestId('download-data-note')).toContainText('keep them in one folder');
  const total = await settledBytes(page);
  // Weights are 4 KiB aligned in the data file: a little padding, never less than the single file's payload.
  expect(total).toBeGreaterThan(single * 0.9);
  const model = await download(page, 'Download');
  const data = await download(page, 'Download weights');
  expect([model.name, data.name]).toEqual(['mnist-cnn.int8.onnx', 'mnist-cnn.int8.onnx_data']);
  expect(statSync(model.path).size).toBeLessThan(single / 4);
  expect(statSync(model.path).size + statSync(data.path).size).toBe(total);

  // Side by side under their own names (the model names its data file), the pair equals the single file.
  const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-e2e-split-'));
  copyFileSync(model.path, path.join(dir, model.name));
  copyFileSync(data.path, path.join(dir, data.name));
  const { input } = digits(50);
  const fromPair = await logitsOf(path.join(dir, model.name), input);
  const fromSingle = await logitsOf(alone.path, input);
  expect(Array.from(fromPair)).toEqual(Array.from(fromSingle));

  // Unticked, the next result is one file again.
  await page.getByRole('checkbox', { name: /Weights in a separate file/ }).uncheck();
  await expect(page.getByRole('button', { name: 'Download weights' })).toHaveCount(0);
  expect(await settledBytes(page)).toBe(single);
});

async function logitsOf(modelPath: string, input: ort.Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'basic' });
  try {
    return (await session.run({ input })).logits!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** The UI's formatBytes for the demo's sizes (decimal kB). */
function formatKb(bytes: number): string {
  const v = bytes / 1000;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} kB`;
}

test('prune 50% of channels: fewer parameters and MACs, a layer left alone with its reason, and a model that runs', async ({ page }) => {
  await openStudio(page);
  await settledBytes(page);
  await page.getByLabel('Prune weights').check();
  await page.getByLabel('Quantize weights').uncheck();
  await pruneStep(page).getByText('Channels (structured)', { exact: true }).click();
  const sparsity = page.getByLabel('Sparsity', { exact: true });
  await sparsity.fill('50');
  await expect(page.getByTestId('sparsity-field')).toContainText('50% of channels');
  await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.pruned.onnx');
  const bytes = await settledBytes(page);

  await expect(page.getByTestId('result-params')).toContainText('52.0 k →');
  await expect(page.getByTestId('result-params')).toContainText('↓');
  await expect(page.getByTestId('result-macs')).toContainText('↓');
  const table = page.getByTestId('prune-table');
  await expect(table.locator('tr[data-name="conv1.weight"]')).toContainText('8 → 4 channels');
  await expect(table.locator('tr[data-name="fc2.weight"]')).toHaveAttribute('data-action', 'skip');
  await expect(table.locator('tr[data-name="fc2.weight"]')).toContainText('left alone');
  await expect(table.getByTestId('row-prune-error').first()).toHaveText(/\d+%/);

  const file = await download(page, 'Download');
  expect(file.name).toBe('mnist-cnn.pruned.onnx');
  expect(statSync(file.path).size).toBe(bytes);
  const originalPath = new URL('mnist-cnn.onnx', DEMO).pathname;
  expect(floatParams(file.path)).toBeLessThan(floatParams(originalPath) * 0.5);
  const one = new ort.Tensor('float32', digits(1).input.data as Float32Array, [1, 1, 28, 28]);
  const out = await predictions(file.path, one);
  expect(out.dims).toEqual([1, 10]);

  // N:M patterns fix the slider at 50% and say so.
  await pruneStep(page).getByText('2:4', { exact: true }).click();
  await expect(sparsity).toBeDisabled();
  await expect(sparsity).toHaveValue('50');
  await expect(page.getByTestId('sparsity-field')).toContainText('Fixed at 50% by the 2:4 pattern');

  // Masks do not shrink the dense file: the gzip size is measured and offered as a download.
  await pruneStep(page).getByText('Unstructured', { exact: true }).click();
  await sparsity.fill('80');
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  const gzipRow = page.getByTestId('result-gzip');
  await expect(gzipRow).toContainText('→');
  const dense = await settledBytes(page);
  const gzBytes = Number(await result(page).getAttribute('data-gzip-bytes'));
  expect(gzBytes).toBeLessThan(dense * 0.6);
  const gz = await download(page, 'Download .gz');
  expect(gz.name).toBe('mnist-cnn.pruned.onnx.gz');
  const unzipped = gunzipSync(readFileSync(gz.path));
  expect(unzipped.byteLength).toBe(dense);
});

test('exclusions: a glob with a live preview, rows marked, sizes follow; row checkbox and own bit width', async ({ page }) => {
  await openStudio(page);
  const before = await settledBytes(page);
  const step = quantStep(page);
  const patternInput = step.getByLabel('Names matching');
  const preview = page.getByTestId('quantize-pattern-preview');

  await patternInput.fill('fc?.weight');
  await expect(preview).toContainText('Matches 2 weights');
  await expect(preview).toContainText('fc1.weight');
  await expect(preview).toContainText('fc2.weight');
  await patternInput.fill('nothing*');
  await expect(preview).toContainText('Matches no weight');
  await patternInput.fill('fc1*');
  await expect(preview).toContainText('Matches 1 weight:');
  await patternInput.press('Enter');
  await expect(page.getByTestId('quantize-excluded-list')).toContainText('fc1*');

  const table = page.getByTestId('quant-table');
  const fc1 = table.locator('tr[data-name="fc1.weight"]');
  await expect(fc1).toHaveAttribute('data-excluded', 'pattern');
  await expect(fc1.getByTestId('excluded-mark')).toHaveText('left out by fc1*');
  await expect(fc1.getByRole('checkbox')).not.toBeChecked();
  await expect(fc1.getByRole('checkbox')).toBeDisabled();
  const withoutFc1 = await settledBytes(page);
  expect(withoutFc1).toBeGreaterThan(before + 100_000); // fc1 stays float32: 200 kB instead of 50 kB

  // Removing the pattern takes it back.
  await page.getByRole('button', { name: 'Remove pattern fc1*' }).click();
  await expect(fc1).not.toHaveAttribute('data-excluded', /.+/);
  expect(await settledBytes(page)).toBe(before);

  // A row's own checkbox, and its own bit width.
  await table.getByLabel('Quantize conv2.weight').uncheck();
  await expect(table.locator('tr[data-name="conv2.weight"]')).toHaveAttribute('data-excluded', 'name');
  await expect(page.getByTestId('quantize-excluded-list')).toContainText('conv2.weight');
  expect(await settledBytes(page)).toBeGreaterThan(before);
  await table.getByLabel('Quantize conv2.weight').check();
  await table.getByLabel('Own bits for fc1.weight').selectOption('4');
  await expect(fc1).toHaveAttribute('data-own-bits', '4');
  await expect(fc1).toHaveClass(/is-override/);
  expect(await settledBytes(page)).toBeLessThan(before);

  // Excluding an op type marks its rows.
  await step
    .getByRole('group', { name: /Op types/ })
    .getByLabel(/Conv/)
    .check();
  await expect(table.locator('tr[data-name="conv1.weight"]')).toHaveAttribute('data-excluded', 'op');
  await expect(table.locator('tr[data-name="conv1.weight"]').getByTestId('excluded-mark')).toHaveText('left out (Conv)');
});

test('recipes: a bad file shows an error and keeps the settings; a saved recipe loads back', async ({ page }) => {
  await openStudio(page);
  await settledBytes(page);
  // The slider is a native range input: the keyboard moves it.
  await page.getByLabel('Bit width').focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByLabel('Bit width')).toHaveValue('7');
  await expect(page.getByTestId('bits-field')).toContainText('7 bits · stored in 8');
  await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.q7.onnx');
  await page.getByLabel('Bit width').fill('6');
  await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.q6.onnx');
  const q6 = await settledBytes(page);

  const load = page.getByLabel('Load recipe');
  await load.setInputFiles({ name: 'too-many-bits.json', mimeType: 'application/json', buffer: Buffer.from('{"version":1,"quantize":{"bits":12}}') });
  await expect(page.getByTestId('recipe-error')).toContainText('too-many-bits.json was not loaded');
  await expect(page.getByTestId('recipe-error')).toContainText('quantize.bits must be an integer from 2 to 8 (got 12)');
  await expect(page.getByTestId('recipe-error')).toContainText('Your settings are unchanged');
  await expect(page.getByLabel('Bit width')).toHaveValue('6');
  expect(await settledBytes(page)).toBe(q6);

  await load.setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('bits: 4') });
  await expect(page.getByTestId('recipe-error')).toContainText('notes.json was not loaded: it is not valid JSON');
  await page.getByRole('button', { name: 'Dismiss recipe error' }).click();
  await expect(page.getByTestId('recipe-error')).toHaveCount(0);

  // The recipe saved is the one the controls show.
  const saved = await download(page, 'Download recipe');
  expect(saved.name).toBe('mnist-cnn.recipe.json');
  const recipe = JSON.parse(readFileSync(saved.path, 'utf8'));
  expect(recipe).toMatchObject({ version: 1, quantize: { bits: 6, granularity: 'channel', format: 'auto' } });
  expect(recipe.prune).toBeUndefined();

  // A valid recipe replaces the settings: prune 2:4 only.
  await load.setInputFiles({
    name: 'sparse.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ version: 1, prune: { pattern: '2:4' } })),
  });
  await expect(page.getByTestId('recipe-error')).toHaveCount(0);
  await expect(page.getByLabel('Prune weights')).toBeChecked();
  await expect(page.getByLabel('Quantize weights')).not.toBeChecked();
  await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.pruned.onnx');
  await expect(page.getByLabel('Sparsity', { exact: true })).toHaveValue('50');
  await settledBytes(page);

  // And the saved one brings the 6-bit quantization back.
  await load.setInputFiles(saved.path);
  await expect(page.getByLabel('Quantize weights')).toBeChecked();
  await expect(page.getByLabel('Bit width')).toHaveValue('6');
  expect(await settledBytes(page)).toBe(q6);
});

/** A chain of `layers` MatMuls with [size, size] float32 weights (pseudo-random), big enough not to compress on open. */
function chainModel(layers: number, size: number): { name: string; bytes: Uint8Array } {
  let seed = 7;
  const initializers = [];
  const nodes = [];
  for (let i = 0; i < layers; i++) {
    const values = new Float32Array(size * size);
    for (let j = 0; j < values.length; j++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      values[j] = (seed / 4294967296 - 0.5) / 10;
    }
    initializers.push(
      create(TensorProtoSchema, { name: `layer${i}.weight`, dataType: DT.FLOAT, dims: [BigInt(size), BigInt(size)], rawData: new Uint8Array(values.buffer) }),
    );
    nodes.push(node('MatMul', `layer${i}`, [i === 0 ? 'X' : `h${i - 1}`, `layer${i}.weight`], [i === layers - 1 ? 'Y' : `h${i}`]));
  }
  const bytes = serialize(
    model(
      graph({ name: 'chain', inputs: [valueInfo('X', DT.FLOAT, ['batch', size])], outputs: [valueInfo('Y', DT.FLOAT, ['batch', size])], initializers, nodes }),
      { '': 13 },
    ),
  );
  return { name: 'chain.onnx', bytes };
}

test('a large model compresses on request, with progress and Cancel', async ({ page }) => {
  test.setTimeout(120_000);
  await openStudio(page);
  const big = chainModel(24, 512); // 25 MB of weights
  const path = test.info().outputPath(big.name);
  writeFileSync(path, big.bytes);
  await page.getByLabel('Open model').setInputFiles(path);
  await expect(page.getByTestId('model-name')).toHaveText(big.name, { timeout: 30_000 });
  await expect(page.getByTestId('compress-start')).toContainText('compression starts when you ask');

  // Slow settings, so the run takes long enough to watch: MSE-optimal clipping on the TypeScript kernels (the compute
  // control sits with the charts, in the Layer tab).
  await openCentreTab(page, 'layer');
  await page.getByTestId('compute-control').getByText('TypeScript', { exact: true }).click();
  await quantStep(page).getByLabel('Range').selectOption('mse');
  await page.getByTestId('compress-start').getByRole('button', { name: 'Compress' }).click();
  const progress = page.getByTestId('compress-progress');
  await expect(progress).toContainText(/Quantizing weight \d+ of 24/, { timeout: 20_000 });
  await progress.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('compress-cancelled')).toBeVisible();
  await expect(progress).toHaveCount(0);

  // Faster settings, compressed again: the result arrives and the table lists every layer.
  await page.getByTestId('compute-control').getByText('Auto', { exact: true }).click();
  await quantStep(page).getByLabel('Range').selectOption('minmax');
  await page.getByTestId('compress-cancelled').getByRole('button', { name: 'Compress' }).click();
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 60_000 });
  await expect(page.getByTestId('quant-table').locator('tbody tr')).toHaveCount(24);
  await expect(page.getByTestId('download-name')).toHaveText('chain.int8.onnx');
});
