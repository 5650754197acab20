import './shell/shell.css';
import { useEffect, useLayoutEffect } from 'react';
import { useStudio } from '../state/store';
import { systemTheme } from '../state/uiSlice';
import { TensorDetail } from './analysis/TensorDetail';
import { CompressPanel } from './compress/CompressPanel';
import { UrlRecipeError, useRecipeShortcuts } from './compress/shared/RecipeHistory';
import { EvaluatePanel } from './evaluate/EvaluatePanel';
import { LayerViews } from './layers/LayerViews';
import { DropZone } from './shell/DropZone';
import { EmptyState } from './shell/EmptyState';
import { ErrorBanner, WorkerNotice } from './shell/ErrorBanner';
import { GraphView } from './graph/GraphView';
import { Header } from './shell/Header';
import { LoadingStatus } from './shell/LoadingStatus';
import { ModelList } from './shell/ModelList';
import { SummaryPanel } from './summary/SummaryPanel';
import { TensorTable } from './tensors/TensorTable';

export function App() {
  useThemeOnDocument();
  useRecipeShortcuts();
  const summary = useStudio((s) => s.summary);
  const isDemo = useStudio((s) => s.isDemo);
  const loading = useStudio((s) => s.status === 'loading');

  return (
    <DropZone>
      <div className="app">
        <Header />
        <main className="app-main" aria-busy={loading}>
          <UrlRecipeError />
          <ErrorBanner />
          <WorkerNotice />
          <LoadingStatus />
          <ModelList />
          {summary ? (
            <>
              <SummaryPanel summary={summary} isDemo={isDemo} />
              <CompressPanel tensors={summary.tensors} fileName={summary.fileName} weightBytes={summary.weightBytes} />
              <EvaluatePanel />
              <LayerViews tensors={summary.tensors} />
              <GraphView tensors={summary.tensors} fileName={summary.fileName} />
              <TensorTable tensors={summary.tensors} />
              <TensorDetail tensors={summary.tensors} />
            </>
          ) : (
            <EmptyState />
          )}
        </main>
        <footer className="app-footer">Files are read in your browser and never uploaded. Drop a model anywhere on this page to open it.</footer>
      </div>
    </DropZone>
  );
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
