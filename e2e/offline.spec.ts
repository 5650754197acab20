/**
 * Nothing leaves the browser, and the studio works offline (issue 13, section 5). The built app registers its
 * service worker (sw.js, written by vite.config.ts's offlinePrecache), which caches every built file on install.
 * These two specs let the service worker run (the other specs block it: each of their fresh contexts would
 * otherwise cache the 28 MB build again).
 */
import type { BrowserContext, Page } from '@playwright/test';
import { dropFiles, embeddingModel, expect, openStudio, openView, test } from './support';
import { openLab, panel, result, setNumber } from './lab';

test.use({ serviceWorkers: 'allow' });

/** Every URL requested by the pages, their workers and the service worker of `context`. */
function recordRequests(context: BrowserContext): string[] {
  const urls: string[] = [];
  context.on('request', (request) => urls.push(request.url()));
  return urls;
}

/** Waits until the service worker controls the page and has cached every file of its list. */
async function precached(page: Page): Promise<{ files: number; cached: number }> {
  await page.evaluate(() => navigator.serviceWorker.ready);
  let state = { files: 0, cached: -1 };
  await expect
    .poll(
      async () => {
        state = await page.evaluate(async () => {
          const list = (await (await fetch('sw.js')).text()).match(/self\.__PRECACHE__ = (.*);/)![1]!;
          const files = (JSON.parse(list) as { files: string[] }).files.length;
          const keys = (await caches.keys()).filter((k) => k.startsWith('cstudio-'));
          const cached = keys.length === 1 ? (await (await caches.open(keys[0]!)).keys()).length : -1;
          return { files, cached };
        });
        return state.cached >= state.files;
      },
      { timeout: 30_000 },
    )
    .toBe(true);
  return state;
}

test('a full session (open, compress, download, evaluate, a dropped model) requests nothing from another origin', async ({ page, context }) => {
  test.setTimeout(90_000);
  const urls = recordRequests(context);
  await openLab(page);
  const origin = new URL(page.url()).origin;

  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  await pending;

  const lab = panel(page);
  await lab.getByRole('checkbox', { name: 'webgpu', exact: true }).uncheck();
  await setNumber(lab.getByTestId('eval-samples'), 100);
  await lab.getByTestId('evaluate-button').click();
  await expect(lab.getByTestId('backend-wasm').getByTestId('accuracy-candidate')).toHaveText(/^\d{2,3}\.\d%$/, { timeout: 45_000 });

  await dropFiles(page, [embeddingModel()]);
  await expect(page.getByTestId('model-name')).toHaveText('embedding_model.onnx');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 30_000 });

  const foreign = urls.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin);
  test.info().annotations.push({ type: 'measurement', description: `${urls.length} requests, ${foreign.length} to another origin` });
  expect(urls.length).toBeGreaterThan(10);
  expect(foreign).toEqual([]);
});

test('after one visit the studio opens and compresses the demo with the network off', async ({ page, context }) => {
  test.setTimeout(90_000);
  await openStudio(page);
  const { files, cached } = await precached(page);
  test.info().annotations.push({ type: 'measurement', description: `service worker cached ${cached} entries for ${files} built files` });

  await context.setOffline(true);
  // Requests the pages make are answered by the service worker; the worker's own tries at the network fail.
  const pageFailures: string[] = [];
  const networkTries: string[] = [];
  context.on('requestfailed', (request) => (request.serviceWorker() ? networkTries : pageFailures).push(`${request.url()} ${request.failure()?.errorText}`));
  await page.reload();
  await expect(page.getByTestId('model-name')).toHaveText('mnist-cnn.onnx');
  // The page itself was fetched network first: that try failed, the cached copy answered.
  expect(networkTries.some((t) => t.includes('ERR_INTERNET_DISCONNECTED'))).toBe(true);
  const quant = page.getByTestId('step-quantize');
  await quant.getByRole('slider', { name: 'Bit width' }).focus();
  await page.keyboard.press('ArrowLeft');
  await expect(quant.getByRole('slider', { name: 'Bit width' })).toHaveValue('7');
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.q7.onnx');
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  expect((await pending).suggestedFilename()).toBe('mnist-cnn.q7.onnx');

  // onnxruntime-web's wasm comes from the cache too: the lab evaluates offline.
  const lab = panel(page);
  await openView(page, 'evaluate');
  await lab.scrollIntoViewIfNeeded();
  await expect(lab.getByTestId('env-webgpu')).toContainText('shader-f16');
  await lab.getByRole('checkbox', { name: 'webgpu', exact: true }).uncheck();
  await setNumber(lab.getByTestId('eval-samples'), 50);
  await lab.getByTestId('evaluate-button').click();
  await expect(lab.getByTestId('backend-wasm').getByTestId('accuracy-original')).toHaveText(/^\d{2,3}\.\d%$/, { timeout: 45_000 });
  expect(pageFailures).toEqual([]);
  await context.setOffline(false);
});
