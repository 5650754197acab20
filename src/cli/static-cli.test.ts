/** `cstudio compress --format static`: calibration data through the eval loaders, the report, the warnings. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.testutil';

const DEMO = 'public/demo/mnist-cnn.onnx';
const DIGITS = 'public/demo/mnist-test.json';
const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-static-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cstudio compress --format static', () => {
  it('calibrates on --calib-data, writes integer-kernel ops and keeps the demo accuracy', async () => {
    const out = path.join(dir, 'demo.static.onnx');
    const r = await cli(
      'compress',
      DEMO,
      '--format',
      'static',
      '--calib-data',
      DIGITS,
      '--calib-samples',
      '32',
      '--calib-method',
      'percentile',
      '--bias-correction',
      '-o',
      out,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/WARNING/);
    const json = JSON.parse(r.stdout);
    expect(json.recipe.quantize).toMatchObject({ format: 'static', calibration: 'percentile', calibrationSamples: 32, biasCorrection: true });
    const st = json.static;
    expect(st.calibrationSamples).toBe(32);
    expect(st.method).toBe('percentile');
    expect(st.quantizedOps.map((o: { op: string }) => o.op).sort()).toEqual(['Conv', 'Conv', 'Gemm', 'Gemm']);
    expect(st.biasCorrected).toBe(4);
    expect(st.activations.length).toBeGreaterThan(3);
    // The written model against the original on the 500 labelled digits (32 of them calibrated it).
    const e = await cli('eval', DEMO, out, '--data', DIGITS, '--runs', '0', '--json');
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    const acc = ev.accuracy;
    expect(Math.abs(acc.candidate - acc.original)).toBeLessThanOrEqual(0.01);
  }, 60_000);

  it('warns loudly on stderr when no calibration data is given (random inputs), and still writes', async () => {
    const out = path.join(dir, 'demo.synthetic.onnx');
    const r = await cli('compress', DEMO, '--format', 'static', '--calib-samples', '8', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/WARNING: no --calib-data: static int8 is calibrated on 8 random inputs/);
    expect(r.stdout).toMatch(/static int8: 4 op\(s\) for integer kernels/);
  }, 60_000);

  it('sweep: static points are calibrated once on samples held out of every measurement', async () => {
    const r = await cli('sweep', DEMO, '--format', 'static', '--bits', '8', '--data', DIGITS, '--samples', '100', '--runs', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    // 64 calibration samples + 100 measured, none shared.
    expect(json.dataset.name).toBe('mnist-test.json (164, labelled): held out 100');
    expect(json.samples).toBe(100);
    const [original, point] = json.points;
    expect(point.error).toBeUndefined();
    expect(point.recipe.quantize.format).toBe('static');
    expect(point.label).toBe('static int8 per channel');
    expect(Math.abs(point.accuracy - original.accuracy)).toBeLessThanOrEqual(0.02);
  }, 60_000);

  it('refuses calibration flags without --format static, and unknown methods', async () => {
    const a = await cli('compress', DEMO, '--calib-data', DIGITS, '-o', path.join(dir, 'x.onnx'));
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/go with --format static/);
    const b = await cli('compress', DEMO, '--format', 'static', '--calib-method', 'kl', '-o', path.join(dir, 'y.onnx'));
    expect(b.code).toBe(2); // a bad flag value is a usage error
    expect(b.stderr).toMatch(/quantize.calibration must be one of minmax, percentile, entropy, mse/);
  }, 30_000);
});
