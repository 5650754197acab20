import { describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../core/eval/evaluate';
import type { LatencyStats } from '../core/eval/latency';
import type { SweepPoint } from '../core/eval/sweep';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type Recipe } from '../core/recipe';
import type { CompressOutcome } from './bridge';
import { compareResults, measuredFor } from './pinCompare';

const int8: Recipe = { version: 1, quantize: DEFAULT_QUANTIZE };
const int4: Recipe = { version: 1, quantize: { ...DEFAULT_QUANTIZE, bits: 4 } };

function result(
  recipe: Recipe,
  outputBytes: number,
  sqnr: Record<string, number | undefined>,
  fraction = 1,
  pruned: Record<string, number> = {},
): CompressOutcome {
  return {
    requestId: 1,
    recipe,
    inputBytes: 4000,
    outputBytes,
    coverage: { totalBytes: 4000, compressedBytes: 4000 * fraction, fraction, left: [] },
    runtime: [],
    backend: 'ts',
    ms: 1,
    quantize: {
      tensors: Object.entries(sqnr).map(([name, db]) => ({ name, action: db === undefined ? 'skip' : 'quantize', sqnrDb: db })),
    } as unknown as CompressOutcome['quantize'],
    prune: Object.keys(pruned).length
      ? ({ layers: Object.entries(pruned).map(([name, db]) => ({ name, action: 'prune', sqnrDb: db })) } as unknown as CompressOutcome['prune'])
      : undefined,
  };
}

describe('pin and compare', () => {
  it('sets sizes, coverage and per-layer SQNR side by side, largest loss first', () => {
    const pinned = result(int8, 1100, { a: 40, b: 38, c: 41 });
    const current = result(int4, 600, { a: 20, b: 30, c: undefined }, 0.9, { a: 12 });
    const cmp = compareResults(pinned, current);
    expect(cmp.sizes).toEqual({ pinned: 1100, current: 600, original: 4000 });
    expect(cmp.coverage).toEqual({ pinned: 1, current: 0.9 });
    // Rows in one result only come first (c: left out now; a: pruned only now), then a (−20 dB) before b (−8 dB).
    expect(cmp.layers.map((l) => `${l.step}:${l.name}:${l.deltaDb ?? '-'}`)).toEqual(['prune:a:-', 'quantize:c:-', 'quantize:a:-20', 'quantize:b:-8']);
    expect(cmp.layers.find((l) => l.name === 'c')).toMatchObject({ pinnedDb: 41, currentDb: undefined });
  });

  it('finds latency and accuracy measured for exactly that recipe', () => {
    const lat = (medianMs: number) => ({ medianMs }) as LatencyStats;
    const evaluation = {
      recipe: { version: 1, quantize: { ...DEFAULT_QUANTIZE } } as Recipe,
      report: {
        backends: [
          {
            backend: 'wasm',
            available: true,
            latency: { original: lat(2), candidate: lat(1.5) },
            accuracy: { original: 0.99, candidate: 0.98, labelled: 100, output: 'y' },
          },
        ],
      } as unknown as EvaluationReport,
    };
    expect(measuredFor(int8, evaluation, [])).toEqual({ source: 'evaluation', medianMs: 1.5, latencyRatio: 0.75, accuracy: 0.98 });
    expect(measuredFor(int4, evaluation, [])).toBeUndefined();
    // Key order of the recipe does not matter.
    const reordered = { quantize: { ...DEFAULT_QUANTIZE, bits: 4 }, version: 1 } as Recipe;
    const point = {
      id: 3,
      label: 'int4',
      recipe: reordered,
      isOriginal: false,
      sizeBytes: 500,
      relativeLatency: 0.9,
      accuracy: 0.95,
      frontier: true,
    } as SweepPoint;
    expect(measuredFor(int4, evaluation, [point])).toEqual({ source: 'sweep', latencyRatio: 0.9, medianMs: undefined, accuracy: 0.95 });
    expect(measuredFor({ version: 1, prune: DEFAULT_PRUNE }, evaluation, [point])).toBeUndefined();
  });
});
