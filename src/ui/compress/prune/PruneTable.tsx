import { memo, useMemo, useState } from 'react';
import type { PruneReport } from '../../../core/compress/prune/apply';
import type { TensorInfo } from '../../../core/onnx/types';
import { useStudio } from '../../../state/store';
import { formatCount, formatFraction, formatInteger } from '../../format';
import { deltaText } from '../shared/delta';
import { idsByName, nextSort, pruneRows, sortPruneRows, type PruneRow, type PruneSortKey, type Sort } from '../shared/rows';
import { IncludeCell, ResultRow, ShowAllRows, WeightNameCell } from '../shared/RowCells';
import { SortHeader } from '../../kit/SortHeader';
import { PruneGroups } from './PruneGroups';
import { useLayout } from '../../workspace/layout';

const MAX_ROWS = 400;
const SPARSITY_CHOICES = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95];

/** Per-layer pruning results: sparsity bars, parameters and MACs, reconstruction error, layers left alone. */
export const PruneTable = memo(function PruneTable({ report, tensors, stale }: { report: PruneReport; tensors: TensorInfo[]; stale: boolean }) {
  const rules = useStudio((s) => s.prune);
  const selectedId = useStudio((s) => s.selectedTensorId);
  const [sort, setSort] = useState<Sort<PruneSortKey>>({ key: 'error', dir: 'desc' });
  const [showAll, setShowAll] = useState(false);
  const ids = useMemo(() => idsByName(tensors), [tensors]);
  const rows = useMemo(() => sortPruneRows(pruneRows(report.layers, rules, ids), sort), [report, rules, ids, sort]);
  const shown = showAll ? rows : rows.slice(0, MAX_ROWS);
  const onSort = (key: PruneSortKey) => setSort((s) => nextSort(s, key, (k) => (k === 'name' ? 'asc' : 'desc')));
  const fixed = rules.pattern === '2:4' || rules.pattern === '4:8';

  if (rows.length === 0) {
    return (
      <p className="detail__empty detail__empty--small" data-testid="prune-table-empty">
        No weight here is multiplied by a Conv, Gemm or MatMul, so there is nothing to prune.
      </p>
    );
  }
  return (
    <>
      {report.groups && report.groups.length > 0 && <PruneGroups groups={report.groups} stale={stale} />}
      <div className={`rtable-scroll${stale ? ' is-stale' : ''}`}>
        <table className="rtable" aria-label="Pruning per layer" data-testid="prune-table">
          <thead>
            <tr>
              <th scope="col" className="rtable__check" title="Untick a row to leave that weight unpruned.">
                <span className="visually-hidden">Prune this weight</span>✓
              </th>
              <SortHeader label="Weight" sortKey="name" sort={sort} onSort={onSort} />
              <SortHeader
                label={rules.pattern === 'channel' ? 'Channels removed' : 'Zeros'}
                sortKey="sparsity"
                sort={sort}
                onSort={onSort}
                title="The share of weights set to zero, or of output channels removed. Pick a row's own share to override the slider."
              />
              <SortHeader
                label="Parameters"
                sortKey="params"
                sort={sort}
                onSort={onSort}
                numeric
                title="Weights of the layer before → after (non-zero ones, for masks)."
              />
              <SortHeader
                label="MACs"
                sortKey="macs"
                sort={sort}
                onSort={onSort}
                numeric
                title="Multiply-accumulates of the layer for one input, before → after."
              />
              <SortHeader
                label="Error"
                sortKey="error"
                sort={sort}
                onSort={onSort}
                numeric
                title="Reconstruction error of the weight: ‖w − w_pruned‖ / ‖w‖ (for channels, of the removed channels' norm). 0% = untouched, 100% = all gone."
              />
              <th scope="col">Notes</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <PruneRowView
                key={row.report.name}
                row={row}
                selected={row.tensorId !== undefined && row.tensorId === selectedId}
                defaultSparsity={rules.sparsity}
                fixed={fixed}
              />
            ))}
          </tbody>
        </table>
        <ShowAllRows total={rows.length} shown={shown.length} onShowAll={() => setShowAll(true)} />
      </div>
    </>
  );
});

function PruneRowView({ row, selected, defaultSparsity, fixed }: { row: PruneRow; selected: boolean; defaultSparsity: number; fixed: boolean }) {
  const setOwn = useStudio((s) => s.setOwnOverride);
  const selectTensor = useStudio((s) => s.selectTensor);
  const showCharts = useLayout((s) => s.setTab);
  const l = row.report;
  const skipped = l.action === 'skip';
  const excluded = row.exclusion;
  const reachable = !skipped || excluded !== null;
  const masks = l.pattern !== 'channel';
  const kept = masks && !skipped ? l.paramsBefore - Math.round(l.sparsity * l.paramsBefore) : l.paramsAfter;
  const select = () => {
    if (row.tensorId === undefined) return;
    selectTensor(row.tensorId);
    // Its values show in the workspace's Layer tab.
    showCharts('layer');
  };
  return (
    <ResultRow name={l.name} action={l.action} selected={selected} excluded={excluded} own={row.ownSparsity !== undefined} onSelect={select}>
      <IncludeCell
        step="prune"
        name={l.name}
        reachable={reachable}
        excluded={excluded}
        reason={l.reason}
        verb="Prune"
        hints={{
          op: (op) => `Left out with every ${op} layer.`,
          tickAgain: 'Left out: tick to prune it again.',
          untick: 'Untick to leave this weight unpruned.',
        }}
      />
      <WeightNameCell name={l.name} op={l.op} layer={l.layer} excluded={excluded} onSelect={select} selectTitle={`Select ${l.name} in the tensor table`} />
      <td className="rtable__sparsity">
        <span className="rtable__bar" aria-hidden="true">
          <span style={{ width: `${Math.min(100, l.sparsity * 100)}%` }} />
        </span>
        <span className="rtable__pct" data-testid="row-sparsity">
          {formatFraction(l.sparsity)}
        </span>
        {!skipped && !fixed && (
          <select
            className={`select select--compact${row.ownSparsity !== undefined ? ' is-own' : ''}`}
            aria-label={`Own share pruned for ${l.name}`}
            value={row.ownSparsity === undefined ? '' : Math.round(row.ownSparsity * 100)}
            onChange={(e) => setOwn('prune', l.name, e.currentTarget.value === '' ? null : Number(e.currentTarget.value) / 100)}
            title={row.ownSparsity !== undefined ? 'This weight has its own share.' : `Follows the slider (${Math.round(defaultSparsity * 100)}%).`}
          >
            <option value="">slider</option>
            {SPARSITY_CHOICES.map((v) => (
              <option key={v} value={v}>
                {v}% own
              </option>
            ))}
          </select>
        )}
        {l.channelsBefore !== undefined && (
          <span className="rtable__sub">
            {l.channelsBefore} → {l.channelsAfter ?? l.channelsBefore} channels
            {l.groups?.length ? ` · group ${l.groups.map((g) => `#${g}`).join(', ')}` : ''}
          </span>
        )}
      </td>
      <td className="num" title={`${formatInteger(l.paramsBefore)} → ${formatInteger(kept)}`}>
        <span className="muted">{formatCount(l.paramsBefore)} →</span> {formatCount(kept)}
        <span className="rtable__sub">{deltaText(l.paramsBefore, kept)}</span>
      </td>
      <td className="num">
        {l.macsBefore === undefined ? (
          <span className="muted">—</span>
        ) : (
          <>
            <span className="muted">{formatCount(l.macsBefore)} →</span> {formatCount(l.macsAfter ?? l.macsBefore)}
            <span className="rtable__sub">{deltaText(l.macsBefore, l.macsAfter ?? l.macsBefore)}</span>
          </>
        )}
      </td>
      <td className="num">
        {skipped ? (
          <span className="muted">—</span>
        ) : (
          <>
            <span className={`badge badge--${l.relError < 0.3 ? 'good' : l.relError < 0.6 ? 'warn' : 'bad'}`} data-testid="row-prune-error">
              {formatFraction(l.relError)}
            </span>
            <span className="rtable__sub">{Number.isFinite(l.sqnrDb) ? `${l.sqnrDb.toFixed(1)} dB` : 'exact'}</span>
          </>
        )}
      </td>
      <td className="rtable__notes" title={l.reason}>
        {(excluded?.kind === 'name' ? 'left out: unticked here' : l.reason) ?? <span className="muted">—</span>}
      </td>
    </ResultRow>
  );
}
