/**
 * cstudio compress --pattern channel on a net with residual groups: --group-importance and --global reach the
 * recipe, the JSON report carries the channel groups, the table lists them, the written model runs.
 */
import * as ort from 'onnxruntime-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resNetStyle } from '../../test/fixtures/channel-groups';
import { cli } from './run-cli.testutil';

describe('cstudio compress --pattern channel (channel groups)', () => {
  it('JSON: the recipe with groupImportance and global, the groups with members, channels, importance, params and MACs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-g-'));
    const fx = resNetStyle();
    const input = path.join(dir, 'resnet.onnx');
    writeFileSync(input, fx.bytes);
    const out = path.join(dir, 'resnet.pruned.onnx');
    const r = await cli(
      'compress',
      input,
      '-o',
      out,
      '--sparsity',
      '0.3',
      '--pattern',
      'channel',
      '--group-importance',
      'mean',
      '--global',
      '--layer-cap',
      '0.6',
      '--json',
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.recipe.prune).toMatchObject({ pattern: 'channel', sparsity: 0.3, groupImportance: 'mean', global: true, layerCap: 0.6 });
    const stage2 = json.prune.groups.find((g: { members: { layer: string; role: string }[] }) =>
      g.members.some((m) => m.layer === 's2b1.proj' && m.role === 'produces'),
    );
    expect(stage2).toMatchObject({ action: 'prune', channelsBefore: 32, label: 's2b1.conv2 + 2 more' });
    for (const key of [
      'id',
      'members',
      'channelsAfter',
      'importance',
      'removedImportance',
      'channelImportance',
      'paramsBefore',
      'paramsAfter',
      'macsBefore',
      'macsAfter',
    ])
      expect(stage2).toHaveProperty(key);
    expect(stage2.members[0]).toMatchObject({ layer: expect.any(String), op: 'Conv', tensor: expect.any(String), role: 'produces', channels: 32, axis: 0 });
    expect(json.prune.groups.find((g: { action: string }) => g.action === 'keep').reason).toMatch(/graph output "logits"/);
    expect(json.prune.layers.find((l: { name: string }) => l.name === 'stem.weight').groups).toEqual([1]);
    const s = await ort.InferenceSession.create(out);
    expect((await s.run({ image: new ort.Tensor('float32', fx.feed(1), fx.input.dims) })).logits!.dims).toEqual([1, 10]);
  });

  it('text: a table of channel groups; a bad --group-importance is refused with the reason', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-g-'));
    const input = path.join(dir, 'resnet.onnx');
    writeFileSync(input, resNetStyle().bytes);
    const r = await cli('compress', input, '-o', path.join(dir, 'p.onnx'), '--sparsity', '0.5', '--pattern', 'channel');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/channel groups: 5 pruned, 1 kept whole/);
    expect(r.stdout).toMatch(/#4\s+32 → 16\s+s2b1\.conv2, s2b1\.proj, s2b2\.conv2\s+2/);
    const bad = await cli('compress', input, '--sparsity', '0.5', '--pattern', 'channel', '--group-importance', 'max');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/prune.groupImportance must be one of sum, mean/);
  });
});
