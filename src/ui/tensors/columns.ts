import type { TensorSortKey } from '../../state/store';

export interface Column {
  key: TensorSortKey;
  label: string;
  help: string;
  numeric?: boolean;
}

export const COLUMNS: readonly Column[] = [
  { key: 'name', label: 'Name', help: 'The tensor’s name in the model.' },
  { key: 'usedBy', label: 'Used by', help: 'The operation type(s) that read this tensor, and the node name.' },
  { key: 'shape', label: 'Shape', help: 'Size along each dimension.', numeric: true },
  { key: 'dtype', label: 'Type', help: 'Number type of each element.' },
  { key: 'elements', label: 'Elements', help: 'How many numbers the tensor holds.', numeric: true },
  { key: 'bytes', label: 'Size', help: 'Bytes the tensor takes as stored.', numeric: true },
  { key: 'location', label: 'Stored as', help: 'Where in the file the values live.' },
];

/** One grid template shared by the header and every row so the columns line up. */
export const GRID_TEMPLATE = 'minmax(220px, 2.4fr) minmax(150px, 1.4fr) minmax(120px, 1fr) 96px 112px 100px minmax(170px, 1.5fr)';
