import { memo, type KeyboardEvent } from 'react';
import type { TensorInfo } from '../../core/onnx/types';
import { dtypeLabel, formatBytes, formatInteger, formatShape } from '../format';
import { locationHelp, locationLabel, subgraphLabel, usedByDetail, usedByLabel } from './tensorRows';

export const TensorRow = memo(function TensorRow({
  tensor: t,
  rowIndex,
  top,
  height,
  gridTemplate,
  selected,
  tabbable,
  onSelect,
  onKeyDown,
}: {
  tensor: TensorInfo;
  rowIndex: number;
  /** Offset from the top of the body, and size: plain numbers, so the memo holds across renders. */
  top: number;
  height: number;
  gridTemplate: string;
  selected: boolean;
  /** One row at a time is in the Tab order (roving tabindex); arrow keys move between rows. */
  tabbable: boolean;
  onSelect(id: number): void;
  onKeyDown(event: KeyboardEvent<HTMLDivElement>, rowIndex: number, id: number): void;
}) {
  const usedBy = usedByLabel(t);
  const nodes = usedByDetail(t);
  const subgraph = subgraphLabel(t);
  const location = locationLabel(t);
  return (
    <div
      role="row"
      aria-rowindex={rowIndex}
      className={`tt-row${t.isWeight ? '' : ' is-aux'}${selected ? ' is-selected' : ''}`}
      style={{ gridTemplateColumns: gridTemplate, height, transform: `translateY(${top}px)` }}
      data-tensor-id={t.id}
      data-row-index={rowIndex}
      aria-current={selected ? 'true' : undefined}
      tabIndex={tabbable ? 0 : -1}
      onClick={() => onSelect(t.id)}
      onKeyDown={(event) => onKeyDown(event, rowIndex, t.id)}
    >
      <div role="cell" className="tt-cell tt-name" title={t.name}>
        <span className="ellipsis mono">{t.name}</span>
        {!t.isWeight && (
          <span className="tt-sub" title="Not a learned weight: an index, a shape, a scalar or another helper value.">
            not a weight
          </span>
        )}
      </div>
      <div role="cell" className="tt-cell" title={nodes ? `${usedBy} — node ${nodes}` : usedBy}>
        <span className={`ellipsis${t.consumers.length ? '' : ' muted'}`}>{usedBy}</span>
        {nodes && <span className="tt-sub ellipsis">{nodes}</span>}
      </div>
      <div role="cell" className="tt-cell mono">
        <span className="ellipsis">{formatShape(t.shape)}</span>
      </div>
      <div role="cell" className="tt-cell" title={`ONNX type ${t.dtype}`}>
        {dtypeLabel(t.dtype)}
      </div>
      <div role="cell" className="tt-cell num">
        {formatInteger(t.elements)}
      </div>
      <div role="cell" className="tt-cell num" title={`${formatInteger(t.bytes)} bytes`}>
        {formatBytes(t.bytes)}
      </div>
      <div role="cell" className="tt-cell" title={`${location}${subgraph ? ` in ${subgraph}` : ''}. ${locationHelp(t)}`}>
        <span className="ellipsis">{location}</span>
        {subgraph && <span className="tt-sub ellipsis">{subgraph}</span>}
      </div>
    </div>
  );
});
