import { useId } from 'react';
import { matchingPreset, presetById, RECIPE_PRESETS } from '../../../core/presets';
import { recipeOf } from '../../../state/recipeEdits';
import { useStudio } from '../../../state/store';

const CUSTOM = 'custom';

/** Start from a named recipe; the description says what it does. Choosing one is an undoable edit. */
export function PresetPicker() {
  const id = useId();
  const helpId = useId();
  // Select the id (a string), not the recipe: a fresh object per read would re-render without end.
  const currentId = useStudio((s) => matchingPreset(recipeOf(s))?.id);
  const applyPreset = useStudio((s) => s.applyPreset);
  const current = currentId === undefined ? undefined : presetById(currentId);
  return (
    <div className="preset-picker" data-testid="preset-picker">
      <label className="cfield__label" htmlFor={id}>
        Preset
      </label>
      <select
        id={id}
        className="select"
        value={current?.id ?? CUSTOM}
        aria-describedby={helpId}
        onChange={(e) => {
          if (e.currentTarget.value !== CUSTOM) applyPreset(e.currentTarget.value);
        }}
      >
        {!current && <option value={CUSTOM}>Custom settings</option>}
        {RECIPE_PRESETS.map((p) => (
          <option key={p.id} value={p.id}>
            {p.label}
          </option>
        ))}
      </select>
      <p className="cfield__help preset-picker__help" id={helpId} data-testid="preset-description">
        {current ? current.description : 'Your own settings. Pick a preset to start from a common recipe; Undo takes it back.'}
      </p>
    </div>
  );
}
