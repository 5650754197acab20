import { memo } from 'react';
import type { CompressOutcome } from '../../../protocol/model';
import { compressedFileName } from '../../../state/recipeEdits';
import { useStudio } from '../../../state/store';
import { formatBytes, formatCount, formatInteger, formatMs } from '../../format';
import { SUPPORT_LABELS } from '../quantize/meta';
import { deltaText, deltaTone } from './delta';
import { COVERAGE_WARN_BELOW } from '../../../core/compress/coverage';
import { CoverageBanner, CoverageFact, UpgradeNote, nothingCompressedReason } from './Coverage';

const BACKEND_LABELS = { ts: 'TypeScript', wasm: 'WASM SIMD', webgpu: 'WebGPU' } as const;

function Delta({ before, after, testId }: { before: number; after: number; testId?: string }) {
  const text = deltaText(before, after);
  if (!text) return null;
  return (
    <span className={`delta delta--${deltaTone(before, after)}`} data-testid={testId}>
      {text}
    </span>
  );
}

/** Size before → after, bits per weight, parameters and MACs, the Download button, runtime notes. */
export const ResultSummary = memo(function ResultSummary({
  result,
  current,
  latencyMs,
  fileName,
}: {
  result: CompressOutcome;
  /** False while the result answers older settings (a newer run is pending). */
  current: boolean;
  latencyMs: number | null;
  fileName: string;
}) {
  const downloadModel = useStudio((s) => s.downloadModel);
  const downloadWeightsFile = useStudio((s) => s.downloadWeightsFile);
  const separateWeights = useStudio((s) => s.separateWeights);
  const setSeparateWeights = useStudio((s) => s.setSeparateWeights);
  const data = result.externalData;
  const downloadError = useStudio((s) => s.downloadError);
  const q = result.quantize;
  const p = result.prune;
  const name = compressedFileName(fileName, result.recipe);
  const masks = result.recipe.prune && result.recipe.prune.pattern !== 'channel';
  const weights = q?.tensors.filter((t) => t.kind !== 'kept') ?? [];
  const quantized = weights.filter((t) => t.action === 'quantize').length;
  const pruned = p?.layers.filter((l) => l.action === 'prune').length ?? 0;
  const warnings = [...(p?.warnings ?? []), ...(q?.warnings ?? [])];
  const cov = result.coverage;
  const nothing = cov.compressedBytes === 0 && pruned === 0;
  const blocked = nothing ? nothingCompressedReason(cov) : undefined;

  return (
    <section
      className={`result${current ? '' : ' is-stale'}`}
      aria-labelledby="result-title"
      aria-busy={!current}
      data-testid="compress-result"
      data-current={current ? 'true' : 'false'}
      data-input-bytes={result.inputBytes}
      data-output-bytes={result.outputBytes}
      data-gzip-bytes={result.gzipBytes}
      data-latency-ms={latencyMs === null ? undefined : latencyMs.toFixed(0)}
      data-worker-ms={result.ms.toFixed(1)}
      data-backend={result.backend}
    >
      <h3 className="visually-hidden" id="result-title">
        Result
      </h3>
      {!nothing && cov.fraction < COVERAGE_WARN_BELOW && <CoverageBanner coverage={cov} />}
      <div className="result__size" title={`${formatInteger(result.inputBytes)} bytes → ${formatInteger(result.outputBytes)} bytes`}>
        <span className="result__label">Model size</span>
        <span className="result__numbers" data-testid="result-size">
          <span className="result__before">{formatBytes(result.inputBytes)}</span>
          <span className="result__arrow" aria-label="to">
            →
          </span>
          <strong className="result__after" data-testid="result-output-size">
            {formatBytes(result.outputBytes)}
          </strong>
          <Delta before={result.inputBytes} after={result.outputBytes} testId="result-delta" />
        </span>
      </div>

      <div className="result__download">
        <button
          type="button"
          className="button button--primary"
          disabled={!current || nothing}
          onClick={() => void downloadModel()}
          title={
            blocked ??
            (current ? `Save the compressed model as ${name} (${formatInteger(result.outputBytes)} bytes).` : 'Wait for the results of the new settings.')
          }
        >
          <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
            <path d="M12 4v11m0 0-4-4m4 4 4-4M5 19h14" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          Download
        </button>
        <span className="result__file">
          <span className="mono" data-testid="download-name">
            {name}
          </span>
          <span className="muted"> · {formatBytes(data ? result.outputBytes - data.bytes : result.outputBytes)}</span>
        </span>
        {data && (
          <>
            <button
              type="button"
              className="button"
              disabled={!current}
              onClick={() => void downloadWeightsFile()}
              title={`Save the weights file ${data.name} (${formatInteger(data.bytes)} bytes); the model reads its weights from it.`}
            >
              Download weights
            </button>
            <span className="result__file">
              <span className="mono" data-testid="download-data-name">
                {data.name}
              </span>
              <span className="muted"> · {formatBytes(data.bytes)}</span>
            </span>
          </>
        )}
      </div>
      <label
        className="result__separate small"
        title="ONNX files cannot pass 2 GB, so bigger models always keep their weights in a .onnx_data file beside the .onnx file. Tick this to do the same at any size (e.g. to load the weights apart from the graph)."
      >
        <input type="checkbox" checked={separateWeights} onChange={(e) => setSeparateWeights(e.target.checked)} /> Weights in a separate file (.onnx_data)
      </label>
      {data && (
        <p className="reading small" data-testid="download-data-note">
          {separateWeights ? 'The weights are' : 'This model is over 2 GB, which one ONNX file cannot hold: its weights are'} in {data.name}. Download both
          files and keep them in one folder; onnxruntime (web, node, python) loads the model with them.
        </p>
      )}
      {blocked && (
        <p className="reading reading--bad small" data-testid="download-disabled-reason">
          {blocked}
        </p>
      )}
      {result.upgrade && <UpgradeNote upgrade={result.upgrade} />}
      {downloadError && (
        <p className="reading reading--bad small" role="alert">
          {downloadError}
        </p>
      )}

      <dl className="result__facts">
        <CoverageFact coverage={cov} />
        {masks && result.gzipBytes !== undefined && (
          <div className="result__fact result__fact--wide" data-testid="result-gzip">
            <dt title="Zeroed weights are still stored in a dense ONNX file: the size above does not drop. Compressed (zip, gzip, HTTP content encoding) the zeros nearly vanish. Measured, not estimated.">
              Gzip-compressed size
            </dt>
            <dd>
              {result.inputGzipBytes !== undefined && (
                <>
                  <span className="muted">{formatBytes(result.inputGzipBytes)} → </span>
                </>
              )}
              {formatBytes(result.gzipBytes)} {result.inputGzipBytes !== undefined && <Delta before={result.inputGzipBytes} after={result.gzipBytes} />}
              <button type="button" className="button button--small result__gz" disabled={!current} onClick={() => void downloadModel({ gzip: true })}>
                Download .gz
              </button>
              <span className="fact__sub">Zeros still take their 4 bytes in the .onnx file; compressed, they nearly vanish.</span>
            </dd>
          </div>
        )}
        {q && quantized > 0 && (
          <div className="result__fact" data-testid="result-bits">
            <dt title="Effective: the levels used (2^bits). Stored: the container the runtime keeps (4 or 8 bits). With scales: the file's bits per quantized weight, counting scales and zero points.">
              Bits per weight
            </dt>
            <dd>
              {q.effectiveBits.toFixed(2).replace(/\.00$/, '')} <span className="unit">effective</span>
              <span className="fact__sub">
                {q.storedBits.toFixed(2).replace(/\.00$/, '')} stored · {q.bitsWithScales.toFixed(2)} with scales · was 32
              </span>
            </dd>
          </div>
        )}
        {q && (
          <div className="result__fact" data-testid="result-quantized-count">
            <dt>Weights {result.recipe.quantize?.format === 'fp16' ? 'converted' : 'quantized'}</dt>
            <dd>
              {formatInteger(quantized)} <span className="unit">of {formatInteger(weights.length)}</span>
              <span className="fact__sub">{weights.length - quantized ? `${formatInteger(weights.length - quantized)} left as they were` : 'all of them'}</span>
            </dd>
          </div>
        )}
        {q?.static && (
          <div className="result__fact" data-testid="result-static">
            <dt title="Ops onnxruntime runs on integer kernels (QLinearConv, QLinearMatMul, QGemm); the rest stay float, with the reason in the table.">
              Integer-kernel ops
            </dt>
            <dd>
              {formatInteger(q.static.quantizedOps.length)}{' '}
              <span className="unit">of {formatInteger(q.static.quantizedOps.length + q.static.floatOps.length)}</span>
              <span className="fact__sub">
                {formatInteger(q.static.activations.length)} activations · {q.static.method}
                {q.static.calibrationSamples !== undefined ? ` · ${formatInteger(q.static.calibrationSamples)} samples` : ''}
                {q.static.biasCorrected ? ` · ${formatInteger(q.static.biasCorrected)} biases corrected` : ''}
              </span>
            </dd>
          </div>
        )}
        {p && (
          <div className="result__fact" data-testid="result-params">
            <dt
              title={masks ? 'Non-zero weights of the multiplied layers. Zeros are still stored in the file.' : 'Weights of the multiplied layers, as stored.'}
            >
              Parameters{masks ? ' (non-zero)' : ''}
            </dt>
            <dd>
              <span className="muted">{formatCount(p.paramsBefore)} → </span>
              {formatCount(masks ? p.paramsBefore - p.zeros : p.paramsAfter)}{' '}
              <Delta before={p.paramsBefore} after={masks ? p.paramsBefore - p.zeros : p.paramsAfter} />
              <span className="fact__sub">
                {formatInteger(pruned)} layer{pruned === 1 ? '' : 's'} pruned
              </span>
            </dd>
          </div>
        )}
        {p && p.macsBefore > 0 && (
          <div className="result__fact" data-testid="result-macs">
            <dt title="Multiply-accumulates of Conv, Gemm and MatMul for one input (dynamic dimensions taken as 1). Masks do not change them: dense kernels still multiply the zeros.">
              MACs per input
            </dt>
            <dd>
              <span className="muted">{formatCount(p.macsBefore)} → </span>
              {formatCount(p.macsAfter)} <Delta before={p.macsBefore} after={p.macsAfter} />
              <span className="fact__sub">{masks ? 'unchanged: dense kernels multiply zeros too' : 'removed channels are not computed'}</span>
            </dd>
          </div>
        )}
      </dl>

      {result.runtime.length > 0 && (
        <div className="runtime" data-testid="runtime-notes">
          <h4 className="result__subtitle">Where it runs (onnxruntime-web)</h4>
          <table className="simple-table runtime__table">
            <thead>
              <tr>
                <th scope="col">Format written</th>
                <th scope="col">wasm</th>
                <th scope="col">WebGPU</th>
              </tr>
            </thead>
            <tbody>
              {result.runtime.map((n) => (
                <tr key={n.format} title={n.note}>
                  <td>
                    {n.format}
                    <span className="fact__sub runtime__note">{n.note}</span>
                  </td>
                  <td>
                    <span className={`badge badge--${n.wasm === 'unsupported' ? 'bad' : 'good'}`}>{SUPPORT_LABELS[n.wasm]}</span>
                  </td>
                  <td>
                    <span className={`badge badge--${n.webgpu === 'gpu' ? 'good' : n.webgpu === 'unsupported' ? 'bad' : 'warn'}`}>
                      {SUPPORT_LABELS[n.webgpu]}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {warnings.length > 0 && (
        <ul className="result__warnings" data-testid="result-warnings">
          {warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}

      <p className="run-meta" data-testid="compress-meta">
        {!current && (
          <>
            <span className="spinner spinner--tiny" aria-hidden="true" /> Updating for the new settings…{' '}
          </>
        )}
        Computed on <strong>{BACKEND_LABELS[result.backend]}</strong> in {formatMs(result.ms)}
        {latencyMs !== null && current && <> · shown {formatMs(latencyMs)} after the change</>}
      </p>
    </section>
  );
});
