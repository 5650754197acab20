import './shell/shell.css';
import { useEffect, useLayoutEffect, type MouseEvent } from 'react';
import { useStudio } from '../state/store';
import { systemTheme } from '../state/uiSlice';
import { UrlRecipeError, useRecipeShortcuts } from './compress/shared/RecipeHistory';
import { DropZone } from './shell/DropZone';
import { EmptyState } from './shell/EmptyState';
import { ErrorBanner, WorkerNotice } from './shell/ErrorBanner';
import { Header } from './shell/Header';
import { LoadingStatus } from './shell/LoadingStatus';
import { ModelList } from './shell/ModelList';
import { ViewSwitch, Workspace } from './workspace/Workspace';

export function App() {
  useThemeOnDocument();
  useRecipeShortcuts();
  const summary = useStudio((s) => s.summary);
  const isDemo = useStudio((s) => s.isDemo);
  const loading = useStudio((s) => s.status === 'loading');

  return (
    <DropZone>
      <div className={`app${summary ? ' app--workspace' : ''}`}>
        {summary && (
          <div className="skip-links">
            <a className="skip-link" href="#ws-main" onClick={skipTo}>
              Skip to the canvas
            </a>
            <a className="skip-link" href="#ws-recipe" onClick={skipTo}>
              Skip to the recipe
            </a>
          </div>
        )}
        <Header>{summary && <ViewSwitch />}</Header>
        <div className="app-notices" aria-busy={loading}>
          <UrlRecipeError />
          <ErrorBanner />
          <WorkerNotice />
          <LoadingStatus />
        </div>
        {summary ? (
          <Workspace summary={summary} isDemo={isDemo} />
        ) : (
          <main className="app-main" aria-busy={loading}>
            <ModelList />
            <EmptyState />
          </main>
        )}
        <footer className="app-footer">Files are read in your browser and never uploaded. Drop a model anywhere on this page to open it.</footer>
      </div>
    </DropZone>
  );
}

/** Moves focus to a skip link's target without touching the URL's hash (it carries the recipe link, #recipe=…). */
function skipTo(event: MouseEvent<HTMLAnchorElement>) {
  const target = document.getElementById(event.currentTarget.hash.slice(1));
  if (!target) return;
  event.preventDefault();
  target.focus();
  target.scrollIntoView({ block: 'nearest' });
}

/** Mirrors the theme onto <html data-theme> and follows the system setting until the user picks one. */
function useThemeOnDocument() {
  const theme = useStudio((s) => s.theme);
  const followSystemTheme = useStudio((s) => s.followSystemTheme);
  // A layout effect, so canvas charts (which read colours in their own effects) see the new theme.
  useLayoutEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(() => {
    const query = matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => followSystemTheme(systemTheme());
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, [followSystemTheme]);
}
