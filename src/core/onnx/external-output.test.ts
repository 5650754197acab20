/**
 * Outputs too big for one protobuf file are written with their weights in one external-data file beside the model.
 * The limit is lowered here so a small model takes that path; the >2 GB case itself belongs in the bench.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { mlp } from '../../../test/fixtures/convnets';
import { compressModel } from '../compress/compress';
import { DEFAULT_QUANTIZE } from '../recipe';
import { openModel } from './open';
import { bytesSource } from './source';

describe('outputs with external data', () => {
  it('over the limit, weights move to NAME_data (4 KiB aligned); the pair runs in onnxruntime like the standalone file, and re-opens', async () => {
    const fixture = mlp(128);
    const opened = await openModel([bytesSource('mlp.onnx', fixture.bytes)]);
    const recipe = { version: 1 as const, quantize: DEFAULT_QUANTIZE };
    const standalone = await compressModel(opened, recipe, { externalDataName: 'mlp.int8.onnx_data' });
    expect(standalone.data).toBeUndefined();
    const split = await compressModel(opened, recipe, { externalDataName: 'mlp.int8.onnx_data', standaloneLimit: 1 });
    expect(split.data?.name).toBe('mlp.int8.onnx_data');
    expect(split.bytes.byteLength).toBeLessThan(standalone.bytes.byteLength / 4);
    expect(split.outputBytes).toBeGreaterThan(split.bytes.byteLength);

    const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-split-'));
    writeFileSync(path.join(dir, 'mlp.int8.onnx'), split.bytes);
    writeFileSync(path.join(dir, 'mlp.int8.onnx_data'), Buffer.concat(split.data!.chunks));
    writeFileSync(path.join(dir, 'alone.onnx'), standalone.bytes);
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i)),
      [4, 64],
    );
    const run = async (file: string) => (await (await ort.InferenceSession.create(path.join(dir, file))).run({ x })).y!.data as Float32Array;
    expect(Array.from(await run('mlp.int8.onnx'))).toEqual(Array.from(await run('alone.onnx')));

    const reopened = await openModel([
      bytesSource('mlp.int8.onnx', split.bytes),
      bytesSource('mlp.int8.onnx_data', new Uint8Array(readFileSync(path.join(dir, 'mlp.int8.onnx_data')))),
    ]);
    const external = reopened.catalog.entries.filter((e) => e.external);
    expect(external.length).toBeGreaterThan(0);
    for (const e of external) expect(e.external!.offset % 4096).toBe(0);
  });
});
