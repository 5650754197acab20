import type { Coverage, CoverageGroup } from '../../../core/compress/coverage';
import type { UpgradeReport } from '../../../core/onnx/upgrade';
import { formatBytes } from '../../format';

const percent = (f: number) => `${(f * 100).toFixed(1)} %`;
const groupText = (g: CoverageGroup) => `${g.tensors} tensor${g.tensors === 1 ? '' : 's'} (${formatBytes(g.bytes)}): ${g.reason}`;

/** Shown first when a recipe left more than 10 % of the weight bytes as they were. */
export function CoverageBanner({ coverage }: { coverage: Coverage }) {
  return (
    <div className="banner banner--warning coverage-banner" role="status" data-testid="coverage-banner">
      <div className="banner__body">
        <p className="banner__title">
          Only {percent(coverage.fraction)} of the weight bytes were compressed ({formatBytes(coverage.compressedBytes)} of {formatBytes(coverage.totalBytes)})
        </p>
        <p className="banner__message">The rest stays as it was in the file, for these reasons:</p>
        <ul className="coverage-banner__list">
          {coverage.left.slice(0, 4).map((g) => (
            <li key={g.reason}>{groupText(g)}</li>
          ))}
          {coverage.left.length > 4 && <li>and {coverage.left.length - 4} more reasons (see the table)</li>}
        </ul>
      </div>
    </div>
  );
}

/** "Weight bytes compressed: 99.2 %", with what was left as the sub-line. */
export function CoverageFact({ coverage }: { coverage: Coverage }) {
  const left = coverage.left.map(groupText);
  return (
    <div className="result__fact result__fact--wide" data-testid="result-coverage" data-fraction={coverage.fraction.toFixed(4)}>
      <dt title="Of all the floating-point tensors the model stores (weights, biases, normalization parameters…), the share of bytes this recipe compressed. What was left, and why, is listed.">
        Weight bytes compressed
      </dt>
      <dd>
        {percent(coverage.fraction)} <span className="unit">of {formatBytes(coverage.totalBytes)}</span>
        <span className="fact__sub" title={left.join('\n')}>
          {left.length ? `left as they were: ${left.slice(0, 2).join('; ')}${left.length > 2 ? `; +${left.length - 2} more` : ''}` : 'nothing left out'}
        </span>
      </dd>
    </div>
  );
}

/** "Opset 9 → 13: Clip ×28, Slice ×10 …": the upgrade the chosen formats needed. */
export function UpgradeNote({ upgrade }: { upgrade: UpgradeReport }) {
  const ops = Object.entries(upgrade.rewritten).map(([op, n]) => `${op} ×${n}`);
  return (
    <p className="result__upgrade small" data-testid="result-upgrade" title={upgrade.notes.join('\n') || undefined}>
      <strong>
        Opset {upgrade.from} → {upgrade.to}
      </strong>{' '}
      (what the chosen formats need): {ops.length ? `rewrote ${ops.join(', ')}` : 'no node needed rewriting'}. The download includes the upgrade.
    </p>
  );
}

/** Why Download is off when the recipe compressed nothing. */
export function nothingCompressedReason(coverage: Coverage): string {
  return `Nothing was compressed, so there is nothing to download. ${coverage.left.length ? `Left as they were: ${coverage.left.map(groupText).join('; ')}.` : 'The model has no float weights.'}`;
}
