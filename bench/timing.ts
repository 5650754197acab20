/** Timing for the benches: the median of `runs` calls after one warm-up call. */

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function timeIt(runs: number, f: () => Promise<unknown> | unknown): Promise<number> {
  await f(); // warm-up (also lets the engine tier up the code, and wasm)
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return median(times);
}
