/**
 * Labels from a CSV ("file,label" rows) and mapping of label strings to class indices.
 *
 * - Separator: comma, semicolon or tab, whichever the first line uses most (outside quotes).
 * - Quoted fields with "" escapes; a UTF-8 BOM and blank lines are ignored.
 * - Header: optional, recognised by column names such as file/filename/image/path and label/class/target.
 *   With a header, the file and label columns are found by name; without one, they are columns 1 and 2.
 * - Labels are integers (kept as class indices) or class names; names are numbered in sorted order
 *   (plain code-point sort, like torchvision's ImageFolder sorting its folder names).
 */
import { EvalInputError } from '../types';

const FILE_COLUMNS = [
  'file',
  'filename',
  'file_name',
  'filepath',
  'file_path',
  'fname',
  'image',
  'images',
  'image_name',
  'image_id',
  'image_path',
  'img',
  'path',
  'name',
  'id',
];
const LABEL_COLUMNS = ['label', 'labels', 'class', 'class_name', 'classname', 'class_id', 'category', 'target', 'y', 'label_id', 'label_name'];

export function parseLabelsCsv(text: string, fileName = 'labels.csv'): Map<string, string> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const firstLine = lines.find((l) => l.trim().length > 0);
  if (firstLine === undefined) throw new EvalInputError(`${fileName} is empty.`);
  const separator = detectSeparator(firstLine);

  const rows: { cells: string[]; line: number }[] = [];
  lines.forEach((line, index) => {
    if (line.trim().length > 0) rows.push({ cells: splitRow(line, separator).map((c) => c.trim()), line: index + 1 });
  });

  let fileColumn = 0;
  let labelColumn = 1;
  const head = rows[0]!.cells.map((c) => c.toLowerCase());
  const headFile = head.findIndex((c) => FILE_COLUMNS.includes(c));
  const headLabel = head.findIndex((c) => LABEL_COLUMNS.includes(c));
  if (headFile >= 0 || headLabel >= 0) {
    fileColumn = headFile >= 0 ? headFile : headLabel === 0 ? 1 : 0;
    labelColumn = headLabel >= 0 ? headLabel : fileColumn === 0 ? 1 : 0;
    rows.shift();
  }

  const labels = new Map<string, string>();
  for (const { cells, line } of rows) {
    const file = cells[fileColumn];
    const label = cells[labelColumn];
    if (!file || label === undefined || label === '') {
      throw new EvalInputError(`${fileName} line ${line}: expected a file name and a label separated by '${separator === '\t' ? '\\t' : separator}'.`);
    }
    const key = normalizePath(file);
    const previous = labels.get(key);
    if (previous !== undefined && previous !== label) {
      throw new EvalInputError(`${fileName} line ${line}: '${file}' is labelled both '${previous}' and '${label}'.`);
    }
    labels.set(key, label);
  }
  if (labels.size === 0) throw new EvalInputError(`${fileName} has a header but no rows.`);
  return labels;
}

function detectSeparator(line: string): string {
  const counts: Record<string, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch in counts) counts[ch]!++;
  }
  return Object.entries(counts).sort((a, b) => b[1] - a[1])[0]![0];
}

function splitRow(line: string, separator: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === separator) {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

export function normalizePath(path: string): string {
  return path
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .replace(/^\/+/, '');
}

export function baseName(path: string): string {
  const parts = normalizePath(path).split('/');
  return parts[parts.length - 1]!;
}

export function stemOf(path: string): string {
  const base = baseName(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

export interface ResolvedLabels {
  /** One class index per id. */
  labels: number[];
  /** Set when the labels were names: index → name, sorted. */
  classNames?: string[];
}

/** Integer strings stay numbers; any non-integer label makes all of them names, numbered in sorted order. */
export function labelsToIndices(values: readonly string[]): ResolvedLabels {
  if (values.every((v) => /^\d+$/.test(v.trim()))) return { labels: values.map((v) => Number(v)) };
  const classNames = [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(classNames.map((name, i) => [name, i]));
  return { labels: values.map((v) => index.get(v)!), classNames };
}

/**
 * Labels for `ids` (relative paths) from a CSV map or from one folder name per id.
 * CSV matching per id: the full relative path, then a trailing part of it (the CSV may omit a top folder),
 * then the basename, then the basename without extension. Every id must match.
 */
export function resolveLabels(ids: readonly string[], source: ReadonlyMap<string, string> | readonly string[], sourceName = 'labels.csv'): ResolvedLabels {
  if (Array.isArray(source)) {
    if (source.length !== ids.length) throw new Error('resolveLabels: one folder name per id expected');
    return labelsToIndices(source as readonly string[]);
  }
  const lookup = new LabelLookup(source as ReadonlyMap<string, string>);
  const values: string[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const label = lookup.find(id);
    if (label === undefined) missing.push(id);
    else values.push(label);
  }
  if (missing.length > 0) {
    const sample = [...(source as ReadonlyMap<string, string>).keys()]
      .slice(0, 3)
      .map((k) => `'${k}'`)
      .join(', ');
    const which =
      missing
        .slice(0, 5)
        .map((m) => `'${m}'`)
        .join(', ') + (missing.length > 5 ? `, … (${missing.length} in all)` : '');
    throw new EvalInputError(
      missing.length === ids.length
        ? `${sourceName} names none of the ${ids.length} files (the files are like '${ids[0]}'; the CSV lists ${sample}).`
        : `${sourceName} has no label for ${which}.`,
    );
  }
  return labelsToIndices(values);
}

class LabelLookup {
  private readonly byPath = new Map<string, string>();
  private readonly byBase = new Map<string, string | null>();
  private readonly byStem = new Map<string, string | null>();

  constructor(source: ReadonlyMap<string, string>) {
    for (const [key, label] of source) {
      const path = normalizePath(key);
      this.byPath.set(path, label);
      addUnique(this.byBase, baseName(path), label);
      addUnique(this.byStem, stemOf(path), label);
    }
  }

  find(id: string): string | undefined {
    const parts = normalizePath(id).split('/');
    for (let start = 0; start < parts.length; start++) {
      const label = this.byPath.get(parts.slice(start).join('/'));
      if (label !== undefined) return label;
    }
    return this.byBase.get(baseName(id)) ?? this.byStem.get(stemOf(id)) ?? undefined;
  }
}

/** null marks a name that two CSV rows share with different labels: ambiguous, so it matches nothing. */
function addUnique(map: Map<string, string | null>, key: string, label: string): void {
  const existing = map.get(key);
  map.set(key, existing === undefined || existing === label ? label : null);
}
