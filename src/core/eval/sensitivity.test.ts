import { describe, expect, it } from 'vitest';
import { DEFAULT_QUANTIZE } from '../recipe';
import { planMixedPrecision, savingText, type LayerSensitivity } from './sensitivity';

const bytes = (n: number) => `${n} B`;
const layer = (name: string, damage: number, savedBytes: number): LayerSensitivity => ({
  name,
  layer: name,
  op: 'Conv',
  elements: 72,
  damage,
  sizeBytes: 10_000 - savedBytes,
  savedBytes,
});

describe('a layer whose compression grows the file', () => {
  it('says so instead of a negative saving', () => {
    expect(savingText(1726, bytes)).toBe('saves 1726 B');
    expect(savingText(-1073, bytes)).toBe('grows the file by 1073 B');
    expect(savingText(0, bytes)).toBe('saves 0 B');
  });

  it('is never compressed to meet a size target', () => {
    const recipe = { version: 1 as const, quantize: { ...DEFAULT_QUANTIZE, format: 'static' as const } };
    // conv1: static int8's Q/DQ overhead outweighs its 288 B of weights (the demo model: −1073 B measured).
    const plan = planMixedPrecision(recipe, [layer('conv1.weight', 0, -1073), layer('fc1.weight', 0.01, 5000)], 10_000, { sizeBytes: 1 });
    expect(plan.compressed).toEqual(['fc1.weight']);
    expect(plan.protectedLayers).toEqual(['conv1.weight']);
    expect(plan.estimatedBytes).toBe(5000);
  });
});
