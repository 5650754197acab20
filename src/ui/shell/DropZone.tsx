import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { useStudio } from '../../state/store';
import { dragHasFiles, filesFromDrop } from './dropFiles';

export const DROP_MESSAGE = 'Drop an .onnx model (and its external-data files)';

/** The whole page accepts dropped files; an overlay shows while files are dragged over it. */
export function DropZone({ children }: { children: ReactNode }) {
  const openFiles = useStudio((s) => s.openFiles);
  const [dragging, setDragging] = useState(false);
  // dragenter/dragleave fire for every child element crossed; count them to know when we left.
  const depth = useRef(0);

  const reset = useCallback(() => {
    depth.current = 0;
    setDragging(false);
  }, []);

  // A drop that misses the zone must not make the browser navigate away to the file.
  useEffect(() => {
    const prevent = (event: DragEvent) => {
      if (dragHasFiles(event)) event.preventDefault();
    };
    window.addEventListener('dragover', prevent);
    window.addEventListener('drop', prevent);
    window.addEventListener('dragend', reset);
    return () => {
      window.removeEventListener('dragover', prevent);
      window.removeEventListener('drop', prevent);
      window.removeEventListener('dragend', reset);
    };
  }, [reset]);

  return (
    <div
      className="drop-zone"
      data-testid="drop-zone"
      onDragEnter={(event) => {
        if (!dragHasFiles(event)) return;
        event.preventDefault();
        depth.current++;
        setDragging(true);
      }}
      onDragOver={(event) => {
        if (!dragHasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={(event) => {
        if (!dragHasFiles(event)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setDragging(false);
      }}
      onDrop={(event) => {
        if (!dragHasFiles(event)) return;
        event.preventDefault();
        reset();
        filesFromDrop(event.dataTransfer).then(
          (files) => openFiles(files),
          () => openFiles(Array.from(event.dataTransfer.files)),
        );
      }}
    >
      {children}
      <div className={`drop-overlay${dragging ? ' is-visible' : ''}`} aria-hidden={!dragging}>
        <div className="drop-overlay__box">
          <svg viewBox="0 0 24 24" width="40" height="40" aria-hidden="true">
            <path
              d="M12 3v12m0 0-4.5-4.5M12 15l4.5-4.5M4 17v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2"
              fill="none"
              stroke="currentColor"
              strokeWidth="1.8"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
          <p>{DROP_MESSAGE}</p>
          <p className="drop-overlay__hint">Several files can be dropped at once, or a whole folder.</p>
        </div>
      </div>
    </div>
  );
}
