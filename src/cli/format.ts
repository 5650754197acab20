/** Plain-text helpers for the CLI's human-readable output. */

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

// C0 controls but newline, DEL, C1 controls (CSI 0x9b…), and bidi / zero-width marks that reorder or hide text.
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text fit for a terminal: control characters (escape sequences that set the title or clear the screen), bidi
 * overrides and line separators are shown as \u escapes; newlines are kept. Applied to everything the CLI prints.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => (c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** One table cell or name on a line of its own: also newlines and tabs escaped, so a name cannot forge lines. */
export function oneLine(text: string): string {
  return terminalSafe(text).replace(/\n/g, '\\n');
}

/** Left-aligned text columns, right-aligned numeric ones. Any number of rows (no argument spreads). */
export function table(headers: string[], rows: (string | number)[][], numeric: boolean[] = []): string {
  const cells = [headers, ...rows.map((r) => r.map((cell) => oneLine(String(cell))))];
  const widths = headers.map(() => 0);
  for (const r of cells) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c]!, (r[c] ?? '').length);
  const line = (r: string[]) =>
    r
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
