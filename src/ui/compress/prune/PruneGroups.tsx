import { memo, useMemo, useState } from 'react';
import type { PruneGroupMember, PruneGroupReport } from '../../../core/compress/prune/apply';
import { exactGlob } from '../../../core/recipe';
import { useStudio } from '../../../state/store';
import { formatCount, formatInteger } from '../../format';
import { deltaText } from '../shared/delta';
import { groupLayers, importanceBars, ROLE_TEXT } from './groups';
import './prune-groups.css';

/**
 * Channel groups of a channel-pruning result: which layers lose the same channels, each group's channels before →
 * after, what pruning it alone saves (parameters, MACs), why a group is kept whole, and on opening a group its
 * members and the importance of its channels (kept first). "Keep whole" leaves the group's first producing layer
 * out of pruning, which keeps the whole group.
 */
export const PruneGroups = memo(function PruneGroups({ groups, stale }: { groups: PruneGroupReport[]; stale: boolean }) {
  const [open, setOpen] = useState<number | null>(null);
  const sorted = useMemo(
    () =>
      [...groups].sort(
        (a, b) => Number(a.action === 'keep') - Number(b.action === 'keep') || b.paramsBefore - b.paramsAfter - (a.paramsBefore - a.paramsAfter) || a.id - b.id,
      ),
    [groups],
  );
  const pruned = groups.filter((g) => g.action === 'prune').length;
  return (
    <section className={`pgroups${stale ? ' is-stale' : ''}`} aria-labelledby="pgroups-title" data-testid="prune-groups">
      <header className="pgroups__header">
        <h4 className="pgroups__title" id="pgroups-title">
          Channel groups
        </h4>
        <p className="card__help" data-testid="prune-groups-summary">
          {pruned} of {groups.length} group{groups.length === 1 ? '' : 's'} pruned. Layers in a group lose the same channels — a residual stage, a
          squeeze-excitation block, the inputs of a Concat — so the model stays valid. Leaving a layer out (unticking it, or Keep whole) keeps its whole group.
          Parameters and MACs count the group&apos;s own layers, as if it alone were pruned.
        </p>
      </header>
      <ol className="pgroups__list" aria-label="Channel groups, most parameters saved first">
        {sorted.map((g) => (
          <GroupRow key={g.id} group={g} open={open === g.id} onToggle={() => setOpen(open === g.id ? null : g.id)} />
        ))}
      </ol>
    </section>
  );
});

function GroupRow({ group: g, open, onToggle }: { group: PruneGroupReport; open: boolean; onToggle(): void }) {
  const removed = g.channelsBefore > 0 ? 1 - g.channelsAfter / g.channelsBefore : 0;
  const bodyId = `pgroup-${g.id}`;
  return (
    <li
      className={`pgroup${g.action === 'keep' ? ' is-kept' : ''}${open ? ' is-open' : ''}`}
      data-testid="prune-group"
      data-group={g.id}
      data-action={g.action}
    >
      <button type="button" className="pgroup__head" aria-expanded={open} aria-controls={bodyId} onClick={onToggle}>
        <span className="pgroup__chevron" aria-hidden="true">
          {open ? '▾' : '▸'}
        </span>
        <span className="pgroup__name">
          <span className="pgroup__id">#{g.id}</span> {g.label}
        </span>
        <span className="pgroup__channels" data-testid="group-channels">
          <span className="rtable__bar" aria-hidden="true">
            <span style={{ width: `${Math.min(100, removed * 100)}%` }} />
          </span>
          {g.channelsBefore} → {g.channelsAfter} channels
        </span>
        <span className="pgroup__delta" title={`Parameters of this group's layers: ${formatInteger(g.paramsBefore)} → ${formatInteger(g.paramsAfter)}`}>
          {formatCount(g.paramsBefore)} → {formatCount(g.paramsAfter)} params <span className="muted">{deltaText(g.paramsBefore, g.paramsAfter)}</span>
        </span>
        <span className="pgroup__delta">
          {g.macsBefore === undefined ? (
            <span className="muted">MACs unknown</span>
          ) : (
            <>
              {formatCount(g.macsBefore)} → {formatCount(g.macsAfter ?? g.macsBefore)} MACs{' '}
              <span className="muted">{deltaText(g.macsBefore, g.macsAfter ?? g.macsBefore)}</span>
            </>
          )}
        </span>
        {g.reason && (
          <span className="pgroup__reason" data-testid="group-reason">
            kept whole: {g.reason}
          </span>
        )}
      </button>
      {open && (
        <div className="pgroup__body" id={bodyId}>
          <Members members={g.members} />
          {g.action === 'prune' && <ImportanceChart group={g} />}
          <KeepWhole group={g} />
        </div>
      )}
    </li>
  );
}

function Members({ members }: { members: PruneGroupMember[] }) {
  const layers = groupLayers(members);
  return (
    <table className="rtable pgroup__members" aria-label="Layers in this group" data-testid="group-members">
      <thead>
        <tr>
          <th scope="col">Layer</th>
          <th scope="col">Op</th>
          <th scope="col">In this group</th>
          <th scope="col" className="num">
            Channels
          </th>
          <th scope="col">Tensors cut</th>
        </tr>
      </thead>
      <tbody>
        {layers.map((l) => (
          <tr key={`${l.layer}|${l.role}`} data-layer={l.layer} data-role={l.role}>
            <th scope="row" className="pgroup__layer">
              {l.layer}
            </th>
            <td>{l.op}</td>
            <td>{ROLE_TEXT[l.role]}</td>
            <td className="num">{l.channels}</td>
            <td className="pgroup__tensors" title={l.tensors.join(', ')}>
              {l.tensors.join(', ')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Channel importance as bars, kept channels first (accent) then removed ones (faded); one focusable figure. */
function ImportanceChart({ group: g }: { group: PruneGroupReport }) {
  const bars = importanceBars(g.channelImportance, g.channelsAfter, 96);
  const max = Math.max(...bars.map((b) => b.value), Number.MIN_VALUE);
  const width = 4 * bars.length;
  const values = g.channelImportance;
  const share = g.importance > 0 ? (g.removedImportance / g.importance) * 100 : 0;
  const label = `Importance of the ${g.channelsBefore} channels of group ${g.id}: highest ${fmt(values[0])}, lowest kept ${fmt(values[g.channelsAfter - 1])}${
    g.channelsAfter < g.channelsBefore ? `, highest removed ${fmt(values[g.channelsAfter])}` : ''
  }. ${g.channelsAfter} kept, ${g.channelsBefore - g.channelsAfter} removed, ${share.toFixed(1)} % of the group's importance removed.`;
  return (
    <figure className="pgroup__chart" tabIndex={0} role="img" aria-label={label} data-testid="group-importance">
      <svg viewBox={`0 0 ${width} 40`} preserveAspectRatio="none" aria-hidden="true">
        {bars.map((b, i) => (
          <rect
            key={i}
            x={i * 4}
            y={40 - (38 * b.value) / max}
            width={3}
            height={(38 * b.value) / max}
            className={b.kept ? 'pgroup__bar' : 'pgroup__bar is-removed'}
          />
        ))}
      </svg>
      <figcaption className="cfield__help">
        Channel importance (the {g.members.some((m) => m.role === 'reads') ? 'members’' : 'layer’s'} weight norms), kept first: {g.channelsAfter} kept,{' '}
        {g.channelsBefore - g.channelsAfter} removed ({share.toFixed(1)} % of the importance).
        {g.roundedTo ? ` The kept count is a multiple of ${g.roundedTo}, a width CPU kernels run fast.` : ''}
      </figcaption>
    </figure>
  );
}

const fmt = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

/** Keep the group whole by leaving its first producing layer out of pruning (or take it back). */
function KeepWhole({ group: g }: { group: PruneGroupReport }) {
  const exclude = useStudio((s) => s.prune.exclude);
  const toggle = useStudio((s) => s.toggleExcludedName);
  const producers = g.members.filter((m) => m.role === 'produces' || m.role === 'follows');
  const excludedName = producers.find((m) => exclude.includes(exactGlob(m.tensor)));
  if (excludedName) {
    return (
      <p className="pgroup__actions">
        <button type="button" className="button button--small" onClick={() => toggle('prune', excludedName.tensor)}>
          Prune this group again
        </button>
        <span className="cfield__help">{excludedName.layer} is left out, so the whole group is kept.</span>
      </p>
    );
  }
  if (g.action === 'keep' || producers.length === 0) return null;
  return (
    <p className="pgroup__actions">
      <button type="button" className="button button--small" onClick={() => toggle('prune', producers[0]!.tensor)}>
        Keep this group whole
      </button>
      <span className="cfield__help">Leaves {producers[0]!.layer} out of pruning; every layer of the group keeps its channels.</span>
    </p>
  );
}
