/**
 * Channel pruning by groups in the studio: a ResNet-style net (identity and projection shortcuts) opened from a
 * file, pruned by channel groups; the groups are listed with their members and importance, one can be kept whole,
 * and the downloaded model runs in onnxruntime-node with the original output shape.
 */
import { statSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { Page } from '@playwright/test';
import { resNetStyle } from '../test/fixtures/channel-groups';
import { expect, openStudio, test } from './support';

const result = (page: Page) => page.getByTestId('compress-result');

async function settledBytes(page: Page): Promise<number> {
  await expect(result(page)).toHaveAttribute('data-current', 'true');
  return Number(await result(page).getAttribute('data-output-bytes'));
}

test('prune a residual net by channel groups: groups with their members, keep one whole, download runs', async ({ page }) => {
  await openStudio(page);
  const fx = resNetStyle();
  const file = test.info().outputPath('resnet-style.onnx');
  writeFileSync(file, fx.bytes);
  await page.getByLabel('Open model').setInputFiles(file);
  await expect(page.getByTestId('model-name')).toHaveText('resnet-style.onnx');
  await settledBytes(page);

  await page.getByLabel('Prune weights').check();
  await page.getByLabel('Quantize weights').uncheck();
  const step = page.getByTestId('step-prune');
  await step.getByText('Channels (structured)', { exact: true }).click();
  await page.getByLabel('Sparsity', { exact: true }).fill('50');
  await expect(page.getByTestId('sparsity-field')).toContainText('50% of channels');
  await expect(step.getByRole('radiogroup', { name: 'Group importance' })).toBeVisible();
  await expect(page.getByTestId('download-name')).toHaveText('resnet-style.pruned.onnx');
  await settledBytes(page);

  // The groups: 5 pruned, the classifier's kept whole because its outputs are the graph's.
  const groups = page.getByTestId('prune-groups');
  await expect(page.getByTestId('prune-groups-summary')).toContainText('5 of 6 groups pruned');
  const stage2 = groups.locator('[data-testid="prune-group"]', { hasText: 's2b1.conv2 + 2 more' });
  await expect(stage2).toHaveAttribute('data-action', 'prune');
  await expect(stage2.getByTestId('group-channels')).toHaveText('32 → 16 channels');
  const kept = groups.locator('[data-testid="prune-group"][data-action="keep"]');
  await expect(kept.getByTestId('group-reason')).toContainText('graph output "logits"');

  // Open it from the keyboard: its members (who makes, who reads) and its importance chart.
  const head = stage2.getByRole('button', { name: /s2b1\.conv2 \+ 2 more/ });
  await head.focus();
  await page.keyboard.press('Enter');
  await expect(head).toHaveAttribute('aria-expanded', 'true');
  const members = stage2.getByTestId('group-members');
  for (const layer of ['s2b1.conv2', 's2b1.proj', 's2b2.conv2'])
    await expect(members.locator(`tr[data-layer="${layer}"][data-role="produces"]`)).toContainText('makes these channels');
  await expect(members.locator('tr[data-layer="fc"]')).toContainText('reads them');
  await expect(members.locator('tr[data-layer="s2b2.scale"]')).toContainText('s2b2.layer_scale');
  const chart = stage2.getByTestId('group-importance');
  await page.keyboard.press('Tab');
  await expect(chart).toBeFocused();
  await expect(chart).toHaveAttribute('aria-label', /Importance of the 32 channels of group \d+: .*16 kept, 16 removed/);

  // Keep it whole: its first producer is left out, the group is kept with the reason, the model grows.
  const pruned = await settledBytes(page);
  await stage2.getByRole('button', { name: 'Keep this group whole' }).click();
  await expect(stage2).toHaveAttribute('data-action', 'keep');
  await expect(stage2.getByTestId('group-reason')).toContainText('whole group is kept');
  expect(await settledBytes(page)).toBeGreaterThan(pruned);
  await expect(head).toHaveAttribute('aria-expanded', 'true'); // still open after the new result
  await stage2.getByRole('button', { name: 'Prune this group again' }).click();
  await expect(stage2).toHaveAttribute('data-action', 'prune');
  const bytes = await settledBytes(page);
  expect(bytes).toBe(pruned);

  // The per-layer table names each layer's group.
  await expect(page.getByTestId('prune-table').locator('tr[data-name="s2b1.proj.weight"]')).toContainText(/32 → 16 channels · group #\d+/);

  // Download: it runs in onnxruntime-node with the original output shape.
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  const download = await pending;
  expect(download.suggestedFilename()).toBe('resnet-style.pruned.onnx');
  const path = (await download.path())!;
  expect(statSync(path).size).toBe(bytes);
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'basic' });
  const out = await session.run({ image: new ort.Tensor('float32', fx.feed(1), fx.input.dims) });
  expect(out.logits!.dims).toEqual([1, 10]);
  expect([...(out.logits!.data as Float32Array)].every(Number.isFinite)).toBe(true);
});
