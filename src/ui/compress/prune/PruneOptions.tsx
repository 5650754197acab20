import { memo, useId } from 'react';
import type { TensorInfo } from '../../../core/onnx/types';
import type { PruneRecipe } from '../../../core/recipe';
import { fixedSparsity } from '../../../state/recipeEdits';
import { useStudio } from '../../../state/store';
import { Exclusions } from '../shared/Exclusions';
import { Field } from '../../kit/Field';
import { RangeSlider } from '../../kit/RangeSlider';
import { Segmented } from '../../kit/Segmented';
import {
  CHANNEL_METHOD_HELP,
  CHANNEL_SPARSITY_HELP,
  GROUP_IMPORTANCE_HELP,
  GROUP_SCOPE_HELP,
  NORM_HELP,
  PATTERNS,
  PRUNE_METHODS,
  SCOPE_HELP,
  SPARSITY_HELP,
} from './meta';
import { DEFAULT_CALIBRATION_SAMPLES } from '../../../core/recipe';

const SPARSITY_TICKS = [0, 25, 50, 75, 95].map((v) => ({ value: v, label: `${v}%` }));

/** The pruning step's controls. */
export const PruneOptions = memo(function PruneOptions({ tensors }: { tensors: TensorInfo[] }) {
  const p = useStudio((s) => s.prune);
  const set = useStudio((s) => s.setPrune);
  const fixed = fixedSparsity(p.pattern);
  const pattern = PATTERNS.find((x) => x.value === p.pattern)!;
  const percent = Math.round((fixed ?? p.sparsity) * 100);
  const channels = p.pattern === 'channel';
  const methodId = useId();
  const samplesId = useId();
  const method = PRUNE_METHODS.find((m) => m.value === (channels ? 'magnitude' : (p.method ?? 'magnitude')))!;
  const quantizeCalibrates = useStudio((s) => s.quantizeOn && (s.quantize.format === 'static' || s.quantize.gptq?.enabled === true));

  return (
    <div className="step-options" data-testid="prune-options">
      <Field label="Pattern" help={pattern.help}>
        <Segmented<PruneRecipe['pattern']> label="Pruning pattern" options={PATTERNS} value={p.pattern} onChange={(v) => set({ pattern: v })} />
      </Field>

      <Field label="Pruning method" htmlFor={methodId} help={channels ? CHANNEL_METHOD_HELP : method.help}>
        <select
          id={methodId}
          className="select"
          value={method.value}
          disabled={channels}
          data-testid="prune-method"
          onChange={(e) => set({ method: e.currentTarget.value === 'sparsegpt' ? 'sparsegpt' : undefined })}
        >
          {PRUNE_METHODS.map((m) => (
            <option key={m.value} value={m.value}>
              {m.label}
            </option>
          ))}
        </select>
      </Field>

      {method.value === 'sparsegpt' && !quantizeCalibrates && (
        <Field
          label="Calibration samples"
          htmlFor={samplesId}
          help="How many samples of the Evaluation lab’s data (the demo digits until you choose others) the original model runs on to measure each layer’s inputs. A few dozen real samples are usually enough; the rest are kept for evaluation."
        >
          <input
            id={samplesId}
            className="input input--narrow"
            type="number"
            min={1}
            max={10000}
            step={1}
            value={p.calibrationSamples ?? DEFAULT_CALIBRATION_SAMPLES}
            data-testid="prune-calibration-samples"
            onChange={(e) => {
              const v = Number(e.currentTarget.value);
              if (Number.isInteger(v) && v >= 1 && v <= 10000) set({ calibrationSamples: v }, { debounce: true });
            }}
          />
        </Field>
      )}

      <RangeSlider
        label="Sparsity"
        value={percent}
        min={0}
        max={95}
        step={1}
        ticks={SPARSITY_TICKS}
        disabled={fixed !== null}
        onChange={(v) => set({ sparsity: v / 100 }, { debounce: true })}
        display={`${percent}%${channels ? ' of channels' : ' of weights'}`}
        valueText={`${percent} percent${channels ? ' of output channels' : ' of weights'}`}
        testId="sparsity-field"
        help={
          fixed !== null ? (
            <>
              <strong>Fixed at 50% by the {p.pattern} pattern</strong>: it keeps {p.pattern === '2:4' ? '2 of every 4' : '4 of every 8'} weights, so the slider
              does not apply.
            </>
          ) : channels ? (
            CHANNEL_SPARSITY_HELP
          ) : (
            SPARSITY_HELP
          )
        }
      />

      {(p.pattern === 'unstructured' || channels) && (
        <Field label="Scope" help={channels ? (p.global ? GROUP_SCOPE_HELP.global : GROUP_SCOPE_HELP.layer) : p.global ? SCOPE_HELP.global : SCOPE_HELP.layer}>
          <div className="cfield__row">
            <Segmented<'layer' | 'global'>
              label="Scope"
              options={[
                { value: 'layer', label: channels ? 'Per group' : 'Per layer', help: channels ? GROUP_SCOPE_HELP.layer : SCOPE_HELP.layer },
                { value: 'global', label: 'Global', help: channels ? GROUP_SCOPE_HELP.global : SCOPE_HELP.global },
              ]}
              value={p.global ? 'global' : 'layer'}
              onChange={(v) => set({ global: v === 'global' })}
            />
          </div>
          {p.global && (
            <RangeSlider
              label={channels ? 'Per-group cap' : 'Per-layer cap'}
              value={Math.round(p.layerCap * 100)}
              min={50}
              max={99}
              step={1}
              onChange={(v) => set({ layerCap: v / 100 }, { debounce: true })}
              display={`${Math.round(p.layerCap * 100)}%`}
              valueText={`at most ${Math.round(p.layerCap * 100)} percent per ${channels ? 'group' : 'layer'}`}
              help={
                channels
                  ? 'No channel group loses more than this share of its channels, however unimportant they look.'
                  : 'No layer loses more than this share of its weights, however small they are.'
              }
            />
          )}
        </Field>
      )}

      {channels && (
        <Field label="Rank channels by" help={NORM_HELP[p.norm]}>
          <Segmented<'l1' | 'l2'>
            label="Rank channels by"
            options={[
              { value: 'l1', label: 'L1 norm', help: NORM_HELP.l1 },
              { value: 'l2', label: 'L2 norm', help: NORM_HELP.l2 },
            ]}
            value={p.norm}
            onChange={(norm) => set({ norm })}
          />
        </Field>
      )}

      {channels && (
        <Field label="Group importance" help={GROUP_IMPORTANCE_HELP[p.groupImportance]}>
          <Segmented<'sum' | 'mean'>
            label="Group importance"
            options={[
              { value: 'sum', label: 'Sum', help: GROUP_IMPORTANCE_HELP.sum },
              { value: 'mean', label: 'Mean', help: GROUP_IMPORTANCE_HELP.mean },
            ]}
            value={p.groupImportance}
            onChange={(groupImportance) => set({ groupImportance })}
          />
        </Field>
      )}

      {channels && (
        <Field
          label="Refit"
          help="After channels are removed, the layers that read them are refit by least squares so that, on calibration data (the Evaluation lab’s data), their outputs stay as close as possible to the original’s. Runs the original model first."
        >
          <label className="checkbox">
            <input type="checkbox" checked={p.refit ?? false} data-testid="prune-refit" onChange={(e) => set({ refit: e.currentTarget.checked })} /> Refit next
            layer (least squares)
          </label>
        </Field>
      )}

      <Exclusions step="prune" tensors={tensors} />
    </div>
  );
});
