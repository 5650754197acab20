import { memo, useEffect, useState } from 'react';
import { Bar, BarChart, Cell, LabelList, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { savingText, type LayerSensitivity } from '../../core/eval/sensitivity';
import { useStudio } from '../../state/store';
import { deltaText } from '../compress/shared/delta';
import { RangeSlider } from '../kit/RangeSlider';
import { Segmented } from '../kit/Segmented';
import { formatBytes, formatInteger } from '../format';
import { formatAccuracy, formatCosine, formatShare, formatSmall } from './readings';
import { Badge, LabProgress, NumberInput } from '../kit/controls';

const BAR_HEIGHT = 26;

/** Per-layer sensitivity: measure, a ranked chart, and a mixed-precision plan built from it. */
export const SensitivityView = memo(function SensitivityView() {
  const sens = useStudio((s) => s.sensitivity);
  const run = useStudio((s) => s.runSensitivity);
  const cancel = useStudio((s) => s.cancelLabJob);
  const anyStep = useStudio((s) => s.quantizeOn || s.pruneOn);
  const busy = useStudio((s) => s.evaluation.status === 'running' || s.sensitivity.status === 'running' || s.sweep.status === 'running');
  const running = sens.status === 'running';
  return (
    <section className="lab-section" aria-labelledby="sens-title" data-testid="sensitivity">
      <header className="lab-section__header">
        <h3 className="lab-section__title" id="sens-title">
          Per-layer sensitivity
        </h3>
        <p className="card__help">
          Which layers can take the compression and which cannot: compresses one layer at a time at the current Compress settings (the others stay in float) and
          measures how much the output changes. The most sensitive layers are the ones to protect.
        </p>
      </header>
      <div className="lab-actions">
        <button type="button" className="button button--primary" onClick={() => void run()} disabled={busy || !anyStep} data-testid="sensitivity-button">
          Measure sensitivity
        </button>
        <span className="muted">Uses up to 200 samples of the evaluation data on wasm; one compression and one pass per layer.</span>
      </div>
      {running && (
        <LabProgress
          testId="sens-progress"
          label={sens.progress?.layer ? `Compressing only ${sens.progress.layer}` : 'Preparing…'}
          done={sens.progress?.done ?? 0}
          total={sens.progress?.total ?? 0}
          onCancel={cancel}
        />
      )}
      {sens.status === 'cancelled' && <p className="lab-status">Cancelled.</p>}
      {sens.status === 'error' && (
        <div className="banner banner--error" role="alert" data-testid="sens-error">
          <div className="banner__body">
            <p className="banner__title">Could not measure the sensitivity</p>
            <p className="banner__message">{sens.error}</p>
          </div>
        </div>
      )}
      {sens.layers && (
        <>
          <SensitivityChart layers={sens.layers} />
          <SensitivityTable layers={sens.layers} />
          <MixedPlanner layers={sens.layers} originalBytes={sens.originalBytes} />
        </>
      )}
    </section>
  );
});

/** Primitives only: recharts freezes the data it is given (immer). */
interface Row {
  name: string;
  label: string;
  damage: number;
}

function SensitivityChart({ layers }: { layers: LayerSensitivity[] }) {
  const data: Row[] = layers.map((l) => ({ name: l.name, label: l.name, damage: l.damage }));
  const byName = new Map(layers.map((l) => [l.name, l]));
  const longest = data.reduce((m, d) => Math.max(m, d.label.length), 0);
  const axisWidth = Math.min(220, Math.max(70, longest * 7.2 + 12));
  const max = Math.max(...layers.map((l) => l.damage));
  return (
    <figure
      className="chart lab-chart"
      data-testid="sens-chart"
      role="img"
      aria-label={`Damage per layer, most sensitive first: ${layers.map((l) => `${l.name} ${formatSmall(l.damage)}`).join(', ')}`}
    >
      <ResponsiveContainer width="100%" height={data.length * BAR_HEIGHT + 24}>
        <BarChart data={data} layout="vertical" margin={{ top: 4, right: 64, bottom: 4, left: 0 }} barCategoryGap={4}>
          <XAxis type="number" hide domain={[0, max > 0 ? 'auto' : 1]} />
          <YAxis
            type="category"
            dataKey="label"
            width={axisWidth}
            interval={0}
            tickLine={false}
            axisLine={false}
            tick={{ fontSize: 12, fill: 'var(--text-muted)' }}
          />
          <Tooltip
            cursor={{ fill: 'var(--surface-hover)' }}
            content={({ active, payload }) => {
              const row = active ? (payload?.[0]?.payload as Row | undefined) : undefined;
              const l = row && byName.get(row.name);
              if (!l) return null;
              return (
                <div className="lab-tip">
                  <strong className="mono">{l.name}</strong>
                  <span>
                    {l.op} in {l.layer}
                  </span>
                  <span>damage {formatSmall(l.damage)}</span>
                  {l.headline && (
                    <span>
                      {l.headline.metric} {formatShare(l.headline.value)}
                    </span>
                  )}
                  <span>{savingText(l.savedBytes, formatBytes)}</span>
                </div>
              );
            }}
          />
          <Bar dataKey="damage" radius={[0, 4, 4, 0]} isAnimationActive={false}>
            {data.map((d, i) => (
              <Cell key={d.name} fill={i === 0 && d.damage > 0 ? 'var(--series-3)' : 'var(--accent)'} />
            ))}
            <LabelList
              dataKey="damage"
              position="right"
              formatter={(v: unknown) => formatSmall(Number(v))}
              style={{ fontSize: 12, fill: 'var(--text-muted)' }}
            />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
      <figcaption className="chart-caption">
        Damage = (1 − {layers[0]?.headline?.metric ?? 'headline metric'}) + (1 − cosine) of the first output with only that layer compressed; 0 = no change.
      </figcaption>
    </figure>
  );
}

function SensitivityTable({ layers }: { layers: LayerSensitivity[] }) {
  return (
    <table className="simple-table lab-table" data-testid="sens-table">
      <caption className="visually-hidden">Layers ranked by damage, most sensitive first</caption>
      <thead>
        <tr>
          <th scope="col" className="lab-col--rank">
            #
          </th>
          <th scope="col">Weight</th>
          <th scope="col">Op</th>
          <th scope="col" className="num" title="(1 − headline metric) + (1 − cosine): 0 means this layer alone changes nothing.">
            Damage
          </th>
          <th scope="col" className="num">
            Headline
          </th>
          <th scope="col" className="num">
            Cosine
          </th>
          <th scope="col" className="num" title="Accuracy with only this layer compressed.">
            Accuracy
          </th>
          <th
            scope="col"
            className="num"
            title="How much smaller the whole file is with only this layer compressed; static int8's activation Q/DQ nodes and scales can make a small layer grow it."
          >
            File size
          </th>
        </tr>
      </thead>
      <tbody>
        {layers.map((l, i) => (
          <tr key={l.name} data-testid="sens-row" data-name={l.name} title={l.error}>
            <td>{i + 1}</td>
            <td className="mono" title={`${l.name} (${l.layer})`}>
              {l.name}
            </td>
            <td>{l.op}</td>
            <td className="num" data-testid="sens-damage">
              {l.error ? <Badge severity="bad">failed</Badge> : formatSmall(l.damage)}
            </td>
            <td className="num" title={l.headline?.metric}>
              {l.headline ? formatShare(l.headline.value) : '—'}
            </td>
            <td className="num">{formatCosine(l.cosine)}</td>
            <td className="num">{formatAccuracy(l.accuracy)}</td>
            <td className="num" data-testid="sens-saving">
              {l.error ? '—' : savingText(l.savedBytes, formatBytes)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MixedPlanner({ layers, originalBytes }: { layers: LayerSensitivity[]; originalBytes: number }) {
  const sens = useStudio((s) => s.sensitivity);
  const planMixed = useStudio((s) => s.planMixed);
  const applyRecipe = useStudio((s) => s.applyRecipe);
  const [mode, setMode] = useState<'size' | 'damage'>('size');
  const fullBytes = Math.max(0, originalBytes - layers.reduce((n, l) => n + (l.error ? 0 : l.savedBytes), 0));
  const minPct = Math.max(1, Math.floor((fullBytes / originalBytes) * 100));
  const [pct, setPct] = useState(() => Math.min(100, Math.round(((fullBytes + (originalBytes - fullBytes) * 0.25) / originalBytes) * 100)));
  const totalDamage = layers.reduce((n, l) => n + l.damage, 0);
  const [maxDamage, setMaxDamage] = useState(() => Number((totalDamage / 4).toPrecision(2)) || 0.01);
  const [applied, setApplied] = useState(false);
  const plan = sens.plan;
  useEffect(() => setApplied(false), [plan]);
  const targetBytes = Math.round((originalBytes * pct) / 100);
  const make = () => void planMixed(mode === 'size' ? { sizeBytes: targetBytes } : { maxDamage });
  const measure = sens.planMeasure;
  const f = measure?.fidelity[0];
  return (
    <section className="lab-plan" aria-labelledby="plan-title" data-testid="mixed-plan">
      <h4 className="lab-card__title" id="plan-title">
        Make a mixed-precision recipe
      </h4>
      <p className="card__help">
        Keeps the most sensitive layers at a gentler setting and compresses the rest, meeting a size target (or a damage budget) with the least damage.
      </p>
      <div className="lab-row">
        <Segmented<'size' | 'damage'>
          label="Plan target"
          small
          options={[
            { value: 'size', label: 'Target size', help: 'Protect as many sensitive layers as the size allows.' },
            { value: 'damage', label: 'Max damage', help: 'Compress layers, least damaging first, while the summed damage stays within the budget.' },
          ]}
          value={mode}
          onChange={setMode}
          testId="plan-mode"
        />
      </div>
      {mode === 'size' ? (
        <div className="lab-row lab-row--wide">
          <div className="lab-grow">
            <RangeSlider
              label="Target size"
              value={pct}
              min={minPct}
              max={100}
              step={1}
              onChange={setPct}
              display={`${pct}% of ${formatBytes(originalBytes)} = ${formatBytes(targetBytes)}`}
              valueText={`${pct} percent of the original size`}
              help={`Every layer compressed: about ${formatBytes(fullBytes)} (${Math.round((fullBytes / originalBytes) * 100)}%); nothing compressed: ${formatBytes(originalBytes)}.`}
              testId="plan-size"
            />
          </div>
          <NumberInput
            label="or"
            unit="kB"
            value={Math.round(targetBytes / 100) / 10}
            min={0.1}
            max={Math.ceil(originalBytes / 1000)}
            step={0.1}
            integer={false}
            onCommit={(kb) => setPct(Math.min(100, Math.max(minPct, Math.round(((kb * 1000) / originalBytes) * 100))))}
            help="Target size of the model file in kilobytes (1 kB = 1000 bytes)."
          />
        </div>
      ) : (
        <div className="lab-row">
          <NumberInput
            label="Max damage"
            value={maxDamage}
            min={0}
            max={10}
            step={0.001}
            integer={false}
            onCommit={setMaxDamage}
            help={`Summed damage of the compressed layers may not exceed this (all layers together: ${formatSmall(totalDamage)}).`}
            testId="plan-damage"
          />
        </div>
      )}
      <div className="lab-actions">
        <button type="button" className="button" onClick={make} disabled={sens.planStatus === 'running'} data-testid="plan-button">
          Make the recipe
        </button>
        {sens.planStatus === 'running' && (
          <span className="lab-status" role="status">
            <span className="spinner spinner--tiny" aria-hidden="true" /> Compressing and measuring the plan…
          </span>
        )}
      </div>
      {plan && (
        <div className="lab-plan__result" data-testid="plan-result">
          {!plan.targetMet && (
            <p className="lab-warning">
              <Badge severity="warn">target not met</Badge> Even compressing every layer does not reach {formatBytes(targetBytes)}; the plan compresses them
              all.
            </p>
          )}
          <p data-testid="plan-protected">
            <strong>{plan.protectedLayers.length}</strong> layer{plan.protectedLayers.length === 1 ? '' : 's'} protected ({plan.protection}):{' '}
            <span className="mono">{plan.protectedLayers.join(', ') || 'none'}</span>
          </p>
          <p className="muted">
            {plan.compressed.length} compressed at the current settings: <span className="mono">{plan.compressed.join(', ') || 'none'}</span>
          </p>
          <dl className="lab-metrics">
            <div className="lab-metric" title="From the per-layer savings measured above.">
              <dt>Estimated size</dt>
              <dd>{formatBytes(plan.estimatedBytes)}</dd>
            </div>
            <div className="lab-metric" title="The plan's recipe compressed for real.">
              <dt>Measured size</dt>
              <dd data-testid="plan-measured-size">
                {measure ? (
                  <>
                    {formatBytes(measure.sizeBytes)} <span className="muted">{deltaText(originalBytes, measure.sizeBytes)}</span>
                  </>
                ) : sens.planStatus === 'running' ? (
                  '…'
                ) : (
                  '—'
                )}
              </dd>
            </div>
            <div className="lab-metric" title="Summed damage of the compressed layers (an estimate: damage does not add up exactly).">
              <dt>Estimated damage</dt>
              <dd>{formatSmall(plan.estimatedDamage)}</dd>
            </div>
            {f && (
              <div className="lab-metric" title="Measured on the same samples as the ranking.">
                <dt>Measured {f.headline.metric}</dt>
                <dd data-testid="plan-fidelity">{f.headline.metric === 'cosine' ? formatCosine(f.headline.value) : formatShare(f.headline.value)}</dd>
              </div>
            )}
            {measure?.accuracy && (
              <div className="lab-metric">
                <dt>Measured accuracy</dt>
                <dd>
                  {formatAccuracy(measure.accuracy.candidate)} <span className="muted">(original {formatAccuracy(measure.accuracy.original)})</span>
                </dd>
              </div>
            )}
          </dl>
          {sens.planStatus === 'error' && <p className="lab-error">Could not measure the plan: {sens.planError}</p>}
          <div className="lab-actions">
            <button
              type="button"
              className="button button--primary"
              data-testid="plan-apply"
              onClick={() => {
                applyRecipe(plan.recipe);
                setApplied(true);
              }}
            >
              Apply to Compress panel
            </button>
            {applied && (
              <span className="lab-applied" role="status" data-testid="plan-applied">
                ✓ Applied to the Compress panel ({formatInteger(plan.protectedLayers.length)} protected)
              </span>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
