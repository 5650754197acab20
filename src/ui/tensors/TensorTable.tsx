import { useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { TensorInfo } from '../../core/onnx/types';
import { useStudio } from '../../state/store';
import { formatInteger } from '../format';
import { useLayout } from '../workspace/layout';
import { COLUMNS, GRID_TEMPLATE } from './columns';
import { TensorRow } from './TensorRow';
import { selectTensorRows } from './tensorRows';
import { TensorToolbar } from './TensorToolbar';
import './tensors.css';

const ROW_HEIGHT = 48;
const HEADER_HEIGHT = 40;
const MAX_BODY_HEIGHT = 560;

/**
 * Every stored tensor in a virtualised ARIA grid: only the rows in view are in the DOM, so models
 * with tens of thousands of tensors stay fast. aria-rowcount/aria-rowindex keep the true size known
 * to assistive technology.
 */
export function TensorTable({ tensors }: { tensors: TensorInfo[] }) {
  const filter = useStudio((s) => s.tableFilter);
  const sort = useStudio((s) => s.tableSort);
  const showNonWeights = useStudio((s) => s.showNonWeights);
  const sortTableBy = useStudio((s) => s.sortTableBy);
  const deferredFilter = useDeferredValue(filter);
  const selectedId = useStudio((s) => s.selectedTensorId);
  const selectInStore = useStudio((s) => s.selectTensor);
  const setTab = useLayout((s) => s.setTab);
  // A row picked here shows its charts: the workspace's centre switches to the Layer tab.
  const selectTensor = useCallback(
    (id: number) => {
      selectInStore(id);
      setTab('layer');
    },
    [selectInStore, setTab],
  );
  const revealRequest = useStudio((s) => s.revealRequest);

  const { rows, hiddenNonWeights, filteredOut } = useMemo(
    () => selectTensorRows(tensors, { filter: deferredFilter, sort, showNonWeights }),
    [tensors, deferredFilter, sort, showNonWeights],
  );

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    scrollMargin: HEADER_HEIGHT,
    getItemKey: (index) => rows[index].id,
  });
  const bodyHeight = rows.length * ROW_HEIGHT;
  const selectedIndex = useMemo(() => (selectedId === null ? -1 : rows.findIndex((t) => t.id === selectedId)), [rows, selectedId]);

  // Roving tabindex: the focused (else the selected, else the first) row is the one Tab reaches.
  const [focusIndex, setFocusIndex] = useState<number | null>(null);
  const tabIndexRow = focusIndex !== null && focusIndex < rows.length ? focusIndex : selectedIndex >= 0 ? selectedIndex : 0;
  const pendingFocus = useRef<number | null>(null);

  const focusRow = useCallback(
    (index: number) => {
      const target = Math.max(0, Math.min(rows.length - 1, index));
      setFocusIndex(target);
      pendingFocus.current = target;
      virtualizer.scrollToIndex(target, { align: 'auto' });
    },
    [rows.length, virtualizer],
  );

  // Move DOM focus once the virtualiser has rendered the row.
  useLayoutEffect(() => {
    if (pendingFocus.current === null) return;
    const row = scrollRef.current?.querySelector<HTMLElement>(`[data-row-index="${pendingFocus.current + 2}"]`);
    if (row) {
      row.focus({ preventScroll: true });
      pendingFocus.current = null;
    }
  });

  const onRowKeyDown = useCallback(
    (event: KeyboardEvent<HTMLDivElement>, rowIndex: number, id: number) => {
      const index = rowIndex - 2;
      const page = Math.max(1, Math.floor(MAX_BODY_HEIGHT / ROW_HEIGHT) - 1);
      const moves: Record<string, number> = {
        ArrowDown: index + 1,
        ArrowUp: index - 1,
        PageDown: index + page,
        PageUp: index - page,
        Home: 0,
        End: rows.length - 1,
      };
      if (event.key in moves) {
        event.preventDefault();
        focusRow(moves[event.key]!);
      } else if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        selectTensor(id);
      }
    },
    [focusRow, rows.length, selectTensor],
  );
  const onSelect = useCallback((id: number) => selectTensor(id), [selectTensor]);

  // A chart selected a tensor: make sure its row is listed, scroll it into view and highlight it.
  const setTableFilter = useStudio((s) => s.setTableFilter);
  const setShowNonWeights = useStudio((s) => s.setShowNonWeights);
  const handledReveal = useRef(revealRequest);
  useEffect(() => {
    if (handledReveal.current === revealRequest || selectedId === null) return;
    if (selectedIndex < 0) {
      const t = tensors[selectedId];
      if (t && !t.isWeight && !showNonWeights) setShowNonWeights(true);
      else if (filter) setTableFilter('');
      return; // runs again once the rows include it
    }
    handledReveal.current = revealRequest;
    virtualizer.scrollToIndex(selectedIndex, { align: 'center' });
    setFocusIndex(selectedIndex);
    requestAnimationFrame(() => {
      const row = scrollRef.current?.querySelector<HTMLElement>(`[data-row-index="${selectedIndex + 2}"]`);
      (row ?? scrollRef.current)?.scrollIntoView({ block: 'nearest' });
    });
  }, [revealRequest, selectedId, selectedIndex, tensors, showNonWeights, filter, setShowNonWeights, setTableFilter, virtualizer]);

  return (
    <section className="card tensors" aria-labelledby="tensors-title" data-testid="tensor-panel">
      <header className="card__header">
        <h2 className="card__title" id="tensors-title">
          Tensors <span className="count-badge">{formatInteger(tensors.length)}</span>
        </h2>
        <p className="card__help">
          Every block of numbers stored in the model. Weights are what the model learned; the rest are small helper values such as shapes and indices. Click a
          row, or press Enter on it, to see its values in the Layer tab.
        </p>
      </header>

      <TensorToolbar shown={rows.length} total={tensors.length} hiddenNonWeights={hiddenNonWeights} filteredOut={filteredOut} />

      <div
        className="tt-scroll"
        ref={scrollRef}
        style={{ maxHeight: MAX_BODY_HEIGHT + HEADER_HEIGHT }}
        tabIndex={0}
        aria-label="Tensor table, scrollable"
        onKeyDown={(event) => {
          // From the scroll area itself, the arrow keys step into the rows.
          if (event.target === event.currentTarget && (event.key === 'ArrowDown' || event.key === 'Enter') && rows.length) {
            event.preventDefault();
            focusRow(selectedIndex >= 0 ? selectedIndex : 0);
          }
        }}
      >
        <div role="table" aria-labelledby="tensors-title" aria-rowcount={rows.length + 1} className="tt" data-testid="tensor-table">
          <div role="rowgroup" className="tt-head" style={{ height: HEADER_HEIGHT }}>
            <div role="row" aria-rowindex={1} className="tt-row tt-row--head" style={{ gridTemplateColumns: GRID_TEMPLATE }}>
              {COLUMNS.map((col) => {
                const active = sort?.key === col.key;
                return (
                  <div
                    role="columnheader"
                    key={col.key}
                    className={`tt-cell tt-th${col.key === 'elements' || col.key === 'bytes' ? ' num' : ''}`}
                    aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
                  >
                    <button type="button" className="tt-sort" onClick={() => sortTableBy(col.key)} title={`${col.help} Click to sort.`}>
                      {col.label}
                      <span className={`tt-arrow${active ? ' is-active' : ''}`} aria-hidden="true">
                        {active ? (sort.dir === 'asc' ? '▲' : '▼') : '↕'}
                      </span>
                    </button>
                  </div>
                );
              })}
            </div>
          </div>
          <div role="rowgroup" className="tt-body" style={{ height: bodyHeight }}>
            {virtualizer.getVirtualItems().map((item) => (
              <TensorRow
                key={item.key}
                tensor={rows[item.index]}
                rowIndex={item.index + 2}
                selected={rows[item.index].id === selectedId}
                tabbable={item.index === tabIndexRow}
                onSelect={onSelect}
                onKeyDown={onRowKeyDown}
                top={item.start - HEADER_HEIGHT}
                height={ROW_HEIGHT}
                gridTemplate={GRID_TEMPLATE}
              />
            ))}
          </div>
        </div>
        {rows.length === 0 && <EmptyRows filter={filter} hiddenNonWeights={hiddenNonWeights} />}
      </div>
    </section>
  );
}

function EmptyRows({ filter, hiddenNonWeights }: { filter: string; hiddenNonWeights: number }) {
  const setTableFilter = useStudio((s) => s.setTableFilter);
  const setShowNonWeights = useStudio((s) => s.setShowNonWeights);
  if (filter.trim()) {
    return (
      <p className="tt-empty">
        No tensors match “{filter.trim()}”.{' '}
        <button type="button" className="link-button" onClick={() => setTableFilter('')}>
          Clear the filter
        </button>
      </p>
    );
  }
  if (hiddenNonWeights > 0) {
    return (
      <p className="tt-empty">
        This model has no weight tensors.{' '}
        <button type="button" className="link-button" onClick={() => setShowNonWeights(true)}>
          Show the {formatInteger(hiddenNonWeights)} non-weight tensors
        </button>
      </p>
    );
  }
  return <p className="tt-empty">This model stores no tensors.</p>;
}
