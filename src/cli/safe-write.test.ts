import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cli } from './run-cli.testutil';
import { writeFileSafely } from './safe-write';

const DEMO = 'public/demo/mnist-cnn.onnx';
const run = promisify(execFile);

function copyOfDemo(): { dir: string; input: string; original: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-safe-'));
  const input = path.join(dir, 'demo.onnx');
  const original = readFileSync(DEMO);
  writeFileSync(input, original);
  return { dir, input, original };
}

describe('safe writes and usage errors', () => {
  it('refuses the input as output (also through another spelling), before any work, leaving it intact', async () => {
    const { dir, input, original } = copyOfDemo();
    for (const output of [input, path.join(dir, '.', 'demo.onnx')]) {
      const r = await cli('compress', input, '-o', output);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/-o .* is the input .*; write to another file/);
    }
    const up = await cli('upgrade', input, '--opset', '21', '-o', input);
    expect(up.code).toBe(2);
    const recipe = await cli('compress', input, '-o', path.join(dir, 'out.onnx'), '--save-recipe', input);
    expect(recipe.code).toBe(2);
    expect(recipe.stderr).toMatch(/--save-recipe .* is the input/);
    expect(readFileSync(input).equals(original)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['demo.onnx']);
  });

  it('checks the output folder first: a missing folder or a folder as -o is a plain usage error', async () => {
    const { dir, input } = copyOfDemo();
    const missing = await cli('compress', input, '-o', path.join(dir, 'nope', 'out.onnx'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/the folder .*nope does not exist/);
    mkdirSync(path.join(dir, 'folder'));
    const folder = await cli('compress', input, '-o', path.join(dir, 'folder'));
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/is a folder; give a file name/);
    const badRecipePath = await cli('compress', input, '-o', path.join(dir, 'out.onnx'), '--save-recipe', path.join(dir, 'nope', 'r.json'));
    expect(badRecipePath.code).toBe(2);
    expect(existsSync(path.join(dir, 'out.onnx'))).toBe(false);
  });

  it('bad flag values are usage errors (exit 2); a bad recipe file stays an input error (exit 1)', async () => {
    const { dir, input } = copyOfDemo();
    for (const args of [
      ['--bits', '9'],
      ['--bits', 'x'],
      ['--granularity', 'row'],
      ['--sparsity', '2'],
      ['--block-size', '7', '--granularity', 'block'],
    ]) {
      const r = await cli('compress', input, ...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/Run "cstudio --help" for usage/);
    }
    writeFileSync(path.join(dir, 'r.json'), JSON.stringify({ version: 1, quantize: { bits: 9 } }));
    expect((await cli('compress', input, '--recipe', path.join(dir, 'r.json'))).code).toBe(1);
  });

  it('a write that fails midway leaves the previous file and no temporary file behind', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-safe-'));
    const target = path.join(dir, 'out.onnx');
    writeFileSync(target, 'previous');
    await writeFileSafely(target, 'next');
    expect(readFileSync(target, 'utf8')).toBe('next');
    // A read-only folder: the temporary file cannot be created, the target stays as it was.
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o555);
      await expect(writeFileSafely(target, 'lost')).rejects.toThrow();
      chmodSync(dir, 0o755);
      expect(readFileSync(target, 'utf8')).toBe('next');
    }
    expect(readdirSync(dir)).toEqual(['out.onnx']);
  });

  it('compress hitting the file size limit midway (EFBIG) exits 1 and leaves the existing output as it was', async () => {
    const { dir, input, original } = copyOfDemo();
    const output = path.join(dir, 'out.onnx');
    writeFileSync(output, 'previous');
    const r = await run('bash', ['-c', `ulimit -f 8; exec "${process.execPath}" bin/cstudio.mjs compress "${input}" -o "${output}"`]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EFBIG|too large/);
    expect(readFileSync(output, 'utf8')).toBe('previous');
    expect(readFileSync(input).equals(original)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['demo.onnx', 'out.onnx']);
  });
});
