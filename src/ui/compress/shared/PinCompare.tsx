import { memo, useState } from 'react';
import { compareResults, measuredFor, recipeLabel, type Measured } from '../../../state/pinCompare';
import { resultIsCurrent, useStudio } from '../../../state/store';
import { formatBytes } from '../../format';
import { deltaText, deltaTone } from './delta';

const SHOWN_LAYERS = 12;

function share(f: number): string {
  return f === 1 ? '100%' : `${(f * 100).toFixed(1)}%`;
}

function db(x: number | undefined): string {
  return x === undefined ? '—' : `${x.toFixed(1)} dB`;
}

function latency(m: Measured | undefined): string {
  if (!m || m.latencyRatio === undefined) return 'not measured';
  return `×${m.latencyRatio.toFixed(2)} of original`;
}

function accuracy(m: Measured | undefined): string {
  if (!m || m.accuracy === undefined) return 'not measured';
  return `${(m.accuracy * 100).toFixed(1)}%`;
}

/**
 * Pin the result shown, then keep changing the recipe: the current result is set beside the pinned one
 * (size, coverage, per-layer SQNR, and latency / accuracy where the lab measured either recipe). The
 * 'control' part sits under the result (the Pin button); the 'comparison' part spans the panel below.
 */
export const PinCompare = memo(function PinCompare({ part }: { part: 'control' | 'comparison' }) {
  const pinned = useStudio((s) => s.pinned);
  const pinnedMeasuredAtPin = useStudio((s) => s.pinnedMeasured);
  const result = useStudio((s) => s.compression.result);
  const current = useStudio((s) => resultIsCurrent(s) && s.compression.status !== 'running' && s.compression.status !== 'waiting');
  const evaluation = useStudio((s) => s.evaluation);
  const sweepPoints = useStudio((s) => s.sweep.points);
  const pin = useStudio((s) => s.pinResult);
  const unpin = useStudio((s) => s.unpinResult);
  const [allLayers, setAllLayers] = useState(false);
  if (!result) return null;

  if (part === 'control') {
    if (pinned) {
      return (
        <p className="pin muted small" data-testid="pin">
          Pinned: <strong>{recipeLabel(pinned.recipe)}</strong> ({formatBytes(pinned.outputBytes)}), compared with the current result below.
        </p>
      );
    }
    return (
      <div className="pin" data-testid="pin">
        <button
          type="button"
          className="button button--small"
          onClick={pin}
          disabled={!current}
          title="Keep this result aside, then change the recipe to compare the new result with it."
        >
          Pin this result
        </button>
        <span className="muted small"> to compare the next recipe with it side by side.</span>
      </div>
    );
  }

  if (!pinned) return null;
  const cmp = compareResults(pinned, result);
  const pinnedMeasured = measuredFor(pinned.recipe, evaluation, sweepPoints) ?? pinnedMeasuredAtPin ?? undefined;
  const currentMeasured = measuredFor(result.recipe, evaluation, sweepPoints);
  const layers = allLayers ? cmp.layers : cmp.layers.slice(0, SHOWN_LAYERS);
  const sizeDelta = deltaText(cmp.sizes.pinned, cmp.sizes.current);
  return (
    <section className="pin pin--on" aria-labelledby="pin-title" data-testid="pin-compare" data-stale={current ? 'false' : 'true'}>
      <header className="pin__head">
        <h4 className="pin__title" id="pin-title">
          Pinned vs current
        </h4>
        <div className="pin__actions">
          <button type="button" className="button button--small" onClick={pin} disabled={!current} title="Pin the current result instead">
            Pin current
          </button>
          <button type="button" className="button button--ghost button--small" onClick={unpin} aria-label="Unpin the pinned result">
            Unpin
          </button>
        </div>
      </header>
      <div className="pin__body">
        <div>
          <table className="pin__table" aria-label="Pinned result beside the current one">
            <thead>
              <tr>
                <th scope="col" />
                <th scope="col">Pinned</th>
                <th scope="col">Current</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">Recipe</th>
                <td data-testid="pin-recipe-pinned">{recipeLabel(pinned.recipe)}</td>
                <td data-testid="pin-recipe-current">{recipeLabel(result.recipe)}</td>
              </tr>
              <tr>
                <th scope="row">Size</th>
                <td data-testid="pin-size-pinned">{formatBytes(cmp.sizes.pinned)}</td>
                <td data-testid="pin-size-current">
                  {formatBytes(cmp.sizes.current)}{' '}
                  {sizeDelta && <span className={`delta delta--${deltaTone(cmp.sizes.pinned, cmp.sizes.current)}`}>{sizeDelta}</span>}
                </td>
              </tr>
              <tr>
                <th scope="row">Coverage</th>
                <td>{share(cmp.coverage.pinned)}</td>
                <td>{share(cmp.coverage.current)}</td>
              </tr>
              <tr>
                <th scope="row">Latency</th>
                <td>{latency(pinnedMeasured)}</td>
                <td>{latency(currentMeasured)}</td>
              </tr>
              <tr>
                <th scope="row">Accuracy</th>
                <td>{accuracy(pinnedMeasured)}</td>
                <td>{accuracy(currentMeasured)}</td>
              </tr>
            </tbody>
          </table>
          {!pinnedMeasured && !currentMeasured && (
            <p className="muted small">Latency and accuracy appear when the evaluation lab below has measured a recipe (Evaluate, or a trade-off point).</p>
          )}
        </div>
        {cmp.layers.length > 0 && (
          <div>
            <table className="pin__table pin__layers" aria-label="Per-layer SQNR, pinned and current" data-testid="pin-layers">
              <thead>
                <tr>
                  <th scope="col">Weight</th>
                  <th scope="col">Pinned</th>
                  <th scope="col">Current</th>
                  <th scope="col" title="Current minus pinned: negative means the current recipe damages this weight more.">
                    Δ SQNR
                  </th>
                </tr>
              </thead>
              <tbody>
                {layers.map((l) => (
                  <tr key={`${l.step}:${l.name}`}>
                    <th scope="row" className="mono" title={l.step === 'prune' ? 'pruning' : 'quantization'}>
                      {l.name}
                      {l.step === 'prune' ? ' (pruned)' : ''}
                    </th>
                    <td>{db(l.pinnedDb)}</td>
                    <td>{db(l.currentDb)}</td>
                    <td className={l.deltaDb === undefined ? '' : l.deltaDb < -0.05 ? 'pin__loss' : l.deltaDb > 0.05 ? 'pin__gain' : ''}>
                      {l.deltaDb === undefined ? (l.currentDb === undefined ? 'left out now' : 'new') : `${l.deltaDb > 0 ? '+' : ''}${l.deltaDb.toFixed(1)} dB`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {cmp.layers.length > SHOWN_LAYERS && (
              <button type="button" className="button button--ghost button--small" onClick={() => setAllLayers(!allLayers)}>
                {allLayers ? 'Show the largest changes only' : `Show all ${cmp.layers.length} weights`}
              </button>
            )}
          </div>
        )}
      </div>
    </section>
  );
});
