import type { ReactNode } from 'react';
import { useStudio } from '../../state/store';
import { OpenModelButton } from './OpenModelButton';
import { ThemeToggle } from './ThemeToggle';

/** children: shown between the brand and the actions (the workspace's view switch). */
export function Header({ children }: { children?: ReactNode }) {
  const loadDemo = useStudio((s) => s.loadDemo);
  const loading = useStudio((s) => s.status === 'loading');
  return (
    <header className="app-header">
      <div className="brand">
        <svg className="brand__mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
          <rect x="2" y="2" width="28" height="28" rx="8" fill="var(--accent)" />
          <path d="M9 11h14M11 16h10M13 21h6" stroke="var(--accent-contrast)" strokeWidth="2.6" strokeLinecap="round" />
        </svg>
        <div>
          <h1 className="brand__name">Compression Studio</h1>
          <p className="brand__tagline">Look inside an ONNX model, see where its bytes go, and make it smaller.</p>
        </div>
      </div>
      {children}
      <div className="app-header__actions">
        <button
          type="button"
          className="button"
          onClick={() => void loadDemo()}
          disabled={loading}
          title="Load a small handwritten-digit classifier (MNIST) that ships with the studio."
        >
          Try the demo model
        </button>
        <OpenModelButton />
        <ThemeToggle />
      </div>
    </header>
  );
}
