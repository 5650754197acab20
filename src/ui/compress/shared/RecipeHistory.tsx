import { useEffect } from 'react';
import { useStudio } from '../../../state/store';
import './recipe.css';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const MOD = isMac ? '⌘' : 'Ctrl';

/** Undo and Redo of recipe edits, with how many steps each way. */
export function UndoRedoButtons() {
  const undoCount = useStudio((s) => s.recipeHistory.past.length);
  const redoCount = useStudio((s) => s.recipeHistory.future.length);
  const undo = useStudio((s) => s.undoRecipe);
  const redo = useStudio((s) => s.redoRecipe);
  return (
    <div className="recipe-history" role="group" aria-label="Recipe history">
      <button
        type="button"
        className="button button--small"
        onClick={undo}
        disabled={undoCount === 0}
        title={`Undo the last recipe change (${MOD}+Z)`}
        aria-keyshortcuts={isMac ? 'Meta+Z' : 'Control+Z'}
        data-testid="undo-recipe"
      >
        Undo{undoCount > 0 ? ` (${undoCount})` : ''}
      </button>
      <button
        type="button"
        className="button button--small"
        onClick={redo}
        disabled={redoCount === 0}
        title={`Redo (${MOD}+Shift+Z or ${MOD}+Y)`}
        aria-keyshortcuts={isMac ? 'Meta+Shift+Z Meta+Y' : 'Control+Shift+Z Control+Y'}
        data-testid="redo-recipe"
      >
        Redo{redoCount > 0 ? ` (${redoCount})` : ''}
      </button>
    </div>
  );
}

/** True when the keyboard is typing text, where Ctrl+Z belongs to the field. */
export function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  // A <select> has no undo of its own: Ctrl+Z right after choosing a preset takes the preset back.
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLInputElement) return !['range', 'checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'color'].includes(target.type);
  return false;
}

/** Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y (⌘ on a Mac) undo and redo recipe edits, unless focus is in a text field. */
export function useRecipeShortcuts() {
  const undo = useStudio((s) => s.undoRecipe);
  const redo = useStudio((s) => s.redoRecipe);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || isTextEntry(e.target)) return;
      const key = e.key.toLowerCase();
      if (key === 'z' && !e.shiftKey) undo();
      else if ((key === 'z' && e.shiftKey) || (key === 'y' && !e.shiftKey)) redo();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [undo, redo]);
}

/** The recipe in the link could not be used: say why; the defaults apply. */
export function UrlRecipeError() {
  const error = useStudio((s) => s.urlRecipeError);
  const dismiss = useStudio((s) => s.dismissUrlRecipeError);
  if (!error) return null;
  return (
    <div className="banner banner--warning" role="alert" data-testid="url-recipe-error">
      <div className="banner__body">
        <p className="banner__title">The recipe in this link could not be used</p>
        <p className="banner__message">{error}</p>
      </div>
      <button type="button" className="button button--ghost button--small" onClick={dismiss} aria-label="Dismiss the link's recipe error">
        Dismiss
      </button>
    </div>
  );
}
