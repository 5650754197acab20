/**
 * GPTQ in the studio: the Quantize panel's checkbox calibrates the demo model in the evaluation worker (Hessians of
 * each layer's inputs on the demo digits), and the 3-bit download agrees with the original more often than the
 * plain-rounding 3-bit download does (onnxruntime-node, 500 digits).
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { expect, openStudio, test } from './support';

const DEMO = new URL('../public/demo/', import.meta.url);
const result = (page: import('@playwright/test').Page) => page.getByTestId('compress-result');

function digits(n: number): ort.Tensor {
  const json = JSON.parse(readFileSync(new URL('mnist-test.json', DEMO), 'utf8')) as { pixels: string };
  const pixels = Buffer.from(json.pixels, 'base64');
  return new ort.Tensor(
    'float32',
    Float32Array.from(pixels.subarray(0, n * 784), (p) => p / 255),
    [n, 1, 28, 28],
  );
}

async function classes(model: string | Uint8Array, input: ort.Tensor): Promise<number[]> {
  const session = await ort.InferenceSession.create(model as string);
  const logits = (await session.run({ input })).logits!;
  await session.release();
  const [n, k] = logits.dims as [number, number];
  const v = logits.data as Float32Array;
  return Array.from({ length: n }, (_, i) => {
    const row = v.subarray(i * k, (i + 1) * k);
    return row.indexOf(Math.max(...row));
  });
}

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

  const input = digits(500);
  const original = await classes(new URL('mnist-cnn.onnx', DEMO).pathname, input);
  const agree = async (file: string) => (await classes(file, input)).filter((c, i) => c === original[i]).length / original.length;
  const a = await agree(rtn);
  const b = await agree(gptq);
  console.log(`demo 3-bit per channel: top-1 agreement with the original on 500 digits: round-to-nearest ${a}, GPTQ ${b}`);
  expect(b).toBeGreaterThan(a);
});
