import type { Sort } from '../compress/shared/rows';

/** A sortable column header: a button inside the th, with aria-sort on the th. */
export function SortHeader<K extends string>({
  label,
  sortKey,
  sort,
  onSort,
  numeric,
  title,
}: {
  label: string;
  sortKey: K;
  sort: Sort<K>;
  onSort(key: K): void;
  numeric?: boolean;
  title?: string;
}) {
  const active = sort.key === sortKey;
  return (
    <th scope="col" className={numeric ? 'num' : undefined} aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
      <button type="button" className="tt-sort" onClick={() => onSort(sortKey)} title={title}>
        {label}
        <span className={`tt-arrow${active ? ' is-active' : ''}`} aria-hidden="true">
          {active ? (sort.dir === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );
}
