import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../src/core/onnx/codec';
import { openModel, readTensorFloat32, summarizeModel } from '../src/core/onnx/open';
import { bytesSource } from '../src/core/onnx/source';
import { ModelInputError } from '../src/core/onnx/types';
import { inspectCommand } from '../src/cli/commands/inspect';
import { buildAllFixtures, buildExternalData, type Fixture } from './fixtures/build';
import { writeFixture } from './fixtures/write';

const open = (fx: Fixture, withSideFiles = true) =>
  openModel([bytesSource('model.onnx', fx.bytes), ...(withSideFiles ? fx.sideFiles.map((f) => bytesSource(f.name, f.bytes)) : [])]);

describe('tensor catalog on synthetic fixtures (every place a tensor can live)', () => {
  for (const fx of buildAllFixtures()) {
    it(`${fx.name}: finds every tensor with its location, graph, dtype, shape, bytes and values`, async () => {
      const opened = await open(fx);
      const summary = summarizeModel(opened);
      const exp = fx.expected;
      expect(summary.tensors.length).toBe(exp.tensorCount);
      expect(summary.nodeCount).toBe(exp.nodeCount);
      for (const loc of ['initializer', 'constant', 'external'] as const) {
        expect(summary.tensors.filter((t) => t.location === loc).length, loc).toBe(exp.byLocation[loc]);
      }
      expect(opened.catalog.graphs.filter((g) => !g.isFunction).map((g) => g.path)).toEqual(exp.graphs);
      for (const want of exp.tensors) {
        const got = summary.tensors.find((t) => t.name === want.name && t.graph === want.graph);
        expect(got, `${want.name} in ${want.graph}`).toBeDefined();
        expect(got!.dtype).toBe(want.dtype);
        expect(got!.shape).toEqual(want.shape);
        expect(got!.location).toBe(want.location);
        if (want.bytes !== undefined) expect(got!.bytes, `${want.name} bytes`).toBe(want.bytes);
        if (want.producerNode) expect(got!.producerNode).toBe(want.producerNode);
        if (want.externalFile) expect(got!.externalFile).toBe(want.externalFile);
        if (want.values) {
          const values = await readTensorFloat32(opened, opened.catalog.entries[got!.id]!);
          expect(values.length).toBe(want.values.length);
          want.values.forEach((v, i) => expect(values[i], `${want.name}[${i}]`).toBeCloseTo(Math.fround(v), 6));
        }
      }
    });

    it(`${fx.name}: survives decode → encode → decode`, () => {
      const once = encodeModel(decodeModel(fx.bytes));
      expect(Buffer.compare(encodeModel(decodeModel(once)), once)).toBe(0);
    });
  }

  it('subgraph tensors see outer-scope weights as consumed', async () => {
    const fx = buildAllFixtures().find((f) => f.name === 'subgraphs')!;
    const summary = summarizeModel(await open(fx));
    const shared = summary.tensors.find((t) => t.name === 'shared_bias')!;
    expect(shared.graph).toBe('main');
    expect(shared.consumers.length).toBeGreaterThan(0);
  });

  it('names the missing external-data file, and rejects a data file that is too short', async () => {
    const fx = buildExternalData();
    const missing = await open(fx, false).catch((e) => e);
    expect(missing).toBeInstanceOf(ModelInputError);
    for (const f of fx.sideFiles) expect(missing.message).toContain(f.name);
    const short = await openModel([bytesSource('model.onnx', fx.bytes), ...fx.sideFiles.map((f) => bytesSource(f.name, f.bytes.subarray(0, 20)))]).catch(
      (e) => e,
    );
    expect(short).toBeInstanceOf(ModelInputError);
    expect(short.message).toMatch(/too short/);
  });

  it('CLI inspect resolves external data next to the model and with --external-data', async () => {
    const fx = buildExternalData();
    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-ext-'));
    const modelPath = writeFixture(dir, fx);
    const json = JSON.parse(await inspectCommand(modelPath, { json: true }));
    expect(json.tensors.filter((t: { location: string }) => t.location === 'external').length).toBe(fx.expected.byLocation.external);
    // Model alone in one folder, data elsewhere:
    const lone = mkdtempSync(path.join(tmpdir(), 'cstudio-lone-'));
    writeFileSync(path.join(lone, 'model.onnx'), fx.bytes);
    await expect(inspectCommand(path.join(lone, 'model.onnx'), { json: true })).rejects.toThrow(/not given/);
    const viaFlag = JSON.parse(await inspectCommand(path.join(lone, 'model.onnx'), { json: true, externalData: path.dirname(modelPath) }));
    expect(viaFlag.externalFiles.sort()).toEqual(fx.sideFiles.map((f) => f.name).sort());
  });
});
