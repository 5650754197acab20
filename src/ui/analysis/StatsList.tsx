import type { TensorStats } from '../../core/analysis/stats';
import { formatFraction, formatInteger, formatValue } from '../format';
import { OUTLIER_HELP, outlierReading } from './readings';

interface Stat {
  label: string;
  value: string;
  help: string;
  testId: string;
  tone?: 'danger';
  sub?: string;
}

export function StatsList({ stats }: { stats: TensorStats }) {
  const left = stats.count - stats.finiteCount;
  const items: Stat[] = [
    { label: 'Min', value: formatValue(stats.min), help: 'The smallest finite value.', testId: 'stat-min' },
    { label: 'Max', value: formatValue(stats.max), help: 'The largest finite value.', testId: 'stat-max' },
    { label: 'Mean', value: formatValue(stats.mean), help: 'The average of the finite values.', testId: 'stat-mean' },
    { label: 'Std', value: formatValue(stats.std), help: 'Standard deviation: how far values typically lie from the mean.', testId: 'stat-std' },
    {
      label: 'Abs-max',
      value: formatValue(stats.absMax),
      help: 'The largest distance from zero. Symmetric quantization must cover ±abs-max.',
      testId: 'stat-absmax',
    },
    {
      label: 'Zeros',
      value: formatFraction(stats.zeroFraction),
      sub: plural(Math.round(stats.zeroFraction * stats.count), 'value'),
      help: 'Share of values that are exactly zero. Pruned weights show up here.',
      testId: 'stat-zeros',
    },
    { label: '0.1th pct', value: formatValue(stats.p001), help: '0.1 % of the values lie below this (the 0.1th percentile).', testId: 'stat-p001' },
    { label: '1st pct', value: formatValue(stats.p01), help: '1 % of the values lie below this (the 1st percentile).', testId: 'stat-p01' },
    { label: '99th pct', value: formatValue(stats.p99), help: '99 % of the values lie below this (the 99th percentile).', testId: 'stat-p99' },
    {
      label: '99.9th pct',
      value: formatValue(stats.p999),
      help: '99.9 % of the values lie below this. Clipping at the 0.1th and 99.9th percentiles is a common quantization range.',
      testId: 'stat-p999',
    },
    {
      label: 'NaN',
      value: formatInteger(stats.nanCount),
      sub: stats.nanCount ? 'left out of the statistics' : 'values',
      help: 'Values that are "not a number". They are counted here and left out of every other statistic.',
      testId: 'stat-nan',
      tone: stats.nanCount ? 'danger' : undefined,
    },
    {
      label: 'Inf',
      value: formatInteger(stats.infCount),
      sub: stats.infCount ? 'left out of the statistics' : 'values',
      help: 'Values that are +∞ or −∞. They are counted here and left out of every other statistic.',
      testId: 'stat-inf',
      tone: stats.infCount ? 'danger' : undefined,
    },
  ];
  const reading = outlierReading(stats.outlierScore, stats.finiteCount);

  return (
    <div className="stats">
      <p className="stats__count" data-testid="stat-count">
        {formatInteger(stats.count)} values
        {left > 0 && <span className="stats__warn"> · statistics cover the {formatInteger(stats.finiteCount)} finite ones</span>}
      </p>
      <dl className="stats__grid" data-testid="tensor-stats">
        {items.map((s) => (
          <div className={`stat${s.tone ? ` stat--${s.tone}` : ''}`} key={s.label} data-testid={s.testId}>
            <dt title={s.help}>{s.label}</dt>
            <dd>
              {s.value}
              {s.sub && <span className="stat__sub">{s.sub}</span>}
            </dd>
          </div>
        ))}
      </dl>
      <div className={`reading reading--${reading.severity}`} data-testid="outlier-score">
        <p className="reading__head">
          <span title={OUTLIER_HELP}>
            Outlier score{' '}
            <span className="reading__value">{Number.isFinite(stats.outlierScore) && stats.outlierScore > 0 ? stats.outlierScore.toFixed(1) : '—'}</span>
          </span>
          <span className={`badge badge--${reading.severity}`}>{reading.label}</span>
        </p>
        <p className="reading__text">abs-max ÷ std. {reading.text}</p>
      </div>
    </div>
  );
}

function plural(n: number, word: string): string {
  return `${formatInteger(n)} ${word}${n === 1 ? '' : 's'}`;
}
