import type { ModelSummary } from '../../core/onnx/types';
import { BytesByDtype } from './BytesByDtype';
import { InputsOutputs } from './InputsOutputs';
import { OpTypeChart } from './OpTypeChart';
import { Overview } from './Overview';
import { Warnings } from './Warnings';
import './summary.css';

export function SummaryPanel({ summary, isDemo }: { summary: ModelSummary; isDemo: boolean }) {
  return (
    <div className="summary" data-testid="model-summary">
      <Warnings warnings={summary.warnings} />
      <div className="summary__grid">
        <Overview summary={summary} isDemo={isDemo} />
        <InputsOutputs inputs={summary.inputs} outputs={summary.outputs} />
        <BytesByDtype byDtype={summary.weightBytesByDtype} total={summary.weightBytes} />
        <OpTypeChart opTypes={summary.opTypes} nodeCount={summary.nodeCount} />
      </div>
    </div>
  );
}
