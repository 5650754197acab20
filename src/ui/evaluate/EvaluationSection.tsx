import { memo, useId } from 'react';
import type { OutputTask } from '../../core/eval/metrics';
import { defaultWasmThreads } from '../../core/eval/threads';
import type { EvalBackend } from '../../core/eval/types';
import type { ValueInfo } from '../../core/onnx/types';
import { useStudio } from '../../state/store';
import { EvaluationResults } from './EvaluationResults';
import { TASK_OPTIONS } from './readings';
import { Badge, LabProgress, NumberInput } from '../kit/controls';

const PHASES = { loading: 'Loading the models', fidelity: 'Running both models on the samples', latency: 'Timing both models' } as const;

/** Evaluate the current recipe: backends, samples, runs and tasks; progress; the results. */
export const EvaluationSection = memo(function EvaluationSection({ outputs }: { outputs: ValueInfo[] }) {
  const evaluation = useStudio((s) => s.evaluation);
  const runEvaluation = useStudio((s) => s.runEvaluation);
  const cancel = useStudio((s) => s.cancelLabJob);
  const anyStep = useStudio((s) => s.quantizeOn || s.pruneOn);
  const busy = useStudio((s) => s.evaluation.status === 'running' || s.sensitivity.status === 'running' || s.sweep.status === 'running');
  const running = evaluation.status === 'running';
  const p = evaluation.progress;

  return (
    <section className="lab-section" aria-labelledby="eval-run-title" data-testid="eval-run">
      <header className="lab-section__header">
        <h3 className="lab-section__title" id="eval-run-title">
          Evaluate the current recipe
        </h3>
        <p className="card__help">
          Runs the original and the compressed model (the Compress panel’s settings) on the same inputs and compares their answers, their accuracy and their
          speed.
        </p>
      </header>
      <Environment />
      <EvaluationControls outputs={outputs} />
      <div className="lab-actions">
        <button type="button" className="button button--primary" onClick={() => void runEvaluation()} disabled={busy || !anyStep} data-testid="evaluate-button">
          Evaluate
        </button>
        {!anyStep && <span className="muted">Switch on quantization or pruning in the Compress panel first: there is nothing to compare yet.</span>}
        {busy && !running && <span className="muted">Another measurement is running; it shares the evaluation worker.</span>}
      </div>
      {running && (
        <LabProgress
          testId="eval-progress"
          label={p ? `${PHASES[p.phase]} on ${p.backend}` : 'Compressing and preparing…'}
          done={p?.done ?? 0}
          total={p?.total ?? 0}
          onCancel={cancel}
        />
      )}
      {evaluation.status === 'cancelled' && (
        <p className="lab-status" data-testid="eval-cancelled">
          Cancelled.{evaluation.report ? ' The results below are from the previous evaluation.' : ''}
        </p>
      )}
      {evaluation.status === 'error' && (
        <div className="banner banner--error" role="alert" data-testid="eval-error">
          <div className="banner__body">
            <p className="banner__title">The evaluation failed</p>
            <p className="banner__message">{evaluation.error}</p>
          </div>
        </div>
      )}
      {evaluation.report && <EvaluationResults report={evaluation.report} stale={running} />}
    </section>
  );
});

function Environment() {
  const env = useStudio((s) => s.evalEnv);
  if (!env) {
    return (
      <p className="lab-status" data-testid="eval-env">
        Starting onnxruntime-web and looking for a WebGPU adapter…
      </p>
    );
  }
  const gpu = env.webgpu;
  return (
    <div className="lab-env" data-testid="eval-env">
      <p>
        <strong>wasm</strong>, <ThreadsSelect threads={env.threads} cores={env.cores} enabled={env.crossOriginIsolated} />, cross-origin isolated{' '}
        <span data-testid="env-isolated">{env.crossOriginIsolated ? 'yes' : 'no'}</span>
        {!env.crossOriginIsolated && <span className="muted"> (without isolation onnxruntime runs on one thread)</span>}
        <span className="muted"> · {env.runtime}</span>
      </p>
      <p data-testid="env-webgpu">
        <strong>webgpu</strong>:{' '}
        {gpu.available ? (
          <>
            {[gpu.vendor, gpu.architecture, gpu.device].filter(Boolean).join(' / ') || 'adapter without a name'}, shader-f16 {gpu.shaderF16 ? 'yes' : 'no'}
            {gpu.isFallbackAdapter && (
              <>
                {' '}
                <Badge severity="warn" testId="env-fallback">
                  software fallback (SwiftShader): timings mean nothing
                </Badge>
              </>
            )}
          </>
        ) : (
          <span className="muted">not available — {gpu.reason}</span>
        )}
      </p>
    </div>
  );
}

/** onnxruntime-web's wasm thread count: restarting the runtime is the only way to change it. */
function ThreadsSelect({ threads, cores, enabled }: { threads: number; cores: number; enabled: boolean }) {
  const chosen = useStudio((s) => s.evalSettings.threads);
  const setThreads = useStudio((s) => s.setWasmThreads);
  const busy = useStudio((s) => s.evaluation.status === 'running' || s.sensitivity.status === 'running' || s.sweep.status === 'running');
  const label = `${threads} thread${threads === 1 ? '' : 's'}`;
  if (!enabled) return <span data-testid="env-threads">{label}</span>;
  const defaultThreads = defaultWasmThreads(cores);
  const options = Array.from({ length: Math.max(cores, threads, 1) }, (_, i) => i + 1);
  return (
    <select
      className="select select--compact"
      aria-label="wasm threads"
      title="Threads onnxruntime-web runs on. Its idle threads spin, so more threads than half the cores slow the rest of the machine (and this page) while a job runs. Changing it restarts onnxruntime-web."
      value={chosen ?? 'auto'}
      disabled={busy}
      onChange={(e) => void setThreads(e.currentTarget.value === 'auto' ? undefined : Number(e.currentTarget.value))}
      data-testid="env-threads"
    >
      <option value="auto">
        auto: {defaultThreads} thread{defaultThreads === 1 ? '' : 's'} of {cores} cores
      </option>
      {options.map((n) => (
        <option key={n} value={n}>
          {n} thread{n === 1 ? '' : 's'}
        </option>
      ))}
    </select>
  );
}

function EvaluationControls({ outputs }: { outputs: ValueInfo[] }) {
  const settings = useStudio((s) => s.evalSettings);
  const set = useStudio((s) => s.setEvalSettings);
  const env = useStudio((s) => s.evalEnv);
  const dataSamples = useStudio((s) => s.evalData.summary?.samples);
  const gpuOk = !!env?.webgpu.available;
  const toggle = (backend: EvalBackend, on: boolean) => {
    const next = on ? [...settings.backends.filter((b) => b !== backend), backend] : settings.backends.filter((b) => b !== backend);
    // wasm first: it is the reference of the cross-backend check.
    set({ backends: (['wasm', 'webgpu'] as EvalBackend[]).filter((b) => next.includes(b)) });
  };
  const backendsHelp = useId();
  const anyMap = outputs.some((o) => settings.tasks[o.name] === 'map' || (settings.tasks[o.name] === undefined && o.shape.length >= 3));
  return (
    <div className="lab-controls">
      <fieldset className="lab-fieldset lab-fieldset--inline" aria-describedby={backendsHelp}>
        <legend>Backends</legend>
        <label className="checkbox" title="WebAssembly on the CPU: the reference every other backend is checked against.">
          <input type="checkbox" checked={settings.backends.includes('wasm')} onChange={(e) => toggle('wasm', e.currentTarget.checked)} />
          wasm
        </label>
        <label className="checkbox" title={gpuOk ? 'WebGPU on the graphics card.' : `Unavailable: ${env?.webgpu.reason ?? 'looking for an adapter…'}`}>
          <input
            type="checkbox"
            checked={gpuOk && settings.backends.includes('webgpu')}
            disabled={!gpuOk}
            onChange={(e) => toggle('webgpu', e.currentTarget.checked)}
          />
          webgpu
          {!gpuOk && env && <span className="muted"> (unavailable: {env.webgpu.reason})</span>}
        </label>
        <span className="cfield__help" id={backendsHelp}>
          Each backend runs both models; the second is also checked against wasm (the same model should give the same outputs everywhere).
        </span>
      </fieldset>
      <div className="lab-row">
        <NumberInput
          label="Samples"
          value={settings.samples}
          min={1}
          max={dataSamples ?? 100_000}
          onCommit={(samples) => set({ samples })}
          help={`How many inputs of the data both models run on (at most the data’s ${dataSamples ? formatCount(dataSamples) : ''} samples). More samples: steadier numbers, a longer run.`}
          testId="eval-samples"
        />
        <NumberInput
          label="Timed runs"
          value={settings.runs}
          min={0}
          max={1000}
          onCommit={(runs) => set({ runs })}
          help="Timed inferences per model and backend after a warm-up (0 skips the timing). The median of these is the latency."
          testId="eval-runs"
        />
      </div>
      {outputs.length > 0 && (
        <fieldset className="lab-fieldset">
          <legend>What each output is</legend>
          <p className="cfield__help">Decides the headline metric. Auto guesses from the output’s shape and values; set it when the guess is wrong.</p>
          <div className="lab-row">
            {outputs.map((o) => (
              <TaskSelect
                key={o.name}
                output={o}
                value={settings.tasks[o.name] ?? 'auto'}
                onChange={(task) => {
                  const tasks = { ...settings.tasks };
                  if (task === 'auto') delete tasks[o.name];
                  else tasks[o.name] = task;
                  set({ tasks });
                }}
              />
            ))}
            {anyMap && (
              <NumberInput
                label="Mask threshold"
                value={settings.maskThreshold}
                min={0}
                max={1}
                step={0.05}
                integer={false}
                onCommit={(maskThreshold) => set({ maskThreshold })}
                help="For map outputs: a pixel belongs to the mask when its value is above this (0–1)."
              />
            )}
          </div>
        </fieldset>
      )}
    </div>
  );
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function TaskSelect({ output, value, onChange }: { output: ValueInfo; value: OutputTask | 'auto'; onChange(task: OutputTask | 'auto'): void }) {
  const id = useId();
  const help = TASK_OPTIONS.find((t) => t.value === value)!.help;
  return (
    <span className="lab-number">
      <label htmlFor={id}>
        <span className="mono">{output.name}</span> <span className="muted">[{output.shape.join(', ')}]</span>
      </label>
      <select
        id={id}
        className="select"
        value={value}
        title={help}
        onChange={(e) => onChange(e.currentTarget.value as OutputTask | 'auto')}
        data-testid={`task-${output.name}`}
      >
        {TASK_OPTIONS.map((t) => (
          <option key={t.value} value={t.value}>
            {t.label}
          </option>
        ))}
      </select>
    </span>
  );
}
