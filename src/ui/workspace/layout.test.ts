import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYOUT, LAYOUT_KEY, PANE_LIMITS, effectiveWidth, paneLimits, readLayout, sanitizeLayout, writeLayout, type Layout } from './layout';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    data,
  };
}

describe('sanitizeLayout', () => {
  it('keeps a valid layout as it is', () => {
    const layout: Layout = { left: 400, right: 500, leftCollapsed: true, rightCollapsed: false, tab: 'layer', view: 'evaluate', overlay: 'sqnr' };
    expect(sanitizeLayout(layout)).toEqual(layout);
  });

  it('clamps widths to the pane limits and rounds them', () => {
    const out = sanitizeLayout({ left: 5, right: 99_999.4 });
    expect(out.left).toBe(PANE_LIMITS.left.min);
    expect(out.right).toBe(PANE_LIMITS.right.max);
    expect(sanitizeLayout({ left: 300.6 }).left).toBe(301);
  });

  it('defaults each bad field on its own', () => {
    const out = sanitizeLayout({ left: 'wide', right: NaN, leftCollapsed: 'yes', rightCollapsed: 1, tab: 'tensors', view: 'lab', overlay: 'heat' });
    expect(out).toEqual(DEFAULT_LAYOUT);
    expect(sanitizeLayout({ left: 250, tab: 'nope' })).toEqual({ ...DEFAULT_LAYOUT, left: 250 });
  });

  it('gives the defaults for anything that is not an object', () => {
    for (const raw of [null, undefined, 42, 'x', [1, 2], true]) expect(sanitizeLayout(raw)).toEqual(DEFAULT_LAYOUT);
  });
});

describe('readLayout / writeLayout', () => {
  it('round-trips through storage under the versioned key', () => {
    const storage = memoryStorage();
    const layout: Layout = { ...DEFAULT_LAYOUT, left: 280, tab: 'layer' };
    writeLayout(layout, storage);
    expect([...storage.data.keys()]).toEqual([LAYOUT_KEY]);
    expect(readLayout(storage)).toEqual(layout);
  });

  it('falls back to the defaults on missing, unparsable or wrong JSON', () => {
    expect(readLayout(memoryStorage())).toEqual(DEFAULT_LAYOUT);
    expect(readLayout(memoryStorage({ [LAYOUT_KEY]: '{not json' }))).toEqual(DEFAULT_LAYOUT);
    expect(readLayout(memoryStorage({ [LAYOUT_KEY]: 'null' }))).toEqual(DEFAULT_LAYOUT);
    expect(readLayout(memoryStorage({ [LAYOUT_KEY]: '[]' }))).toEqual(DEFAULT_LAYOUT);
    expect(readLayout(memoryStorage({ [LAYOUT_KEY]: JSON.stringify({ left: -40, view: 'evaluate' }) }))).toEqual({
      ...DEFAULT_LAYOUT,
      left: PANE_LIMITS.left.min,
      view: 'evaluate',
    });
  });

  it('survives storage that throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
    };
    expect(readLayout(broken)).toEqual(DEFAULT_LAYOUT);
    expect(() => writeLayout(DEFAULT_LAYOUT, broken)).not.toThrow();
  });
});

describe('pane widths in a viewport', () => {
  it('draws the stored widths where they fit (1440 px)', () => {
    expect(effectiveWidth('left', 1440, DEFAULT_LAYOUT)).toBe(DEFAULT_LAYOUT.left);
    expect(effectiveWidth('right', 1440, DEFAULT_LAYOUT)).toBe(DEFAULT_LAYOUT.right);
  });

  it('at 1024 px keeps the recipe at least its minimum and the centre at least 360 px', () => {
    const wide: Layout = { ...DEFAULT_LAYOUT, left: 700, right: 760 };
    const right = effectiveWidth('right', 1024, wide);
    const left = effectiveWidth('left', 1024, wide);
    expect(right).toBeGreaterThanOrEqual(PANE_LIMITS.right.min);
    expect(left).toBeGreaterThanOrEqual(PANE_LIMITS.left.min);
    expect(1024 - left - right - 16).toBeGreaterThanOrEqual(360);
  });

  it('gives the recipe more room when the left rail is collapsed or hidden (Evaluate)', () => {
    const open = paneLimits('right', 1200, DEFAULT_LAYOUT).max;
    expect(paneLimits('right', 1200, { ...DEFAULT_LAYOUT, leftCollapsed: true }).max).toBeGreaterThan(open);
    expect(paneLimits('right', 1200, { ...DEFAULT_LAYOUT, view: 'evaluate' }).max).toBeGreaterThan(open);
  });

  it('never gives a maximum below the minimum, however narrow the viewport', () => {
    for (const pane of ['left', 'right'] as const) {
      const { min, max } = paneLimits(pane, 600, DEFAULT_LAYOUT);
      expect(max).toBeGreaterThanOrEqual(min);
    }
  });
});
