import { useEffect, useState } from 'react';

/** True once `since` (a performance.now() time, or null) lies at least `ms` in the past; re-renders when it flips. */
export function usePast(since: number | null, ms: number): boolean {
  const [past, setPast] = useState(false);
  useEffect(() => {
    if (since === null) {
      setPast(false);
      return;
    }
    const left = since + ms - performance.now();
    if (left <= 0) {
      setPast(true);
      return;
    }
    setPast(false);
    const timer = setTimeout(() => setPast(true), left);
    return () => clearTimeout(timer);
  }, [since, ms]);
  return past;
}
