/**
 * The graph view stays responsive on a 10,000-node graph: panning (drag, arrow keys) and zooming (wheel, +/−) run in
 * the `alone` project (matched by name), like the other responsiveness specs, best of three attempts; the figures are
 * logged. Layout runs in a worker; each frame draws only what is on screen, or copies a cached picture while panning.
 */
import type { Page } from '@playwright/test';
import { DT, graph, model, node, serialize, tensor, valueInfo } from '../test/fixtures/onnx-helpers.ts';
import { expect, modelName, openStudio, test, type NamedBytes } from './support';
import { longTasksDuring } from './lab';

type Box = { x: number; y: number; width: number; height: number };

/** The target: no main-thread task over 50 ms while panning and zooming (best of three attempts). */
const TARGET_MS = 50;

// Playwright's trace recorder snapshots the whole DOM in the page after every mouse move and key press (200–400 ms on
// this page, measured with a Chromium trace): those snapshots were the long tasks this spec used to log, not the studio.
test.use({ trace: 'off' });
const OPS = 10_000;

/** 10,000 ops: residual blocks of MatMul → Relu → Add, one small weight per MatMul. */
function syntheticModel(): NamedBytes {
  const nodes = [];
  const initializers = [];
  let prev = 'X';
  let blockIn = 'X';
  for (let i = 0; i < OPS; i++) {
    const b = Math.floor(i / 3);
    const out = `v${i}`;
    if (i % 3 === 0) {
      initializers.push(tensor({ name: `w${b}`, dtype: DT.FLOAT, dims: [4, 4], values: Array.from({ length: 16 }, (_, k) => ((k + b) % 7) / 7 - 0.5) }));
      nodes.push(node('MatMul', `mm${b}`, [prev, `w${b}`], [out]));
    } else if (i % 3 === 1) nodes.push(node('Relu', `relu${b}`, [prev], [out]));
    else {
      nodes.push(node('Add', `add${b}`, [prev, blockIn], [out]));
      blockIn = out;
    }
    prev = out;
  }
  nodes.push(node('Identity', 'out', [prev], ['Y']));
  const bytes = serialize(
    model(graph({ name: 'synthetic10k', inputs: [valueInfo('X', DT.FLOAT, [1, 4])], outputs: [valueInfo('Y', DT.FLOAT, [1, 4])], initializers, nodes }), {
      '': 13,
    }),
  );
  return { name: 'synthetic-10k.onnx', bytes };
}

/**
 * Pans and zooms with the mouse, the wheel and the keyboard only; what the locators need is read before the measured
 * window, since a locator action runs Playwright's own script in the page (actionability checks, accessible names).
 */
async function panAndZoom(page: Page, canvasBox: Box, fitBox: Box) {
  const cx = canvasBox.x + canvasBox.width / 2;
  const cy = canvasBox.y + canvasBox.height / 2;
  // Zoomed all the way out (every node on screen), then at reading scale (labels drawn).
  for (const zoomIn of [false, true]) {
    if (zoomIn) {
      await page.mouse.click(fitBox.x + fitBox.width / 2, fitBox.y + fitBox.height / 2);
      await page.mouse.move(cx, cy);
      for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -240);
    }
    // Pressing on the canvas focuses it, so the keys below go to it.
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let i = 0; i < 40; i++) await page.mouse.move(cx + Math.sin(i / 6) * 200, cy + Math.cos(i / 6) * 150 - i * 2, { steps: 2 });
    await page.mouse.up();
    for (const key of ['ArrowDown', 'ArrowDown', 'ArrowRight', '+', '-', 'ArrowUp', 'ArrowLeft']) await page.keyboard.press(key);
  }
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

test('a 10,000-node graph pans and zooms with no main-thread task over 50 ms', async ({ page }) => {
  test.setTimeout(300_000);
  await openStudio(page);
  const synthetic = syntheticModel();
  const path = test.info().outputPath(synthetic.name);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, synthetic.bytes);
  await page.getByLabel('Open model').setInputFiles(path);
  await expect(modelName(page)).toHaveText(synthetic.name, { timeout: 60_000 });
  const view = page.getByTestId('graph-view');
  await expect(view.getByTestId('graph-node-count')).toHaveText('10,001', { timeout: 60_000 });
  await expect(page.getByTestId('graph-canvas')).toHaveAttribute('data-drawn', /^[1-9]/, { timeout: 60_000 });
  const layoutMs = await view.getByTestId('graph-layout-ms').textContent();
  await page.getByTestId('graph-canvas').scrollIntoViewIfNeeded();
  // Let the rest of the studio settle (auto-compression of the small weights, the tensor table).
  await expect(page.getByTestId('compress-result')).toBeVisible({ timeout: 60_000 });
  await page.waitForTimeout(1000);

  const canvasBox = (await page.getByTestId('graph-canvas').boundingBox())!;
  const fitBox = (await view.getByRole('button', { name: 'Fit' }).boundingBox())!;
  const attempts: { tasks: number[]; frames: string[] }[] = [];
  for (let i = 0; i < 3; i++) {
    const attempt = await longTasksDuring(page, () => panAndZoom(page, canvasBox, fitBox));
    attempts.push(attempt);
    console.log(`attempt ${i + 1}: long tasks ${JSON.stringify(attempt.tasks)}\n  ${attempt.frames.slice(0, 8).join('\n  ')}`);
    if (Math.max(0, ...attempt.tasks) <= TARGET_MS) break;
  }
  const drawnAtEnd = await page.getByTestId('graph-canvas').getAttribute('data-drawn');
  const summary = `10,000-node graph (layout ${layoutMs} ms in the worker): long tasks while panning/zooming, per attempt: ${attempts.map((a) => JSON.stringify(a.tasks)).join(' | ')}; nodes drawn in the last frame: ${drawnAtEnd}`;
  console.log(summary);
  test.info().annotations.push({ type: 'measurement', description: summary });
  const frames = attempts.map((a, i) => `attempt ${i + 1} long frames:\n  ${a.frames.join('\n  ') || 'none'}`).join('\n');
  expect(Math.min(...attempts.map((a) => Math.max(0, ...a.tasks))), `${summary}\n${frames}`).toBeLessThanOrEqual(TARGET_MS);
});
