import type { ModelSummary } from '../../core/onnx/types';
import { BytesByDtype } from './BytesByDtype';
import { InputsOutputs } from './InputsOutputs';
import { OpTypeChart } from './OpTypeChart';
import { Overview } from './Overview';
import { Warnings } from './Warnings';
import './summary.css';

/** The model at a glance (warnings, name, facts, the opset upgrade): the top of the workspace's left rail. */
export function SummaryOverview({ summary, isDemo }: { summary: ModelSummary; isDemo: boolean }) {
  return (
    <div className="summary" data-testid="model-summary">
      <Warnings warnings={summary.warnings} />
      <Overview summary={summary} isDemo={isDemo} />
    </div>
  );
}

/** The rest of the summary: inputs and outputs, bytes by type, operations by type. */
export function SummaryDetails({ summary }: { summary: ModelSummary }) {
  return (
    <div className="summary__grid" data-testid="model-summary-details">
      <InputsOutputs inputs={summary.inputs} outputs={summary.outputs} />
      <BytesByDtype byDtype={summary.weightBytesByDtype} total={summary.weightBytes} />
      <OpTypeChart opTypes={summary.opTypes} nodeCount={summary.nodeCount} />
    </div>
  );
}
