import { describe, expect, it } from 'vitest';
import { runFuzz, type FuzzCase } from './fuzz/fuzz';
import { fuzzSeeds } from './fuzz/seeds';

/** Per case: what a hostile file may cost at most. */
const MAX_CASE_MS = 10_000;
const MAX_HEAP_GROWTH = 512 << 20;

describe('fuzzing (seeded mutations of real models and fixtures)', () => {
  it("every mutated model opens, analyses and compresses, or fails with the studio's own clean error, within bounds", async () => {
    const summary = await runFuzz({ seeds: fuzzSeeds({ realModels: true }), cases: 300, seed: 14, compressBelow: 128 << 10 });
    const show = (c: FuzzCase) => `#${c.index} ${c.mutation} of ${c.seed} at ${c.stage}: ${c.error}`;
    expect(summary.crashes.map(show)).toEqual([]);
    expect(summary.outcomes.success + summary.outcomes['clean-error']).toBe(300);
    // Both ends are exercised: mutations that stay valid and ones that are refused.
    expect(summary.outcomes.success).toBeGreaterThan(20);
    expect(summary.outcomes['clean-error']).toBeGreaterThan(50);
    expect(summary.slowest.ms, show(summary.slowest)).toBeLessThan(MAX_CASE_MS);
    expect(summary.largestHeapGrowth.heapGrowth, show(summary.largestHeapGrowth)).toBeLessThan(MAX_HEAP_GROWTH);
  });
});
