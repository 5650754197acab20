import { describe, expect, it } from 'vitest';
import { globalKeptCounts, keptCount, roundKept, roundingStep, topIndices } from './select';

describe('channel selection', () => {
  it('keeps (1 − s)·C channels, at least one, rounded to a multiple of 16 (64+ channels), 8 (32+) or 4 (16+)', () => {
    expect(keptCount(10, 0.3)).toBe(7);
    expect(keptCount(8, 0.5)).toBe(4);
    expect(keptCount(3, 0.95)).toBe(1);
    expect(keptCount(16, 0.3)).toBe(12); // 11.2 → 11 → 12
    expect(keptCount(24, 0.3)).toBe(16); // 16.8 → 17 → 16
    expect(keptCount(32, 0.3)).toBe(24); // 22.4 → 22 → 24
    expect(keptCount(40, 0.95)).toBe(8); // at least one step
    expect(keptCount(96, 0.3)).toBe(64); // 67.2 → 67 → 64
    expect(keptCount(144, 0.3)).toBe(96); // 100.8 → 101 → 96
    expect(keptCount(36, 0)).toBe(36); // 40 would be more than it has
    expect(roundingStep(63)).toBe(8);
    expect(roundKept(100, 61)).toBe(64);
  });

  it('top indices: largest first, ties by index, returned in index order', () => {
    expect(topIndices([0.1, 5, 3, 5, 0], 2)).toEqual([1, 3]);
    expect(topIndices([1, 1, 1], 2)).toEqual([0, 1]);
  });

  it('global ranking compares channels to their group mean and caps each group', () => {
    // Group 0 has a few dominant channels (the rest are small relative to its mean); group 1 is flat.
    const skewed = [10, 10, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
    const flat = [1, 1.1, 0.9, 1, 1.05, 0.95, 1, 1];
    expect(globalKeptCounts([skewed, flat], 0.375, 0.9)).toEqual([2, 8]);
    // A cap of 50 % moves the rest of the budget to the flat group.
    expect(globalKeptCounts([skewed, flat], 0.375, 0.5)).toEqual([4, 6]);
    // Never the last channel.
    expect(globalKeptCounts([[1, 2]], 0.95, 0.99)).toEqual([1]);
  });
});
