import type { ModelSummary } from '../../core/onnx/types';
import { domainLabel, formatBytes, formatCount, formatInteger } from '../format';
import { OpsetUpgrade } from './OpsetUpgrade';

interface Fact {
  label: string;
  value: React.ReactNode;
  help: string;
  testId: string;
  wide?: boolean;
}

export function Overview({ summary, isDemo }: { summary: ModelSummary; isDemo: boolean }) {
  const opsets = Object.entries(summary.opsets).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
  const producer = [summary.producer, summary.producerVersion].filter(Boolean).join(' ');
  const facts: Fact[] = [
    {
      label: 'File size',
      value: (
        <>
          <span title={`${formatInteger(summary.fileBytes)} bytes`}>{formatBytes(summary.fileBytes)}</span>
          {summary.externalFiles.length > 0 && (
            <span className="fact__sub">
              + {summary.externalFiles.length} external-data file{summary.externalFiles.length > 1 ? 's' : ''}
            </span>
          )}
        </>
      ),
      help: 'Size of the .onnx file itself.',
      testId: 'fact-file-size',
    },
    {
      label: 'Parameters',
      value: <span title={formatInteger(summary.parameterCount)}>{formatCount(summary.parameterCount)}</span>,
      help: 'How many numbers the model learned: the elements of its floating-point weight tensors.',
      testId: 'fact-parameters',
    },
    {
      label: 'Stored tensors',
      value: <span title={`${formatInteger(summary.weightBytes)} bytes`}>{formatBytes(summary.weightBytes)}</span>,
      help: 'Bytes taken by all stored tensors (weights and constants). This is what compression shrinks.',
      testId: 'fact-weight-bytes',
    },
    {
      label: 'Operations',
      value: formatInteger(summary.nodeCount),
      help: 'Steps (nodes) in the computation graph, including those inside subgraphs such as If or Loop branches.',
      testId: 'fact-nodes',
    },
    {
      label: 'Operator sets',
      value: (
        <span className="chips">
          {opsets.length === 0 && 'none declared'}
          {opsets.map(([domain, version]) => (
            <span className="chip" key={domain}>
              {domainLabel(domain)} <strong>v{version}</strong>
            </span>
          ))}
        </span>
      ),
      help: 'Which versions of the operator definitions the model relies on, per domain.',
      testId: 'fact-opsets',
    },
    {
      label: 'File format',
      value: `ONNX IR v${summary.irVersion}`,
      help: 'Version of the ONNX file format (the "IR version").',
      testId: 'fact-ir',
    },
    {
      label: 'Produced by',
      value: producer || <span className="muted">not recorded</span>,
      help: 'The tool that exported the model, as written in the file.',
      testId: 'fact-producer',
      wide: true,
    },
  ];

  return (
    <section className="card overview" aria-labelledby="overview-title">
      <header className="overview__header">
        <div className="overview__name-row">
          <h2 className="overview__name" id="overview-title" data-testid="model-name" title={summary.fileName}>
            {summary.fileName}
          </h2>
          {isDemo && (
            <span className="tag" title="A small handwritten-digit classifier bundled with the studio.">
              demo model
            </span>
          )}
        </div>
        {summary.externalFiles.length > 0 && <p className="card__help">Weights also read from: {summary.externalFiles.join(', ')}</p>}
      </header>
      <dl className="facts">
        {facts.map((fact) => (
          <div className={`fact${fact.wide ? ' fact--wide' : ''}`} key={fact.label} data-testid={fact.testId}>
            <dt title={fact.help}>
              {fact.label}
              <span className="help-dot" aria-hidden="true">
                ?
              </span>
            </dt>
            <dd>{fact.value}</dd>
          </div>
        ))}
      </dl>
      <OpsetUpgrade opset={summary.opsets['ai.onnx'] ?? 0} fileName={summary.fileName} />
    </section>
  );
}
