import { memo, useId } from 'react';
import type { TensorInfo } from '../../../core/onnx/types';
import type { QuantFormat, QuantizeRecipe } from '../../../core/recipe';
import { useStudio } from '../../../state/store';
import { Exclusions } from '../shared/Exclusions';
import { Field } from '../../kit/Field';
import { RangeSlider } from '../../kit/RangeSlider';
import { Segmented } from '../../kit/Segmented';
import { BITS_HELP, BLOCK_SIZES, CALIBRATION_METHODS, FORMATS, GRANULARITIES, RANGES, bitsNote, containerBits } from './meta';
import { DEFAULT_CALIBRATION_SAMPLES } from '../../../core/recipe';

const BIT_TICKS = [2, 3, 4, 5, 6, 7, 8].map((b) => ({ value: b, label: String(b) }));

/** The quantization step's controls. Every change goes to the store, which recompresses (debounced for sliders). */
export const QuantizeOptions = memo(function QuantizeOptions({ tensors }: { tensors: TensorInfo[] }) {
  const q = useStudio((s) => s.quantize);
  const set = useStudio((s) => s.setQuantize);
  const blockId = useId();
  const rangeId = useId();
  const pctId = useId();
  const formatId = useId();
  const fp16 = q.format === 'fp16';
  const isStatic = q.format === 'static';
  const samplesId = useId();
  const methodId = useId();
  const weightTypeId = useId();
  const method = CALIBRATION_METHODS.find((m) => m.value === (q.calibration ?? 'minmax'))!;
  const stored = containerBits(q.bits, q.format);
  const format = FORMATS.find((f) => f.value === q.format)!;
  const granularity = GRANULARITIES.find((g) => g.value === q.granularity)!;
  const range = RANGES.find((r) => r.value === q.range)!;
  const blockSizes = BLOCK_SIZES.includes(q.blockSize) ? BLOCK_SIZES : [...BLOCK_SIZES, q.blockSize].sort((a, b) => a - b);

  const gptqOn = !fp16 && q.gptq?.enabled === true;
  const samplesField = (
    <Field
      label="Calibration samples"
      htmlFor={samplesId}
      help="How many samples of the Evaluation lab’s data (the demo digits until you choose others) the original model runs on to measure each activation’s range (static int8) or each layer’s inputs (GPTQ). A few dozen real samples are usually enough; random inputs give misleading ranges."
    >
      <input
        id={samplesId}
        className="input input--narrow"
        type="number"
        min={1}
        max={10000}
        step={1}
        value={q.calibrationSamples ?? DEFAULT_CALIBRATION_SAMPLES}
        data-testid="calibration-samples"
        onChange={(e) => {
          const v = Number(e.currentTarget.value);
          if (Number.isInteger(v) && v >= 1 && v <= 10000) set({ calibrationSamples: v }, { debounce: true });
        }}
      />
    </Field>
  );

  return (
    <div className="step-options" data-testid="quantize-options">
      <RangeSlider
        label="Bit width"
        value={q.bits}
        min={2}
        max={8}
        step={1}
        ticks={BIT_TICKS}
        disabled={fp16 || isStatic}
        onChange={(bits) => set({ bits }, { debounce: true })}
        display={fp16 ? '16 bits (float16)' : isStatic ? '8 bits (static int8)' : stored === q.bits ? `${q.bits} bits` : `${q.bits} bits · stored in ${stored}`}
        valueText={`${q.bits} bits`}
        testId="bits-field"
        help={
          <>
            {fp16
              ? 'float16 keeps 16 bits per weight: the bit width does not apply. '
              : isStatic
                ? 'Static int8 always stores 8-bit weights and activations. '
                : `${bitsNote(q.bits, stored)} `}
            <span className="muted">{BITS_HELP}</span>
          </>
        }
      />

      {fp16 ? (
        <p className="cfield__help" data-testid="fp16-note">
          float16 is a floating-point format, not a grid of levels: granularity, zero point and range do not apply.
        </p>
      ) : (
        <>
          {isStatic ? (
            <p className="cfield__help" data-testid="static-note">
              Static int8: weights per output channel, symmetric; activations with a zero point. The range below applies to the weights.
            </p>
          ) : (
            <>
              <Field label="Granularity" help={granularity.help}>
                <div className="cfield__row">
                  <Segmented<QuantizeRecipe['granularity']>
                    label="Granularity"
                    options={GRANULARITIES}
                    value={q.granularity}
                    onChange={(granularity) => set({ granularity })}
                  />
                  {q.granularity === 'block' && (
                    <span className="inline-field" title="Weights per block (16–256). MatMulNBits needs a power of two.">
                      <label htmlFor={blockId}>Block size</label>
                      <select id={blockId} className="select" value={q.blockSize} onChange={(e) => set({ blockSize: Number(e.currentTarget.value) })}>
                        {blockSizes.map((b) => (
                          <option key={b} value={b}>
                            {b}
                          </option>
                        ))}
                      </select>
                    </span>
                  )}
                </div>
              </Field>

              <Field
                label="Zero point"
                help={
                  q.symmetric
                    ? 'Symmetric: the grid is centred on zero (zero stays exactly zero, no zero point to store). Best for weights, which sit around zero.'
                    : 'Asymmetric: the grid spans exactly the min to the max, with a zero point: a finer grid for lopsided ranges, one more number per group.'
                }
              >
                <Segmented<'sym' | 'asym'>
                  label="Zero point"
                  options={[
                    { value: 'sym', label: 'Symmetric' },
                    { value: 'asym', label: 'Asymmetric' },
                  ]}
                  value={q.symmetric ? 'sym' : 'asym'}
                  onChange={(v) => set({ symmetric: v === 'sym' })}
                />
              </Field>
            </>
          )}

          <Field label="Range" htmlFor={rangeId} help={range.help}>
            <div className="cfield__row">
              <select id={rangeId} className="select" value={q.range} onChange={(e) => set({ range: e.currentTarget.value as QuantizeRecipe['range'] })}>
                {RANGES.map((r) => (
                  <option key={r.value} value={r.value}>
                    {r.label}
                  </option>
                ))}
              </select>
              {q.range === 'percentile' && (
                <span className="inline-field" title="The share of absolute values the grid covers; the rest are clipped. 99.99 clips 1 value in 10,000.">
                  <label htmlFor={pctId}>Percentile</label>
                  <input
                    id={pctId}
                    className="input input--narrow"
                    type="number"
                    min={90}
                    max={100}
                    step={0.01}
                    value={q.percentile}

                    onChange={(e) => {
                      const v = Number(e.currentTarget.value);
                      if (v > 50 && v <= 100) set({ percentile: v }, { debounce: true });
                    }}
                  />
                  <span className="muted">%</span>
                </span>
              )}
            </div>
          </Field>
        </>
      )}

      <Field
        label="Format"
        htmlFor={formatId}
        help={
          <>
            {format.help}
            <span className="runtime-hint" data-testid="format-runtime-hint">
              <span className="badge badge--warn">Runtime</span> {format.runtime}
              {q.format === 'matmulnbits' && q.bits > 4 ? ' At more than 4 bits every layer falls back to DequantizeLinear.' : ''}
            </span>
          </>
        }
      >
        <select id={formatId} className="select" value={q.format} onChange={(e) => set({ format: e.currentTarget.value as QuantFormat })}>
          {FORMATS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
      </Field>

      {!fp16 && (
        <Field
          label="GPTQ"
          help="Chooses each weight’s rounding with the original model’s layer inputs on calibration data (the Evaluation lab’s data), so each layer’s output stays closer than with plain rounding. Same bits and size; the run takes longer."
        >
          <label className="checkbox">
            <input
              type="checkbox"
              checked={gptqOn}
              data-testid="gptq"
              onChange={(e) => set({ gptq: e.currentTarget.checked ? { ...(q.gptq ?? {}), enabled: true } : undefined })}
            />{' '}
            GPTQ (uses calibration data)
          </label>
        </Field>
      )}

      {(isStatic || gptqOn) && samplesField}

      {isStatic && (
        <>
          <Field label="Activation ranges" htmlFor={methodId} help={method.help}>
            <select
              id={methodId}
              className="select"
              value={method.value}
              data-testid="calibration-method"
              onChange={(e) => set({ calibration: e.currentTarget.value as NonNullable<QuantizeRecipe['calibration']> })}
            >
              {CALIBRATION_METHODS.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Weights stored as"
            htmlFor={weightTypeId}
            help="uint8 (U8U8) gives the same result on every CPU and is fast in the browser (wasm). int8 (U8S8) is onnxruntime's fast path on x86 servers, but CPUs without VNNI (AVX2 only) overflow its 16-bit sums and can lose much accuracy. int7 keeps U8S8's speed with codes limited to ±63 so nothing overflows, at one bit less precision (pair it with GPTQ). Check in the lab on the machine you deploy to."
          >
            <select
              id={weightTypeId}
              className="select"
              value={q.staticWeights ?? 'uint8'}
              data-testid="static-weights"
              onChange={(e) => set({ staticWeights: e.currentTarget.value as NonNullable<QuantizeRecipe['staticWeights']> })}
            >
              <option value="uint8">uint8: exact on every CPU</option>
              <option value="int7">int7: fast on x86, no overflow</option>
              <option value="int8">int8: fastest with VNNI</option>
            </select>
          </Field>
          <Field
            label="Bias correction"
            help="Moves each layer’s bias by the average shift its rounded weights cause on the calibration data, so errors do not add up layer after layer."
          >
            <label className="checkbox">
              <input
                type="checkbox"
                checked={q.biasCorrection ?? false}
                data-testid="bias-correction"
                onChange={(e) => set({ biasCorrection: e.currentTarget.checked })}
              />{' '}
              Correct biases
            </label>
          </Field>
        </>
      )}

      <Exclusions step="quantize" tensors={tensors} />
    </div>
  );
});
