import * as ort from 'onnxruntime-node';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REAL_MODEL_DIR } from '../../test/helpers/models';
import { cli } from './run-cli.testutil';

const DEMO = 'public/demo/mnist-cnn.onnx';
const RHASSPY = path.join(REAL_MODEL_DIR, 'hey_rhasspy_v0.1.onnx');

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'cstudio-batch-'));
}

/** A file named .onnx that is not a model. */
function broken(dir: string): string {
  const file = path.join(dir, 'broken.onnx');
  writeFileSync(file, 'this is not a model\n');
  return file;
}

async function runs(file: string): Promise<void> {
  const session = await ort.InferenceSession.create(file);
  await session.release();
}

describe('cstudio compress with several models', () => {
  it('compresses the good ones, reports the broken one, one JSON array, exit 1', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    const bad = broken(dir);
    const { code, stdout, stderr } = await cli('compress', DEMO, bad, RHASSPY, '--out-dir', out, '--json');
    expect(code).toBe(1);
    const json = JSON.parse(stdout) as {
      ok: boolean;
      input: string;
      output?: string;
      outputBytes?: number;
      inputBytes?: number;
      error?: string;
      coverage?: { fraction: number };
    }[];
    expect(json.map((r) => [path.basename(r.input), r.ok])).toEqual([
      ['mnist-cnn.onnx', true],
      ['broken.onnx', false],
      ['hey_rhasspy_v0.1.onnx', true],
    ]);
    expect(json[1]!.error).toMatch(/\S/);
    for (const r of [json[0]!, json[2]!]) {
      expect(r.output).toBe(path.join(out, path.basename(r.input).replace(/\.onnx$/, '.int8.onnx')));
      expect(r.outputBytes!).toBeLessThan(r.inputBytes! * 0.4);
      expect(r.coverage!.fraction).toBeGreaterThan(0.9);
      await runs(r.output!);
    }
    expect(readdirSync(out).sort()).toEqual(['hey_rhasspy_v0.1.int8.onnx', 'mnist-cnn.int8.onnx']);
    expect(stderr).toContain('1 of 3 models failed');
    expect(stderr).toContain('broken.onnx');
  });

  it('prints one summary table; a folder stands for its .onnx files; a recipe file applies to every model', async () => {
    const dir = tmp();
    const models = path.join(dir, 'models');
    mkdirSync(models);
    copyFileSync(DEMO, path.join(models, 'a.onnx'));
    copyFileSync(RHASSPY, path.join(models, 'b.onnx'));
    writeFileSync(path.join(models, 'notes.txt'), 'not a model');
    const recipe = path.join(dir, 'r.json');
    writeFileSync(recipe, JSON.stringify({ version: 1, quantize: { bits: 4, granularity: 'block', blockSize: 32 } }));
    const out = path.join(dir, 'out');
    const { code, stdout } = await cli('compress', models, '--out-dir', out, '--recipe', recipe);
    expect(code).toBe(0);
    expect(stdout).toMatch(/model\s+output\s+before\s+after\s+ratio\s+coverage\s+status/);
    expect(stdout).toContain(path.join(out, 'a.q4.onnx'));
    expect(stdout).toContain(path.join(out, 'b.q4.onnx'));
    expect(stdout).toContain('2 of 2 models compressed');
    expect(stdout.split('\n').filter((l) => / ok$/.test(l))).toHaveLength(2);
    await runs(path.join(out, 'a.q4.onnx'));
    await runs(path.join(out, 'b.q4.onnx'));
  });

  it('without --out-dir writes each model beside its input', async () => {
    const dir = tmp();
    copyFileSync(DEMO, path.join(dir, 'a.onnx'));
    copyFileSync(DEMO, path.join(dir, 'b.onnx'));
    const { code } = await cli('compress', path.join(dir, 'a.onnx'), path.join(dir, 'b.onnx'), '--format', 'fp16');
    expect(code).toBe(0);
    expect(existsSync(path.join(dir, 'a.fp16.onnx'))).toBe(true);
    expect(existsSync(path.join(dir, 'b.fp16.onnx'))).toBe(true);
  });

  it('usage errors (exit 2): -o with several models, two inputs onto one output, an empty folder', async () => {
    const dir = tmp();
    const several = await cli('compress', DEMO, RHASSPY, '-o', path.join(dir, 'x.onnx'));
    expect(several.code).toBe(2);
    expect(several.stderr).toContain('--out-dir');
    expect(existsSync(path.join(dir, 'x.onnx'))).toBe(false);

    mkdirSync(path.join(dir, 'a'));
    mkdirSync(path.join(dir, 'b'));
    copyFileSync(DEMO, path.join(dir, 'a', 'm.onnx'));
    copyFileSync(DEMO, path.join(dir, 'b', 'm.onnx'));
    const clash = await cli('compress', path.join(dir, 'a', 'm.onnx'), path.join(dir, 'b', 'm.onnx'), '--out-dir', path.join(dir, 'out'));
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('would both be written to');
    expect(existsSync(path.join(dir, 'out', 'm.int8.onnx'))).toBe(false);

    mkdirSync(path.join(dir, 'empty'));
    const empty = await cli('compress', path.join(dir, 'empty'), '--out-dir', path.join(dir, 'out2'));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('holds no .onnx files');
  });

  it('a single model keeps the one-model report, and -o still works', async () => {
    const dir = tmp();
    const { code, stdout } = await cli('compress', DEMO, '-o', path.join(dir, 'one.onnx'), '--json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(Array.isArray(json)).toBe(false);
    expect(json.output).toBe(path.join(dir, 'one.onnx'));
  });
});

describe('cstudio eval with several candidates', () => {
  it('--candidates DIR: every model there against the original, one JSON array, exit 1 for the broken one', async () => {
    const dir = tmp();
    const cands = path.join(dir, 'c');
    expect((await cli('compress', DEMO, '--out-dir', cands)).code).toBe(0);
    expect((await cli('compress', DEMO, '--out-dir', cands, '--bits', '4', '--granularity', 'block')).code).toBe(0);
    broken(cands);
    const args = ['--data', 'public/demo/mnist-test.json', '--samples', '32', '--runs', '3'];
    const { code, stdout, stderr } = await cli('eval', DEMO, '--candidates', cands, ...args, '--json');
    expect(code).toBe(1);
    const json = JSON.parse(stdout) as {
      ok: boolean;
      candidate: string;
      error?: string;
      accuracy?: { candidate: number; original: number };
      outputs?: { cosine: number }[];
      sizes?: { candidate: number };
    }[];
    expect(json.map((r) => [path.basename(r.candidate), r.ok])).toEqual([
      ['broken.onnx', false],
      ['mnist-cnn.int8.onnx', true],
      ['mnist-cnn.q4.onnx', true],
    ]);
    expect(json[0]!.error).toContain('not an ONNX model');
    const [, int8, q4] = json;
    expect(int8!.outputs![0]!.cosine).toBeGreaterThan(q4!.outputs![0]!.cosine);
    expect(q4!.sizes!.candidate).toBeLessThan(int8!.sizes!.candidate);
    expect(int8!.accuracy!.original).toBe(q4!.accuracy!.original);
    expect(stderr).toContain('1 of 3 candidates failed');

    // Several candidates named one by one, as a table; all good: exit 0.
    const table = await cli('eval', DEMO, path.join(cands, 'mnist-cnn.int8.onnx'), path.join(cands, 'mnist-cnn.q4.onnx'), ...args);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/candidate\s+size\s+vs original\s+headline/);
    expect(table.stdout).toContain('2 of 2 candidates evaluated');
  });

  it('no candidate (none named, or an empty folder) is a usage error', async () => {
    expect((await cli('eval', DEMO)).code).toBe(2);
    const dir = tmp();
    expect((await cli('eval', DEMO, '--candidates', dir)).code).toBe(2);
  });
});
