/**
 * Quantization kernels of the WASM SIMD backend (the host side; the loops are in assembly/quant.as).
 *
 * Layouts. A [outer, D, inner] view with its grouping is mapped onto one of two kernel shapes:
 *  - runs: the tensor is a sequence of contiguous runs, each inside one group — per-tensor (runs of 64K),
 *    per-channel with inner ≥ 16 (Conv [Cout, Cin·k·k]: one run per (o, d)), per-block with inner = 1
 *    (Gemm transB [N, K] blocked along K: runs of B, a ragged last one per row). Parameters are splatted per run.
 *  - rows: rows of w contiguous values vectorised across the row, with per-column parameters — per-channel with
 *    inner < 16 (MatMul [K, N] columns: w = N, parameters per position; short rows are widened to a multiple of 4
 *    and at least 64 positions), per-block with inner > 1 (MatMul [K, N] blocked along K: each row of N values
 *    uses the parameters of its block row). Row by row when every group has the same zero point (two parameter
 *    loads per vector), else in bands of rows that share parameters walked column by column (quantTuning.bandRows).
 * Outputs stay in the wasm heap only per chunk (≈ 4M elements): allocate, compute, copy out, free. Min/max needs
 * no chunking; the MSE search's candidate parameters are chunked to quantTuning.candidateBytes.
 * Parameters are copied into the heap as the host holds them (memcpy); lo/hi/k and the transposed candidate
 * layout are derived there by small kernels (quantPrep, candPrep).
 *
 * The exact arithmetic (quant.ts) is reproduced with a float32 round-to-integer trick that needs the codes in
 * int16 range, |zero point| ≤ 2^20 and finite scales; any other parameters run the TypeScript reference on the
 * tensor in place (same results, slower).
 */
import { groupCount, type GroupView, type Grouping, type QuantKernels, type QuantizedGroups } from '../quant';
import { candidateErrorsOf, packNibblesOf, quantizeGroupsOf } from '../ts/quant-reference';
import type { DeviceTensor } from '../types';

export interface QuantExports {
  quantRuns(
    x: number,
    y: number,
    codes: number,
    e0: number,
    k0: number,
    k1: number,
    runs: number,
    runLen: number,
    lastLen: number,
    outerLen: number,
    gStride: number,
    rStride: number,
    gBase: number,
    pInv: number,
    pScale: number,
    pLo: number,
    pHi: number,
    pK: number,
    out: number,
  ): void;
  quantRows(
    x: number,
    y: number,
    codes: number,
    e0: number,
    rowStart: number,
    rowEnd: number,
    w: number,
    cols: number,
    R: number,
    rowsPerOuter: number,
    B: number,
    nb: number,
    prBase: number,
    uniformZp: number,
    pInv: number,
    pScale: number,
    pLo: number,
    pHi: number,
    pK: number,
    out: number,
  ): void;
  minMaxRuns(
    x: number,
    k0: number,
    k1: number,
    runs: number,
    runLen: number,
    lastLen: number,
    outerLen: number,
    gStride: number,
    rStride: number,
    oMin: number,
    oMax: number,
  ): void;
  minMaxRows(
    x: number,
    rowStart: number,
    rowEnd: number,
    w: number,
    cols: number,
    R: number,
    rowsPerOuter: number,
    B: number,
    nb: number,
    prBase: number,
    oMin: number,
    oMax: number,
  ): void;
  candRuns(
    x: number,
    k0: number,
    k1: number,
    runs: number,
    runLen: number,
    lastLen: number,
    outerLen: number,
    gStride: number,
    rStride: number,
    gBase: number,
    C: number,
    pInv: number,
    pScale: number,
    pZp: number,
    qmin: number,
    qmax: number,
    err: number,
  ): void;
  candPrep(
    sInv: number,
    sScale: number,
    sZp: number,
    P: number,
    C: number,
    qmin: number,
    qmax: number,
    dInv: number,
    dScale: number,
    dLo: number,
    dHi: number,
  ): void;
  candUnprep(src: number, P: number, C: number, dst: number): void;
  candRows(
    x: number,
    rowStart: number,
    rowEnd: number,
    w: number,
    cols: number,
    R: number,
    rowsPerOuter: number,
    B: number,
    nb: number,
    prBase: number,
    C: number,
    P: number,
    pInv: number,
    pScale: number,
    pLo: number,
    pHi: number,
    acc: number,
  ): void;
  packNibbles(src: number, dst: number, n: number): void;
  quantPrep(zp: number, P: number, qmin: number, qmax: number, lo: number, hi: number, k: number): void;
}

/** What the quantization kernels need from the backend. */
export interface QuantHost {
  readonly k: QuantExports;
  readonly buffer: ArrayBuffer;
  /** 64 bytes of result space. */
  readonly out: number;
  alloc(bytes: number): number;
  release(at: number, bytes: number): void;
  tensor(t: DeviceTensor): { ptr: number; length: number };
}

const ALIGN = 64;
/**
 * Tuning knobs (tests shrink them to exercise chunking; the bench compares band sizes).
 *  chunkElements: elements whose outputs (codes + dequantized, 6 bytes each) sit in the heap at a time;
 *  bandRows: rows of a band walked column by column in the rows layout (1 = row by row);
 *  candidateBytes: candidate parameters + accumulators per kernel call (bounds the MSE search's scratch).
 */
export const quantTuning = {
  chunkElements: 1 << 22,
  bandRows: { quantize: 4, quantizeUniformZp: 1, minMax: 8, candidates: 8 },
  candidateBytes: 1 << 25,
};
/** Calls answered by the TypeScript reference because their parameters are outside the kernels' range (tests read it). */
export const quantFallbacks = { count: 0 };
/** Per-channel runs from this length on; shorter ones are vectorised across the row instead. */
const RUN_MIN = 16;
/** Widest row (positions) of the rows layout for per-channel groups; wider ones fall back to runs. */
const MAX_ROW_POSITIONS = 1 << 20;
/** Run length used to split a per-tensor group. */
const TENSOR_RUN = 1 << 16;
/** rowsPerOuter / B of a rows layout whose rows all use parameter row 0. */
const ONE_PARAM_ROW = 1 << 30;

type Plan =
  | { kind: 'runs'; runs: number; runLen: number; lastLen: number; outerLen: number; gStride: number; rStride: number; totalRuns: number }
  | { kind: 'rows'; w: number; rows: number; lastLen: number; rowsPerOuter: number; B: number; nb: number; positionGroup?: Int32Array };

interface Segment {
  /** Element range [e0, e1). */
  e0: number;
  e1: number;
  /** Parameter indices [0, pCount): group pBase + index, or for per-channel rows the position's group (positionGroup). */
  pBase: number;
  pCount: number;
  /** runs: runs [k0, k1); rows: rows [r0, r1) of `cols` columns with parameter rows from prBase on. */
  k0: number;
  k1: number;
  cols: number;
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function checkView(view: GroupView, grouping: Grouping, length: number): void {
  for (const [k, v] of Object.entries(view)) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`quant: view.${k} must be a non-negative integer, got ${v}`);
  }
  if (view.outer * view.axisLength * view.inner !== length) {
    throw new RangeError(`quant: view ${view.outer}×${view.axisLength}×${view.inner} does not match the tensor's ${length} elements`);
  }
  if (grouping.granularity === 'block' && !(Number.isInteger(grouping.blockSize) && grouping.blockSize > 0)) {
    throw new RangeError(`quant: blockSize must be a positive integer, got ${grouping.blockSize}`);
  }
}

function planFor(view: GroupView, grouping: Grouping, n: number): Plan {
  const { outer, axisLength: D, inner } = view;
  const runsOf = (runs: number, runLen: number, lastLen: number, outerLen: number, gStride: number, rStride: number, outers: number): Plan => ({
    kind: 'runs',
    runs,
    runLen,
    lastLen,
    outerLen,
    gStride,
    rStride,
    totalRuns: outers * runs,
  });
  if (grouping.granularity === 'tensor') {
    const runs = Math.ceil(n / TENSOR_RUN);
    return runsOf(runs, TENSOR_RUN, n - (runs - 1) * TENSOR_RUN, n, 0, 0, 1);
  }
  if (grouping.granularity === 'channel') {
    const channelRuns = runsOf(D, inner, inner, D * inner, 0, 1, outer);
    if (inner >= RUN_MIN) return channelRuns;
    const L = D * inner;
    let w = L;
    if (L < 64) {
      w = L * (4 / gcd(L, 4));
      w *= Math.ceil(64 / w);
    }
    if (w > MAX_ROW_POSITIONS) return channelRuns;
    const positionGroup = new Int32Array(w);
    for (let j = 0; j < w; j++) positionGroup[j] = Math.floor((j % L) / inner);
    return { kind: 'rows', w, rows: Math.floor(n / w), lastLen: n % w, rowsPerOuter: ONE_PARAM_ROW, B: ONE_PARAM_ROW, nb: 0, positionGroup };
  }
  const B = grouping.blockSize;
  const nb = Math.ceil(D / B);
  if (inner === 1) return runsOf(nb, B, D - (nb - 1) * B, D, nb, 1, outer);
  return { kind: 'rows', w: inner, rows: outer * D, lastLen: 0, rowsPerOuter: D, B, nb };
}

/** True when a run layout's runs cycle through the groups (per-tensor, per-channel with outer > 1) instead of run k being group k. */
function allGroupsPerRun(plan: Extract<Plan, { kind: 'runs' }>): boolean {
  return plan.rStride === 0 || (plan.gStride === 0 && plan.totalRuns !== plan.runs);
}

function paramRowOf(plan: Extract<Plan, { kind: 'rows' }>, r: number): number {
  const o = Math.floor(r / plan.rowsPerOuter);
  return o * plan.nb + Math.floor((r - o * plan.rowsPerOuter) / plan.B);
}

/** The kernel calls covering the tensor, each over about `chunk` elements. */
function segments(plan: Plan, n: number, groups: number, chunk: number): Segment[] {
  const out: Segment[] = [];
  if (plan.kind === 'runs') {
    const { runs, runLen, outerLen, totalRuns } = plan;
    const elemOf = (k: number) => (k >= totalRuns ? n : Math.floor(k / runs) * outerLen + (k % runs) * runLen);
    const per = Math.max(1, Math.floor(chunk / runLen));
    for (let k0 = 0; k0 < totalRuns; k0 += per) {
      const k1 = Math.min(totalRuns, k0 + per);
      // Blocks (gStride = runs, rStride = 1) and channels with outer = 1: run k is group k. Otherwise every group.
      const all = allGroupsPerRun(plan);
      out.push({ e0: elemOf(k0), e1: elemOf(k1), pBase: all ? 0 : k0, pCount: all ? groups : k1 - k0, k0, k1, cols: 0 });
    }
    return out;
  }
  const { w, rows, lastLen } = plan;
  const per = Math.max(1, Math.floor(chunk / w));
  for (let r0 = 0, r1 = 0; r0 < rows; r0 = r1) {
    r1 = Math.min(rows, r0 + per);
    // End on a parameter-row boundary where one lies inside, so segments do not share parameters.
    if (r1 < rows) {
      const o = Math.floor(r1 / plan.rowsPerOuter);
      const start = o * plan.rowsPerOuter + Math.floor((r1 - o * plan.rowsPerOuter) / plan.B) * plan.B;
      if (start > r0) r1 = start;
    }
    const pr0 = paramRowOf(plan, r0);
    const pBase = pr0 * w;
    const pCount = (paramRowOf(plan, r1 - 1) - pr0 + 1) * w;
    out.push({ e0: r0 * w, e1: r1 * w, pBase, pCount, k0: r0, k1: r1, cols: w });
  }
  if (lastLen > 0) out.push({ e0: rows * w, e1: n, pBase: 0, pCount: w, k0: rows, k1: rows + 1, cols: lastLen });
  return out;
}

/** True when the kernels' float32 round-to-integer path reproduces the reference for these parameters. */
function kernelParams(
  count: number,
  scales: Float32Array,
  invScales: Float32Array,
  zeroPoints: Int32Array,
  qmin: number,
  qmax: number,
  codes: boolean,
): boolean {
  const lim = codes ? 32768 : 1 << 20;
  if (!Number.isInteger(qmin) || !Number.isInteger(qmax) || qmin > qmax || qmin < -lim || qmax > (codes ? 32767 : lim)) return false;
  for (let g = 0; g < count; g++) {
    const z = zeroPoints[g]!;
    if (!Number.isFinite(scales[g]!) || !Number.isFinite(invScales[g]!) || z < -(1 << 20) || z > 1 << 20) return false;
  }
  return true;
}

function checkParamLengths(what: string, need: number, arrays: ArrayLike<number>[]): void {
  if (arrays.some((a) => a.length < need)) throw new RangeError(`${what}: parameters must have ${need} entries (groups × candidates)`);
}

/** Scratch blocks allocated together and released together. */
class Scratch {
  private readonly blocks: [number, number][] = [];
  constructor(private readonly host: QuantHost) {}
  take(bytes: number): number {
    const size = align(Math.max(bytes, 16));
    const at = this.host.alloc(size);
    this.blocks.push([at, size]);
    return at;
  }
  free(): void {
    for (const [at, size] of this.blocks.splice(0)) this.host.release(at, size);
  }
}

export function wasmQuantKernels(host: QuantHost): QuantKernels {
  const { k } = host;

  const hostView = (t: { ptr: number; length: number }) => new Float32Array(host.buffer, t.ptr, t.length);

  async function groupMinMax(t: DeviceTensor, view: GroupView, grouping: Grouping): Promise<{ min: Float32Array; max: Float32Array }> {
    const w = host.tensor(t);
    checkView(view, grouping, w.length);
    const groups = groupCount(view, grouping);
    const min = new Float32Array(groups).fill(Infinity);
    const max = new Float32Array(groups).fill(-Infinity);
    if (w.length === 0) return { min, max };
    const plan = planFor(view, grouping, w.length);
    const size = plan.kind === 'rows' && plan.positionGroup ? plan.w : groups;
    const s = new Scratch(host);
    try {
      const oMin = s.take(size * 4);
      const oMax = s.take(size * 4);
      const buf = host.buffer;
      new Float32Array(buf, oMin, size).fill(Infinity);
      new Float32Array(buf, oMax, size).fill(-Infinity);
      if (plan.kind === 'runs') {
        k.minMaxRuns(w.ptr, 0, plan.totalRuns, plan.runs, plan.runLen, plan.lastLen, plan.outerLen, plan.gStride, plan.rStride, oMin, oMax);
      } else {
        const R = quantTuning.bandRows.minMax;
        if (plan.rows > 0) k.minMaxRows(w.ptr, 0, plan.rows, plan.w, plan.w, R, plan.rowsPerOuter, plan.B, plan.nb, 0, oMin, oMax);
        if (plan.lastLen > 0) k.minMaxRows(w.ptr, plan.rows, plan.rows + 1, plan.w, plan.lastLen, R, plan.rowsPerOuter, plan.B, plan.nb, 0, oMin, oMax);
      }
      const gotMin = new Float32Array(host.buffer, oMin, size);
      const gotMax = new Float32Array(host.buffer, oMax, size);
      if (plan.kind === 'rows' && plan.positionGroup) {
        const pg = plan.positionGroup;
        for (let j = 0; j < size; j++) {
          const g = pg[j]!;
          if (gotMin[j]! < min[g]!) min[g] = gotMin[j]!;
          if (gotMax[j]! > max[g]!) max[g] = gotMax[j]!;
        }
      } else {
        min.set(gotMin);
        max.set(gotMax);
      }
    } finally {
      s.free();
    }
    return { min, max };
  }

  async function quantizeGroups(
    t: DeviceTensor,
    view: GroupView,
    grouping: Grouping,
    params: { scales: Float32Array; invScales: Float32Array; zeroPoints: Int32Array; qmin: number; qmax: number },
  ): Promise<QuantizedGroups> {
    const w = host.tensor(t);
    checkView(view, grouping, w.length);
    const n = w.length;
    const groups = groupCount(view, grouping);
    const { scales, invScales, zeroPoints, qmin, qmax } = params;
    checkParamLengths('quantizeGroups', groups, [scales, invScales, zeroPoints]);
    if (!kernelParams(groups, scales, invScales, zeroPoints, qmin, qmax, true)) {
      quantFallbacks.count++;
      return quantizeGroupsOf(hostView(w), view, grouping, params);
    }
    const codes = new Int16Array(n);
    const dequantized = new Float32Array(n);
    let signal = 0;
    let noise = 0;
    let maxAbsError = 0;
    if (n === 0) return { codes, dequantized, signal, noise, maxAbsError };
    const plan = planFor(view, grouping, n);
    let uniformZp = true;
    for (let g = 1; g < groups && uniformZp; g++) uniformZp = zeroPoints[g] === zeroPoints[0];
    for (const seg of segments(plan, n, groups, quantTuning.chunkElements)) {
      const len = seg.e1 - seg.e0;
      const P = seg.pCount;
      const s = new Scratch(host);
      try {
        const y = s.take(len * 4);
        const c = s.take(len * 2);
        const pInv = s.take(P * 4);
        const pScale = s.take(P * 4);
        const pLo = s.take(P * 4);
        const pHi = s.take(P * 4);
        const pK = s.take(P * 4);
        const pZp = s.take(P * 4);
        const buf = host.buffer;
        const inv = new Float32Array(buf, pInv, P);
        const sc = new Float32Array(buf, pScale, P);
        const zp = new Int32Array(buf, pZp, P);
        const positions = plan.kind === 'rows' ? plan.positionGroup : undefined;
        if (positions) {
          for (let p = 0; p < P; p++) {
            const g = positions[p]!;
            inv[p] = invScales[g]!;
            sc[p] = scales[g]!;
            zp[p] = zeroPoints[g]!;
          }
        } else {
          inv.set(invScales.subarray(seg.pBase, seg.pBase + P));
          sc.set(scales.subarray(seg.pBase, seg.pBase + P));
          zp.set(zeroPoints.subarray(seg.pBase, seg.pBase + P));
        }
        k.quantPrep(pZp, P, qmin, qmax, pLo, pHi, pK);
        if (plan.kind === 'runs') {
          const { runs, runLen, lastLen, outerLen, gStride, rStride } = plan;
          k.quantRuns(w.ptr, y, c, seg.e0, seg.k0, seg.k1, runs, runLen, lastLen, outerLen, gStride, rStride, seg.pBase, pInv, pScale, pLo, pHi, pK, host.out);
        } else {
          const prBase = seg.pBase / plan.w;
          const R = uniformZp ? quantTuning.bandRows.quantizeUniformZp : quantTuning.bandRows.quantize;
          k.quantRows(
            w.ptr,
            y,
            c,
            seg.e0,
            seg.k0,
            seg.k1,
            plan.w,
            seg.cols,
            R,
            plan.rowsPerOuter,
            plan.B,
            plan.nb,
            prBase,
            uniformZp ? 1 : 0,
            pInv,
            pScale,
            pLo,
            pHi,
            pK,
            host.out,
          );
        }
        const after = host.buffer;
        const r = new Float64Array(after, host.out, 3);
        signal += r[0]!;
        noise += r[1]!;
        if (r[2]! > maxAbsError) maxAbsError = r[2]!;
        dequantized.set(new Float32Array(after, y, len), seg.e0);
        codes.set(new Int16Array(after, c, len), seg.e0);
      } finally {
        s.free();
      }
    }
    return { codes, dequantized, signal, noise, maxAbsError };
  }

  async function candidateErrors(
    t: DeviceTensor,
    view: GroupView,
    grouping: Grouping,
    params: { candidates: number; scales: Float32Array; invScales: Float32Array; zeroPoints: Int32Array; qmin: number; qmax: number },
  ): Promise<Float64Array> {
    const w = host.tensor(t);
    checkView(view, grouping, w.length);
    const n = w.length;
    const groups = groupCount(view, grouping);
    const C = params.candidates;
    if (!Number.isInteger(C) || C < 0) throw new RangeError(`candidateErrors: candidates must be a non-negative integer, got ${C}`);
    const { scales, invScales, zeroPoints, qmin, qmax } = params;
    checkParamLengths('candidateErrors', groups * C, [scales, invScales, zeroPoints]);
    const errors = new Float64Array(groups * C);
    if (n === 0 || C === 0) return errors;
    if (!kernelParams(groups * C, scales, invScales, zeroPoints, qmin, qmax, false)) {
      quantFallbacks.count++;
      return candidateErrorsOf(hostView(w), view, grouping, params);
    }
    const plan = planFor(view, grouping, n);
    const C1 = C; // per-candidate-batch width below
    /** Copies candidates [c0, c0 + nc) of parameter indices [0, P) (mapped to groups) into the heap as [index][candidate]. */
    const upload = (s: Scratch, seg: Segment, c0: number, nc: number, positions?: Int32Array) => {
      const P = seg.pCount;
      const at = { inv: s.take(P * nc * 4), sc: s.take(P * nc * 4), zp: s.take(P * nc * 4) };
      const buf = host.buffer;
      const inv = new Float32Array(buf, at.inv, P * nc);
      const sc = new Float32Array(buf, at.sc, P * nc);
      const zp = new Int32Array(buf, at.zp, P * nc);
      if (!positions && nc === C1) {
        // Contiguous groups: the host's [group][candidate] arrays as they are.
        const from = seg.pBase * C1;
        inv.set(invScales.subarray(from, from + P * C1));
        sc.set(scales.subarray(from, from + P * C1));
        zp.set(zeroPoints.subarray(from, from + P * C1));
      } else {
        for (let p = 0; p < P; p++) {
          const from = (positions ? positions[p]! : seg.pBase + p) * C1 + c0;
          inv.set(invScales.subarray(from, from + nc), p * nc);
          sc.set(scales.subarray(from, from + nc), p * nc);
          zp.set(zeroPoints.subarray(from, from + nc), p * nc);
        }
      }
      return at;
    };
    if (plan.kind === 'runs') {
      // Runs of blocks: chunks whose parameters stay within candidateBytes; channels and the tensor: all groups at once.
      const chunk = allGroupsPerRun(plan) ? Infinity : Math.max(1, Math.floor(quantTuning.candidateBytes / (20 * C))) * plan.runLen;
      for (const seg of segments(plan, n, groups, chunk)) {
        const P = seg.pCount;
        const s = new Scratch(host);
        try {
          const at = upload(s, seg, 0, C);
          const err = s.take(P * C * 8);
          new Float64Array(host.buffer, err, P * C).fill(0);
          const { runs, runLen, lastLen, outerLen, gStride, rStride } = plan;
          k.candRuns(w.ptr, seg.k0, seg.k1, runs, runLen, lastLen, outerLen, gStride, rStride, seg.pBase, C, at.inv, at.sc, at.zp, qmin, qmax, err);
          // Each group lies in one segment, or there is one segment.
          errors.set(new Float64Array(host.buffer, err, P * C), seg.pBase * C);
        } finally {
          s.free();
        }
      }
      return errors;
    }
    // Rows: parameters and accumulators [candidate][index] so a column's four indices load as one vector; chunks of
    // rows, and batches of candidates where one row has many parameter indices (wide per-channel rows).
    const perIndex = 36 * C; // raw (12) + prepared (16) bytes of parameters and an 8-byte accumulator per candidate
    const positions = plan.positionGroup;
    // Blocked rows: whole parameter rows (B rows each) per call, so calls never share a group.
    const paramRows = Math.max(1, Math.floor(quantTuning.candidateBytes / (perIndex * plan.w)));
    const segs = positions ? segments(plan, n, groups, Infinity) : segments(plan, n, groups, paramRows * plan.B * plan.w);
    for (const seg of segs) {
      const P = seg.pCount;
      const cb = Math.max(1, Math.min(C, Math.floor(quantTuning.candidateBytes / (36 * P))));
      for (let c0 = 0; c0 < C; c0 += cb) {
        const nc = Math.min(cb, C - c0);
        const s = new Scratch(host);
        try {
          const raw = upload(s, seg, c0, nc, positions);
          const at = { inv: s.take(P * nc * 4), sc: s.take(P * nc * 4), lo: s.take(P * nc * 4), hi: s.take(P * nc * 4) };
          const acc = s.take(P * nc * 8);
          const out = s.take(P * nc * 8);
          k.candPrep(raw.inv, raw.sc, raw.zp, P, nc, qmin, qmax, at.inv, at.sc, at.lo, at.hi);
          new Float64Array(host.buffer, acc, P * nc).fill(0);
          const prBase = seg.pBase / plan.w;
          k.candRows(
            w.ptr,
            seg.k0,
            seg.k1,
            plan.w,
            seg.cols,
            quantTuning.bandRows.candidates,
            plan.rowsPerOuter,
            plan.B,
            plan.nb,
            prBase,
            nc,
            P,
            at.inv,
            at.sc,
            at.lo,
            at.hi,
            acc,
          );
          k.candUnprep(acc, P, nc, out);
          const got = new Float64Array(host.buffer, out, P * nc);
          if (positions || nc !== C) {
            for (let p = 0; p < P; p++) {
              const to = (positions ? positions[p]! : seg.pBase + p) * C + c0;
              for (let c = 0; c < nc; c++) errors[to + c]! += got[p * nc + c]!;
            }
          } else {
            errors.set(got, seg.pBase * C);
          }
        } finally {
          s.free();
        }
      }
    }
    return errors;
  }

  async function packNibbles(codes: Int16Array): Promise<Uint8Array> {
    const n = codes.length;
    const out = new Uint8Array(Math.ceil(n / 2));
    if (n === 0) return out;
    if (n < 64) return packNibblesOf(codes);
    const chunk = Math.min(n, Math.max(2, quantTuning.chunkElements & ~1)); // even, so chunks start on a byte
    const s = new Scratch(host);
    try {
      const src = s.take(chunk * 2);
      const dst = s.take(chunk / 2 + 1);
      for (let i = 0; i < n; i += chunk) {
        const m = Math.min(chunk, n - i);
        const buf = host.buffer;
        new Int16Array(buf, src, m).set(codes.subarray(i, i + m));
        k.packNibbles(src, dst, m);
        out.set(new Uint8Array(host.buffer, dst, Math.ceil(m / 2)), i / 2);
      }
    } finally {
      s.free();
    }
    return out;
  }

  return { groupMinMax, quantizeGroups, candidateErrors, packNibbles };
}
