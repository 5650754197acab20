import { create, equals, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS, readRealModel } from '../../../test/helpers/models';
import { decodeModel, encodeModel, sniffForeignFormat } from './codec';
import { ModelInputError } from './types';

describe('decode → encode → decode round trip', () => {
  for (const name of [...REAL_MODELS, 'demo']) {
    it(`is lossless for ${name}`, async () => {
      const bytes = name === 'demo' ? new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx')) : readRealModel(name);
      const first = decodeModel(bytes, name);
      const encoded = encodeModel(first);
      const second = decodeModel(encoded, name);
      expect(equals(ModelProtoSchema, first, second)).toBe(true);
      // Re-encoding the re-decoded model is byte-stable.
      expect(Buffer.compare(encodeModel(second), encoded)).toBe(0);
      // onnxruntime accepts what we wrote.
      const session = await ort.InferenceSession.create(encoded);
      expect(session.inputNames.length).toBeGreaterThan(0);
      await session.release();
    });
  }

  it('keeps raw_data as views into the file bytes (weights held once)', () => {
    const bytes = readRealModel('embedding_model.onnx');
    const model = decodeModel(bytes);
    const raw = model.graph!.initializer.filter((t) => t.rawData.byteLength > 0);
    expect(raw.length).toBeGreaterThan(10);
    for (const t of raw) expect(t.rawData.buffer).toBe(bytes.buffer);
  });

  it('keeps fields it does not know (unknown fields survive the round trip)', () => {
    const bytes = readRealModel('alexa_v0.1.onnx');
    // Append field 99 (varint 42) to the ModelProto: an unknown field.
    const withUnknown = new Uint8Array(bytes.length + 3);
    withUnknown.set(bytes);
    withUnknown.set([0x98, 0x06, 42], bytes.length);
    const reencoded = encodeModel(decodeModel(withUnknown));
    expect(Buffer.from(reencoded).indexOf(Buffer.from([0x98, 0x06, 42]))).toBeGreaterThan(0);
    expect(equals(ModelProtoSchema, decodeModel(reencoded), decodeModel(withUnknown))).toBe(true);
  });

  it('writes what protobuf-es writes, in one buffer of the same size (raw_data last in each initializer)', () => {
    for (const name of [...REAL_MODELS.slice(0, 3)]) {
      const model = decodeModel(readRealModel(name));
      // An initializer with fields after raw_data in the schema (data_location set explicitly, double_data empty).
      model.graph!.initializer[0]!.dataLocation = 0;
      const ours = encodeModel(model);
      const theirs = toBinary(ModelProtoSchema, model);
      expect(ours.byteLength).toBe(theirs.byteLength);
      expect(equals(ModelProtoSchema, decodeModel(ours), decodeModel(theirs))).toBe(true);
    }
    const empty = create(ModelProtoSchema, { irVersion: 8n });
    expect(Buffer.compare(encodeModel(empty), toBinary(ModelProtoSchema, empty))).toBe(0);
  });

  it('gives the same outputs after a round trip (demo model in onnxruntime)', async () => {
    const bytes = new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
    const input = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2 * 784 }, (_, i) => ((i * 37) % 255) / 255),
      [2, 1, 28, 28],
    );
    const a = await ort.InferenceSession.create(bytes);
    const b = await ort.InferenceSession.create(encodeModel(decodeModel(bytes)));
    const outA = (await a.run({ input })).logits!.data as Float32Array;
    const outB = (await b.run({ input })).logits!.data as Float32Array;
    expect(Buffer.compare(Buffer.from(outB.buffer), Buffer.from(outA.buffer))).toBe(0);
  });
});

describe('bad input', () => {
  const expectUserError = (bytes: Uint8Array, pattern: RegExp) => {
    let caught: unknown;
    try {
      decodeModel(bytes, 'x.onnx');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ModelInputError);
    expect((caught as Error).message).toMatch(pattern);
  };

  it('names empty files', () => expectUserError(new Uint8Array(0), /empty/));
  it('names PNG, zip and text files', () => {
    expectUserError(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), /PNG image/);
    expectUserError(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]), /zip archive/);
    expectUserError(new TextEncoder().encode('hello, this is not a model\n'), /text file/);
  });
  it('reports truncated models', () => {
    const bytes = readRealModel('embedding_model.onnx');
    for (const cut of [10, 1000, 100_000, bytes.length - 10]) {
      expectUserError(bytes.subarray(0, cut), /truncated|no graph|not a valid/);
    }
  });
  it('reports random bytes as not ONNX', () => {
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
    expectUserError(noise, /not (a valid )?(an )?ONNX|truncated/);
  });
  it('sniffs nothing foreign in a real model', () => {
    expect(sniffForeignFormat(readRealModel('alexa_v0.1.onnx'))).toBeUndefined();
  });
});
