/**
 * Rows of the per-layer result tables: report entries joined with the page's tensor ids and the current
 * exclusion rules, sorted. Pure, so the sorting and marking are unit-tested.
 */
import type { PruneLayerReport } from '../../../core/compress/prune/apply';
import type { TensorReport } from '../../../core/compress/quantize/report';
import { exclusionOf, ownOverride, type Exclusion } from '../../../state/recipeEdits';

export type SortDir = 'asc' | 'desc';
export interface Sort<K extends string> {
  key: K;
  dir: SortDir;
}

interface Rules {
  exclude: string[];
  excludeOps: string[];
}

export interface QuantRow {
  report: TensorReport;
  /** The tensor's id in the page's summary (for selection), when found by name. */
  tensorId: number | undefined;
  exclusion: Exclusion | null;
  /** The bit width this row set for itself, if any. */
  ownBits: number | undefined;
}

export type QuantSortKey = 'name' | 'bits' | 'error' | 'before' | 'after';

export function quantRows(tensors: TensorReport[], rules: Rules & { overrides: { match: string; bits: number }[] }, idByName: Map<string, number>): QuantRow[] {
  return tensors.map((report) => ({
    report,
    tensorId: idByName.get(report.name),
    exclusion: exclusionOf(rules, report.name, report.layer, report.op),
    ownBits: ownOverride(rules.overrides, report.name)?.bits,
  }));
}

const byName = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

/** Quantized rows first (skipped ones always last), by the chosen key; 'error' ascending = lowest SQNR (worst) first. */
export function sortQuantRows(rows: QuantRow[], sort: Sort<QuantSortKey>): QuantRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const value = (r: QuantRow): number | string => {
    const t = r.report;
    switch (sort.key) {
      case 'name':
        return t.name;
      case 'bits':
        return t.bits;
      case 'error':
        return t.sqnrDb ?? Infinity;
      case 'before':
        return t.bytesBefore;
      case 'after':
        return t.bytesAfter;
    }
  };
  return [...rows].sort((a, b) => {
    const skipA = a.report.action === 'skip' ? 1 : 0;
    const skipB = b.report.action === 'skip' ? 1 : 0;
    if (skipA !== skipB) return skipA - skipB;
    const va = value(a);
    const vb = value(b);
    const c = typeof va === 'string' ? byName(va, vb as string) : va === vb ? 0 : va < (vb as number) ? -1 : 1;
    return c * sign || byName(a.report.name, b.report.name);
  });
}

export interface PruneRow {
  report: PruneLayerReport;
  tensorId: number | undefined;
  exclusion: Exclusion | null;
  ownSparsity: number | undefined;
}

export type PruneSortKey = 'name' | 'sparsity' | 'params' | 'macs' | 'error';

export function pruneRows(
  layers: PruneLayerReport[],
  rules: Rules & { overrides: { match: string; sparsity: number }[] },
  idByName: Map<string, number>,
): PruneRow[] {
  return layers.map((report) => ({
    report,
    tensorId: idByName.get(report.name),
    exclusion: exclusionOf(rules, report.name, report.layer, report.op),
    ownSparsity: ownOverride(rules.overrides, report.name)?.sparsity,
  }));
}

/** Pruned rows first, by the chosen key; 'error' descending = largest reconstruction error (worst) first. */
export function sortPruneRows(rows: PruneRow[], sort: Sort<PruneSortKey>): PruneRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const value = (r: PruneRow): number | string => {
    const l = r.report;
    switch (sort.key) {
      case 'name':
        return l.name;
      case 'sparsity':
        return l.sparsity;
      case 'params':
        return l.paramsBefore;
      case 'macs':
        return l.macsBefore ?? -1;
      case 'error':
        return l.relError;
    }
  };
  return [...rows].sort((a, b) => {
    const skipA = a.report.action === 'skip' ? 1 : 0;
    const skipB = b.report.action === 'skip' ? 1 : 0;
    if (skipA !== skipB) return skipA - skipB;
    const va = value(a);
    const vb = value(b);
    const c = typeof va === 'string' ? byName(va, vb as string) : va === vb ? 0 : va < (vb as number) ? -1 : 1;
    return c * sign || byName(a.report.name, b.report.name);
  });
}

/** A header click: the same key flips, a new key starts in its natural direction. */
export function nextSort<K extends string>(current: Sort<K>, key: K, natural: (key: K) => SortDir): Sort<K> {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: natural(key) };
}

/** Tensor ids by name (the first tensor of that name: names are unique within a graph). */
export function idsByName(tensors: { id: number; name: string }[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const t of tensors) if (!map.has(t.name)) map.set(t.name, t.id);
  return map;
}
