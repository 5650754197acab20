import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildExternalData } from '../../test/fixtures/build';
import { DT, node, serialize, tensor } from '../../test/fixtures/onnx-helpers';
import { writeFixture } from '../../test/fixtures/write';
import { REAL_MODEL_DIR } from '../../test/helpers/models';
import { decodeModel } from '../core/onnx/codec';
import { attr } from '../core/onnx/graph-edit';
import { defaultOpset } from '../core/onnx/upgrade';
import { buildCase, feedsOf, runModel, compareOutputs, type CaseSpec } from '../core/onnx/upgrade/upgrade.testutil';
import { cli } from './run-cli.testutil';

/** An opset-9 model with Clip, Slice, Softmax (coerced), Upsample and Pad: each needs a rewrite on the way to 21. */
const OLD_MODEL: CaseSpec = {
  opset: 9,
  nodes: [
    node('Clip', 'clip', ['x'], ['c'], [attr.float('min', -1), attr.float('max', 1)]),
    node('Upsample', 'up', ['c', 'scales'], ['u'], [attr.string('mode', 'nearest')]),
    node('Pad', 'pad', ['u'], ['p'], [attr.ints('pads', [0, 0, 1, 1, 0, 0, 1, 1]), attr.string('mode', 'edge')]),
    node('Slice', 'slice', ['p'], ['s'], [attr.ints('starts', [1]), attr.ints('ends', [-1]), attr.ints('axes', [3])]),
    node('Softmax', 'softmax', ['s'], ['y']),
  ],
  inputs: [{ name: 'x', dims: [1, 2, 3, 3] }],
  outputs: ['y'],
  initializers: [tensor({ name: 'scales', dtype: DT.FLOAT, dims: [4], values: [1, 1, 2, 2] })],
};

function writeOldModel(dir: string, name = 'old.onnx'): string {
  const file = path.join(dir, name);
  writeFileSync(file, serialize(buildCase(OLD_MODEL)));
  return file;
}

describe('cstudio upgrade', () => {
  it('writes name.opsetN.onnx beside the input, says what it rewrote, and the file runs with the same outputs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-up-'));
    const input = writeOldModel(dir);
    const { code, stdout, stderr } = await cli('upgrade', input, '--opset', '21');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const output = path.join(dir, 'old.opset21.onnx');
    expect(existsSync(output)).toBe(true);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('opset 9 → 21: Clip ×1, Pad ×1, Slice ×1, Softmax ×1, Upsample ×1');
    expect(lines[1]).toMatch(new RegExp(`^→ ${output.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+(\\.\\d+)? (B|KiB)\\)$`));
    const bytes = new Uint8Array(readFileSync(output));
    expect(defaultOpset(decodeModel(bytes))).toBe(21);
    const feeds = feedsOf(OLD_MODEL);
    const diffs = compareOutputs(await runModel(readFileSync(input), feeds), await runModel(bytes, feeds));
    for (const d of diffs) expect(d.maxDiff).toBeLessThanOrEqual(d.tolerance);
  });

  it('--json reports input, output, opsets, IR versions, rewritten ops and notes; -o chooses the output', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-up-'));
    const input = writeOldModel(dir);
    const output = path.join(dir, 'custom.onnx');
    const { code, stdout } = await cli('upgrade', input, '--opset', '13', '-o', output, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      input,
      output,
      from: 9,
      to: 13,
      irVersion: { from: 4, to: 7 },
      rewritten: { Clip: 1, Pad: 1, Slice: 1, Softmax: 1, Upsample: 1 },
      notes: [],
    });
    const session = await ort.InferenceSession.create(output);
    expect((await session.run(feedsOf(OLD_MODEL))).y!.dims).toEqual([1, 2, 8, 6]);
  });

  it('a real model: opset 13 → 21', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-up-'));
    const input = path.join(dir, 'hey_jarvis.onnx');
    copyFileSync(path.join(REAL_MODEL_DIR, 'hey_jarvis_v0.1.onnx'), input);
    const { code, stdout } = await cli('upgrade', input, '--opset', '21', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ from: 13, to: 21, rewritten: { ReduceMean: 8 } });
    await ort.InferenceSession.create(path.join(dir, 'hey_jarvis.opset21.onnx'));
  });

  it('--external-data finds the weights elsewhere; the output stands alone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-up-'));
    const fixture = buildExternalData();
    const modelPath = writeFixture(dir, fixture);
    const dataDir = path.join(dir, 'weights');
    mkdirSync(dataDir);
    for (const f of fixture.sideFiles) renameSync(path.join(path.dirname(modelPath), f.name), path.join(dataDir, f.name));
    const output = path.join(dir, 'alone.onnx');
    const missing = await cli('upgrade', modelPath, '--opset', '21', '-o', output);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/external data file/);
    const { code } = await cli('upgrade', modelPath, '--opset', '21', '-o', output, '--external-data', dataDir);
    expect(code).toBe(0);
    const x = fixture.inputs.X!;
    const session = await ort.InferenceSession.create(output);
    const result = await session.run({ X: new ort.Tensor('float32', x.data as Float32Array, x.dims) });
    expect(result.Y!.dims).toEqual([2, 3]);
  });

  it('bad --opset is a usage error (exit 2) with the reason', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-up-'));
    const input = writeOldModel(dir);
    const cases: [string[], RegExp][] = [
      [[], /needs --opset N/],
      [['--opset', 'twelve'], /--opset needs a whole number \(got "twelve"\)/],
      [['--opset', '12.5'], /whole number/],
      [['--opset', '22'], /--opset 22 is newer than the studio upgrades to \(21 at most\)/],
      [['--opset', '8'], /--opset 8 is below the model's opset 9/],
    ];
    for (const [args, reason] of cases) {
      const { code, stdout, stderr } = await cli('upgrade', input, ...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(reason);
    }
    expect((await cli('upgrade', input, '--opset', '13', '--bits', '4')).code).toBe(2);
    expect(existsSync(path.join(dir, 'old.opset13.onnx'))).toBe(false);
  });

  it('a model it cannot convert exits 1 naming the op and node', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-up-'));
    const input = path.join(dir, 'scaler.onnx');
    const spec: CaseSpec = {
      opset: 8,
      nodes: [node('ImageScaler', 'preprocess', ['x'], ['y'], [attr.float('scale', 2)])],
      inputs: [{ name: 'x', dims: [1, 3, 2, 2] }],
      outputs: ['y'],
    };
    writeFileSync(input, serialize(buildCase(spec)));
    const { code, stdout, stderr } = await cli('upgrade', input, '--opset', '13');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^cstudio: ImageScaler node "preprocess" cannot be upgraded to opset 10: .*experimental op/);
    expect(existsSync(path.join(dir, 'scaler.opset13.onnx'))).toBe(false);
  });
});
