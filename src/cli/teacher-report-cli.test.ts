/** `cstudio compress --teacher-report` and `--refit`: the per-layer table and JSON, the refit's gain, the usage errors. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.testutil';

const DEMO = 'public/demo/mnist-cnn.onnx';
const DIGITS = 'public/demo/mnist-test.json';
const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-tsreport-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  layer: string;
  op: string;
  output: string;
  reason?: string;
  stages: { sqnrDb: number | null; cosine: number | null; reason?: string }[];
}

describe('cstudio compress --teacher-report', () => {
  it('4-bit blocks with GPTQ: one row per compressed layer, round to nearest → GPTQ, worst first, in the table and the JSON', async () => {
    const args = ['compress', DEMO, '--bits', '4', '--granularity', 'block', '--block-size', '32', '--gptq', '--calib-data', DIGITS, '--calib-samples', '32'];
    const r = await cli(...args, '--teacher-report', '-o', path.join(dir, 'g.onnx'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const ts = JSON.parse(r.stdout).teacherStudent as { stages: { id: string }[]; layers: Row[]; samples: number };
    expect(ts.stages.map((s) => s.id)).toEqual(['rtn', 'gptq']);
    expect(ts.samples).toBe(32);
    expect(ts.layers.map((l) => l.layer).sort()).toEqual(['conv1', 'conv2', 'fc1', 'fc2']);
    const final = ts.layers.map((l) => l.stages[1]!.sqnrDb!);
    expect(final).toEqual([...final].sort((a, b) => a - b));
    for (const l of ts.layers) {
      expect(l.reason).toBeUndefined();
      // Measured on the demo: GPTQ gains 5–13 dB per layer over round to nearest (e.g. conv2 18.1 → 28.1 dB).
      expect(l.stages[1]!.sqnrDb!).toBeGreaterThan(l.stages[0]!.sqnrDb! + 2);
      expect(l.stages[1]!.cosine!).toBeGreaterThan(0.99);
    }
    const t = await cli(...args, '--teacher-report', '-o', path.join(dir, 'g2.onnx'));
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/teacher–student: 4 layer\(s\) compared with the original on 32 calibration sample\(s\), the layer that hurts most first/);
    expect(t.stdout).toMatch(/SQNR \(rtn → gptq\)/);
    expect(t.stdout).toMatch(/\nconv1 +Conv +[\d.]+ dB → [\d.]+ dB +0\.9\d+/);
  }, 120_000);

  it('channel pruning with --refit: the refit stage lifts the logits, pruned layers are listed with the reason', async () => {
    const r = await cli(
      'compress',
      DEMO,
      '--sparsity',
      '0.3',
      '--pattern',
      'channel',
      '--refit',
      '--calib-data',
      DIGITS,
      '--calib-samples',
      '64',
      '--teacher-report',
      '-o',
      path.join(dir, 'p.onnx'),
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.recipe.quantize).toBeUndefined(); // --calib-samples alone asks for no quantization here
    expect(json.prune.refit.map((l: { weight: string }) => l.weight).sort()).toEqual(['conv2.weight', 'fc1.weight', 'fc2.weight']);
    const ts = json.teacherStudent as { stages: { id: string }[]; layers: Row[] };
    expect(ts.stages.map((s) => s.id)).toEqual(['pruned', 'refit']);
    const fc2 = ts.layers.find((l) => l.layer === 'fc2')!;
    // Measured: 6.9 dB pruned → 27.5 dB refit on the logits.
    expect(fc2.stages[1]!.sqnrDb!).toBeGreaterThan(fc2.stages[0]!.sqnrDb! + 10);
    expect(ts.layers[0]!.layer).toBe('fc2');
    for (const name of ['conv1', 'conv2', 'fc1'])
      expect(ts.layers.find((l) => l.layer === name)!.reason).toMatch(/shapes differ: original .* \(channels pruned\)/);
  }, 120_000);

  it('static int8 with bias correction: layers renamed by the static format are found by node name, compared past the Relu they absorbed', async () => {
    const r = await cli(
      'compress',
      DEMO,
      '--format',
      'static',
      '--bias-correction',
      '--calib-data',
      DIGITS,
      '--calib-samples',
      '16',
      '--teacher-report',
      '-o',
      path.join(dir, 's.onnx'),
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const ts = JSON.parse(r.stdout).teacherStudent as { stages: { id: string }[]; layers: (Row & { at?: string })[] };
    expect(ts.stages.map((s) => s.id)).toEqual(['rtn', 'bias-correction']);
    expect(ts.layers.map((l) => l.layer).sort()).toEqual(['conv1', 'conv2', 'fc1', 'fc2']);
    const conv1 = ts.layers.find((l) => l.layer === 'conv1')!;
    expect(conv1.output).toBe('relu1_out');
    expect(conv1.at).toMatch(/compared after relu1 \(Relu\)/);
    // Measured: 21–26 dB per layer (the activations' 8-bit rounding dominates).
    for (const l of ts.layers) for (const s of l.stages) expect(s.sqnrDb!).toBeGreaterThan(15);
  }, 120_000);

  it('usage errors: --teacher-report without --calib-data, --refit without channel pruning', async () => {
    const a = await cli('compress', DEMO, '--bits', '4', '--teacher-report', '-o', path.join(dir, 'a.onnx'));
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--teacher-report needs --calib-data/);
    const b = await cli('compress', DEMO, '--sparsity', '0.5', '--refit', '--calib-data', DIGITS, '-o', path.join(dir, 'b.onnx'));
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--refit goes with --pattern channel/);
  }, 60_000);
});
