import { useStudio } from '../../state/store';
import { formatBytes } from '../format';

/** The models opened together: one button each; the recipe carries over to the model switched to. */
export function ModelList() {
  const list = useStudio((s) => s.modelList);
  const active = useStudio((s) => s.activeModel);
  const shown = useStudio((s) => s.fileName);
  const loading = useStudio((s) => s.status === 'loading');
  const switchModel = useStudio((s) => s.switchModel);
  if (list.length < 2) return null;
  return (
    <nav className="card model-list" aria-labelledby="model-list-title" data-testid="model-list">
      <h2 className="model-list__title" id="model-list-title">
        Models opened ({list.length})
      </h2>
      <p className="cfield__help">Switch between them; the recipe stays as it is and applies to the model shown.</p>
      <ul className="model-list__items">
        {list.map((m, i) => {
          const current = i === active && shown === m.name;
          const bytes = m.files.reduce((n, f) => n + f.size, 0);
          return (
            <li key={`${i}:${m.name}`}>
              <button
                type="button"
                className={`button button--small model-list__item${i === active ? ' is-active' : ''}`}
                aria-current={current ? 'true' : undefined}
                disabled={loading && i === active}
                onClick={() => void switchModel(i)}
                title={
                  m.files.length > 1
                    ? `${m.name} with ${m.files
                        .slice(1)
                        .map((f) => f.name)
                        .join(', ')}`
                    : m.name
                }
              >
                <span className="mono">{m.name}</span>
                <span className="muted"> · {formatBytes(bytes)}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
