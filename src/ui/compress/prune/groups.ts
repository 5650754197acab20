/** Pure helpers for the channel-groups view: members gathered per layer and role, importance bars downsampled. */
import type { PruneGroupMember } from '../../../core/compress/prune/apply';

export const ROLE_TEXT: Record<PruneGroupMember['role'], string> = {
  produces: 'makes these channels',
  follows: 'carries them (depthwise)',
  scales: 'per-channel parameters',
  reads: 'reads them (input channels)',
};

const ROLE_ORDER: PruneGroupMember['role'][] = ['produces', 'follows', 'scales', 'reads'];

export interface GroupLayer {
  layer: string;
  op: string;
  role: PruneGroupMember['role'];
  /** Indices of the layer's cut axis in the group (the largest over its tensors: a depthwise multiplier or a Flatten repeats channels). */
  channels: number;
  tensors: string[];
}

/** One row per layer and role: a BatchNormalization's four parameters are one row, a Conv's weight and bias one. */
export function groupLayers(members: PruneGroupMember[]): GroupLayer[] {
  const rows = new Map<string, GroupLayer>();
  for (const m of members) {
    // A layer's own bias is "scales" but belongs with the layer that makes the channels.
    const producing = members.some((x) => x.layer === m.layer && (x.role === 'produces' || x.role === 'follows'));
    const role = m.role === 'scales' && producing ? members.find((x) => x.layer === m.layer && (x.role === 'produces' || x.role === 'follows'))!.role : m.role;
    const key = `${m.layer}|${role}`;
    const row = rows.get(key);
    if (row) {
      row.channels = Math.max(row.channels, m.channels);
      if (!row.tensors.includes(m.tensor)) row.tensors.push(m.tensor);
    } else rows.set(key, { layer: m.layer, op: m.op, role, channels: m.channels, tensors: [m.tensor] });
  }
  return [...rows.values()].sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role));
}

/**
 * At most `max` bars for importances listed kept-first: each bar is the largest value of its run of channels, and no
 * bar mixes kept and removed channels.
 */
export function importanceBars(values: number[], kept: number, max: number): { value: number; kept: boolean }[] {
  const total = values.length;
  if (total <= max) return values.map((value, i) => ({ value, kept: i < kept }));
  const keptBars = kept === 0 ? 0 : kept === total ? max : Math.min(max - 1, Math.max(1, Math.round((max * kept) / total)));
  const part = (from: number, to: number, bars: number, isKept: boolean) =>
    Array.from({ length: bars }, (_, b) => {
      const lo = from + Math.floor(((to - from) * b) / bars);
      const hi = Math.max(lo + 1, from + Math.floor(((to - from) * (b + 1)) / bars));
      return { value: Math.max(...values.slice(lo, hi)), kept: isKept };
    });
  return [...part(0, kept, keptBars, true), ...part(kept, total, max - keptBars, false)];
}
