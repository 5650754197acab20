/**
 * Keeps the recipe in the URL hash: read once at start (before any model opens, so the first one gets
 * it), written as controls move (debounced, history.replaceState: no history entry per slider tick), and
 * read again when the hash changes by hand (a pasted link), as an undoable edit.
 */
import { recipeHash } from './recipeHash';
import { draftOf } from './compressSlice';
import { useStudio } from './store';

/** Wait after the last change before the URL is rewritten. */
export const URL_WRITE_MS = 250;

export function startRecipeUrlSync(win: Window = window): () => void {
  const store = useStudio;
  store.getState().applyHashRecipe(win.location.hash);
  // Until the first change, a URL without a recipe stays as it was.
  let written = recipeHash(draftOf(store.getState()));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = () => {
    timer = undefined;
    const hash = recipeHash(draftOf(store.getState()));
    if (hash === written && win.location.hash === hash) return;
    written = hash;
    const url = new URL(win.location.href);
    url.hash = hash;
    win.history.replaceState(win.history.state, '', url);
  };
  const unsubscribe = store.subscribe((s, prev) => {
    if (s.pruneOn === prev.pruneOn && s.quantizeOn === prev.quantizeOn && s.prune === prev.prune && s.quantize === prev.quantize) return;
    if (recipeHash(draftOf(s)) === written) return;
    clearTimeout(timer);
    timer = setTimeout(write, URL_WRITE_MS);
  });
  const onHashChange = () => {
    if (win.location.hash === written) return;
    store.getState().applyHashRecipe(win.location.hash, { undoable: true });
    written = recipeHash(draftOf(store.getState()));
  };
  win.addEventListener('hashchange', onHashChange);
  return () => {
    unsubscribe();
    clearTimeout(timer);
    win.removeEventListener('hashchange', onHashChange);
  };
}
