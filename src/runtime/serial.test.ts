import { describe, expect, it } from 'vitest';
import { serialOrt } from './serial';

describe('serialOrt', () => {
  it('runs calls one at a time in the order given, and a failed call does not stop the queue', async () => {
    const log: string[] = [];
    let inside = 0;
    let most = 0;
    const call = (name: string, ms: number, fail = false) =>
      serialOrt(async () => {
        inside++;
        most = Math.max(most, inside);
        log.push(`${name}:start`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${name}:end`);
        inside--;
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([call('a', 20), call('b', 1, true), call('c', 5)]);
    expect(most).toBe(1);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
