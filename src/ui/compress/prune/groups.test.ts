import { describe, expect, it } from 'vitest';
import type { PruneGroupMember } from '../../../core/compress/prune/apply';
import { groupLayers, importanceBars } from './groups';

const m = (layer: string, role: PruneGroupMember['role'], tensor: string, channels = 8, op = 'Conv'): PruneGroupMember => ({
  layer,
  op,
  tensor,
  axis: 0,
  role,
  channels,
});

describe('channel-groups view helpers', () => {
  it("gathers members per layer and role: a layer's bias with its weight, BN parameters in one row, readers last", () => {
    const rows = groupLayers([
      m('conv', 'produces', 'conv.w'),
      m('next', 'reads', 'next.w'),
      m('conv', 'scales', 'conv.b'),
      m('bn', 'scales', 'bn.scale', 8, 'BatchNormalization'),
      m('bn', 'scales', 'bn.bias', 8, 'BatchNormalization'),
      m('dw', 'follows', 'dw.w', 16),
    ]);
    expect(rows.map((r) => [r.layer, r.role, r.tensors.join('+'), r.channels])).toEqual([
      ['conv', 'produces', 'conv.w+conv.b', 8],
      ['dw', 'follows', 'dw.w', 16],
      ['bn', 'scales', 'bn.scale+bn.bias', 8],
      ['next', 'reads', 'next.w', 8],
    ]);
  });

  it('importance bars: all values when few; downsampled by maxima without mixing kept and removed', () => {
    expect(importanceBars([3, 2, 1], 2, 10)).toEqual([
      { value: 3, kept: true },
      { value: 2, kept: true },
      { value: 1, kept: false },
    ]);
    const values = Array.from({ length: 200 }, (_, i) => 200 - i);
    const bars = importanceBars(values, 150, 40);
    expect(bars).toHaveLength(40);
    expect(bars.filter((b) => b.kept)).toHaveLength(30);
    expect(bars[0]!.value).toBe(200);
    expect(bars[30]).toEqual({ value: 50, kept: false });
  });
});
