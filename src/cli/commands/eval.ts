/**
 * `cstudio eval original.onnx candidate.onnx`: the candidate against the original on the same inputs, in
 * onnxruntime-node on the CPU — per-output fidelity, accuracy when the data is labelled, interleaved latency.
 */
import path from 'node:path';
import { evaluateModels, type EvaluationReport } from '../../core/eval/evaluate';
import { TASK_LABELS } from '../../core/eval/metrics';
import { EvalInputError } from '../../core/eval/types';
import type { ValueInfo } from '../../core/onnx/types';
import {
  datasetJson,
  evalDataset,
  evalSettings,
  fidelityJson,
  fmt,
  headlineText,
  jsonNumbers,
  latencyJson,
  loadModel,
  nodeRuntime,
  parseTasks,
  SYNTHETIC_WARNING,
  type EvalDataFlags,
  UsageError,
} from '../eval-data';
import { formatBytes, table } from '../format';
import { BatchFailedError, batchInputs } from './compress';

export type EvalFlags = EvalDataFlags;

const signature = (values: ValueInfo[]) =>
  values
    .map((v) => v.name)
    .sort()
    .join(', ');

export async function evalCommand(originalPath: string, candidatePath: string, flags: EvalFlags): Promise<string> {
  // The candidate is read and checked against the original before the data is loaded (a mismatch fails fast).
  const base = await prepareOriginal(originalPath, flags);
  const candidate = await loadCandidate(base, candidatePath);
  const prepared = { ...base, data: await loadData(base, flags) };
  const report = await evalCandidate(prepared, candidatePath, candidate);
  return flags.json
    ? JSON.stringify(evalJson(report, originalPath, candidatePath, prepared.data.samples.length, prepared.data.classNames), jsonNumbers, 2)
    : renderEval(report, originalPath, candidatePath);
}

type Prepared = {
  originalPath: string;
  original: Awaited<ReturnType<typeof loadModel>>;
  settings: ReturnType<typeof evalSettings>;
  data: Awaited<ReturnType<typeof evalDataset>>;
};

/** The original model and the settings, loaded once for one or several candidates. */
async function prepareOriginal(originalPath: string, flags: EvalFlags): Promise<Omit<Prepared, 'data'>> {
  const settings = evalSettings(flags);
  const original = await loadModel(originalPath);
  settings.tasks = parseTasks(flags.task, original.summary.outputs);
  return { originalPath, original, settings };
}

async function loadData({ original, settings }: Omit<Prepared, 'data'>, flags: EvalFlags): Promise<Prepared['data']> {
  const data = await evalDataset(flags, settings, original.summary.inputs);
  if (data.synthetic && !flags.json) process.stderr.write(`note: no --data given: ${data.samples.length} synthetic inputs; ${SYNTHETIC_WARNING}\n`);
  return data;
}

/** Reads a candidate and checks it takes and gives what the original does. */
async function loadCandidate({ originalPath, original }: Omit<Prepared, 'data'>, candidatePath: string): Promise<Awaited<ReturnType<typeof loadModel>>> {
  const candidate = await loadModel(candidatePath);
  const { inputs, outputs } = original.summary;
  if (signature(outputs) !== signature(candidate.summary.outputs)) {
    throw new EvalInputError(
      `the models have different outputs: ${path.basename(originalPath)} has [${signature(outputs)}], ${path.basename(candidatePath)} has [${signature(candidate.summary.outputs)}]`,
    );
  }
  if (signature(inputs) !== signature(candidate.summary.inputs)) {
    throw new EvalInputError(
      `the models have different inputs: ${path.basename(originalPath)} takes [${signature(inputs)}], ${path.basename(candidatePath)} takes [${signature(candidate.summary.inputs)}]`,
    );
  }
  return candidate;
}

async function evalCandidate(prepared: Prepared, candidatePath: string, loaded?: Awaited<ReturnType<typeof loadModel>>): Promise<EvaluationReport> {
  const { original, settings, data } = prepared;
  const candidate = loaded ?? (await loadCandidate(prepared, candidatePath));
  const report = await evaluateModels(nodeRuntime(settings), original.files, candidate.files, data, {
    backends: ['cpu'],
    samples: settings.samples,
    runs: settings.runs,
    warmup: settings.warmup,
    tasks: settings.tasks,
    maskThreshold: settings.maskThreshold,
  });
  const cpu = report.backends[0]!;
  if (!cpu.available) throw new Error(`onnxruntime could not run the models: ${cpu.error}`);
  return report;
}

/**
 * One original against several candidates (files, or folders of .onnx files; the original itself is skipped):
 * one summary table or one JSON array; a candidate that fails does not stop the others; any failure: exit 1.
 */
export async function evalBatch(originalPath: string, candidates: string[], flags: EvalFlags): Promise<string> {
  const paths = (await batchInputs(candidates)).filter((c) => path.resolve(c) !== path.resolve(originalPath));
  if (!paths.length) throw new UsageError('no candidate models to evaluate');
  const base = await prepareOriginal(originalPath, flags);
  const prepared = { ...base, data: await loadData(base, flags) };
  const rows: { candidate: string; report?: EvaluationReport; error?: string }[] = [];
  for (const candidate of paths) {
    if (!flags.json) process.stderr.write(`evaluating ${candidate}…\n`);
    try {
      rows.push({ candidate, report: await evalCandidate(prepared, candidate) });
    } catch (err) {
      rows.push({ candidate, error: (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ') });
    }
  }
  const failed = rows.filter((r) => r.error !== undefined);
  let out: string;
  if (flags.json) {
    out = JSON.stringify(
      rows.map((r) =>
        r.report
          ? { ok: true, ...evalJson(r.report, originalPath, r.candidate, prepared.data.samples.length, prepared.data.classNames) }
          : { ok: false, original: originalPath, candidate: r.candidate, error: r.error },
      ),
      jsonNumbers,
      2,
    );
  } else {
    const first = rows.find((r) => r.report)?.report;
    out = [
      `original   ${originalPath}${first ? `  ${formatBytes(first.sizes.original)}` : ''}`,
      first ? `data: ${first.dataset.name} — ${first.dataset.description}` : '',
      '',
      table(
        ['candidate', 'size', 'vs original', 'headline', 'cosine', 'accuracy', 'median ms', 'latency ×', 'status'],
        rows.map((r) => {
          if (!r.report) return [r.candidate, '', '', '', '', '', '', '', `failed: ${r.error}`];
          const cpu = r.report.backends[0]!;
          const f = cpu.fidelity?.[0];
          const lat = cpu.latency;
          return [
            r.candidate,
            formatBytes(r.report.sizes.candidate),
            fmt.shrink(r.report.sizes.original, r.report.sizes.candidate),
            headlineText(f?.headline),
            fmt.cosine(f?.cosine),
            cpu.accuracy ? `${fmt.pct(cpu.accuracy.candidate)} (orig. ${fmt.pct(cpu.accuracy.original)})` : '',
            lat ? fmt.ms(lat.candidate.medianMs) : '',
            lat ? fmt.ratio(lat.candidate.medianMs, lat.original.medianMs) : '',
            'ok',
          ];
        }),
        [false, true, true, false, true, true, true, true, false],
      ),
      '',
      `${rows.length - failed.length} of ${rows.length} candidates evaluated${failed.length ? `, ${failed.length} failed` : ''}; headline and cosine are the first output's (--json has every output)`,
    ].join('\n');
  }
  if (failed.length) throw new BatchFailedError(out, `${failed.length} of ${rows.length} candidates failed: ${failed.map((r) => r.candidate).join(', ')}`);
  return out;
}

function evalJson(report: EvaluationReport, originalPath: string, candidatePath: string, loaded: number, classNames: string[] | undefined) {
  const cpu = report.backends[0]!;
  const used = report.dataset.samples;
  return {
    original: originalPath,
    candidate: candidatePath,
    samples: used,
    outputs: (cpu.fidelity ?? []).map(fidelityJson),
    ...(cpu.accuracy ? { accuracy: cpu.accuracy } : {}),
    latencyMs: cpu.latency ? { original: latencyJson(cpu.latency.original), candidate: latencyJson(cpu.latency.candidate) } : null,
    loadMs: cpu.loadMs,
    runtime: report.runtime,
    backend: cpu.backend,
    dataset: { ...datasetJson({ ...report.dataset, classNames }, used, report.dataset.labelled), ...(loaded > used ? { loaded } : {}) },
    sizes: report.sizes,
    ms: report.ms,
  };
}

function renderEval(report: EvaluationReport, originalPath: string, candidatePath: string): string {
  const cpu = report.backends[0]!;
  const { original, candidate } = report.sizes;
  const lines = [
    `original   ${originalPath}  ${formatBytes(original)}`,
    `candidate  ${candidatePath}  ${formatBytes(candidate)}  ${fmt.shrink(original, candidate)}`,
    `data: ${report.dataset.name} — ${report.dataset.description}`,
    `runtime: ${report.runtime}`,
  ];
  if (cpu.accuracy) {
    const a = cpu.accuracy;
    const delta = (a.candidate - a.original) * 100;
    lines.push(
      '',
      `accuracy on ${a.labelled} labelled samples (class read from "${a.output}"): original ${fmt.pct(a.original)} → candidate ${fmt.pct(a.candidate)} (${delta >= 0 ? '+' : '−'}${Math.abs(delta).toFixed(2)} points)`,
    );
  }
  const fidelity = cpu.fidelity ?? [];
  lines.push(
    '',
    `fidelity of the candidate against the original over ${report.dataset.samples} samples:`,
    table(
      ['output', 'task', 'headline', 'cosine', 'SQNR dB', 'max |Δ|', 'mean |Δ|', 'top-1 agree', 'KL (nats)'],
      fidelity.map((f) => [
        f.name,
        `${f.task}${f.taskSource === 'user' ? ' (set)' : ''}`,
        headlineText(f.headline),
        fmt.cosine(f.cosine),
        fmt.sqnr(f.sqnrDb),
        fmt.g3(f.maxAbs),
        fmt.g3(f.meanAbs),
        fmt.pct(f.top1Agreement),
        f.klDivergence === undefined ? '' : f.klDivergence.toExponential(2),
      ]),
      [false, false, false, true, true, true, true, true, true],
    ),
  );
  const notes = fidelity.filter((f) => f.nonFinite > 0).map((f) => `note: ${f.name}: ${f.nonFinite} non-finite values left out of the sums`);
  lines.push(...notes);
  const tasks = [...new Set(fidelity.map((f) => f.task))];
  lines.push(`tasks: ${tasks.map((t) => `${t} = ${TASK_LABELS[t]}`).join('; ')}; set one with --task OUTPUT=TASK`);
  if (cpu.latency) {
    const { original: lo, candidate: lc } = cpu.latency;
    lines.push(
      '',
      `latency (ms; ${lc.runs} timed runs each, interleaved, after a cold run and warm-up):`,
      table(
        ['model', 'median', 'p90', 'min', 'spread', 'first run', 'vs original'],
        [
          ['original', fmt.ms(lo.medianMs), fmt.ms(lo.p90Ms), fmt.ms(lo.minMs), `${lo.spreadPct.toFixed(0)}%`, fmt.ms(lo.firstRunMs), ''],
          [
            'candidate',
            fmt.ms(lc.medianMs),
            fmt.ms(lc.p90Ms),
            fmt.ms(lc.minMs),
            `${lc.spreadPct.toFixed(0)}%`,
            fmt.ms(lc.firstRunMs),
            fmt.ratio(lc.medianMs, lo.medianMs),
          ],
        ],
        [false, true, true, true, true, true, true],
      ),
    );
    if (Math.max(lo.spreadPct, lc.spreadPct) > 25)
      lines.push('note: run-to-run spread above 25%: the machine is busy or the runs too few (--runs); read the ratio with care');
  }
  return lines.join('\n');
}
