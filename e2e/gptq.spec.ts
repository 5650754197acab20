/**
 * GPTQ in the studio: the Quantize panel's checkbox calibrates the demo model in the evaluation worker (Hessians of
 * each layer's inputs on the demo digits), and the 3-bit download agrees with the original more often than the
 * plain-rounding 3-bit download does (onnxruntime-node, 500 digits).
 */
import { demoDigits, demoModelPath, expect, openStudio, test, topClasses } from './support';

const result = (page: import('@playwright/test').Page) => page.getByTestId('compress-result');

test('GPTQ checkbox: calibrated in the evaluation worker, 3-bit download closer to the original than plain rounding', async ({ page }) => {
  // Calibration runs the original model on 64 samples in wasm, then compresses: a minute of CPU on a loaded 2-core box.
  test.setTimeout(240_000);
  await openStudio(page);
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  await page.getByLabel('Bit width').fill('3');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 100_000 });
  const download = async () => {
    const pending = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    return (await (await pending).path())!;
  };
  const rtn = await download();

  await page.getByTestId('gptq').check();
  await page.getByTestId('calibration-samples').fill('64');
  await expect(result(page)).toHaveAttribute('data-current', 'true', { timeout: 100_000 });
  await expect(page.getByTestId('result-warnings')).toContainText('GPTQ calibrated on 64 samples of MNIST demo digits');
  const gptq = await download();

  const input = demoDigits(500);
  const original = await topClasses(demoModelPath, input);
  const agree = async (file: string) => (await topClasses(file, input)).filter((c, i) => c === original[i]).length / original.length;
  const a = await agree(rtn);
  const b = await agree(gptq);
  console.log(`demo 3-bit per channel: top-1 agreement with the original on 500 digits: round-to-nearest ${a}, GPTQ ${b}`);
  expect(b).toBeGreaterThan(a);
});
