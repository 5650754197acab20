import { memo, useMemo, useState } from 'react';
import type { QuantReport } from '../../../core/compress/quantize/report';
import type { TensorInfo } from '../../../core/onnx/types';
import { useStudio } from '../../../state/store';
import { formatBytes, formatFraction } from '../../format';
import { deltaText } from '../shared/delta';
import { idsByName, nextSort, quantRows, sortQuantRows, type QuantRow, type QuantSortKey, type Sort } from '../shared/rows';
import { IncludeCell, ResultRow, ShowAllRows, WeightNameCell } from '../shared/RowCells';
import { SortHeader } from '../../kit/SortHeader';
import { SQNR_HELP, sqnrRating } from './meta';
import { useLayout } from '../../workspace/layout';

const MAX_ROWS = 400;
const BIT_CHOICES = [2, 3, 4, 5, 6, 7, 8];
const FORMAT_LABELS: Record<string, string> = { qdq: 'DequantizeLinear', matmulnbits: 'MatMulNBits', dynamic: 'Dynamic', fp16: 'float16' };

/** Per-layer quantization results: error, bits, format, bytes; include/exclude and own bit width per row. */
export const QuantTable = memo(function QuantTable({ report, tensors, stale }: { report: QuantReport; tensors: TensorInfo[]; stale: boolean }) {
  const rules = useStudio((s) => s.quantize);
  const selectedId = useStudio((s) => s.selectedTensorId);
  const [sort, setSort] = useState<Sort<QuantSortKey>>({ key: 'error', dir: 'asc' });
  const [showAll, setShowAll] = useState(false);
  const ids = useMemo(() => idsByName(tensors), [tensors]);
  // Weights, and what a format converts; biases and other parameters kept in float are summed up in the coverage.
  const tensorsShown = useMemo(() => report.tensors.filter((t) => t.kind !== 'kept' || t.action === 'quantize'), [report]);
  const rows = useMemo(() => sortQuantRows(quantRows(tensorsShown, rules, ids), sort), [tensorsShown, rules, ids, sort]);
  const shown = showAll ? rows : rows.slice(0, MAX_ROWS);
  const onSort = (key: QuantSortKey) => setSort((s) => nextSort(s, key, (k) => (k === 'name' || k === 'error' ? 'asc' : 'desc')));

  if (rows.length === 0) {
    return (
      <p className="detail__empty detail__empty--small" data-testid="quant-table-empty">
        No float weight here for quantization: every tensor is a parameter kept in float or already quantized (see the coverage above).
      </p>
    );
  }
  return (
    <div className={`rtable-scroll${stale ? ' is-stale' : ''}`}>
      <table className="rtable" aria-label="Quantization per layer" data-testid="quant-table">
        <thead>
          <tr>
            <th scope="col" className="rtable__check" title="Untick a row to leave that weight in float32.">
              <span className="visually-hidden">Quantize this weight</span>✓
            </th>
            <SortHeader label="Weight" sortKey="name" sort={sort} onSort={onSort} />
            <SortHeader label="Bits" sortKey="bits" sort={sort} onSort={onSort} title="Bits per weight; pick a row's own bit width to override the slider." />
            <th scope="col">Format</th>
            <SortHeader label="Error" sortKey="error" sort={sort} onSort={onSort} numeric title={SQNR_HELP} />
            <SortHeader label="Before" sortKey="before" sort={sort} onSort={onSort} numeric />
            <SortHeader label="After" sortKey="after" sort={sort} onSort={onSort} numeric />
            <th scope="col">Notes</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((row) => (
            <QuantRowView
              key={row.report.name}
              row={row}
              selected={row.tensorId !== undefined && row.tensorId === selectedId}
              defaultBits={rules.bits}
              fp16={rules.format === 'fp16'}
            />
          ))}
        </tbody>
      </table>
      <ShowAllRows total={rows.length} shown={shown.length} onShowAll={() => setShowAll(true)} />
    </div>
  );
});

function QuantRowView({ row, selected, defaultBits, fp16 }: { row: QuantRow; selected: boolean; defaultBits: number; fp16: boolean }) {
  const setOwn = useStudio((s) => s.setOwnOverride);
  const selectTensor = useStudio((s) => s.selectTensor);
  const showCharts = useLayout((s) => s.setTab);
  const t = row.report;
  const skipped = t.action === 'skip';
  const excluded = row.exclusion;
  // Only weights the recipe can reach get a checkbox; others (e.g. not float32, not multiplied) explain why.
  const reachable = !skipped || excluded !== null;
  const rating = sqnrRating(t.sqnrDb);
  // A row unticked here reads better as such than as the core's "excluded by name".
  const reason = excluded?.kind === 'name' ? 'left out: unticked here' : t.reason;
  const notes = [...(reason ? [reason] : []), ...t.notes];
  const select = () => {
    if (row.tensorId === undefined) return;
    selectTensor(row.tensorId);
    // Its values show in the workspace's Layer tab.
    showCharts('layer');
  };
  return (
    <ResultRow
      name={t.name}
      action={t.action}
      selected={selected}
      excluded={excluded}
      own={row.ownBits !== undefined}
      onSelect={select}
      data={{ 'data-own-bits': row.ownBits }}
    >
      <IncludeCell
        step="quantize"
        name={t.name}
        reachable={reachable}
        excluded={excluded}
        reason={t.reason}
        verb="Quantize"
        hints={{
          op: (op) => `Left out with every ${op} layer: untick ${op} under "Leave out" to take it back.`,
          tickAgain: 'Left out: tick to quantize it again.',
          untick: 'Untick to leave this weight in float32.',
        }}
      />
      <WeightNameCell
        name={t.name}
        op={t.op}
        layer={t.layer}
        excluded={excluded}
        onSelect={select}
        selectTitle={`Show ${t.name} in the layer view below and in the tensor table`}
      />
      <td>
        {!skipped ? (
          fp16 ? (
            <span>16</span>
          ) : (
            <select
              className={`select select--compact${row.ownBits !== undefined ? ' is-own' : ''}`}
              aria-label={`Own bits for ${t.name}`}
              value={row.ownBits ?? ''}
              onChange={(e) => setOwn('quantize', t.name, e.currentTarget.value === '' ? null : Number(e.currentTarget.value))}
              title={row.ownBits !== undefined ? `This weight has its own bit width (${row.ownBits}).` : `Follows the Bit width slider (${defaultBits}).`}
            >
              <option value="">{t.bits === defaultBits || row.ownBits !== undefined ? `${defaultBits} (slider)` : `${t.bits} (pattern)`}</option>
              {BIT_CHOICES.map((b) => (
                <option key={b} value={b}>
                  {b} own
                </option>
              ))}
            </select>
          )
        ) : (
          <span className="muted">float</span>
        )}
        {!skipped && t.storedBits !== t.bits && t.bits < 16 && <span className="rtable__sub"> in {t.storedBits}-bit</span>}
      </td>
      <td>
        {skipped ? (
          <span className="muted">—</span>
        ) : (
          <>
            {FORMAT_LABELS[t.format] ?? t.format}
            <span className="rtable__sub">
              {t.format === 'fp16' ? 'per tensor' : t.granularity === 'block' ? `block ${t.blockSize}` : `per ${t.granularity}`}
            </span>
          </>
        )}
      </td>
      <td className="num">
        {skipped || t.sqnrDb === undefined ? (
          <span className="muted">—</span>
        ) : (
          <>
            <span className={`badge badge--${rating}`} data-testid="row-sqnr">
              {Number.isFinite(t.sqnrDb) ? `${t.sqnrDb.toFixed(1)} dB` : 'exact'}
            </span>
            <span className="rtable__sub">{formatFraction(t.relError ?? 0)} rel. error</span>
          </>
        )}
      </td>
      <td className="num">{formatBytes(t.bytesBefore)}</td>
      <td className="num">
        {formatBytes(t.bytesAfter)}
        {!skipped && <span className="rtable__sub">{deltaText(t.bytesBefore, t.bytesAfter)}</span>}
      </td>
      <td className="rtable__notes" title={notes.join('\n')}>
        {notes.length ? notes.join('; ') : <span className="muted">—</span>}
      </td>
    </ResultRow>
  );
}
