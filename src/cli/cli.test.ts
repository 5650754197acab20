import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli } from './run-cli.testutil';
import { describe, expect, it } from 'vitest';
import { REAL_MODEL_DIR, readRealModel } from '../../test/helpers/models';
import { scanModel } from '../../test/helpers/wire-scan';
import { paddleLikeOpset9 } from '../../test/fixtures/patterns';

describe('cstudio inspect', () => {
  it('prints the JSON the issue specifies, with counts matching an independent scan', async () => {
    const file = path.join(REAL_MODEL_DIR, 'hey_jarvis_v0.1.onnx');
    const { code, stdout } = await cli('inspect', file, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    for (const key of ['irVersion', 'opsets', 'producer', 'nodeCount', 'inputs', 'outputs', 'opTypes', 'tensors', 'parameterCount', 'weightBytes']) {
      expect(json).toHaveProperty(key);
    }
    const scan = scanModel(readRealModel('hey_jarvis_v0.1.onnx'));
    expect(json.nodeCount).toBe(scan.nodes);
    expect(json.tensors.length).toBe(scan.initializers + scan.constants);
    const t = json.tensors[0];
    for (const key of ['name', 'dtype', 'shape', 'elements', 'bytes', 'location', 'graph', 'consumers']) expect(t).toHaveProperty(key);
    expect(['initializer', 'constant', 'external']).toContain(t.location);
    const floats = json.tensors.filter((x: { dtype: string }) => x.dtype === 'FLOAT');
    expect(json.parameterCount).toBe(floats.reduce((n: number, x: { elements: number }) => n + x.elements, 0));
    expect(json.weightBytes).toBe(json.tensors.reduce((n: number, x: { bytes: number }) => n + x.bytes, 0));
  });

  it('prints a readable table without --json', async () => {
    const { code, stdout } = await cli('inspect', path.join(REAL_MODEL_DIR, 'alexa_v0.1.onnx'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/IR version \d+/);
    expect(stdout).toMatch(/tensor\s+dtype\s+shape/);
    expect(stdout).toMatch(/Gemm/);
  });

  it('--stats adds per-tensor statistics and per-channel ranges that match an independent computation', async () => {
    const { code, stdout } = await cli('inspect', 'public/demo/mnist-cnn.onnx', '--stats', '--json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    const model = fromBinary(ModelProtoSchema, new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx')));
    for (const name of ['conv2.weight', 'fc1.weight']) {
      const init = model.graph!.initializer.find((t) => t.name === name)!;
      const values = new Float32Array(init.rawData.slice().buffer);
      const sorted = Float32Array.from(values).sort();
      const pct = (q: number) => {
        const p = q * (sorted.length - 1);
        return sorted[Math.floor(p)]! + (sorted[Math.ceil(p)]! - sorted[Math.floor(p)]!) * (p - Math.floor(p));
      };
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const t = json.tensors.find((x: { name: string }) => x.name === name);
      expect(Object.keys(t.stats)).toEqual(expect.arrayContaining(['min', 'max', 'mean', 'std', 'absMax', 'zeroFraction', 'p001', 'p01', 'p99', 'p999']));
      expect(t.stats.min).toBe(sorted[0]);
      expect(t.stats.max).toBe(sorted[sorted.length - 1]);
      expect(t.stats.mean).toBeCloseTo(mean, 9);
      for (const [key, q] of [
        ['p001', 0.001],
        ['p01', 0.01],
        ['p99', 0.99],
        ['p999', 0.999],
      ] as const)
        expect(t.stats[key]).toBeCloseTo(pct(q), 9);
      // Output channels are rows (Conv axis 0, Gemm transB=1 axis 0).
      const rows = Number(init.dims[0]);
      const per = values.length / rows;
      expect(t.channelRanges).toHaveLength(rows);
      for (let c = 0; c < rows; c++) {
        const row = values.subarray(c * per, (c + 1) * per);
        expect(t.channelRanges[c]).toEqual([Math.min(...row), Math.max(...row)]);
      }
    }
    const bias = json.tensors.find((x: { name: string }) => x.name === 'fc1.bias');
    expect(bias.stats).toBeDefined();
    expect(bias.channelRanges).toBeUndefined();
  });

  it('exits non-zero with a one-line reason on bad input', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-'));
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty.onnx', new Uint8Array(0), /empty/],
      ['image.onnx', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), /PNG/],
      ['cut.onnx', readRealModel('alexa_v0.1.onnx').subarray(0, 5000), /truncated/],
    ];
    for (const [name, bytes, pattern] of cases) {
      writeFileSync(path.join(dir, name), bytes);
      const { code, stdout, stderr } = await cli('inspect', path.join(dir, name), '--json');
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(pattern);
    }
    const missing = await cli('inspect', path.join(dir, 'nope.onnx'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
    const usage = await cli('frobnicate');
    expect(usage.code).toBe(2);
  });
});

describe('cstudio compress', () => {
  it('writes a model that loads in onnxruntime, reports per-tensor bits/format/SQNR, and a recipe that reproduces it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-q-'));
    const out = path.join(dir, 'demo.q4.onnx');
    const recipePath = path.join(dir, 'recipe.json');
    const first = await cli(
      'compress',
      'public/demo/mnist-cnn.onnx',
      '-o',
      out,
      '--bits',
      '4',
      '--granularity',
      'block',
      '--block-size',
      '32',
      '--exclude',
      'conv1*',
      '--save-recipe',
      recipePath,
      '--json',
    );
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.outputBytes).toBe(readFileSync(out).byteLength);
    expect(report.inputBytes).toBe(readFileSync('public/demo/mnist-cnn.onnx').byteLength);
    const byName = new Map(report.tensors.map((t: { name: string }) => [t.name, t]));
    expect(byName.get('conv1.weight')).toMatchObject({ action: 'skip', format: 'float' });
    expect(byName.get('fc1.weight')).toMatchObject({ action: 'quantize', format: 'matmulnbits', bits: 4, storedBits: 4, blockSize: 32 });
    expect((byName.get('fc1.weight') as { sqnrDb: number }).sqnrDb).toBeGreaterThan(10);
    const session = await ort.InferenceSession.create(out);
    const logits = await session.run({ input: new ort.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
    expect(logits.logits!.dims).toEqual([1, 10]);
    // The saved recipe alone reproduces the same bytes.
    const again = path.join(dir, 'again.onnx');
    const second = await cli('compress', 'public/demo/mnist-cnn.onnx', '-o', again, '--recipe', recipePath);
    expect(second.code).toBe(0);
    expect(Buffer.compare(readFileSync(again), readFileSync(out))).toBe(0);
    expect(second.stdout).toMatch(/↓\d+(\.\d)?%/);
  });

  it('names the output after the input and rejects bad flags and recipes with a reason', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-q-'));
    const input = path.join(dir, 'demo.onnx');
    writeFileSync(input, readFileSync('public/demo/mnist-cnn.onnx'));
    expect((await cli('compress', input)).code).toBe(0);
    expect(existsSync(path.join(dir, 'demo.int8.onnx'))).toBe(true);
    const bad = await cli('compress', input, '--bits', '12');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bits must be an integer from 2 to 8/);
    writeFileSync(path.join(dir, 'r.json'), JSON.stringify({ version: 1, quantize: { granularity: 'row' } }));
    const badRecipe = await cli('compress', input, '--recipe', path.join(dir, 'r.json'));
    expect(badRecipe.code).toBe(1);
    expect(badRecipe.stderr).toMatch(/granularity must be one of tensor, channel, block/);
  });

  it('prunes with --sparsity/--pattern, alone or before quantization, and reports per-layer sparsity and parameters', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-p-'));
    const channel = await cli('compress', 'public/demo/mnist-cnn.onnx', '-o', path.join(dir, 'c.onnx'), '--sparsity', '0.5', '--pattern', 'channel', '--json');
    expect(channel.code).toBe(0);
    const c = JSON.parse(channel.stdout);
    expect(c.recipe.quantize).toBeUndefined();
    expect(c.prune.layers.find((l: { name: string }) => l.name === 'conv2.weight')).toMatchObject({ action: 'prune', channelsBefore: 16, channelsAfter: 8 });
    expect(c.prune.paramsAfter).toBeLessThan(c.prune.paramsBefore);
    const s = await ort.InferenceSession.create(path.join(dir, 'c.onnx'));
    expect((await s.run({ input: new ort.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) })).logits!.dims).toEqual([1, 10]);

    const masked = await cli(
      'compress',
      'public/demo/mnist-cnn.onnx',
      '-o',
      path.join(dir, 'u.onnx'),
      '--sparsity',
      '0.8',
      '--pattern',
      'unstructured',
      '--bits',
      '8',
      '--json',
    );
    const u = JSON.parse(masked.stdout);
    expect(u.recipe.prune.sparsity).toBe(0.8);
    expect(u.recipe.quantize.bits).toBe(8);
    expect(u.gzipBytes).toBeLessThan(u.outputBytes); // zeros compress
    expect(u.prune.layers.filter((l: { action: string }) => l.action === 'prune').every((l: { sparsity: number }) => Math.abs(l.sparsity - 0.8) < 0.01)).toBe(
      true,
    );
    expect(u.tensors.find((t: { name: string }) => t.name === 'fc1.weight').format).toBe('qdq');
  });

  it('an opset-9 model with Constant-node weights: upgraded, compressed, coverage in the JSON, and it runs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-c-'));
    const fixture = paddleLikeOpset9();
    const input = path.join(dir, fixture.name);
    writeFileSync(input, fixture.bytes);
    const out = path.join(dir, 'paddle.int8.onnx');
    const r = await cli('compress', input, '-o', out, '--bits', '8', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const json = JSON.parse(r.stdout);
    expect(json.coverage.fraction).toBeGreaterThan(0.95);
    expect(json.coverage.left.map((g: { reason: string }) => g.reason)).toContain('normalization parameter');
    expect(json.upgrade).toMatchObject({ from: 9, to: 13 });
    expect(json.upgrade.summary).toMatch(/^opset 9 → 13: .*Clip ×\d+/);
    expect(json.outputBytes / json.inputBytes).toBeLessThan(0.3);
    const session = await ort.InferenceSession.create(out);
    const feeds = fixture.feeds(1);
    const x = feeds.x!;
    const probs = await session.run({ x: new ort.Tensor('float32', x.data as Float32Array, x.dims) });
    expect(probs[session.outputNames[0]!]!.dims).toEqual([1, 4]);
    const text = await cli('compress', input, '-o', path.join(dir, 'again.onnx'));
    expect(text.stdout).toMatch(/coverage: 9\d\.\d % of the weight bytes compressed/);
    expect(text.stdout).toMatch(/upgrade: opset 9 → 13/);
  });

  it('a recipe that compresses nothing exits 1 with the reasons and writes nothing (unless --allow-unchanged); low coverage is said on stderr', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-c-'));
    const out = path.join(dir, 'none.onnx');
    const none = await cli('compress', 'public/demo/mnist-cnn.onnx', '-o', out, '--exclude', '*.weight');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/nothing was compressed/);
    expect(none.stderr).toMatch(/4 tensors \(.*\): excluded by pattern "\*\.weight"/);
    expect(existsSync(out)).toBe(false);
    const allowed = await cli('compress', 'public/demo/mnist-cnn.onnx', '-o', out, '--exclude', '*.weight', '--allow-unchanged');
    expect(allowed.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    // fc1 holds most of the demo's weight bytes: leaving it leaves well over 10 %.
    const low = await cli('compress', 'public/demo/mnist-cnn.onnx', '-o', path.join(dir, 'low.onnx'), '--exclude', 'fc1*', '--json');
    expect(low.code).toBe(0);
    expect(low.stderr).toMatch(/only \d+\.\d % of the weight bytes were compressed\. Left as they were: .*excluded by pattern "fc1\*"/);
    expect(JSON.parse(low.stdout).coverage.fraction).toBeLessThan(0.9);
  });

  it('--save-external-data writes OUTPUT + OUTPUT_data (as every output over 2 GB is written); the pair runs like the single file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-x-'));
    const single = path.join(dir, 'single.onnx');
    const split = path.join(dir, 'split.onnx');
    expect((await cli('compress', 'public/demo/mnist-cnn.onnx', '-o', single)).code).toBe(0);
    const run = await cli('compress', 'public/demo/mnist-cnn.onnx', '-o', split, '--save-external-data', '--json');
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json.externalData).toBe(`${split}_data`);
    expect(readFileSync(split).byteLength + readFileSync(`${split}_data`).byteLength).toBe(json.outputBytes);
    expect(readFileSync(split).byteLength).toBeLessThan(readFileSync(single).byteLength / 4);
    const input = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 97) / 97),
      [2, 1, 28, 28],
    );
    const logits = async (file: string) => (await (await ort.InferenceSession.create(file)).run({ input })).logits!.data as Float32Array;
    expect(Array.from(await logits(split))).toEqual(Array.from(await logits(single)));
    const text = await cli('compress', 'public/demo/mnist-cnn.onnx', '-o', path.join(dir, 't.onnx'), '--save-external-data');
    expect(text.stdout).toMatch(/→ .*t\.onnx \+ t\.onnx_data/);
  });
});
