import { describe, expect, it } from 'vitest';
import { FidelityAccumulator, inferTask, klRow } from './metrics';
import { quantile, summarizeTimes } from './latency';

describe('fidelity metrics (hand-computed references)', () => {
  it('cosine, SQNR, max and mean |error|', () => {
    const a = new FidelityAccumulator('y', 'regression');
    // original [1, 2, 2], candidate [1, 2, 3]: dot 1+4+6 = 11, |a|² 9, |b|² 14, error² 1.
    a.add([1, 2, 2], [1, 2, 3], [1, 3]);
    const r = a.result();
    expect(r.cosine).toBeCloseTo(11 / Math.sqrt(9 * 14), 12);
    expect(r.sqnrDb).toBeCloseTo(10 * Math.log10(9 / 1), 12);
    expect(r.maxAbs).toBe(1);
    expect(r.meanAbs).toBeCloseTo(1 / 3, 12);
    expect(r.headline.metric).toBe('cosine');
  });

  it('sums accumulate over samples; identical outputs have no SQNR (null) and cosine 1', () => {
    const a = new FidelityAccumulator('y', 'regression');
    a.add([3, 4], [3, 4], [1, 2]);
    a.add([0, 1], [0, 1], [1, 2]);
    expect(a.result().sqnrDb).toBeNull();
    expect(a.result().cosine).toBe(1);
    const b = new FidelityAccumulator('y', 'regression');
    b.add([3, 4], [3, 4], [1, 2]);
    b.add([0, 1], [0, 0], [1, 2]);
    // signal 9+16+1 = 26, noise 1.
    expect(b.result().sqnrDb).toBeCloseTo(10 * Math.log10(26), 12);
  });

  it('top-1 agreement counts rows whose argmax matches', () => {
    const a = new FidelityAccumulator('logits');
    a.add([0, 5, 1, /**/ 2, 1, 0], [0, 4, 1, /**/ 0, 1, 3], [2, 3]);
    a.add([9, 0, 0], [8, 0, 0], [1, 3]);
    const r = a.result();
    expect(r.task).toBe('classification');
    expect(r.top1Agreement).toBeCloseTo(2 / 3, 12);
    expect(r.headline.metric).toBe('top-1 agreement');
  });

  it('KL divergence of probabilities and of logits (softmax applied)', () => {
    // p = [0.5, 0.5], q = [0.25, 0.75]: KL = 0.5 ln 2 + 0.5 ln(2/3).
    expect(klRow([0.5, 0.5], [0.25, 0.75], 0, 2, true)).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 12);
    // logits [0, 0] → [0.5, 0.5]; [0, ln 3] → [0.25, 0.75]: the same KL.
    expect(klRow([0, 0], [0, Math.log(3)], 0, 2, false)).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 12);
    expect(klRow([1, 2, 3], [1, 2, 3], 0, 3, false)).toBeCloseTo(0, 14);
    const a = new FidelityAccumulator('probs');
    a.add([0.5, 0.5], [0.25, 0.75], [1, 2]);
    expect(a.result().klDivergence).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 12);
  });

  it('mask IoU and flipped pixels for probability maps', () => {
    const a = new FidelityAccumulator('map', undefined, 0.5);
    // 2×2 maps [N,1,H,W]. original mask {0,1}, candidate mask {1,2}: IoU = 1/3, flipped 2 of 4.
    a.add([0.9, 0.8, 0.1, 0.2], [0.4, 0.7, 0.6, 0.1], [1, 1, 2, 2]);
    const r = a.result();
    expect(r.task).toBe('map');
    expect(r.maskIoU).toBeCloseTo(1 / 3, 12);
    expect(r.flippedPixels).toBeCloseTo(0.5, 12);
    expect(r.headline.metric).toBe('mask IoU @ 0.5');
  });

  it('per-position agreement for sequences', () => {
    const a = new FidelityAccumulator('chars');
    // [1, T=3, C=2] logits: argmax original 1,0,1; candidate 1,1,1 → 2 of 3.
    a.add([0, 2, 2, 0, 0, 2], [0, 2, 0, 2, 0, 2], [1, 3, 2]);
    const r = a.result();
    expect(r.task).toBe('sequence');
    expect(r.positionAgreement).toBeCloseTo(2 / 3, 12);
    // KL averaged over the 3 positions: only the middle one differs, softmax [2, 0] vs softmax [0, 2].
    const p = Math.exp(2) / (Math.exp(2) + 1);
    const klMiddle = p * Math.log(p / (1 - p)) + (1 - p) * Math.log((1 - p) / p);
    expect(r.klDivergence).toBeCloseTo(klMiddle / 3, 12);
  });

  it('infers the task from shape and value range', () => {
    expect(inferTask([1, 10], [0.1, -2])).toBe('classification');
    expect(inferTask([1, 1, 32, 32], new Float32Array(1024).fill(0.3))).toBe('map');
    expect(inferTask([1, 25, 97], [-3, 4])).toBe('sequence');
    expect(inferTask([1, 1, 32, 32], [-3, 4])).toBe('regression');
    expect(inferTask([1, 1], [2])).toBe('regression');
    expect(inferTask([1, 64, 64], new Float32Array(64 * 64).fill(0.5))).toBe('map');
    // Softmax per position: rows sum to 1 → a sequence, although every value is in [0, 1].
    expect(inferTask([1, 3, 4], [0.25, 0.25, 0.25, 0.25, 0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0])).toBe('sequence');
  });

  it('non-finite values are counted, not summed', () => {
    const a = new FidelityAccumulator('y', 'regression');
    a.add([1, NaN, 2], [1, 1, 2], [1, 3]);
    expect(a.result().nonFinite).toBe(1);
    expect(a.result().sqnrDb).toBeNull();
  });

  it('different lengths are an error naming the output', () => {
    const a = new FidelityAccumulator('y');
    expect(() => a.add([1, 2], [1], [1, 2])).toThrow(/Output "y"/);
  });
});

describe('latency statistics', () => {
  it('quantiles interpolate like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1, 12);
  });
  it('spread is (p90 − p10) / median', () => {
    const s = summarizeTimes([10, 10, 10, 10, 20], 50);
    expect(s.medianMs).toBe(10);
    expect(s.p90Ms).toBe(16);
    expect(s.p10Ms).toBe(10);
    expect(s.spreadPct).toBeCloseTo(60, 12);
    expect(s.firstRunMs).toBe(50);
  });
});

describe('latency harness', () => {
  it('times interleaved, reports the first run apart, and groups sub-millisecond inferences', async () => {
    let clock = 0;
    const order: string[] = [];
    const session = (name: string, ms: number) => ({
      inputNames: [],
      outputNames: [],
      run: async () => {
        order.push(name);
        clock += ms;
        return {};
      },
      release: async () => undefined,
    });
    const { measureLatency } = await import('./latency');
    const [a, b] = await measureLatency([session('a', 0.25), session('b', 0.5)], {}, { runs: 4, warmup: 1, warmupMs: 0, now: () => clock });
    // Fastest single run 0.25 ms → groups of 20 inferences, so one timed sample lasts 5 ms.
    expect(a!.inferencesPerSample).toBe(20);
    expect(a!.medianMs).toBeCloseTo(0.25, 12);
    expect(b!.medianMs).toBeCloseTo(0.5, 12);
    expect(a!.spreadPct).toBe(0);
    expect(a!.runs).toBe(4);
    // After warm-up and calibration: 20 a then 20 b, then b before a, alternating.
    const timed = order.slice(6).join('');
    expect(timed.slice(0, 40)).toBe('a'.repeat(20) + 'b'.repeat(20));
    expect(timed.slice(40, 80)).toBe('b'.repeat(20) + 'a'.repeat(20));
  });
});

describe('runtime failures carry their context', () => {
  it('names the model, the sample and its shapes, with a hint for synthetic inputs', async () => {
    const { runSample } = await import('./evaluate');
    const failing = {
      inputNames: ['x'],
      outputNames: ['y'],
      run: async () => Promise.reject(new Error('Pad reflect: pre-pad exceeds')),
      release: async () => undefined,
    };
    const sample = {
      id: 'synthetic #1',
      feeds: {
        x: { dtype: 'float32' as const, dims: [1, 32], data: new Float32Array(32) },
        sr: { dtype: 'int64' as const, dims: [], data: new BigInt64Array(1) },
      },
    };
    await expect(runSample(failing, sample, 'original')).rejects.toThrow(
      /original model on synthetic #1 \(x 1×32, sr scalar\): Pad reflect.*set the sizes the model expects/,
    );
    await expect(runSample(failing, { ...sample, id: 'cat/1.png' }, 'compressed')).rejects.toThrow(
      /^onnxruntime could not run the compressed model on cat\/1\.png \(x 1×32, sr scalar\): Pad reflect: pre-pad exceeds\.$/,
    );
  });
});
