import { useStudio } from '../../../state/store';

/** Save the recipe as JSON, or load one (validated; a bad file leaves the settings as they were). */
export function RecipeButtons() {
  const downloadRecipe = useStudio((s) => s.downloadRecipe);
  const loadRecipeText = useStudio((s) => s.loadRecipeText);
  const anyStep = useStudio((s) => s.quantizeOn || s.pruneOn);
  return (
    <div className="recipe-buttons">
      <button
        type="button"
        className="button button--small"
        onClick={downloadRecipe}
        disabled={!anyStep}
        title="Save these settings as a recipe (JSON) to reuse here or with the command line: cstudio compress model.onnx --recipe recipe.json"
      >
        Download recipe
      </button>
      <label className="button button--small file-button" title="Load settings from a recipe file (JSON) saved here or written by hand.">
        <input
          type="file"
          accept=".json,application/json"
          className="visually-hidden"
          onChange={(event) => {
            const file = event.currentTarget.files?.[0];
            event.currentTarget.value = '';
            if (!file) return;
            void file.text().then(
              (text) => loadRecipeText(text, file.name),
              () => loadRecipeText('', file.name),
            );
          }}
        />
        Load recipe
      </label>
    </div>
  );
}

export function RecipeError() {
  const error = useStudio((s) => s.recipeError);
  const dismiss = useStudio((s) => s.dismissRecipeError);
  if (!error) return null;
  return (
    <div className="banner banner--error" role="alert" data-testid="recipe-error">
      <div className="banner__body">
        <p className="banner__title">Could not load that recipe</p>
        <p className="banner__message">{error}</p>
      </div>
      <button type="button" className="button button--ghost button--small" onClick={dismiss} aria-label="Dismiss recipe error">
        Dismiss
      </button>
    </div>
  );
}
