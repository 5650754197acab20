/**
 * Passes on the latest value at most once per `ms` (the first at once, the last one always): per-sample progress
 * from a worker would otherwise re-render the page hundreds of times a second.
 */
export function latestEvery<T>(ms: number, apply: (value: T) => void): { push(value: T): void; cancel(): void } {
  let last = -Infinity;
  let pending: { value: T } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    if (!pending) return;
    const { value } = pending;
    pending = undefined;
    last = Date.now();
    apply(value);
  };
  return {
    push(value) {
      pending = { value };
      if (timer !== undefined) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait);
    },
    cancel() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
    },
  };
}
