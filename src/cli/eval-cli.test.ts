import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli } from './run-cli.testutil';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateRecipe } from '../core/recipe';
import { parseSize } from './commands/sensitivity';
import { PRESET_NAMES, sweepCandidates } from './commands/sweep';
import { dataFilesFrom, parseDims } from './eval-data';

const DEMO = 'public/demo/mnist-cnn.onnx';
const DIGITS = 'public/demo/mnist-test.json';

function expectOneLineError(r: { code: number; stdout: string; stderr: string }, code: number, pattern: RegExp) {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')[0]).toMatch(pattern);
  expect(r.stderr.trim().split('\n')).toHaveLength(code === 2 ? 2 : 1); // usage errors add the --help pointer
}

let dir: string;
let int8: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cstudio-eval-'));
  int8 = path.join(dir, 'demo.int8.onnx');
  const r = await cli('compress', DEMO, '-o', int8);
  expect(r.code).toBe(0);
});

describe('cstudio eval', () => {
  it('demo vs its int8 compression on the labelled digits: the JSON the issue specifies', async () => {
    const r = await cli('eval', DEMO, int8, '--data', DIGITS, '--runs', '3', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const json = JSON.parse(r.stdout);
    expect(json.samples).toBe(500);
    // public/demo/README.md: 489 of the 500 digits right.
    expect(json.accuracy.original).toBe(489 / 500);
    expect(json.accuracy.original).toBe(0.978);
    expect(json.accuracy.labelled).toBe(500);
    expect(json.accuracy.candidate).toBeGreaterThan(0.97);
    expect(json.outputs).toHaveLength(1);
    const logits = json.outputs[0];
    for (const key of ['name', 'cosine', 'sqnrDb', 'maxAbs', 'top1Agreement', 'task', 'headline', 'klDivergence', 'meanAbs'])
      expect(logits).toHaveProperty(key);
    expect(logits.name).toBe('logits');
    expect(logits.task).toBe('classification');
    expect(logits.cosine).toBeGreaterThan(0.999);
    expect(logits.top1Agreement).toBeGreaterThan(0.98);
    expect(logits.sqnrDb).toBeGreaterThan(25);
    for (const model of ['original', 'candidate']) {
      const l = json.latencyMs[model];
      for (const key of ['median', 'p90', 'p10', 'min', 'spreadPct', 'firstRun', 'runs']) expect(l).toHaveProperty(key);
      expect(l.runs).toBe(3);
      expect(l.median).toBeGreaterThan(0);
      expect(l.p90).toBeGreaterThanOrEqual(l.median);
    }
    expect(json.runtime).toMatch(/onnxruntime-node/);
    expect(json.dataset).toMatchObject({ synthetic: false, samples: 500, labelled: 500 });
    expect(json.sizes).toEqual({ original: readFileSync(DEMO).byteLength, candidate: readFileSync(int8).byteLength });
  });

  it('the model against itself: sqnrDb is null; --samples keeps N digits spread over the classes', async () => {
    const r = await cli('eval', DEMO, DEMO, '--data', DIGITS, '--samples', '100', '--runs', '0', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.samples).toBe(100);
    expect(json.outputs[0].sqnrDb).toBeNull();
    expect(json.outputs[0].cosine).toBeCloseTo(1, 9);
    expect(json.accuracy.original).toBe(json.accuracy.candidate);
    expect(json.latencyMs).toBeNull();
  });

  it('without --data: synthetic inputs, flagged in the JSON and with a note on stderr in table mode', async () => {
    const r = await cli('eval', DEMO, int8, '--runs', '3', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.samples).toBe(32);
    expect(json.dataset.synthetic).toBe(true);
    expect(json.dataset.warning).toMatch(/random inputs/);
    expect(json).not.toHaveProperty('accuracy');
    expect(json.outputs[0].cosine).toBeGreaterThan(0.99);

    const table = await cli('eval', DEMO, int8, '--synthetic', '8', '--runs', '3');
    expect(table.code).toBe(0);
    expect(table.stderr).toMatch(/^note: no --data given: 8 synthetic inputs; fidelity on random inputs/);
    expect(table.stdout).toMatch(/↓\d+\.\d%/);
    expect(table.stdout).toMatch(/logits\s+classification/);
    expect(table.stdout).toMatch(/candidate\s+[\d.]+\s+[\d.]+.*×\d+\.\d\d/);
  });

  it('prints accuracy with its change in points in table mode', async () => {
    const r = await cli('eval', DEMO, int8, '--data', DIGITS, '--samples', '100', '--runs', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/accuracy on 100 labelled samples .*original \d+\.\d\d% → candidate \d+\.\d\d% \([+−]\d+\.\d\d points\)/);
    expect(r.stdout).toMatch(/median\s+p90/);
  });

  it('exits 1 with one line for models with different outputs, data that does not fit, and missing files', async () => {
    // The demo with its output renamed.
    const model = fromBinary(ModelProtoSchema, new Uint8Array(readFileSync(DEMO)));
    const graph = model.graph!;
    for (const node of graph.node) node.output = node.output.map((o) => (o === 'logits' ? 'scores' : o));
    for (const o of graph.output) if (o.name === 'logits') o.name = 'scores';
    const renamed = path.join(dir, 'renamed.onnx');
    writeFileSync(renamed, toBinary(ModelProtoSchema, model));
    const session = await ort.InferenceSession.create(renamed);
    expect(session.outputNames).toEqual(['scores']);
    await session.release();
    expectOneLineError(await cli('eval', DEMO, renamed, '--runs', '0'), 1, /different outputs.*\[logits\].*\[scores\]/);

    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ input: [[1, 2, 3]] }]));
    expectOneLineError(await cli('eval', DEMO, int8, '--data', bad, '--json'), 1, /input 'input' expects rank 4/);
    expectOneLineError(await cli('eval', DEMO, path.join(dir, 'nope.onnx')), 1, /no such file/);
    expectOneLineError(await cli('eval', DEMO, int8, '--data', path.join(dir, 'nowhere')), 1, /no such file or folder/);
    expectOneLineError(await cli('eval', DEMO, int8, '--task', 'probs=map'), 1, /no output "probs"/);
  });
});

describe('cstudio sweep', () => {
  it('--bits 8,4 --sparsity 0,0.5: five points with the original, a frontier, a CSV and the models', async () => {
    const csv = path.join(dir, 'sweep.csv');
    const outDir = path.join(dir, 'points');
    const r = await cli(
      'sweep',
      DEMO,
      '--bits',
      '8,4',
      '--sparsity',
      '0,0.5',
      '--data',
      DIGITS,
      '--samples',
      '100',
      '--runs',
      '3',
      '--json',
      '--csv',
      csv,
      '--out-dir',
      outDir,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(''); // no progress lines with --json
    const json = JSON.parse(r.stdout);
    expect(json.points).toHaveLength(5);
    expect(json.points[0]).toMatchObject({ label: 'original', isOriginal: true, sizeBytes: readFileSync(DEMO).byteLength, cosine: 1, sqnrDb: null });
    expect(json.points.map((p: { label: string }) => p.label).slice(1)).toEqual([
      'int8 per channel',
      'int4 per channel',
      '50% pruned + int8 per channel',
      '50% pruned + int4 per channel',
    ]);
    expect(json.points.some((p: { frontier: boolean }) => p.frontier)).toBe(true);
    for (const p of json.points) {
      expect(p.error).toBeUndefined();
      expect(p.latency.medianMs).toBeGreaterThan(0);
      expect(p.accuracy).toBeGreaterThan(0.5);
    }
    expect(json.dataset).toMatchObject({ synthetic: false, samples: 100, labelled: 100 });
    expect(json.runtime).toMatch(/onnxruntime-node/);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^id,label,size_bytes/);
    const files = readdirSync(outDir).sort();
    expect(files).toEqual(['01-int8-per-channel.onnx', '02-int4-per-channel.onnx', '03-50-pruned-int8-per-channel.onnx', '04-50-pruned-int4-per-channel.onnx']);
    expect(readFileSync(path.join(outDir, files[0]!)).byteLength).toBe(json.points[1].sizeBytes);
  });

  it('table mode: progress on stderr, one row per point with the frontier marked', async () => {
    const r = await cli('sweep', DEMO, '--preset', 'int8-per-channel,fp16', '--data', DIGITS, '--samples', '100', '--runs', '3');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/sweep: point 1\/3: original/);
    expect(r.stderr).toMatch(/sweep: point 3\/3: fp16/);
    expect(r.stdout).toMatch(/int8 per channel\s+[\d.]+ KiB\s+↓\d+\.\d%/);
    expect(r.stdout).toMatch(/^★/m);
    expect(r.stdout).toMatch(/accuracy/);
  });

  it('builds candidates from a grid on a base recipe, presets, or every preset', async () => {
    const base = { json: false };
    const grid = await sweepCandidates({ json: false, base: { ...base, exclude: ['conv1*'] }, bits: '8,4', granularity: 'channel,block', blockSize: '64' });
    expect(grid.map((c) => c.label)).toEqual(['int8 per channel', 'int8 blocks of 64', 'int4 per channel', 'int4 blocks of 64']);
    expect(grid.every((c) => c.recipe.quantize!.exclude.includes('conv1*'))).toBe(true);
    expect((await sweepCandidates({ json: false, base })).length).toBe(PRESET_NAMES.split(', ').length - 1);
    const mixed = await sweepCandidates({ json: false, base, bits: '8', preset: 'fp16,int8-per-channel' });
    expect(mixed.map((c) => c.label)).toEqual(['int8 per channel', 'fp16']); // the grid's int8 and the preset are one recipe
    const pattern = await sweepCandidates({ json: false, base, bits: '8', pattern: '2:4' });
    expect(pattern.map((c) => c.label)).toEqual(['int8 per channel', '2:4 sparse + int8 per channel']);
    await expect(sweepCandidates({ json: false, base, bits: '9' })).rejects.toThrow(/bits must be an integer from 2 to 8/);
    await expect(sweepCandidates({ json: false, base, granularity: 'row' })).rejects.toThrow(/granularity must be one of/);
  });
});

describe('cstudio sensitivity', () => {
  it('ranks layers, plans for --target-size 50%, compresses, and saves a recipe that reproduces the measured size', async () => {
    const recipePath = path.join(dir, 'mixed.json');
    const out = path.join(dir, 'mixed.onnx');
    const r = await cli(
      'sensitivity',
      DEMO,
      '--bits',
      '2',
      '--granularity',
      'tensor',
      '--target-size',
      '50%',
      '--save-recipe',
      recipePath,
      '-o',
      out,
      '--data',
      DIGITS,
      '--samples',
      '100',
      '--runs',
      '3',
      '--json',
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.layers).toHaveLength(4);
    for (let i = 1; i < json.layers.length; i++) expect(json.layers[i - 1].damage).toBeGreaterThanOrEqual(json.layers[i].damage);
    expect(json.layers.every((l: { damage: number; savedBytes: number }) => l.damage > 0 && l.savedBytes > 0)).toBe(true);
    const plan = json.plan;
    expect(plan.target.sizeBytes).toBe(Math.round(readFileSync(DEMO).byteLength / 2));
    expect(plan.targetMet).toBe(true);
    expect(plan.measuredTargetMet).toBe(true);
    expect(plan.measuredBytes).toBe(readFileSync(out).byteLength);
    expect(plan.estimatedBytes).toBeGreaterThan(0);
    expect(plan.outputs[0].cosine).toBeGreaterThan(json.uniform.outputs[0].cosine);
    expect(plan.latencyMs.candidate.runs).toBe(3);
    const saved = JSON.parse(readFileSync(recipePath, 'utf8'));
    expect(validateRecipe(saved)).toEqual(saved);
    expect(saved).toEqual(plan.recipe);
    // compress --recipe with the saved recipe gives the size sensitivity measured.
    const again = await cli('compress', DEMO, '-o', path.join(dir, 'again.onnx'), '--recipe', recipePath, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).outputBytes).toBe(plan.measuredBytes);
  });

  it('table mode without a target: the ranking and a hint', async () => {
    const r = await cli('sensitivity', DEMO, '--bits', '4', '--data', DIGITS, '--samples', '100', '--runs', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rank\s+tensor\s+op/);
    expect(r.stdout).toMatch(/fc1\.weight/);
    expect(r.stdout).toMatch(/--target-size/);
    expect(r.stderr).toMatch(/sensitivity: layer 4\/4/);
  });

  it('static int8: a layer whose Q/DQ overhead outweighs its weights grows the file, and says so', async () => {
    const r = await cli('sensitivity', DEMO, '--activations', '8', '--data', DIGITS, '--samples', '100', '--runs', '0');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/-\d+ B/);
    expect(r.stdout).toMatch(/conv1\.weight .*grows the file by 1\.\d\d KiB/);
    expect(r.stdout).toMatch(/fc1\.weight .*saves \d+\.\d KiB/);
    expect(r.stdout).toMatch(/static int8 adds activation Q\/DQ nodes and scales/);
  });

  it('--max-damage plans too; measured size is reported', async () => {
    const r = await cli('sensitivity', DEMO, '--bits', '4', '--max-damage', '0.05', '--data', DIGITS, '--samples', '100', '--runs', '0');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mixed-precision plan for summed damage ≤ 0\.05/);
    expect(r.stdout).toMatch(/size: estimated [\d.]+ KiB, measured [\d.]+ KiB/);
  });

  it('sizes: bytes, decimal and binary units, percentages', () => {
    expect(parseSize('250000', 1e6)).toBe(250000);
    expect(parseSize('300kB', 1e6)).toBe(300000);
    expect(parseSize('1.5MB', 1e7)).toBe(1500000);
    expect(parseSize('200KiB', 1e6)).toBe(204800);
    expect(parseSize('40%', 1000)).toBe(400);
    expect(() => parseSize('lots', 1000)).toThrow(/--target-size/);
    expect(() => parseSize('0%', 1000)).toThrow(/percentage/);
  });
});

describe('evaluation data and flags', () => {
  it('--data <dir> lists files recursively, relative, / separated, hidden ones left out', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'cstudio-data-'));
    for (const f of ['cat/a.png', 'cat/b.png', 'dog/deep/c.png', '.hidden/x.png', 'labels.csv']) {
      const full = path.join(root, f);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, f);
    }
    const files = await dataFilesFrom(root);
    expect(files.map((f) => f.path)).toEqual(['cat/a.png', 'cat/b.png', 'dog/deep/c.png', 'labels.csv']);
    expect(new TextDecoder().decode(await files[2]!.bytes())).toBe('dog/deep/c.png');
    expect((await dataFilesFrom(path.join(root, 'labels.csv'))).map((f) => f.path)).toEqual(['labels.csv']);
  });

  it('--dims values are checked against the dynamic dimensions', () => {
    const inputs = [{ name: 'ids', dtype: 'INT64', shape: ['batch', 'sequence'] }];
    expect(parseDims('batch=2,sequence=16', inputs)).toEqual({ batch: 2, sequence: 16 });
    expect(() => parseDims('width=3', inputs)).toThrow(/no dynamic dimension "width".*batch, sequence/);
    expect(() => parseDims('batch=0', inputs)).toThrow(/whole number/);
  });

  it('bad usage exits 2 with the reason and a pointer to --help', async () => {
    const cases: [string[], number, RegExp][] = [
      [['eval', DEMO], 2, /eval takes two model paths/],
      [['eval', DEMO, int8, '--frobnicate'], 2, /Unknown option '--frobnicate'/],
      [['eval', DEMO, int8, '--samples', 'many'], 2, /--samples needs a whole number/],
      [['eval', DEMO, int8, '--data', DIGITS, '--synthetic', '4'], 2, /--data or --synthetic/],
      [['eval', DEMO, int8, '--bits', '4'], 2, /eval does not take --bits/],
      [['eval', DEMO, int8, '--task', 'logits=probabilities'], 2, /not one of classification/],
      [['sweep', DEMO, '--preset', 'int3'], 2, /unknown preset "int3"/],
      [['sweep', DEMO, '--bits', '32'], 2, /nothing to sweep/],
      [['sweep', DEMO, '--runs=-1'], 2, /--runs needs a whole number ≥ 0/],
      [['sweep', DEMO, '--samples'], 2, /argument missing/],
      [['sensitivity', DEMO, '--target-size', '50%', '--max-damage', '0.1'], 2, /--target-size or --max-damage, not both/],
      [['sensitivity', DEMO, '--save-recipe', path.join(dir, 'x.json')], 2, /--save-recipe needs a target/],
      [['sensitivity', DEMO, '--target-size', 'big'], 2, /--target-size takes bytes/],
      [['inspect', DEMO, '--data', DIGITS], 2, /inspect does not take --data/],
      // Out-of-range flag values are wrong usage, as in compress (a bad recipe file stays bad input, exit 1).
      [['sensitivity', DEMO, '--bits', '12'], 2, /bits must be an integer from 2 to 8/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    results.forEach((r, i) => expectOneLineError(r, cases[i]![1], cases[i]![2]));
  });

  it('--help lists the evaluation commands', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const c of ['cstudio eval', 'cstudio sweep', 'cstudio sensitivity', '--target-size', '--preset']) expect(r.stdout).toContain(c);
  });
});

describe('image preprocessing flags', () => {
  it('map to the loader options, and bad values are usage errors', async () => {
    const { imagePrepFlags, UsageError } = await import('./eval-data');
    expect(
      imagePrepFlags({ size: '320x240', resize: 'letterbox', channels: 'bgr', layout: 'nhwc', scale: '-1-1', mean: '0.5,0.5,0.5', std: '0.25,0.25,0.25' }),
    ).toEqual({
      width: 320,
      height: 240,
      resize: 'letterbox',
      channels: 'bgr',
      layout: 'nhwc',
      scale: '-1-1',
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
    });
    expect(imagePrepFlags({ size: '28', imagenet: true })).toMatchObject({ width: 28, height: 28, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(() => imagePrepFlags({ resize: 'squash' })).toThrow(UsageError);
    expect(() => imagePrepFlags({ size: 'big' })).toThrow(/--image-size/);
    expect(() => imagePrepFlags({ std: '1,0,1' })).toThrow(/--std/);
    expect(() => imagePrepFlags({ imagenet: true, mean: '1' })).toThrow(/--imagenet/);
  });
});

describe('eval on a folder of PNG digits', () => {
  it('labels from folder names, gray 28×28 scaled 0–1: the same accuracy as the JSON digits', async () => {
    const { encodePng } = await import('../core/eval/data/fixtures.testutil');
    const digits = JSON.parse(readFileSync(DIGITS, 'utf8')) as { labels: number[]; pixels: string };
    const pixels = Buffer.from(digits.pixels, 'base64');
    const root = mkdtempSync(path.join(tmpdir(), 'cstudio-png-'));
    const n = 60;
    for (let i = 0; i < n; i++) {
      const folder = path.join(root, `digit-${digits.labels[i]}`);
      mkdirSync(folder, { recursive: true });
      const rows = Array.from({ length: 28 * 28 }, (_, p) => [pixels[i * 784 + p]!]);
      writeFileSync(
        path.join(folder, `${String(i).padStart(3, '0')}.png`),
        encodePng({ width: 28, height: 28, colorType: 0, bitDepth: 8, pixels: rows, filters: [0, 1, 2, 3, 4] }),
      );
    }
    // The same 60 digits as JSON (the demo format), for the reference accuracy.
    const json = path.join(mkdtempSync(path.join(tmpdir(), 'cstudio-json-')), 'digits.json');
    writeFileSync(
      json,
      JSON.stringify({ shape: [1, 28, 28], count: n, labels: digits.labels.slice(0, n), pixels: pixels.subarray(0, n * 784).toString('base64') }),
    );
    const fromPng = await cli('eval', DEMO, DEMO, '--data', root, '--image-size', '28', '--channels', 'gray', '--scale', '0-1', '--runs', '0', '--json');
    const fromJson = await cli('eval', DEMO, DEMO, '--data', json, '--runs', '0', '--json');
    expect(fromJson.code).toBe(0);
    expect(fromPng.code, fromPng.stderr).toBe(0);
    const a = JSON.parse(fromPng.stdout);
    const b = JSON.parse(fromJson.stdout);
    expect(a.samples).toBe(n);
    // Folder names "digit-0" … "digit-9" sort into indices 0…9, so the labels are the digits.
    expect(a.accuracy.original).toBeCloseTo(b.accuracy.original, 12);
    expect(a.dataset.classNames).toEqual(Array.from({ length: 10 }, (_, d) => `digit-${d}`));
  });
});

describe('models with external data', () => {
  it('eval reads the data files next to the model; the compressed model stands alone', async () => {
    const { buildExternalData } = await import('../../test/fixtures/build');
    const fixture = buildExternalData();
    const folder = mkdtempSync(path.join(tmpdir(), 'cstudio-ext-'));
    const model = path.join(folder, 'model.onnx');
    writeFileSync(model, fixture.bytes);
    for (const f of fixture.sideFiles) writeFileSync(path.join(folder, f.name), f.bytes);
    const compressed = path.join(folder, 'model.int8.onnx');
    expect((await cli('compress', model, '-o', compressed)).code).toBe(0);
    const r = await cli('eval', model, compressed, '--synthetic', '8', '--runs', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const dataBytes = fixture.sideFiles.reduce((n, f) => n + f.bytes.byteLength, 0);
    expect(json.sizes.original).toBe(fixture.bytes.byteLength + dataBytes);
    // Threshold: int8 per channel on these small matrices keeps cosine ≥ 0.999.
    expect(json.outputs[0].cosine).toBeGreaterThan(0.999);
  });
});
