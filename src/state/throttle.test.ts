import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { latestEvery } from './throttle';

describe('latestEvery', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes the first value at once, then the latest at most once per interval, and never loses the last', () => {
    const seen: number[] = [];
    const t = latestEvery<number>(100, (v) => seen.push(v));
    t.push(1);
    expect(seen).toEqual([1]);
    t.push(2);
    t.push(3);
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(99);
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([1, 3]);
    vi.advanceTimersByTime(500);
    t.push(4);
    expect(seen).toEqual([1, 3, 4]);
  });

  it('drops what is pending when cancelled', () => {
    const seen: number[] = [];
    const t = latestEvery<number>(100, (v) => seen.push(v));
    t.push(1);
    t.push(2);
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([1]);
  });
});
