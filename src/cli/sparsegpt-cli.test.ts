/** `cstudio compress --prune-method sparsegpt` and the flag names (--weights, --activations, --calibration, --calibration-samples). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.testutil';

const DEMO = 'public/demo/mnist-cnn.onnx';
const DIGITS = 'public/demo/mnist-test.json';
const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-sparsegpt-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function accuracy(model: string): Promise<number> {
  const e = await cli('eval', DEMO, model, '--data', DIGITS, '--runs', '0', '--json');
  expect(e.code, e.stderr).toBe(0);
  return JSON.parse(e.stdout).accuracy.candidate;
}

describe('cstudio compress --prune-method sparsegpt', () => {
  it('2:4 on the demo: SparseGPT keeps more accuracy than magnitude, reports each layer, records prune.method', async () => {
    const mag = path.join(dir, 'mag.onnx');
    const sg = path.join(dir, 'sg.onnx');
    const recipe = path.join(dir, 'r.json');
    const m = await cli('compress', DEMO, '--pattern', '2:4', '-o', mag);
    expect(m.code, m.stderr).toBe(0);
    const r = await cli(
      'compress',
      DEMO,
      '--pattern',
      '2:4',
      '--prune-method',
      'sparsegpt',
      '--calib-data',
      DIGITS,
      '--calibration-samples',
      '64',
      '-o',
      sg,
      '--save-recipe',
      recipe,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/WARNING/);
    const json = JSON.parse(r.stdout);
    expect(json.recipe.prune).toMatchObject({ pattern: '2:4', method: 'sparsegpt', calibrationSamples: 64 });
    // Pruning alone: no quantize step appears because of the calibration flags.
    expect(json.recipe.quantize).toBeUndefined();
    const rows = json.prune.layers.filter((l: { sparsegpt?: unknown }) => l.sparsegpt);
    expect(rows.map((l: { name: string }) => l.name).sort()).toEqual(['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight']);
    for (const l of rows) expect(l.sparsegpt.layerSqnrDb).toBeGreaterThan(l.sparsegpt.magnitudeLayerSqnrDb);
    const a = await accuracy(mag);
    const b = await accuracy(sg);
    expect(b).toBeGreaterThan(a);
    // The saved recipe reproduces the run.
    const again = await cli('compress', DEMO, '--recipe', recipe, '--calib-data', DIGITS, '-o', path.join(dir, 'again.onnx'));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/SparseGPT: layer output [\d.]+ dB vs [\d.-]+ dB magnitude/);
  }, 180_000);

  it('usage errors (exit 2): without pruning, a bad method, channel pruning, bad aliases', async () => {
    const cases: [string[], RegExp][] = [
      [['--prune-method', 'sparsegpt'], /--prune-method goes with pruning/],
      [['--bits', '4', '--prune-method', 'magnitude'], /--prune-method goes with pruning/],
      [['--sparsity', '0.5', '--prune-method', 'obs'], /prune.method must be one of magnitude, sparsegpt/],
      [['--sparsity', '0.3', '--pattern', 'channel', '--prune-method', 'sparsegpt'], /channel pruning ranks channels by norm/],
      [['--weights', 'gptq4'], /--weights takes rtn or gptq/],
      [['--weights', 'rtn', '--gptq'], /disagree/],
      [['--activations', '16'], /--activations takes 8/],
      [['--activations', '8', '--format', 'qdq'], /disagree/],
      [['--calibration', 'entropy', '--calib-method', 'mse', '--format', 'static'], /disagree/],
      [['--calibration', 'entropy'], /go with --format static/],
      [['--sparsity', '0.5', '--calibration-samples', '8'], /go with --format static or --gptq/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('compress', DEMO, ...args, '-o', path.join(dir, 'x.onnx'));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  }, 120_000);

  it('aliases reach the same recipe: --weights gptq, --activations 8, --calibration, --calibration-samples', async () => {
    const r = await cli(
      'compress',
      DEMO,
      '--weights',
      'gptq',
      '--activations',
      '8',
      '--calibration',
      'percentile',
      '--calibration-samples',
      '16',
      '--calib-data',
      DIGITS,
      '-o',
      path.join(dir, 's.onnx'),
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const q = JSON.parse(r.stdout).recipe.quantize;
    expect(q).toMatchObject({ format: 'static', calibration: 'percentile', calibrationSamples: 16, gptq: { enabled: true } });
  }, 120_000);
});
