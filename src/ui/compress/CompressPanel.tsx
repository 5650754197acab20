import { memo, useDeferredValue, type ReactNode } from 'react';
import type { TensorInfo } from '../../core/onnx/types';
import type { CompressOutcome } from '../../protocol/model';
import { resultIsCurrent, useStudio, type Step } from '../../state/store';
import { formatBytes } from '../format';
import { PruneOptions } from './prune/PruneOptions';
import { PruneTable } from './prune/PruneTable';
import { PRUNE_HELP } from './prune/meta';
import { QuantizeOptions } from './quantize/QuantizeOptions';
import { QuantPreview } from './quantize/QuantPreview';
import { QuantTable } from './quantize/QuantTable';
import { QUANTIZE_HELP } from './quantize/meta';
import { JobStatus } from './shared/JobStatus';
import { PinCompare } from './shared/PinCompare';
import { PresetPicker } from './shared/PresetPicker';
import { RecipeButtons, RecipeError } from './shared/RecipeButtons';
import { UndoRedoButtons } from './shared/RecipeHistory';
import { ResultSummary } from './shared/ResultSummary';
import { Segmented } from '../kit/Segmented';
import { TeacherReport } from './teacher/TeacherReport';
import './compress.css';

/**
 * The compression workbench: prune and quantize controls (one recipe, prune first), the result with its
 * Download, and per-layer tables with exclusions and overrides. The work runs in the model worker.
 */
export function CompressPanel({ tensors, fileName, weightBytes }: { tensors: TensorInfo[]; fileName: string; weightBytes: number }) {
  return (
    <section className="card compress" aria-labelledby="compress-title" data-testid="compress-panel">
      <header className="compress__header">
        <div>
          <h2 className="card__title" id="compress-title">
            Compress
          </h2>
          <p className="card__help">Prune, then quantize: one recipe. Results follow the controls; the compressed file is written here, in your browser.</p>
        </div>
        <div className="compress__actions">
          <UndoRedoButtons />
          <RecipeButtons />
        </div>
      </header>
      <RecipeError />
      <PresetPicker />
      <div className="compress__grid">
        <div className="compress__steps">
          <StepSection step="prune" number={1} title="Prune" help={PRUNE_HELP}>
            <PruneOptions tensors={tensors} />
          </StepSection>
          <StepSection step="quantize" number={2} title="Quantize" help={QUANTIZE_HELP}>
            <QuantizeOptions tensors={tensors} />
          </StepSection>
          <TeacherReport />
        </div>
        <div className="compress__side">
          <JobStatus />
          <ResultArea fileName={fileName} weightBytes={weightBytes} />
          <PinCompare part="control" />
        </div>
      </div>
      <PinCompare part="comparison" />
      <LayerResults tensors={tensors} />
    </section>
  );
}

function StepSection({ step, number, title, help, children }: { step: Step; number: number; title: string; help: string; children: ReactNode }) {
  const on = useStudio((s) => (step === 'quantize' ? s.quantizeOn : s.pruneOn));
  const setStepOn = useStudio((s) => s.setStepOn);
  const headingId = `step-${step}-title`;
  return (
    <section className={`step${on ? ' is-on' : ''}`} aria-labelledby={headingId} data-testid={`step-${step}`}>
      <header className="step__header">
        <span className="step__number" aria-hidden="true">
          {number}
        </span>
        <div className="step__titles">
          <h3 className="step__title" id={headingId}>
            {title}
          </h3>
          <p className="cfield__help">{help}</p>
        </div>
        <label className="switch" title={on ? `Skip the ${title.toLowerCase()} step` : `Add the ${title.toLowerCase()} step to the recipe`}>
          <input type="checkbox" role="switch" checked={on} onChange={(e) => setStepOn(step, e.currentTarget.checked)} aria-label={`${title} weights`} />
          <span className="switch__track" aria-hidden="true" />
          <span className="switch__text">{on ? 'On' : 'Off'}</span>
        </label>
      </header>
      {on && children}
    </section>
  );
}

const ResultArea = memo(function ResultArea({ fileName, weightBytes }: { fileName: string; weightBytes: number }) {
  const job = useStudio((s) => s.compression);
  const current = useStudio(resultIsCurrent);
  const anyStep = useStudio((s) => s.quantizeOn || s.pruneOn);
  const compressNow = useStudio((s) => s.compressNow);
  if (!anyStep) {
    return (
      <p className="detail__empty" data-testid="compress-empty">
        Switch on pruning, quantization or both to see how small the model gets.
      </p>
    );
  }
  if (!job.result) {
    if (job.status === 'running' || job.status === 'waiting') {
      // The progress line above says what is happening (after half a second); this only holds the place.
      return (
        <p className="detail__empty" data-testid="compress-loading">
          The size, bits per weight and Download appear here when the first run finishes.
        </p>
      );
    }
    return (
      <div className="detail__empty compress__start" data-testid="compress-start">
        <p>This model holds {formatBytes(weightBytes)} of weights, so compression starts when you ask for it (then it follows the controls).</p>
        <button type="button" className="button button--primary" onClick={compressNow}>
          Compress
        </button>
      </div>
    );
  }
  return (
    <ResultSummary
      result={job.result}
      current={current && job.status !== 'running' && job.status !== 'waiting'}
      latencyMs={job.latencyMs}
      fileName={fileName}
    />
  );
});

const LayerResults = memo(function LayerResults({ tensors }: { tensors: TensorInfo[] }) {
  const result = useDeferredValue(useStudio((s) => s.compression.result));
  const current = useStudio(resultIsCurrent);
  const tab = useStudio((s) => s.resultsTab);
  const setTab = useStudio((s) => s.setResultsTab);
  const anyStep = useStudio((s) => s.quantizeOn || s.pruneOn);
  if (!result || !anyStep) return null;
  const tabs: { value: Step; label: string }[] = [];
  if (result.prune) tabs.push({ value: 'prune', label: 'Pruning' });
  if (result.quantize) tabs.push({ value: 'quantize', label: result.recipe.quantize?.format === 'fp16' ? 'float16' : 'Quantization' });
  const shown = tabs.some((t) => t.value === tab) ? tab : tabs[0]?.value;
  return (
    <section className="layer-results" aria-labelledby="layer-results-title" data-testid="layer-results">
      <header className="detail__subheader">
        <div>
          <h3 className="detail__subtitle" id="layer-results-title">
            Per layer
          </h3>
          <p className="card__help">
            {shown === 'prune'
              ? 'Largest reconstruction error first. Untick a row to leave that weight alone, or give it its own share.'
              : 'Worst first (lowest SQNR). Untick a row to keep that weight in float32, or give it its own bit width. Click a name to see its values in the Layer tab.'}
          </p>
        </div>
        {tabs.length > 1 && <Segmented<Step> label="Per-layer results" options={tabs} value={shown!} onChange={setTab} small testId="results-tabs" />}
      </header>
      <LayerTable result={result} shown={shown} tensors={tensors} stale={!current} />
    </section>
  );
});

function LayerTable({ result, shown, tensors, stale }: { result: CompressOutcome; shown: Step | undefined; tensors: TensorInfo[]; stale: boolean }) {
  if (shown === 'prune' && result.prune) return <PruneTable report={result.prune} tensors={tensors} stale={stale} />;
  if (shown === 'quantize' && result.quantize && result.recipe.quantize) {
    return (
      <>
        <QuantTable report={result.quantize} tensors={tensors} stale={stale} />
        {result.recipe.quantize.format !== 'fp16' && result.recipe.quantize.format !== 'dynamic' && (
          <QuantPreview report={result.quantize} recipe={result.recipe.quantize} tensors={tensors} stale={stale} />
        )}
      </>
    );
  }
  return null;
}
