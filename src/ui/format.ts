/** Display helpers: numbers with units, shapes, and friendly data-type names. */

const integer = new Intl.NumberFormat('en-US');

/** 1234567 → "1,234,567". */
export function formatInteger(n: number): string {
  return integer.format(n);
}

/** Decimal units, as file managers and download pages show them: 1326578 → "1.33 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}

/** Short count: 1234567 → "1.23 M", 8450 → "8.45 k"; below 1000 the exact number. */
export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  const units = ['k', 'M', 'B', 'T'];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}

/** [batch, 1, 28, 28] → "batch × 1 × 28 × 28"; [] → "scalar". */
export function formatShape(shape: readonly (number | string)[]): string {
  return shape.length === 0 ? 'scalar' : shape.join(' × ');
}

export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  const p = (part / whole) * 100;
  return p > 0 && p < 0.1 ? '<0.1%' : `${p >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
}

const DTYPE_NAMES: Record<string, string> = {
  FLOAT: 'float32',
  DOUBLE: 'float64',
  FLOAT16: 'float16',
  BFLOAT16: 'bfloat16',
  INT4: 'int4',
  UINT4: 'uint4',
  INT8: 'int8',
  UINT8: 'uint8',
  INT16: 'int16',
  UINT16: 'uint16',
  INT32: 'int32',
  UINT32: 'uint32',
  INT64: 'int64',
  UINT64: 'uint64',
  BOOL: 'bool',
  STRING: 'string',
  COMPLEX64: 'complex64',
  COMPLEX128: 'complex128',
  FLOAT8E4M3FN: 'float8 e4m3fn',
  FLOAT8E4M3FNUZ: 'float8 e4m3fnuz',
  FLOAT8E5M2: 'float8 e5m2',
  FLOAT8E5M2FNUZ: 'float8 e5m2fnuz',
  FLOAT4E2M1: 'float4 e2m1',
};

/** ONNX type name → the name most ML tools use ("FLOAT" → "float32"). */
export function dtypeLabel(onnxName: string): string {
  return DTYPE_NAMES[onnxName] ?? onnxName.toLowerCase();
}

/** The ONNX default domain is the empty string (or "ai.onnx"); show it by its usual name. */
export function domainLabel(domain: string): string {
  return domain === '' ? 'ai.onnx' : domain;
}

/**
 * A weight value with 4 significant digits: 0.01234, -1.5, 3.2e-5 (tiny and huge values in
 * exponent notation); NaN (no finite value) as "—".
 */
export function formatValue(x: number): string {
  if (Number.isNaN(x)) return '—';
  if (x === Infinity) return '+∞';
  if (x === -Infinity) return '−∞';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  const text = abs >= 1e5 || abs < 1e-3 ? x.toExponential(2).replace('e+', 'e') : String(Number(x.toPrecision(4)));
  return text.replace('-', '−');
}

/** Milliseconds: "0.4 ms", "52 ms", "1.3 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 0.1) return '<0.1 ms';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** A fraction in [0, 1] as a percentage: 0.0004 → "0.04%", 0.5 → "50%", 0 → "0%". */
export function formatFraction(f: number): string {
  if (!Number.isFinite(f)) return '—';
  if (f === 0) return '0%';
  const p = f * 100;
  if (p < 0.01) return '<0.01%';
  if (p < 1) return `${p.toFixed(2)}%`;
  if (p < 10) return `${p.toFixed(1)}%`;
  if (p > 99.9 && p < 100) return '>99.9%';
  return `${p.toFixed(0)}%`;
}
