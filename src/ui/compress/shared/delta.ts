/** "↓82.9%" / "↑3.1%" / "±0%": the change from `before` to `after`, as people read a size drop. */
export function deltaText(before: number, after: number): string {
  if (before <= 0) return '';
  const change = (after - before) / before;
  const p = Math.abs(change) * 100;
  if (p < 0.05) return '±0%';
  return `${change < 0 ? '↓' : '↑'}${p >= 10 ? p.toFixed(1) : p.toFixed(2)}%`;
}

export function deltaTone(before: number, after: number): 'good' | 'bad' | 'neutral' {
  if (after < before * 0.9995) return 'good';
  if (after > before * 1.0005) return 'bad';
  return 'neutral';
}
