import type { ValueInfo } from '../../core/onnx/types';
import { dtypeLabel, formatShape } from '../format';
import { Card } from '../kit/Card';

export function InputsOutputs({ inputs, outputs }: { inputs: ValueInfo[]; outputs: ValueInfo[] }) {
  const rows = [...inputs.map((v) => ({ kind: 'Input', v })), ...outputs.map((v) => ({ kind: 'Output', v }))];
  return (
    <Card
      id="io-title"
      title="Inputs and outputs"
      help="What the model takes in and gives back. Named dimensions (like batch) can change from one run to the next."
    >
      <table className="simple-table" data-testid="io-table">
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Shape</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={4} className="muted">
                The model declares no inputs or outputs.
              </td>
            </tr>
          )}
          {rows.map(({ kind, v }, i) => (
            <tr key={`${kind}-${v.name}-${i}`}>
              <td>
                <span className={`tag tag--${kind.toLowerCase()}`}>{kind}</span>
              </td>
              <td className="mono" title={v.name}>
                {v.name}
              </td>
              <td title={`ONNX type ${v.dtype}`}>{dtypeLabel(v.dtype)}</td>
              <td className="mono">{formatShape(v.shape)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
