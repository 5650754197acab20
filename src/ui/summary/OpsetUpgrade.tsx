import { useId, useState } from 'react';
import { upgradedFileName } from '../../state/modelSlice';
import { useStudio } from '../../state/store';
import { formatBytes } from '../format';

/** The newest opset the studio's converter reaches (src/core/onnx/upgrade). */
const MAX_OPSET = 21;
const MIN_OPSET = 7;

/** "Upgrade to opset N": the converter compression uses, offered on its own with a download. */
export function OpsetUpgrade({ opset, fileName }: { opset: number; fileName: string }) {
  const state = useStudio((s) => s.opsetUpgrade);
  const upgrade = useStudio((s) => s.upgradeOpset);
  const download = useStudio((s) => s.downloadUpgraded);
  const [target, setTarget] = useState(MAX_OPSET);
  const id = useId();
  if (opset >= MAX_OPSET || opset < MIN_OPSET) return null;
  const choices = Array.from({ length: MAX_OPSET - opset }, (_, i) => opset + 1 + i);
  const report = state.status === 'done' && state.report ? state.report : null;
  const ops = report ? Object.entries(report.rewritten).map(([op, n]) => `${op} ×${n}`) : [];
  return (
    <div className="opset-upgrade" data-testid="opset-upgrade">
      <p className="card__help">
        Old opsets lack the formats compression writes (per-channel int8 needs 13, float16 scales 19, 4-bit blocks 21). Compress raises the opset by itself when
        it needs to; here you can do it alone — every op whose meaning changed on the way is rewritten so the outputs stay identical.
      </p>
      <div className="opset-upgrade__row">
        <label htmlFor={id}>Target opset</label>
        <select
          id={id}
          className="select select--compact"
          value={target}
          onChange={(e) => setTarget(Number(e.currentTarget.value))}
          data-testid="opset-upgrade-target"
        >
          {choices.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button button--small"
          disabled={state.status === 'running'}
          onClick={() => void upgrade(target)}
          data-testid="opset-upgrade-button"
        >
          Upgrade to opset {target}
        </button>
      </div>
      {state.status === 'running' && <p className="small muted">Upgrading…</p>}
      {state.status === 'error' && (
        <p className="reading reading--bad small" role="alert" data-testid="opset-upgrade-error">
          {state.error}
        </p>
      )}
      {report && state.opset !== null && (
        <div className="opset-upgrade__result" data-testid="opset-upgrade-result">
          <p className="small">
            <strong>
              opset {report.from} → {report.to}
            </strong>
            : {ops.length ? `rewrote ${ops.join(', ')}` : 'no node needed rewriting'}
            {report.notes.length > 0 && <span className="muted"> · {report.notes.join('; ')}</span>}
          </p>
          <button type="button" className="button button--small button--primary" onClick={() => void download()} data-testid="opset-upgrade-download">
            Download {upgradedFileName(fileName, state.opset)}
          </button>{' '}
          <span className="muted small">{state.bytes !== null ? formatBytes(state.bytes) : ''}</span>
        </div>
      )}
    </div>
  );
}
