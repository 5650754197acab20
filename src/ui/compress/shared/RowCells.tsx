/**
 * The parts every per-layer results table shares (quantization and pruning): the row itself (selection,
 * exclusion and override marks), the include checkbox with why a row is left out, the weight's name cell, and
 * the "show all" footer.
 */
import type { ReactNode } from 'react';
import type { Exclusion, Step } from '../../../state/recipeEdits';
import { useStudio } from '../../../state/store';
import { formatInteger } from '../../format';

export function ResultRow(props: {
  name: string;
  action: 'quantize' | 'prune' | 'skip';
  selected: boolean;
  excluded: Exclusion | null;
  /** The row has its own setting (bits, sparsity) instead of the slider's. */
  own: boolean;
  onSelect(): void;
  data?: Record<`data-${string}`, string | number | undefined>;
  children: ReactNode;
}) {
  const { name, action, selected, excluded, own, onSelect } = props;
  return (
    <tr
      className={`${selected ? 'is-selected' : ''}${excluded ? ' is-excluded' : ''}${own ? ' is-override' : ''}${action === 'skip' ? ' is-skipped' : ''}`}
      aria-current={selected ? 'true' : undefined}
      data-name={name}
      data-action={action}
      data-excluded={excluded ? excluded.kind : undefined}
      {...props.data}
      onClick={(e) => {
        if ((e.target as HTMLElement).closest('input, select, button')) return;
        onSelect();
      }}
    >
      {props.children}
    </tr>
  );
}

/** The include checkbox of a row the recipe can reach; a dash with the reason otherwise. */
export function IncludeCell(props: {
  step: Step;
  name: string;
  reachable: boolean;
  excluded: Exclusion | null;
  reason?: string;
  /** "Prune" / "Quantize": the checkbox reads "Prune conv1.weight". */
  verb: string;
  hints: { op: (op: string) => string; tickAgain: string; untick: string };
}) {
  const toggle = useStudio((s) => s.toggleExcludedName);
  const { excluded, hints } = props;
  return (
    <td className="rtable__check">
      {props.reachable ? (
        <input
          type="checkbox"
          aria-label={`${props.verb} ${props.name}`}
          checked={!excluded}
          disabled={excluded !== null && excluded.kind !== 'name'}
          title={
            excluded?.kind === 'pattern'
              ? `Left out by the pattern "${excluded.by}": remove the pattern to take it back.`
              : excluded?.kind === 'op'
                ? hints.op(excluded.by)
                : excluded
                  ? hints.tickAgain
                  : hints.untick
          }
          onChange={() => toggle(props.step, props.name)}
        />
      ) : (
        <span className="muted" title={props.reason}>
          —
        </span>
      )}
    </td>
  );
}

/** The weight's name (a button that selects it elsewhere), its op and layer, and a mark when left out. */
export function WeightNameCell(props: { name: string; op: string; layer?: string; excluded: Exclusion | null; selectTitle: string; onSelect(): void }) {
  const { excluded } = props;
  return (
    <td className="rtable__name">
      <button type="button" className="rtable__select" onClick={props.onSelect} title={props.selectTitle}>
        <span className="ellipsis mono">{props.name}</span>
        <span className="rtable__sub ellipsis">
          {props.op}
          {props.layer ? ` · ${props.layer}` : ''}
        </span>
      </button>
      {excluded && (
        <span className="badge badge--neutral rtable__mark" data-testid="excluded-mark">
          left out{excluded.kind === 'pattern' ? ` by ${excluded.by}` : excluded.kind === 'op' ? ` (${excluded.by})` : ''}
        </span>
      )}
    </td>
  );
}

export function ShowAllRows({ total, shown, onShowAll }: { total: number; shown: number; onShowAll(): void }) {
  if (total <= shown) return null;
  return (
    <button type="button" className="link-button barlist__more" onClick={onShowAll}>
      Show all {formatInteger(total)} weights
    </button>
  );
}
