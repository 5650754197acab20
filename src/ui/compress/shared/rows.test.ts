import { describe, expect, it } from 'vitest';
import type { PruneLayerReport } from '../../../core/compress/prune/apply';
import type { TensorReport } from '../../../core/compress/quantize/report';
import { bitsNote, containerBits } from '../quantize/meta';
import { deltaText, deltaTone } from './delta';
import { idsByName, nextSort, pruneRows, quantRows, sortPruneRows, sortQuantRows } from './rows';

function t(name: string, over: Partial<TensorReport> = {}): TensorReport {
  return {
    entryId: 0,
    name,
    graphPath: 'main',
    layer: name.split('.')[0]!,
    op: 'Gemm',
    kind: 'weight',
    dtype: 'FLOAT',
    scaleType: 'float32',
    path: [],
    elements: 100,
    bytesBefore: 400,
    bytesAfter: 100,
    action: 'quantize',
    bits: 8,
    storedBits: 8,
    format: 'qdq',
    granularity: 'channel',
    blockSize: 32,
    notes: [],
    sqnrDb: 40,
    relError: 0.01,
    ...over,
  };
}

function l(name: string, over: Partial<PruneLayerReport> = {}): PruneLayerReport {
  return {
    entryId: 0,
    name,
    layer: name.split('.')[0]!,
    op: 'Conv',
    pattern: 'unstructured',
    action: 'prune',
    sparsity: 0.5,
    paramsBefore: 100,
    paramsAfter: 50,
    relError: 0.2,
    sqnrDb: 14,
    ...over,
  };
}

const rules = { exclude: ['fc9*'], excludeOps: [], overrides: [{ match: 'b.weight', bits: 4 }] };

describe('per-layer result rows', () => {
  it('puts the worst quantized weight first and skipped ones last, and marks exclusions and own bits', () => {
    const report = [
      t('a.weight', { sqnrDb: 45 }),
      t('fc9.weight', { action: 'skip', reason: 'excluded', sqnrDb: undefined }),
      t('b.weight', { sqnrDb: 20, bits: 4 }),
      t('c.weight', { sqnrDb: 30 }),
    ];
    const rows = sortQuantRows(quantRows(report, rules, idsByName([{ id: 7, name: 'b.weight' }])), { key: 'error', dir: 'asc' });
    expect(rows.map((r) => r.report.name)).toEqual(['b.weight', 'c.weight', 'a.weight', 'fc9.weight']);
    expect(rows[0]).toMatchObject({ tensorId: 7, ownBits: 4, exclusion: null });
    expect(rows[3]!.exclusion).toEqual({ kind: 'pattern', by: 'fc9*' });
    const bySize = sortQuantRows(rows, { key: 'before', dir: 'desc' });
    expect(bySize.at(-1)!.report.name).toBe('fc9.weight');
    expect(sortQuantRows(rows, { key: 'name', dir: 'desc' }).map((r) => r.report.name)).toEqual(['c.weight', 'b.weight', 'a.weight', 'fc9.weight']);
  });

  it('puts the largest pruning error first and layers left alone last', () => {
    const layers = [
      l('a.weight', { relError: 0.1 }),
      l('z.weight', { action: 'skip', reason: 'left alone: residual Add', relError: 0 }),
      l('b.weight', { relError: 0.6 }),
    ];
    const rows = sortPruneRows(pruneRows(layers, { exclude: [], excludeOps: [], overrides: [{ match: 'a.weight', sparsity: 0.2 }] }, new Map()), {
      key: 'error',
      dir: 'desc',
    });
    expect(rows.map((r) => r.report.name)).toEqual(['b.weight', 'a.weight', 'z.weight']);
    expect(rows[1]!.ownSparsity).toBe(0.2);
  });

  it('flips the same column and starts a new one in its natural direction', () => {
    const natural = (k: string) => (k === 'name' ? 'asc' : 'desc') as 'asc' | 'desc';
    expect(nextSort({ key: 'error', dir: 'asc' }, 'error', natural)).toEqual({ key: 'error', dir: 'desc' });
    expect(nextSort({ key: 'error', dir: 'asc' }, 'name', natural)).toEqual({ key: 'name', dir: 'asc' });
  });

  it('writes size changes as people read them', () => {
    expect(deltaText(209_633, 35_800)).toBe('↓82.9%');
    expect(deltaText(100, 105)).toBe('↑5.00%');
    expect(deltaText(100, 100)).toBe('±0%');
    expect(deltaText(0, 5)).toBe('');
    expect([deltaTone(10, 5), deltaTone(10, 20), deltaTone(10, 10)]).toEqual(['good', 'bad', 'neutral']);
  });

  it('stores 2–4 bits in 4-bit containers and 5–8 in 8-bit ones (dynamic: always 8), and says so', () => {
    expect([2, 3, 4, 5, 6, 7, 8].map((b) => containerBits(b, 'auto'))).toEqual([4, 4, 4, 8, 8, 8, 8]);
    expect(containerBits(3, 'dynamic')).toBe(8);
    expect(bitsNote(4, 4)).toMatch(/^16 levels, stored as packed 4-bit integers: about 8× smaller/);
    expect(bitsNote(6, 8)).toMatch(/stored in 8-bit containers.*\(6 effective, 8 stored\)/);
    expect(bitsNote(3, 8)).toMatch(/dynamic quantization stores 8-bit integers only/);
  });
});
