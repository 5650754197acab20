import { Bar, BarChart, LabelList, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatInteger } from '../format';
import { Card } from '../kit/Card';

const BAR_HEIGHT = 24;

export function OpTypeChart({ opTypes, nodeCount }: { opTypes: Record<string, number>; nodeCount: number }) {
  const data = Object.entries(opTypes)
    .map(([op, count]) => ({ op, count }))
    .sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
  const longest = data.reduce((m, d) => Math.max(m, d.op.length), 0);
  const axisWidth = Math.min(180, Math.max(56, longest * 7.2 + 12));
  const height = data.length * BAR_HEIGHT + 16;
  const description = data.map((d) => `${d.op}: ${d.count}`).join(', ');

  return (
    <Card
      id="ops-title"
      title="Operations by type"
      help={`How often each kind of operation appears among the ${formatInteger(nodeCount)} operations (Conv = convolution, Gemm/MatMul = matrix multiply).`}
      className="ops-card"
    >
      {data.length === 0 ? (
        <p className="muted">The graph has no operations.</p>
      ) : (
        <figure className="chart" data-testid="op-chart" aria-label={`Operation counts: ${description}`} role="img">
          <ResponsiveContainer width="100%" height={height}>
            <BarChart data={data} layout="vertical" margin={{ top: 4, right: 40, bottom: 4, left: 0 }} barCategoryGap={4}>
              <XAxis type="number" hide allowDecimals={false} />
              <YAxis
                type="category"
                dataKey="op"
                width={axisWidth}
                interval={0}
                tickLine={false}
                axisLine={false}
                tick={{ fontSize: 12, fill: 'var(--text-muted)' }}
              />
              <Tooltip
                cursor={{ fill: 'var(--surface-hover)' }}
                formatter={(value) => [formatInteger(Number(value)), 'operations']}
                contentStyle={{
                  background: 'var(--surface)',
                  border: '1px solid var(--border)',
                  borderRadius: 8,
                  color: 'var(--text)',
                  fontSize: 13,
                }}
                labelStyle={{ color: 'var(--text)', fontWeight: 600 }}
                itemStyle={{ color: 'var(--text-muted)' }}
              />
              <Bar dataKey="count" fill="var(--accent)" radius={[0, 4, 4, 0]} isAnimationActive={false}>
                <LabelList dataKey="count" position="right" style={{ fontSize: 12, fill: 'var(--text-muted)' }} />
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        </figure>
      )}
    </Card>
  );
}
