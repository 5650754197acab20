/**
 * The evaluation lab on the demo model: evaluate the current recipe on wasm and WebGPU (accuracy, fidelity,
 * latency, cross-backend check), a 2×2 trade-off sweep whose points apply their recipe to the Compress panel,
 * per-layer sensitivity with a mixed-precision plan. (That a sweep never blocks the page is checked in
 * responsiveness.spec.ts, which runs alone.)
 */
import { buildExternalData } from '../test/fixtures/build.ts';
import { dropFiles, expect, modelName, test } from './support';
import { openLab, panel, result, setNumber } from './lab';

test('evaluate int8 on wasm and webgpu: accuracy, fidelity, latency and the cross-backend check', async ({ page }) => {
  test.setTimeout(90_000);
  await openLab(page);
  const lab = panel(page);
  await expect(lab.getByTestId('env-fallback')).toContainText('SwiftShader');
  const webgpu = lab.getByRole('checkbox', { name: 'webgpu', exact: true });
  await expect(webgpu).toBeEnabled();

  // All 500 demo digits on wasm: the original's accuracy is the demo's known 97.8 %.
  await webgpu.uncheck();
  await setNumber(lab.getByTestId('eval-samples'), 500);
  await setNumber(lab.getByTestId('eval-runs'), 3);
  await lab.getByTestId('evaluate-button').click();
  await expect(lab.getByTestId('data-samples')).toHaveText('500');
  await expect(lab.getByTestId('data-labelled')).toContainText('500');
  const wasm = lab.getByTestId('backend-wasm');
  await expect(wasm.getByTestId('accuracy-original')).toHaveText('97.8%', { timeout: 30_000 });
  await expect(wasm.getByTestId('accuracy-candidate')).toHaveText(/^\d{2,3}\.\d%$/);
  await expect(lab.getByTestId('eval-sizes')).toContainText('↓');

  // 50 digits on both backends, 5 timed runs.
  await webgpu.check();
  await setNumber(lab.getByTestId('eval-samples'), 50);
  await setNumber(lab.getByTestId('eval-runs'), 5);
  await lab.getByTestId('evaluate-button').click();
  await expect(lab.getByTestId('eval-progress')).toBeVisible();
  const gpu = lab.getByTestId('backend-webgpu');
  await expect(gpu.getByTestId('accuracy-original')).toBeVisible({ timeout: 45_000 });
  await expect(lab.getByTestId('eval-progress')).toBeHidden({ timeout: 45_000 });
  for (const card of [wasm, gpu]) {
    await expect(card.getByTestId('accuracy-original')).toHaveText(/^\d{2,3}\.\d%$/);
    await expect(card.getByTestId('accuracy-candidate')).toHaveText(/^\d{2,3}\.\d%$/);
    await expect(card.getByTestId('accuracy-delta')).toHaveText(/^(±0|[+−]\d+\.\d) pp$/);
    const fidelity = card.getByTestId('fidelity');
    await expect(fidelity).toContainText('Top-1 agreement');
    await expect(fidelity.getByTestId('fidelity-headline')).toHaveText(/^\d+(\.\d+)?%$/);
    await expect(fidelity.getByTestId('fid-sqnr')).toHaveText(/dB|identical/);
    await expect(card.getByTestId('latency-median')).toHaveText(/\d (µs|ms|s)/);
  }
  await expect(lab.getByTestId('data-name')).toContainText('MNIST demo digits');
  const checks = lab.getByTestId('cross-check');
  await expect(checks).toHaveCount(2);
  for (const check of await checks.all()) {
    await expect(check.getByTestId('cross-verdict')).toHaveText(/^(agrees|disagrees) with wasm$/);
    if ((await check.getAttribute('data-agrees')) === 'false') await expect(check).toContainText('do not trust webgpu numbers for this model');
  }
  const verdicts = await checks.allTextContents();
  test.info().annotations.push({ type: 'measurement', description: `cross-backend: ${verdicts.join(' | ')}` });
});

test('a 2×2 sweep: chart with the frontier, and a clicked point applies its recipe', async ({ page }) => {
  test.setTimeout(90_000);
  await openLab(page);
  const lab = panel(page);
  const sweep = lab.getByTestId('sweep');
  // The default grid: 8 and 4 bits × 0 and 50 % sparsity, per channel.
  await expect(sweep.getByRole('checkbox', { name: '8 bits' })).toBeChecked();
  await expect(sweep.getByRole('checkbox', { name: '4 bits' })).toBeChecked();
  await expect(sweep.getByRole('checkbox', { name: '50% sparsity' })).toBeChecked();
  await expect(sweep.getByRole('checkbox', { name: 'per channel', exact: true })).toBeChecked();
  await setNumber(sweep.getByTestId('sweep-samples'), 100);
  await setNumber(sweep.getByTestId('sweep-runs'), 3);
  await expect(sweep.getByTestId('sweep-count')).toContainText('5 points');

  await sweep.getByTestId('sweep-button').click();
  const progress = sweep.getByRole('progressbar');
  await expect(progress).toHaveAttribute('aria-valuenow', /\d+/);
  await expect(sweep.getByTestId('sweep-progress')).toBeHidden({ timeout: 60_000 });
  const chart = sweep.getByTestId('sweep-chart');
  await expect(chart.getByTestId('sweep-point')).toHaveCount(5);
  expect(await chart.getByTestId('frontier-point').count()).toBeGreaterThanOrEqual(1);
  await expect(chart.locator('[data-testid="sweep-point"][data-label="original"]')).toHaveCount(1);
  await expect(sweep.getByTestId('sweep-row')).toHaveCount(5);

  // Click the 4-bit, 50 %-pruned point: its recipe lands in the Compress panel.
  const label = '50% pruned + int4 per channel';
  await chart.locator(`[data-testid="sweep-point"][data-label="${label}"]`).dispatchEvent('click');
  await expect(sweep.getByTestId('sweep-applied')).toContainText(`Applied to the Compress panel: ${label}`);
  await expect(page.getByLabel('Prune weights')).toBeChecked();
  await expect(page.getByTestId('bits-field')).toContainText('4 bits');
  await expect(page.getByTestId('sparsity-field')).toContainText('50%');
  await expect(result(page)).toHaveAttribute('data-current', 'true');

  // Two points compared side by side.
  await sweep.getByRole('checkbox', { name: 'Compare original' }).check();
  await sweep.getByRole('checkbox', { name: `Compare ${label}` }).check();
  await expect(sweep.getByTestId('compare-card')).toHaveCount(2);
  await expect(sweep.getByTestId('compare-size-delta')).toHaveText(/^↓\d+\.\d+%$/);
  await expect(sweep.getByTestId('compare-latency-ratio')).toHaveText(/^×\d/);
  await expect(sweep.getByTestId('compare-quality-delta')).toHaveText(/pp$/);
});

test('sensitivity at 2 bits ranks the 4 layers; a mixed-precision plan is made and applied', async ({ page }) => {
  test.setTimeout(90_000);
  await openLab(page);
  await page.getByLabel('Bit width').fill('2');
  await expect(page.getByTestId('bits-field')).toContainText('2 bits');
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  const twoBitBytes = Number(await result(page).getAttribute('data-output-bytes'));

  const sens = panel(page).getByTestId('sensitivity');
  await sens.getByTestId('sensitivity-button').click();
  const rows = sens.getByTestId('sens-row');
  await expect(rows).toHaveCount(4, { timeout: 60_000 });
  await expect(sens.getByTestId('sens-chart')).toBeVisible();
  const damage = (await sens.getByTestId('sens-damage').allTextContents()).map(Number);
  expect(damage.every((d) => Number.isFinite(d) && d >= 0)).toBe(true);
  expect([...damage].sort((a, b) => b - a)).toEqual(damage);

  const plan = sens.getByTestId('mixed-plan');
  await plan.getByTestId('plan-button').click();
  await expect(plan.getByTestId('plan-protected')).toContainText('protected (8-bit)');
  await expect(plan.getByTestId('plan-measured-size')).toHaveText(/kB/, { timeout: 30_000 });
  await expect(plan.getByTestId('plan-fidelity')).toHaveText(/%$/);
  await plan.getByTestId('plan-apply').click();
  await expect(plan.getByTestId('plan-applied')).toContainText('Applied to the Compress panel');
  // The protected layers are back at 8 bits, so the file is larger than all-2-bit.
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  await expect.poll(async () => Number(await result(page).getAttribute('data-output-bytes'))).toBeGreaterThan(twoBitBytes);
});

test('a folder of PNG digits, labelled by sub-folder: the accuracy equals onnxruntime-node on the same pixels; a broken image is named', async ({ page }) => {
  test.setTimeout(60_000);
  const { mkdtempSync, mkdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const ort = await import('onnxruntime-node');
  const { encodePng } = await import('../src/core/eval/data/fixtures.testutil');
  const digits = JSON.parse(readFileSync('public/demo/mnist-test.json', 'utf8')) as { labels: number[]; pixels: string };
  const pixels = Buffer.from(digits.pixels, 'base64');
  const n = 40;
  const root = path.join(mkdtempSync(path.join(tmpdir(), 'cstudio-e2e-')), 'digits');
  for (let i = 0; i < n; i++) {
    const folder = path.join(root, String(digits.labels[i]));
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      path.join(folder, `${String(i).padStart(2, '0')}.png`),
      encodePng({ width: 28, height: 28, colorType: 0, bitDepth: 8, pixels: Array.from({ length: 784 }, (_, p) => [pixels[i * 784 + p]!]) }),
    );
  }
  // The reference: the original model on the same 40 digits in onnxruntime-node.
  const session = await ort.InferenceSession.create('public/demo/mnist-cnn.onnx');
  const logits = (
    await session.run({
      input: new ort.Tensor(
        'float32',
        Float32Array.from(pixels.subarray(0, n * 784), (p) => p / 255),
        [n, 1, 28, 28],
      ),
    })
  ).logits!.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
    if (row.indexOf(Math.max(...row)) === digits.labels[i]) correct++;
  }
  await session.release();

  await openLab(page);
  const lab = panel(page);
  await lab.getByTestId('eval-data').getByRole('radio', { name: 'My files' }).check();
  await lab.getByTestId('data-folder').setInputFiles(root);
  await expect(lab.getByTestId('data-samples')).toHaveText(String(n));
  await expect(lab.getByTestId('data-labelled')).toContainText(String(n));
  await expect(lab.getByTestId('synthetic-warning')).toHaveCount(0);
  await setNumber(lab.getByTestId('eval-samples'), n);
  await setNumber(lab.getByTestId('eval-runs'), 2);
  await lab.getByTestId('evaluate-button').click();
  const wasm = lab.getByTestId('backend-wasm');
  await expect(wasm.getByTestId('accuracy-original')).toHaveText(`${((correct / n) * 100).toFixed(1)}%`, { timeout: 30_000 });

  // A file named .png that is not one: the error names it, and the lab keeps working.
  const broken = path.join(path.dirname(root), 'broken');
  mkdirSync(path.join(broken, '7'), { recursive: true });
  writeFileSync(path.join(broken, '7', 'scan.png'), 'not an image');
  await lab.getByTestId('data-folder').setInputFiles(broken);
  await expect(lab.getByTestId('data-error')).toContainText('scan.png');
});

test('a model with external data is evaluated with its data files (synthetic inputs, as it has no demo data)', async ({ page }) => {
  await openLab(page);
  const fixture = buildExternalData();
  await dropFiles(page, [{ name: 'model.onnx', bytes: fixture.bytes }, ...fixture.sideFiles]);
  await expect(modelName(page)).toHaveText('model.onnx');
  const lab = panel(page);
  await expect(lab.getByTestId('eval-data').getByRole('radio', { name: 'Synthetic' })).toBeChecked();
  await setNumber(lab.getByTestId('eval-runs'), 2);
  await lab.getByTestId('evaluate-button').click();
  const wasm = lab.getByTestId('backend-wasm');
  await expect(wasm.getByTestId('fidelity-headline')).toBeVisible({ timeout: 30_000 });
  await expect(lab.getByTestId('eval-synthetic-warning')).toBeVisible();
  // The original's size counts its data files: the model file + 256 + 120 bytes.
  await expect(lab.getByTestId('eval-sizes')).toHaveAttribute('title', new RegExp(`^${fixture.bytes.byteLength + 376} bytes`));
});
