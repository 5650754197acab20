import { expect, test } from './support';

// The WebGPU kernels against the reference in headless Chromium. Here (no GPU) the adapter is
// SwiftShader, which must be reported as a fallback adapter so automatic backend choice never prefers it.
test('WebGPU kernels (incl. quantization, pruning and GPTQ linear algebra) match the reference in the browser', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/e2e/pages/kernels.html');
  await expect(page.locator('#status')).toHaveText('ready');
  const result = await page.evaluate(() => window.runParity());
  expect(result.error).toBeUndefined();
  expect(result.probe.available).toBe(true);
  expect(result.probe.isFallbackAdapter).toBe(true);
  expect(result.problems).toEqual([]);
  expect(result.extra).toEqual([]);
  expect(result.quant).toEqual([]);
  expect(result.prune).toEqual([]);
  expect(result.linalg).toEqual([]);
  expect(result.split).toEqual([]);
  console.log(`WebGPU parity in Chromium: ${result.probe.description ?? result.probe.architecture}, ${result.seconds.toFixed(1)} s`);
});
