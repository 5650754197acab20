import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { resNetStyle } from '../../../test/fixtures/channel-groups';
import { createNodeRuntime } from '../../runtime/ort-node';
import { decodeModel } from '../onnx/codec';
import type { EvalDataset } from '../eval/types';
import { captureActivations, splitCalibration, withExtraOutputs } from './capture';
import { channelMeans } from './histogram';

describe('calibration split', () => {
  const data: EvalDataset = { name: 'd', description: '', synthetic: false, samples: Array.from({ length: 10 }, (_, i) => ({ id: `#${i}`, feeds: {} })) };
  it('never shares a sample between calibration and evaluation', () => {
    for (const [count, holdOut, calib] of [
      [4, true, 4],
      [64, true, 8],
      [64, false, 10],
      [3, false, 3],
    ] as const) {
      const s = splitCalibration(data, count, holdOut);
      expect(s.calibration.samples).toHaveLength(calib);
      expect(s.calibration.samples.length + s.evaluation.samples.length).toBe(10);
      const ids = new Set(s.calibration.samples.map((x) => x.id));
      expect(s.evaluation.samples.some((x) => ids.has(x.id))).toBe(false);
    }
  });
});

describe('capturing the teacher', () => {
  const f = resNetStyle();
  it('exposes intermediate tensors as outputs of a copy, and their statistics match the values onnxruntime computes', async () => {
    const names = ['stem.relu.out', 's1b1.add.out'];
    const copy = decodeModel(withExtraOutputs(f.bytes, names));
    expect(copy.graph!.output.map((o) => o.name)).toEqual(['logits', ...names]);
    expect(decodeModel(f.bytes).graph!.output).toHaveLength(1);
    const samples = [1, 2, 3].map((seed) => ({ id: `#${seed}`, feeds: { image: { dtype: 'float32' as const, dims: f.input.dims, data: f.feed(seed) } } }));
    const progress: number[] = [];
    const cap = await captureActivations(createNodeRuntime({ threads: 1 }), f.bytes, [...names, 'no-such-tensor'], samples, {
      maxTensorsPerRun: 1,
      onProgress: (d) => progress.push(d),
    });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]); // one tensor per pass, 3 samples each; the unknown name is never run
    expect(cap.unreachable).toEqual(['no-such-tensor']);
    // The same tensors straight from onnxruntime.
    const s = await ort.InferenceSession.create(withExtraOutputs(f.bytes, names), { intraOpNumThreads: 1 });
    for (const name of names) {
      let min = Infinity;
      let max = -Infinity;
      let count = 0;
      const sums = new Float64Array(16);
      for (const sample of samples) {
        const t = (await s.run({ image: new ort.Tensor('float32', sample.feeds.image.data, f.input.dims) }))[name]!;
        const v = t.data as Float32Array;
        const per = v.length / 16;
        v.forEach((x, i) => {
          min = Math.min(min, x);
          max = Math.max(max, x);
          sums[Math.floor(i / per)]! += x;
        });
        count += v.length;
      }
      const st = cap.stats.get(name)!;
      expect([st.min, st.max, st.count]).toEqual([min, max, count]);
      const means = channelMeans(st)!;
      for (let c = 0; c < 16; c++) expect(means[c]).toBeCloseTo(sums[c]! / (count / 16), 5);
    }
    await s.release();
  });

  it('stops at an abort between samples', async () => {
    const controller = new AbortController();
    const samples = [1, 2, 3].map((seed) => ({ id: `#${seed}`, feeds: { image: { dtype: 'float32' as const, dims: f.input.dims, data: f.feed(seed) } } }));
    const run = captureActivations(createNodeRuntime({ threads: 1 }), f.bytes, ['stem.relu.out'], samples, {
      onProgress: (d) => d === 1 && controller.abort(),
      signal: controller.signal,
    });
    await expect(run).rejects.toThrow(/abort/i);
  });
});
