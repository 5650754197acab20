import { describe, expect, it } from 'vitest';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE } from '../core/recipe';
import type { RecipeDraft } from './recipeEdits';
import { COALESCE_MS, EMPTY_HISTORY, HISTORY_LIMIT, recordEdit, redoStep, undoStep } from './recipeHistory';

const draft = (bits: number, pruneOn = false): RecipeDraft => ({ pruneOn, quantizeOn: true, prune: DEFAULT_PRUNE, quantize: { ...DEFAULT_QUANTIZE, bits } });

describe('recipe history', () => {
  it('undoes and redoes edits in order, and a new edit clears redo', () => {
    let h = recordEdit(EMPTY_HISTORY, draft(8), draft(6), null, 0);
    h = recordEdit(h, draft(6), draft(4), null, 10);
    const u1 = undoStep(h, draft(4))!;
    expect(u1.draft.quantize.bits).toBe(6);
    const u2 = undoStep(u1.history, u1.draft)!;
    expect(u2.draft.quantize.bits).toBe(8);
    expect(undoStep(u2.history, u2.draft)).toBeNull();
    const r1 = redoStep(u2.history, u2.draft)!;
    expect(r1.draft.quantize.bits).toBe(6);
    const r2 = redoStep(r1.history, r1.draft)!;
    expect(r2.draft.quantize.bits).toBe(4);
    expect(redoStep(r2.history, r2.draft)).toBeNull();
    // Back one step, then a different edit: the redo branch is gone.
    const back = undoStep(r2.history, r2.draft)!;
    const branched = recordEdit(back.history, back.draft, draft(2), null, 20);
    expect(branched.future).toEqual([]);
    expect(redoStep(branched, draft(2))).toBeNull();
  });

  it('records nothing when the draft did not change', () => {
    expect(recordEdit(EMPTY_HISTORY, draft(8), draft(8), null, 0)).toBe(EMPTY_HISTORY);
  });

  it('coalesces a drag (same key, close together) into one step, but not across keys or pauses', () => {
    let h = recordEdit(EMPTY_HISTORY, draft(8), draft(7), 'quantize:bits', 0);
    h = recordEdit(h, draft(7), draft(6), 'quantize:bits', 50);
    h = recordEdit(h, draft(6), draft(5), 'quantize:bits', 100);
    expect(h.past).toHaveLength(1);
    expect(undoStep(h, draft(5))!.draft.quantize.bits).toBe(8);
    h = recordEdit(h, draft(5), draft(4), 'prune:sparsity', 150);
    expect(h.past).toHaveLength(2);
    h = recordEdit(h, draft(4), draft(3), 'prune:sparsity', 150 + COALESCE_MS + 1);
    expect(h.past).toHaveLength(3);
    // Clicks (no key) never coalesce.
    h = recordEdit(h, draft(3), draft(2), null, 150 + COALESCE_MS + 2);
    h = recordEdit(h, draft(2), draft(3), null, 150 + COALESCE_MS + 3);
    expect(h.past).toHaveLength(5);
  });

  it('keeps at least 50 steps and drops the oldest beyond its limit', () => {
    expect(HISTORY_LIMIT).toBeGreaterThanOrEqual(50);
    let h = EMPTY_HISTORY;
    for (let i = 0; i < HISTORY_LIMIT + 20; i++) h = recordEdit(h, draft(2 + (i % 7), i % 2 === 0), draft(2 + ((i + 1) % 7), i % 2 === 1), null, i);
    expect(h.past).toHaveLength(HISTORY_LIMIT);
    let current = draft(0);
    let undone = 0;
    for (let step = undoStep(h, current); step; step = undoStep(h, current)) {
      h = step.history;
      current = step.draft;
      undone++;
    }
    expect(undone).toBe(HISTORY_LIMIT);
    // The oldest kept is edit number 20 (the first 20 fell off).
    expect(current).toEqual(draft(2 + (20 % 7), true));
  });
});
