import { memo, useId } from 'react';
import type { BackendPreference, BackendStatus } from '../../kernels/registry';
import { useStudio } from '../../state/store';

interface Choice {
  value: BackendPreference;
  label: string;
  help: string;
}

const CHOICES: Choice[] = [
  {
    value: 'auto',
    label: 'Auto',
    help: 'Pick the fastest available for each tensor: WebGPU for large tensors on a real graphics card, otherwise WASM SIMD.',
  },
  { value: 'wasm', label: 'WASM SIMD', help: 'WebAssembly with SIMD: vector instructions on the CPU, in this tab.' },
  { value: 'webgpu', label: 'WebGPU', help: 'Compute shaders on the graphics card.' },
  { value: 'ts', label: 'TypeScript', help: 'Plain TypeScript: the slowest, and the reference the others are tested against.' },
];

/** "Compute on: Auto / WASM SIMD / WebGPU / TypeScript", with what each runs on here. */
export const ComputeControl = memo(function ComputeControl() {
  const preference = useStudio((s) => s.backendPreference);
  const setPreference = useStudio((s) => s.setBackendPreference);
  const backends = useStudio((s) => s.backends);
  const name = useId();
  const statusOf = (value: BackendPreference): BackendStatus | undefined => backends?.find((b) => b.name === value);
  const chosen = statusOf(preference);
  const line =
    preference === 'auto'
      ? autoLine(backends)
      : chosen
        ? `${chosen.label} — ${chosen.detail}${chosen.available ? '' : '. Unavailable here: the fastest available backend runs instead.'}`
        : CHOICES.find((c) => c.value === preference)!.help;

  return (
    <fieldset className="compute" data-testid="compute-control">
      <legend
        className="compute__legend"
        title="Where the statistics and histograms are computed. Results are the same on every backend; only the speed differs."
      >
        Compute on
      </legend>
      <div className="segmented" role="radiogroup" aria-label="Compute on">
        {CHOICES.map((c) => {
          const status = statusOf(c.value);
          const unavailable = status !== undefined && !status.available;
          return (
            <label
              key={c.value}
              className={`segmented__option${unavailable ? ' is-unavailable' : ''}`}
              title={`${c.help}${status ? ` Here: ${status.detail}.` : ''}`}
            >
              <input type="radio" name={name} value={c.value} checked={preference === c.value} disabled={unavailable} onChange={() => setPreference(c.value)} />
              <span>{c.label}</span>
            </label>
          );
        })}
      </div>
      <p className="compute__detail" data-testid="compute-detail">
        {line}
      </p>
    </fieldset>
  );
});

function autoLine(backends: BackendStatus[] | null): string {
  if (!backends) return 'Auto: checking which backends run in this browser…';
  const wasm = backends.find((b) => b.name === 'wasm');
  const gpu = backends.find((b) => b.name === 'webgpu');
  const cpu = wasm?.available ? 'WASM SIMD' : 'TypeScript';
  const realGpu = gpu?.available && !/fallback/i.test(gpu.detail);
  const first = realGpu ? `Auto: WebGPU for large tensors (millions of values), ${cpu} for the rest.` : `Auto: ${cpu} for every tensor.`;
  const second = gpu ? (gpu.available ? `WebGPU here: ${gpu.detail}.` : `WebGPU is unavailable: ${gpu.detail}.`) : '';
  return `${first} ${second}`.trim();
}
