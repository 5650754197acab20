import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Recipe } from '../core/recipe';

// The model worker is a Web Worker (not available in vitest); compression requests just wait.
vi.mock('./bridge', () => ({
  modelWorker: {
    onCrash: () => () => true,
    compress: (_recipe: Recipe) => new Promise(() => undefined),
    cancelCompress: () => Promise.resolve(),
  },
}));

const { useStudio } = await import('./store');
const { startRecipeUrlSync, URL_WRITE_MS } = await import('./urlSync');
const { readRecipeHash } = await import('./recipeHash');

/** The parts of a window the sync uses: location, history.replaceState and hashchange events. */
class FakeWindow extends EventTarget {
  replaced = 0;
  location = { href: 'http://studio.test/', hash: '' };
  history = {
    state: null,
    replaceState: (_state: unknown, _title: string, url: URL) => {
      this.replaced++;
      this.location.href = url.href;
      this.location.hash = url.hash;
    },
  };
  /** A hash typed or pasted by hand: navigation fires hashchange. */
  navigate(hash: string) {
    this.location.hash = hash;
    this.location.href = `http://studio.test/${hash}`;
    this.dispatchEvent(new Event('hashchange'));
  }
}

const initial = useStudio.getState();
let stop: () => void = () => undefined;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  useStudio.setState({
    pruneOn: initial.pruneOn,
    quantizeOn: initial.quantizeOn,
    prune: initial.prune,
    quantize: initial.quantize,
    recipeHistory: initial.recipeHistory,
    urlRecipeError: null,
    summary: null,
  });
});

afterEach(() => {
  stop();
  vi.useRealTimers();
});

describe('the recipe in the URL', () => {
  it('reads the link at start, then writes changes once they settle (replaceState, not per tick)', () => {
    const win = new FakeWindow();
    win.location.hash = '#recipe=' + encodeURIComponent('{"version":1,"quantize":{"bits":4}}');
    stop = startRecipeUrlSync(win as unknown as Window);
    expect(useStudio.getState().quantize.bits).toBe(4);
    expect(win.replaced).toBe(0);

    for (const bits of [5, 6, 7]) {
      useStudio.getState().setQuantize({ bits }, { debounce: true });
      vi.advanceTimersByTime(URL_WRITE_MS / 2);
    }
    expect(win.replaced).toBe(0);
    vi.advanceTimersByTime(URL_WRITE_MS);
    expect(win.replaced).toBe(1);
    const read = readRecipeHash(win.location.hash);
    expect(read.kind === 'ok' && read.draft.quantize.bits).toBe(7);
  });

  it('leaves a URL without a recipe alone until something changes', () => {
    const win = new FakeWindow();
    stop = startRecipeUrlSync(win as unknown as Window);
    vi.advanceTimersByTime(URL_WRITE_MS * 4);
    expect(win.location.hash).toBe('');
    useStudio.getState().setStepOn('prune', true);
    vi.advanceTimersByTime(URL_WRITE_MS);
    expect(win.location.hash).toMatch(/^#recipe=/);
  });

  it('a link pasted later applies as an undoable edit; a bad one sets the message and the defaults', () => {
    const win = new FakeWindow();
    stop = startRecipeUrlSync(win as unknown as Window);
    win.navigate('#recipe=' + encodeURIComponent('{"version":1,"prune":{"pattern":"2:4"}}'));
    expect(useStudio.getState().pruneOn).toBe(true);
    expect(useStudio.getState().quantizeOn).toBe(false);
    useStudio.getState().undoRecipe();
    expect(useStudio.getState().pruneOn).toBe(false);
    expect(useStudio.getState().quantizeOn).toBe(true);

    win.navigate('#recipe=' + encodeURIComponent('{"version":1,"quantize":{"bits":99}}'));
    expect(useStudio.getState().urlRecipeError).toMatch(/quantize\.bits/);
    expect(useStudio.getState().quantize).toEqual(initial.quantize);
  });
});
