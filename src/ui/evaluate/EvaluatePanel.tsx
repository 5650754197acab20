import { useEffect, useRef } from 'react';
import { useStudio } from '../../state/store';
import { DataPanel } from './DataPanel';
import { EvaluationSection } from './EvaluationSection';
import { SensitivityView } from './SensitivityView';
import { SweepExplorer } from './SweepExplorer';
import './evaluate.css';

/**
 * The evaluation lab: data, an evaluation of the current recipe, per-layer sensitivity with a mixed-precision
 * plan, and the trade-off explorer. All inference runs in the evaluation worker; nothing here blocks the page.
 */
export function EvaluatePanel() {
  const summary = useStudio((s) => s.summary);
  const loadEvalEnvironment = useStudio((s) => s.loadEvalEnvironment);
  const ref = useRef<HTMLElement>(null);

  // Start onnxruntime-web (and probe WebGPU) once the panel is near the screen or touched, so opening a model
  // never waits for it and pages that never scroll here never load it.
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      void loadEvalEnvironment();
      observer?.disconnect();
    };
    const observer =
      typeof IntersectionObserver === 'function'
        ? new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && start(), { rootMargin: '400px 0px' })
        : undefined;
    if (observer) observer.observe(el);
    else start();
    el.addEventListener('focusin', start);
    el.addEventListener('pointerdown', start);
    return () => {
      observer?.disconnect();
      el.removeEventListener('focusin', start);
      el.removeEventListener('pointerdown', start);
    };
  }, [loadEvalEnvironment, !!summary]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!summary) return null;
  return (
    <section className="card evaluate" aria-labelledby="evaluate-title" data-testid="evaluate-panel" ref={ref}>
      <header className="card__header">
        <h2 className="card__title" id="evaluate-title">
          Evaluate
        </h2>
        <p className="card__help">
          Does the compressed model still give the same answers, and is it faster? Measured here with onnxruntime-web on your own inputs — nothing is uploaded.
        </p>
      </header>
      <DataPanel key={`data-${summary.fileName}`} inputs={summary.inputs} />
      <EvaluationSection outputs={summary.outputs} />
      <SensitivityView />
      <SweepExplorer />
    </section>
  );
}
