import { buildExternalData } from '../test/fixtures/build.ts';
import { DT, graph, model, node, serialize, tensor, valueInfo } from '../test/fixtures/onnx-helpers.ts';
import { dropFiles, embeddingModel, errorAlert, expect, modelName, openStudio, tensorTable, test, type NamedBytes } from './support';

test('opens on the demo model and shows its summary and tensor table', async ({ page }) => {
  await openStudio(page);
  const summary = page.getByTestId('model-summary');
  await expect(summary.getByText('demo model')).toBeVisible();
  await expect(page.getByTestId('fact-file-size')).toContainText('kB');
  await expect(page.getByTestId('fact-opsets')).toContainText('ai.onnx v17');
  await expect(page.getByTestId('fact-ir')).toContainText('ONNX IR v');
  await expect(page.getByTestId('fact-nodes')).toContainText('10');
  await expect(page.getByTestId('io-table')).toContainText('batch × 1 × 28 × 28');
  await expect(page.getByTestId('io-table')).toContainText('float32');
  await expect(page.getByTestId('dtype-table')).toContainText('float32');
  await expect(page.getByTestId('op-chart')).toHaveAttribute('aria-label', /Conv: 2/);

  const table = tensorTable(page);
  await expect(table.getByRole('row', { name: /conv1\.weight/ })).toContainText('8 × 1 × 3 × 3');
  await expect(table.getByRole('row', { name: /fc1\.weight/ })).toContainText('Gemm');
  await expect(page.getByTestId('tensor-count')).toContainText('Showing 8 of 8 tensors');

  // Sorting by size puts the biggest tensor first and says so with aria-sort.
  await table.getByRole('button', { name: 'Size' }).click();
  const sizeHeader = table.getByRole('columnheader', { name: 'Size' });
  await expect(sizeHeader).toHaveAttribute('aria-sort', 'descending');
  await expect(table.getByRole('row').nth(1)).toContainText('fc1.weight');
  await table.getByRole('button', { name: 'Size' }).click();
  await expect(sizeHeader).toHaveAttribute('aria-sort', 'ascending');
  await expect(table.getByRole('row').nth(1)).toContainText('conv1.bias');

  // The filter matches operation types.
  await page.getByLabel('Filter').fill('gemm');
  await expect(page.getByTestId('tensor-count')).toContainText('Showing 4 of 8 tensors');
  await expect(table.getByRole('row', { name: /conv1\.weight/ })).toHaveCount(0);

  // "Try the demo model" loads it again.
  await page.getByRole('button', { name: 'Try the demo model' }).click();
  await expect(modelName(page)).toHaveText('mnist-cnn.onnx');
});

test('a real model dropped on the page replaces the demo', async ({ page }) => {
  await openStudio(page);
  await dropFiles(page, [embeddingModel()], { checkOverlay: true });
  await expect(modelName(page)).toHaveText('embedding_model.onnx');
  await expect(page.getByText('Drop an .onnx model (and its external-data files)', { exact: true })).toBeHidden();
  await expect(page.getByTestId('fact-file-size')).toContainText('1.33 MB');
  await expect(page.getByTestId('io-table')).toContainText('unk__314 × 76 × 32 × 1');

  const table = tensorTable(page);
  const convWeight = table.getByRole('row', { name: /model\/conv2d_9\/Conv2D_weights_fused_bn/ });
  await expect(convWeight).toContainText('Conv');
  await expect(convWeight).toContainText('72 × 72 × 1 × 3');
  await expect(convWeight).toContainText('initializer');

  // Non-weight tensors (Reshape shapes) are hidden by default, and the count says so.
  await expect(page.getByTestId('tensor-count')).toContainText('3 non-weight tensors hidden');
  await expect(table.getByRole('row', { name: /new_shape__273/ })).toHaveCount(0);
  await page.getByLabel('Show non-weight tensors').check();
  await expect(table.getByRole('row', { name: /new_shape__273/ })).toContainText('Reshape');
  await expect(page.getByTestId('tensor-count')).toContainText('Showing 42 of 42 tensors');
});

test('corrupt files give a clear alert and keep the model that was open', async ({ page }) => {
  await openStudio(page);

  const png: NamedBytes = {
    name: 'holiday.png',
    bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1]),
  };
  await dropFiles(page, [png]);
  await expect(errorAlert(page)).toContainText('holiday.png looks like a PNG image, not an ONNX model');
  await expect(errorAlert(page)).toContainText('The model you had open is still shown');
  await expect(modelName(page)).toHaveText('mnist-cnn.onnx');
  await expect(tensorTable(page).getByRole('row', { name: /conv1\.weight/ })).toBeVisible();
  await page.getByRole('button', { name: 'Dismiss error' }).click();
  await expect(errorAlert(page)).toHaveCount(0);

  const full = embeddingModel();
  await dropFiles(page, [{ name: full.name, bytes: full.bytes.subarray(0, full.bytes.length >> 1) }]);
  await expect(errorAlert(page)).toContainText('embedding_model.onnx is truncated or damaged');
  await expect(modelName(page)).toHaveText('mnist-cnn.onnx');
  await expect(page.getByTestId('fact-nodes')).toContainText('10');
});

test('the Open model file input opens a model', async ({ page }) => {
  await openStudio(page);
  const model = embeddingModel();
  await page.getByLabel('Open model').setInputFiles({
    name: model.name,
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(model.bytes),
  });
  await expect(modelName(page)).toHaveText('embedding_model.onnx');
  await expect(
    tensorTable(page)
      .getByRole('row', { name: /Conv2D_weights_fused_bn/ })
      .first(),
  ).toContainText('Conv');
  await expect(page.getByRole('button', { name: 'Try the demo model' })).toBeEnabled();
});

test('a model with external data opens when its data files come along, and names them when they do not', async ({ page }) => {
  await openStudio(page);
  const fixture = buildExternalData();
  const onnx: NamedBytes = { name: 'model.onnx', bytes: fixture.bytes };

  await dropFiles(page, [onnx]);
  await expect(errorAlert(page)).toContainText('"model.onnx_data"');
  await expect(errorAlert(page)).toContainText('"weights2.bin"');
  await expect(errorAlert(page)).toContainText('which were not given');
  await expect(modelName(page)).toHaveText('mnist-cnn.onnx');

  await dropFiles(page, [onnx, ...fixture.sideFiles]);
  await expect(modelName(page)).toHaveText('model.onnx');
  await expect(errorAlert(page)).toHaveCount(0);
  await expect(page.getByTestId('model-summary')).toContainText('Weights also read from: model.onnx_data, weights2.bin');
  const table = tensorTable(page);
  await expect(table.getByRole('row', { name: /^W1/ })).toContainText('external model.onnx_data');
  await expect(table.getByRole('row', { name: /^W2/ })).toContainText('external weights2.bin');
  await expect(table.getByRole('row', { name: /^B2/ })).toContainText('initializer');

  // The same through the file input, with the files in a different order.
  await page
    .getByLabel('Open model')
    .setInputFiles([...fixture.sideFiles, onnx].map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(f.bytes) })));
  await expect(table.getByRole('row', { name: /^W1/ })).toContainText('external model.onnx_data');
});

test('a model with 10,000 tensors stays responsive', async ({ page }) => {
  const count = 10_000;
  const initializers = [];
  const nodes = [];
  for (let i = 0; i < count; i++) {
    initializers.push(tensor({ name: `w_${i}`, dtype: DT.FLOAT, dims: [4], values: [i, i + 1, i + 2, i + 3], storage: 'raw' }));
    nodes.push(node('Add', `add_${i}`, [i === 0 ? 'X' : `h_${i - 1}`, `w_${i}`], [i === count - 1 ? 'Y' : `h_${i}`]));
  }
  const bytes = serialize(
    model(
      graph({
        name: 'wide',
        inputs: [valueInfo('X', DT.FLOAT, ['batch', 4])],
        outputs: [valueInfo('Y', DT.FLOAT, ['batch', 4])],
        initializers,
        nodes,
      }),
      { '': 13 },
    ),
  );

  await openStudio(page);
  await dropFiles(page, [{ name: 'wide.onnx', bytes }]);
  await expect(modelName(page)).toHaveText('wide.onnx');
  await expect(page.getByTestId('tensor-count')).toContainText('Showing 10,000 of 10,000 tensors');

  const table = tensorTable(page);
  await expect(table).toHaveAttribute('aria-rowcount', String(count + 1));
  // Only the rows in view are in the DOM.
  expect(await table.getByRole('row').count()).toBeLessThan(80);

  // Sorting 10,000 rows and filtering them are quick.
  const started = Date.now();
  await table.getByRole('button', { name: 'Name' }).click();
  await table.getByRole('button', { name: 'Name' }).click();
  await expect(table.getByRole('row').nth(1)).toContainText('w_9999');
  await page.getByLabel('Filter').fill('w_1234');
  await expect(page.getByTestId('tensor-count')).toContainText('Showing 1 of 10,000 tensors');
  expect(Date.now() - started).toBeLessThan(5_000);

  // Scrolling to the end renders the last rows.
  await page.getByLabel('Filter').fill('');
  await table.getByRole('button', { name: 'Name' }).click();
  await page.getByLabel('Tensor table, scrollable').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await expect(table.getByRole('row', { name: /^w_9999/ })).toBeVisible();
  await expect(table.getByRole('row', { name: /^w_9999/ })).toHaveAttribute('aria-rowindex', String(count + 1));
});
