/**
 * Fidelity metrics between an original model's output and a candidate's, accumulated over samples.
 * Generic numbers (cosine, SQNR, max |error|) for every output, plus the task-aware agreement that
 * matters for what the output *is*: top-1 and KL divergence for class scores, mask IoU for
 * probability maps, per-position argmax agreement for sequences.
 */

/** What an output is, which decides the headline metric. */
export type OutputTask = 'classification' | 'map' | 'sequence' | 'regression';

export const TASK_LABELS: Record<OutputTask, string> = {
  classification: 'class scores (top-1 agreement)',
  map: 'probability map (mask IoU)',
  sequence: 'sequence of class scores (per-position agreement)',
  regression: 'values (cosine / SQNR)',
};

export interface OutputFidelity {
  name: string;
  task: OutputTask;
  /** 'auto' when chosen from the output's shape and values, 'user' when set by hand. */
  taskSource: 'auto' | 'user';
  /** Cosine similarity over all values of all samples. */
  cosine: number;
  /** 10·log10(Σ original² / Σ (original − candidate)²); null when the outputs are identical. */
  sqnrDb: number | null;
  maxAbs: number;
  meanAbs: number;
  /** Share of rows (last axis) whose argmax agrees — classification and sequence outputs. */
  top1Agreement?: number;
  /** Mean KL(original ‖ candidate) over rows (samples, or positions of a sequence), in nats, of the probabilities (softmax applied to logits). */
  klDivergence?: number;
  /** Map outputs: IoU of the masks (value > threshold) over all samples, and the share of pixels that flipped. */
  maskIoU?: number;
  maskThreshold?: number;
  flippedPixels?: number;
  /** Sequence outputs: share of positions whose argmax agrees (e.g. the characters an OCR model emits). */
  positionAgreement?: number;
  /** The one number to read first, named. */
  headline: { metric: string; value: number };
  elements: number;
  /** Non-finite values seen in either output (they are left out of the sums). */
  nonFinite: number;
}

/** Infers the task from the output shape (batch first) and a sample of its values. */
export function inferTask(dims: readonly number[], values: ArrayLike<number>): OutputTask {
  const rank = dims.length;
  const last = dims[rank - 1] ?? 1;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const inUnit = min >= 0 && max <= 1;
  if (rank === 2 && last >= 2) return 'classification';
  if (rank === 3 && dims[1]! >= 2 && last >= 2) {
    // [N, T, C]: a distribution per position (softmax applied) or logits; [N, H, W] in [0, 1] rows that are not
    // distributions is a map.
    if (looksLikeProbabilities(values, last) || !inUnit) return 'sequence';
  }
  // [N, 1, H, W], [N, H, W] or [N, H, W, 1] maps with values in [0, 1]: probabilities per pixel.
  const spatial = (rank === 4 && (dims[1] === 1 || last === 1)) || rank === 3;
  if (spatial && inUnit && dims.slice(1).filter((d) => d > 1).length >= 2) return 'map';
  return 'regression';
}

/** True when every row along the last axis is a probability distribution (softmax already applied). */
function looksLikeProbabilities(values: ArrayLike<number>, cols: number): boolean {
  const rows = Math.min(values.length / cols, 64);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c]!;
      if (!(v >= 0 && v <= 1)) return false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return rows > 0;
}

function argmaxRow(values: ArrayLike<number>, start: number, cols: number): number {
  let best = start;
  for (let c = start + 1; c < start + cols; c++) if (values[c]! > values[best]!) best = c;
  return best - start;
}

/** log-softmax of one row into `out` (stable). */
function logSoftmax(values: ArrayLike<number>, start: number, cols: number, out: Float64Array): void {
  let m = -Infinity;
  for (let c = 0; c < cols; c++) m = Math.max(m, values[start + c]!);
  let s = 0;
  for (let c = 0; c < cols; c++) s += Math.exp(values[start + c]! - m);
  const lse = m + Math.log(s);
  for (let c = 0; c < cols; c++) out[c] = values[start + c]! - lse;
}

/** KL(p ‖ q) of one row. `probabilities`: rows are already distributions; else they are logits. */
export function klRow(p: ArrayLike<number>, q: ArrayLike<number>, start: number, cols: number, probabilities: boolean): number {
  const lp = new Float64Array(cols);
  const lq = new Float64Array(cols);
  if (probabilities) {
    const eps = 1e-12;
    for (let c = 0; c < cols; c++) {
      lp[c] = Math.log(Math.max(p[start + c]!, eps));
      lq[c] = Math.log(Math.max(q[start + c]!, eps));
    }
  } else {
    logSoftmax(p, start, cols, lp);
    logSoftmax(q, start, cols, lq);
  }
  let kl = 0;
  for (let c = 0; c < cols; c++) kl += Math.exp(lp[c]!) * (lp[c]! - lq[c]!);
  return Math.max(0, kl);
}

/** Streams samples of one output and produces its OutputFidelity. */
export class FidelityAccumulator {
  private dot = 0;
  private aa = 0;
  private bb = 0;
  private err2 = 0;
  private absSum = 0;
  private maxAbs = 0;
  private count = 0;
  private nonFinite = 0;
  private rows = 0;
  private rowsAgree = 0;
  private klSum = 0;
  private probabilities: boolean | undefined;
  private inter = 0;
  private union = 0;
  private flipped = 0;
  private pixels = 0;
  task: OutputTask | undefined;

  constructor(
    readonly name: string,
    private readonly fixedTask?: OutputTask,
    readonly maskThreshold = 0.5,
  ) {
    this.task = fixedTask;
  }

  add(original: ArrayLike<number>, candidate: ArrayLike<number>, dims: readonly number[]): void {
    if (original.length !== candidate.length) {
      throw new Error(
        `Output "${this.name}" has ${candidate.length} values in the candidate but ${original.length} in the original: the models do not produce the same shape.`,
      );
    }
    this.task ??= inferTask(dims, original);
    for (let i = 0; i < original.length; i++) {
      const a = original[i]!;
      const b = candidate[i]!;
      if (!Number.isFinite(a) || !Number.isFinite(b)) {
        this.nonFinite++;
        continue;
      }
      const d = a - b;
      this.dot += a * b;
      this.aa += a * a;
      this.bb += b * b;
      this.err2 += d * d;
      const ad = Math.abs(d);
      this.absSum += ad;
      if (ad > this.maxAbs) this.maxAbs = ad;
      this.count++;
    }
    const cols = dims[dims.length - 1] ?? 1;
    if ((this.task === 'classification' || this.task === 'sequence') && cols >= 2) {
      this.probabilities ??= looksLikeProbabilities(original, cols);
      for (let start = 0; start + cols <= original.length; start += cols) {
        this.rows++;
        if (argmaxRow(original, start, cols) === argmaxRow(candidate, start, cols)) this.rowsAgree++;
        this.klSum += klRow(original, candidate, start, cols, this.probabilities);
      }
    }
    if (this.task === 'map') {
      const t = this.maskThreshold;
      for (let i = 0; i < original.length; i++) {
        const ma = original[i]! > t;
        const mb = candidate[i]! > t;
        if (ma && mb) this.inter++;
        if (ma || mb) this.union++;
        if (ma !== mb) this.flipped++;
      }
      this.pixels += original.length;
    }
  }

  result(taskSource: 'auto' | 'user' = this.fixedTask ? 'user' : 'auto'): OutputFidelity {
    const task = this.task ?? 'regression';
    const cosine = this.aa === 0 && this.bb === 0 ? 1 : this.aa === 0 || this.bb === 0 ? 0 : this.dot / Math.sqrt(this.aa * this.bb);
    const sqnrDb = this.err2 === 0 ? null : this.aa === 0 ? -Infinity : 10 * Math.log10(this.aa / this.err2);
    const out: OutputFidelity = {
      name: this.name,
      task,
      taskSource,
      cosine,
      sqnrDb,
      maxAbs: this.maxAbs,
      meanAbs: this.count ? this.absSum / this.count : 0,
      headline: { metric: 'cosine', value: cosine },
      elements: this.count,
      nonFinite: this.nonFinite,
    };
    if (this.rows > 0) {
      const agree = this.rowsAgree / this.rows;
      if (task === 'classification') {
        out.top1Agreement = agree;
        out.klDivergence = this.klSum / this.rows;
        out.headline = { metric: 'top-1 agreement', value: agree };
      } else {
        out.positionAgreement = agree;
        out.top1Agreement = agree;
        out.klDivergence = this.klSum / this.rows;
        out.headline = { metric: 'per-position agreement', value: agree };
      }
    }
    if (task === 'map') {
      out.maskThreshold = this.maskThreshold;
      out.maskIoU = this.union === 0 ? 1 : this.inter / this.union;
      out.flippedPixels = this.pixels ? this.flipped / this.pixels : 0;
      out.headline = { metric: `mask IoU @ ${this.maskThreshold}`, value: out.maskIoU };
    }
    return out;
  }
}

/** Index of the largest value of each row (last axis). */
export function argmaxRows(values: ArrayLike<number>, cols: number): number[] {
  const out: number[] = [];
  for (let start = 0; start + cols <= values.length; start += cols) out.push(argmaxRow(values, start, cols));
  return out;
}
