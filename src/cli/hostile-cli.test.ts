import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ESCAPES, escapeNamesModel, externalLocationModel, manyTensorsModel, sizeBombModel, sparseBombModel } from '../../test/fixtures/hostile';
import { cli } from './run-cli.testutil';

const floats = (n: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => (i - n / 2) / n).buffer);

function folder(): string {
  return mkdtempSync(path.join(tmpdir(), 'cstudio-hostile-'));
}

describe('external data stays inside the model folder (CLI)', () => {
  it('reads external data that lies inside the folder, also in a sub-folder', async () => {
    const dir = folder();
    mkdirSync(path.join(dir, 'weights'));
    writeFileSync(path.join(dir, 'weights', 'w.bin'), floats(16));
    writeFileSync(path.join(dir, 'm.onnx'), externalLocationModel('weights/w.bin'));
    const { code, stdout } = await cli('inspect', path.join(dir, 'm.onnx'), '--stats', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).tensors[0].stats.min).toBeCloseTo(-0.5);
  });

  it('refuses "../" escapes, absolute paths and symlinks leading out, in inspect --stats and compress, with one message', async () => {
    const outside = folder();
    writeFileSync(path.join(outside, 'secret.bin'), floats(16));
    const dir = folder();
    mkdirSync(path.join(dir, 'inner'));
    symlinkSync(path.join(outside, 'secret.bin'), path.join(dir, 'link.bin'));
    symlinkSync(outside, path.join(dir, 'inner', 'out'));
    symlinkSync(path.join(outside, 'nothing-here.bin'), path.join(dir, 'dangling.bin'));
    const relative = path.relative(dir, path.join(outside, 'secret.bin'));
    const cases = [
      relative,
      path.join(outside, 'secret.bin'),
      '../../../../../../etc/passwd',
      '/etc/passwd',
      'link.bin',
      'inner/out/secret.bin',
      'dangling.bin',
      'inner/out/missing.bin',
    ];
    const messages = new Set<string>();
    for (const [index, location] of cases.entries()) {
      const model = path.join(dir, 'm.onnx');
      writeFileSync(model, externalLocationModel(location));
      const out = path.join(dir, 'out.onnx');
      const commands = [['inspect', model, '--stats'], ...(index % 2 === 0 ? [['compress', model, '-o', out]] : [])];
      for (const args of commands) {
        const { code, stdout, stderr } = await cli(...args);
        expect(code, `${args[0]} ${location}: ${stderr}`).toBe(1);
        expect(stdout).toBe('');
        expect(stderr).toContain(
          `External data location ${JSON.stringify(location)} is refused: external data must be a relative path inside the model's folder`,
        );
        messages.add(stderr.replace(JSON.stringify(location), 'LOCATION'));
      }
      expect(existsSync(path.join(dir, 'out.onnx'))).toBe(false);
    }
    // One message for every refusal: nothing in it depends on what lies outside the folder.
    expect([...messages]).toHaveLength(1);
    expect([...messages][0]).not.toMatch(/bytes|exist|size|found/i);
  });
});

describe('hostile models (CLI)', () => {
  it('refuses the sparse and size bombs quickly, in inspect --stats and compress --format fp16', async () => {
    const dir = folder();
    for (const [name, bytes] of [
      ['sparse.onnx', sparseBombModel()],
      ['size.onnx', sizeBombModel()],
    ] as const) {
      writeFileSync(path.join(dir, name), bytes);
      for (const args of [
        ['inspect', path.join(dir, name), '--stats', '--backend', 'ts'],
        ['compress', path.join(dir, name), '--format', 'fp16', '-o', path.join(dir, 'out.onnx')],
      ]) {
        const started = Date.now();
        const { code, stderr } = await cli(...args);
        expect(code, stderr).toBe(1);
        expect(stderr).toMatch(/is not a valid ONNX model: (sparse )?tensor "W"/);
        expect(Date.now() - started).toBeLessThan(15_000);
      }
    }
    expect(existsSync(path.join(dir, 'out.onnx'))).toBe(false);
    expect(readFileSync(path.join(dir, 'size.onnx')).length).toBeLessThan(200);
  });
});

// Anything a terminal would act on: C0 controls but newline, DEL, C1 controls, bidi overrides.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('terminal-safe text', () => {
  it('escapes control characters in model strings in inspect and compress output; JSON keeps the names exactly', async () => {
    const dir = folder();
    const model = path.join(dir, 'esc.onnx');
    writeFileSync(model, escapeNamesModel());
    const text = await cli('inspect', model);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(CONTROL);
    expect(text.stdout).toContain('producer: evil\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u202e');
    // A newline in a name cannot forge a table row.
    expect(text.stdout).toContain('\\nfake line');
    expect(text.stdout.split('\n').some((line) => line.startsWith('fake line'))).toBe(false);
    const json = await cli('inspect', model, '--json');
    expect(JSON.parse(json.stdout).producer).toBe(`evil${ESCAPES}`);
    expect(json.stdout).not.toMatch(CONTROL);
    const compressed = await cli('compress', model, '-o', path.join(dir, 'out.onnx'), '--bits', '4', '--granularity', 'block', '--block-size', '16');
    expect(compressed.code, compressed.stderr).toBe(0);
    expect(compressed.stdout + compressed.stderr).not.toMatch(CONTROL);
    expect(compressed.stdout).toContain('W\\u001b]0;pwned');
  });

  it('prints a table of 130,000 tensors (no argument spreads of huge arrays)', async () => {
    const dir = folder();
    const model = path.join(dir, 'many.onnx');
    writeFileSync(model, manyTensorsModel(130_000));
    const { code, stdout, stderr } = await cli('inspect', model);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/\nt129999\s+FLOAT\s+1\s+1\s+4 B\s+initializer/);
  });
});

describe('memory budget (CLI)', () => {
  it('--memory-budget below the estimate exits 1 before any work, a bad value exits 2, enough runs', async () => {
    const dir = folder();
    const input = path.join(dir, 'demo.onnx');
    writeFileSync(input, readFileSync('public/demo/mnist-cnn.onnx'));
    const tight = await cli('compress', input, '--memory-budget', '1MB');
    expect(tight.code).toBe(1);
    expect(tight.stderr).toMatch(/Compressing demo\.onnx needs about [\d.]+ GiB of memory, over the budget of 0\.00 GiB/);
    expect(existsSync(path.join(dir, 'demo.int8.onnx'))).toBe(false);
    const stats = await cli('inspect', input, '--stats', '--memory-budget', '100kB');
    expect(stats.code).toBe(1);
    expect(stats.stderr).toMatch(/Analysing demo\.onnx needs about/);
    expect((await cli('compress', input, '--memory-budget', 'lots')).code).toBe(2);
    expect((await cli('compress', input, '--memory-budget', '50%')).code).toBe(0);
  });
});
