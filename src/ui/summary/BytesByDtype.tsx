import { dtypeLabel, formatBytes, formatInteger, formatPercent } from '../format';
import { Card } from '../kit/Card';

export function BytesByDtype({ byDtype, total }: { byDtype: Record<string, number>; total: number }) {
  const entries = Object.entries(byDtype)
    .filter(([, bytes]) => bytes > 0)
    .sort(([, a], [, b]) => b - a);
  const sum = entries.reduce((s, [, b]) => s + b, 0) || total;
  return (
    <Card id="dtype-title" title="Where the bytes go" help="Stored tensor bytes by number type. Weights in 32-bit floats are the usual target for compression.">
      {entries.length === 0 ? (
        <p className="muted">This model stores no tensors.</p>
      ) : (
        <>
          <div className="stack-bar" role="img" aria-label={entries.map(([d, b]) => `${dtypeLabel(d)} ${formatPercent(b, sum)}`).join(', ')}>
            {entries.map(([dtype, bytes], i) => (
              <span
                key={dtype}
                className="stack-bar__part"
                style={{ width: `${Math.max((bytes / sum) * 100, 0.5)}%`, background: `var(--series-${(i % 8) + 1})` }}
              />
            ))}
          </div>
          <table className="simple-table dtype-table" data-testid="dtype-table">
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col" className="num">
                  Bytes
                </th>
                <th scope="col" className="num">
                  Share
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.map(([dtype, bytes], i) => (
                <tr key={dtype}>
                  <td title={`ONNX type ${dtype}`}>
                    <span className="swatch" style={{ background: `var(--series-${(i % 8) + 1})` }} aria-hidden="true" />
                    {dtypeLabel(dtype)}
                  </td>
                  <td className="num" title={`${formatInteger(bytes)} bytes`}>
                    {formatBytes(bytes)}
                  </td>
                  <td className="num">{formatPercent(bytes, sum)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Card>
  );
}
