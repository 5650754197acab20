import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import * as ort from 'onnxruntime-node';

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'demo');
const PIX = 28 * 28;
const CLASSES = 10;

interface TestSlice {
  shape: number[];
  count: number;
  labels: number[];
  pixels: string;
}

function loadSlice(): { count: number; labels: number[]; input: Float32Array } {
  const slice = JSON.parse(readFileSync(join(DEMO_DIR, 'mnist-test.json'), 'utf8')) as TestSlice;
  expect(slice.shape).toEqual([1, 28, 28]);
  expect(slice.labels).toHaveLength(slice.count);
  const bytes = Buffer.from(slice.pixels, 'base64');
  expect(bytes.length).toBe(slice.count * PIX);
  return { count: slice.count, labels: slice.labels, input: Float32Array.from(bytes, (p) => p / 255) };
}

function argmax(v: Float32Array, offset: number): number {
  let best = 0;
  for (let i = 1; i < CLASSES; i++) if (v[offset + i] > v[offset + best]) best = i;
  return best;
}

describe('bundled demo model', () => {
  it('classifies the held-out slice as accurately as README.md states', async () => {
    const { count, labels, input } = loadSlice();
    const session = await ort.InferenceSession.create(join(DEMO_DIR, 'mnist-cnn.onnx'));
    try {
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['logits']);

      const out = await session.run({ input: new ort.Tensor('float32', input, [count, 1, 28, 28]) });
      const logits = out.logits;
      expect(logits.dims).toEqual([count, CLASSES]);
      const data = logits.data as Float32Array;

      let correct = 0;
      for (let n = 0; n < count; n++) if (argmax(data, n * CLASSES) === labels[n]) correct++;
      const accuracy = correct / count;
      expect(accuracy).toBeGreaterThanOrEqual(0.95);

      const readme = readFileSync(join(DEMO_DIR, 'README.md'), 'utf8');
      const stated = /Test accuracy: ([\d.]+)%/.exec(readme);
      expect(stated).not.toBeNull();
      expect(Math.abs(accuracy * 100 - Number(stated![1]))).toBeLessThanOrEqual(0.05);

      // Dynamic batch: single samples give the same logits as the big batch.
      for (const n of [0, 1, 7, count - 1]) {
        const one = await session.run({
          input: new ort.Tensor('float32', input.slice(n * PIX, (n + 1) * PIX), [1, 1, 28, 28]),
        });
        expect(one.logits.dims).toEqual([1, CLASSES]);
        const single = one.logits.data as Float32Array;
        for (let i = 0; i < CLASSES; i++) expect(single[i]).toBeCloseTo(data[n * CLASSES + i], 4);
      }
    } finally {
      await session.release();
    }
  });
});
