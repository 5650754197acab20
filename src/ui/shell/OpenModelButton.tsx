import { useStudio } from '../../state/store';

/**
 * A real file input behind a button-looking label: keyboard and screen readers get the native
 * control. No `accept` filter: external-data files have no fixed extension (.data, .bin, none).
 */
export function OpenModelButton() {
  const openFiles = useStudio((s) => s.openFiles);
  return (
    <label className="button button--primary file-button" title="Choose an .onnx file. If its weights live in separate external-data files, select those too.">
      <input
        type="file"
        multiple
        className="visually-hidden"
        onChange={(event) => {
          const files = Array.from(event.currentTarget.files ?? []);
          // Clear the value so picking the same file again still triggers a change.
          event.currentTarget.value = '';
          void openFiles(files);
        }}
      />
      Open model
    </label>
  );
}
