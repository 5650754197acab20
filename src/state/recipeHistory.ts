/**
 * Undo / redo of recipe edits: a bounded stack of drafts. Pure functions over plain data so the rules
 * (limit, coalescing, redo cleared by a new edit) are tested without a store.
 */
import type { RecipeDraft } from './recipeEdits';

/** Steps kept; the oldest fall off beyond this. */
export const HISTORY_LIMIT = 100;
/** Edits with the same coalesce key closer together than this become one step (a slider drag, typing). */
export const COALESCE_MS = 1000;

export interface RecipeHistory {
  past: RecipeDraft[];
  future: RecipeDraft[];
  /** Key and time of the last recorded edit, for coalescing. */
  lastKey: string | null;
  lastAt: number;
}

export const EMPTY_HISTORY: RecipeHistory = { past: [], future: [], lastKey: null, lastAt: -Infinity };

function sameDraft(a: RecipeDraft, b: RecipeDraft): boolean {
  return (
    a.pruneOn === b.pruneOn &&
    a.quantizeOn === b.quantizeOn &&
    JSON.stringify(a.prune) === JSON.stringify(b.prune) &&
    JSON.stringify(a.quantize) === JSON.stringify(b.quantize)
  );
}

/**
 * Records an edit that turned `before` into `after`. No change, no step. An edit with a coalesce key equal
 * to the previous one's, within COALESCE_MS, extends that step instead of adding one (a slider drag).
 */
export function recordEdit(history: RecipeHistory, before: RecipeDraft, after: RecipeDraft, key: string | null, now: number): RecipeHistory {
  if (sameDraft(before, after)) return history;
  if (key !== null && key === history.lastKey && now - history.lastAt < COALESCE_MS && history.past.length > 0) {
    return { ...history, future: [], lastAt: now };
  }
  const past = [...history.past, before];
  if (past.length > HISTORY_LIMIT) past.splice(0, past.length - HISTORY_LIMIT);
  return { past, future: [], lastKey: key, lastAt: now };
}

/** The draft to go back to and the history after it, or null when there is nothing to undo. */
export function undoStep(history: RecipeHistory, current: RecipeDraft): { history: RecipeHistory; draft: RecipeDraft } | null {
  const draft = history.past[history.past.length - 1];
  if (!draft) return null;
  return { draft, history: { past: history.past.slice(0, -1), future: [current, ...history.future], lastKey: null, lastAt: -Infinity } };
}

/** The draft to go forward to and the history after it, or null when there is nothing to redo. */
export function redoStep(history: RecipeHistory, current: RecipeDraft): { history: RecipeHistory; draft: RecipeDraft } | null {
  const draft = history.future[0];
  if (!draft) return null;
  return { draft, history: { past: [...history.past, current], future: history.future.slice(1), lastKey: null, lastAt: -Infinity } };
}
