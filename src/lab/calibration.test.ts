import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type Recipe } from '../core/recipe';
import { labCalibration, labCalibrationNeeds } from './calibration';
import type { CalibrationOutcome } from '../protocol/eval';

const int4: Recipe = { version: 1, quantize: { ...DEFAULT_QUANTIZE, bits: 4 } };
const gptq: Recipe = { version: 1, quantize: { ...DEFAULT_QUANTIZE, bits: 4, gptq: { enabled: true }, calibrationSamples: 32 } };
const sparse: Recipe = { version: 1, prune: { ...DEFAULT_PRUNE, method: 'sparsegpt', calibrationSamples: 96 } };
const channelSparse: Recipe = { version: 1, prune: { ...DEFAULT_PRUNE, pattern: 'channel', method: 'sparsegpt' } };
const static8 = (exclude: string[]): Recipe => ({ version: 1, quantize: { ...DEFAULT_QUANTIZE, format: 'static', exclude } });

const outcome = (gptqLayers: boolean): CalibrationOutcome =>
  ({
    stats: new Map(),
    samples: 7,
    dataset: 'd',
    synthetic: false,
    unreachable: [],
    peakBytes: 0,
    ...(gptqLayers ? { gptq: new Map() } : {}),
  }) as CalibrationOutcome;

describe('lab calibration for sweeps and sensitivity', () => {
  it('needs: none for plain recipes (and channel pruning, which SparseGPT leaves to norms); the largest count; Hessians when any point takes them', () => {
    expect(labCalibrationNeeds([int4, channelSparse])).toBeUndefined();
    expect(labCalibrationNeeds([int4, gptq])).toEqual({ count: 32, hessians: true, statics: [] });
    expect(labCalibrationNeeds([gptq, sparse, int4])).toMatchObject({ count: 96, hessians: true });
    expect(labCalibrationNeeds([static8([])])).toMatchObject({ count: 64, hessians: false });
  });

  it('captures once: the union of every static point’s activations, Hessians when asked', async () => {
    const names = vi.fn(async (q: { exclude: string[] }) => (q.exclude.length ? ['a'] : ['a', 'b']));
    const calibrate = vi.fn(async (_n: string[], _c: number, h: boolean) => outcome(h));
    const got = await labCalibration([static8([]), static8(['x']), static8([]), gptq], names, calibrate);
    expect(names).toHaveBeenCalledTimes(2);
    expect(calibrate).toHaveBeenCalledTimes(1);
    expect(calibrate.mock.calls[0]!.slice(0, 3)).toEqual([['a', 'b'], 64, true]);
    expect(got).toMatchObject({ samples: 7 });
    expect(got!.gptq).toBeInstanceOf(Map);
    expect(await labCalibration([int4], names, calibrate)).toBeUndefined();
  });
});
