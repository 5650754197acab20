import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { externalLocationModel, sizeBombModel, sparseBombModel } from '../../test/fixtures/hostile';
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
    const cases = [relative, path.join(outside, 'secret.bin'), '../../../../../../etc/passwd', '/etc/passwd', 'link.bin', 'inner/out/secret.bin', 'dangling.bin', 'inner/out/missing.bin'];
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
        expect(stderr).toContain(`External data location ${JSON.stringify(location)} is refused: external data must be a relative path inside the model's folder`);
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
    for (const [name, bytes] of [['sparse.onnx', sparseBombModel()], ['size.onnx', sizeBombModel()]] as const) {
      writeFileSync(path.join(dir, name), bytes);
      for (const args of [['inspect', path.join(dir, name), '--stats', '--backend', 'ts'], ['compress', path.join(dir, name), '--format', 'fp16', '-o', path.join(dir, 'out.onnx')]]) {
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
