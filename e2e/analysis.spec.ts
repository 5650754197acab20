import { DT, graph, model, node, serialize, tensor, valueInfo } from '../test/fixtures/onnx-helpers.ts';
import { expect, modelName, openStudio, tensorTable, test, type NamedBytes } from './support';
import type { Page } from '@playwright/test';

const detail = (page: Page) => page.getByTestId('tensor-detail');
const histogram = (page: Page) => page.getByTestId('histogram');
const binsSelect = (page: Page) => detail(page).getByLabel('Bins', { exact: true });

async function openBytes(page: Page, file: NamedBytes) {
  await page.getByLabel('Open model').setInputFiles({ name: file.name, mimeType: 'application/octet-stream', buffer: Buffer.from(file.bytes) });
  await expect(modelName(page)).toHaveText(file.name);
}

test('a weight of the demo: histogram, statistics and channel ranges, linked with the layer charts', async ({ page }) => {
  await openStudio(page);
  await expect(page.getByTestId('detail-empty')).toContainText('Select a tensor');
  // Sparsity per layer is measured in the worker as soon as the model opens.
  await expect(page.getByTestId('sparsity-chart')).toContainText('fc1');
  await expect(page.getByTestId('sparsity-backend')).toContainText('Computed on');

  const table = tensorTable(page);
  await table.getByRole('row', { name: /fc1\.weight/ }).click();
  await expect(table.getByRole('row', { name: /fc1\.weight/ })).toHaveAttribute('aria-current', 'true');
  await expect(page.getByTestId('detail-name')).toHaveText('fc1.weight');

  await expect(histogram(page)).toBeVisible();
  await expect(histogram(page)).toHaveAttribute('data-bins', '128');
  await expect(page.getByTestId('stat-count')).toContainText('50,176 values');
  for (const id of ['stat-min', 'stat-max', 'stat-mean', 'stat-std', 'stat-absmax', 'stat-p001', 'stat-p999']) {
    await expect(page.getByTestId(id)).toHaveText(/\d/);
  }
  await expect(page.getByTestId('stat-nan')).toContainText('0');
  await expect(page.getByTestId('outlier-score')).toContainText(/Outlier score\s*\d+\.\d/);
  await expect(page.getByTestId('channel-chart')).toHaveAttribute('data-channels', '64');
  await expect(page.getByTestId('channel-verdict')).toContainText(/the median/);
  await expect(page.getByTestId('analysis-backend')).toContainText(/Computed on (WASM SIMD|WebGPU|TypeScript) · read .+ ms · compute .+ ms/);

  // The table selection highlights the layer in the per-layer charts.
  await expect(page.getByTestId('layer-size-chart').getByRole('button', { name: /^fc1/ })).toHaveAttribute('aria-current', 'true');

  // Bins, symmetric range and log axis.
  await binsSelect(page).selectOption('512');
  await expect(histogram(page)).toHaveAttribute('data-bins', '512');
  await detail(page).getByLabel('Symmetric range (±abs-max)').check();
  await expect
    .poll(async () => {
      const lo = Number(await histogram(page).getAttribute('data-lo'));
      const hi = Number(await histogram(page).getAttribute('data-hi'));
      return lo < 0 && Math.abs(lo + hi) < 1e-6;
    })
    .toBe(true);
  await detail(page).getByLabel('Log count axis').check();
  await expect(histogram(page)).toHaveAttribute('data-log', 'true');

  // Every backend is on offer; forcing TypeScript says so on the result.
  const compute = page.getByTestId('compute-control');
  await expect(compute).toContainText('WASM SIMD');
  await expect(page.getByTestId('compute-detail')).not.toContainText('checking');
  await compute.getByText('TypeScript', { exact: true }).click();
  await expect(page.getByTestId('analysis-backend')).toHaveAttribute('data-backend', 'ts');
  await expect(page.getByTestId('analysis-backend')).toContainText('Computed on TypeScript');
  await compute.getByText('Auto', { exact: true }).click();
  await expect(page.getByTestId('analysis-backend')).not.toHaveAttribute('data-backend', 'ts');

  // A layer picked in a chart selects its weight in the table and scrolls it into view.
  await page
    .getByTestId('layer-size-chart')
    .getByRole('button', { name: /^conv2/ })
    .click();
  const conv2 = table.getByRole('row', { name: /conv2\.weight/ });
  await expect(conv2).toHaveAttribute('aria-current', 'true');
  await expect(conv2).toBeInViewport();
  await expect(page.getByTestId('detail-name')).toHaveText('conv2.weight');
  await expect(page.getByTestId('channel-chart')).toHaveAttribute('data-channels', '16');
  await expect(table.getByRole('row', { name: /fc1\.weight/ })).not.toHaveAttribute('aria-current', 'true');

  // The same from the sparsity chart.
  await page.getByTestId('sparsity-chart').getByRole('button', { name: /^fc2/ }).click();
  await expect(table.getByRole('row', { name: /fc2\.weight/ })).toHaveAttribute('aria-current', 'true');
  await expect(page.getByTestId('detail-name')).toHaveText('fc2.weight');

  // Keyboard: arrow keys move between rows, Enter selects.
  await table.getByRole('row', { name: /fc2\.weight/ }).focus();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await expect(table.getByRole('row', { name: /fc1\.weight/ })).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('detail-name')).toHaveText('fc1.bias');
  await expect(page.getByTestId('channel-none')).toContainText('one dimension');

  // Switching themes keeps the charts.
  await page.getByRole('button', { name: 'Dark theme' }).click();
  await expect(histogram(page)).toBeVisible();
});

/** NaN/Inf weights, an empty tensor, a scalar, an int64 shape constant and a string tensor. */
function awkwardModel(): NamedBytes {
  const w = Array.from({ length: 32 }, (_, i) => (i - 16) / 20);
  w[3] = NaN;
  w[7] = NaN;
  w[11] = Infinity;
  w[20] = -Infinity;
  w[21] = Infinity;
  const bytes = serialize(
    model(
      graph({
        name: 'awkward',
        inputs: [valueInfo('X', DT.FLOAT, [1, 8])],
        outputs: [valueInfo('Z', DT.FLOAT, [2, 2])],
        initializers: [
          tensor({ name: 'bad.weight', dtype: DT.FLOAT, dims: [8, 4], values: w }),
          tensor({ name: 'new_shape', dtype: DT.INT64, dims: [2], values: [2, 2] }),
          tensor({ name: 'offset', dtype: DT.FLOAT, dims: [], values: [0.5] }),
          tensor({ name: 'nothing', dtype: DT.FLOAT, dims: [0, 4], values: [] }),
          tensor({ name: 'labels', dtype: DT.STRING, dims: [2], strings: ['cat', 'dog'] }),
        ],
        nodes: [
          node('MatMul', 'mm', ['X', 'bad.weight'], ['Y']),
          node('Reshape', 'reshape', ['Y', 'new_shape'], ['R']),
          node('Add', 'add', ['R', 'offset'], ['Z']),
        ],
      }),
      { '': 13 },
    ),
  );
  return { name: 'awkward.onnx', bytes };
}

test('NaN and Inf are counted apart; empty, scalar, shape and string tensors get a plain message', async ({ page }) => {
  await openStudio(page);
  await openBytes(page, awkwardModel());
  const table = tensorTable(page);

  await table.getByRole('row', { name: /bad\.weight/ }).click();
  await expect(page.getByTestId('stat-nan')).toContainText('2');
  await expect(page.getByTestId('stat-inf')).toContainText('3');
  await expect(page.getByTestId('stat-count')).toContainText('32 values');
  await expect(page.getByTestId('stat-count')).toContainText('statistics cover the 27 finite ones');
  // The statistics stay finite: NaN and Inf do not poison them.
  await expect(page.getByTestId('stat-mean')).toHaveText(/\d/);
  await expect(page.getByTestId('stat-max')).toHaveText(/0\.75/);
  await expect(histogram(page)).toBeVisible();

  // Shape constants are listed (with non-weights shown) but never in the weight views.
  await expect(page.getByTestId('layer-size-chart')).not.toContainText('reshape');
  await expect(page.getByTestId('layer-size-chart')).toContainText('mm');
  await page.getByLabel('Show non-weight tensors').check();
  await table.getByRole('row', { name: /new_shape/ }).click();
  await expect(page.getByTestId('tensor-detail')).toContainText('not a learned weight');
  await expect(page.getByTestId('stat-count')).toContainText('2 values');

  await table.getByRole('row', { name: /^offset/ }).click();
  await expect(page.getByTestId('detail-message')).toContainText('A single number (a scalar): 0.5');

  await table.getByRole('row', { name: /^nothing/ }).click();
  await expect(page.getByTestId('detail-message')).toContainText('This tensor is empty');

  await table.getByRole('row', { name: /^labels/ }).click();
  await expect(page.getByTestId('detail-message')).toContainText('nothing numeric');
});
