/**
 * External-data locations are confined to the model's folder, as onnxruntime confines them: no absolute paths,
 * no ".." segments, no symlink leading out. Every refusal reads the same, so a message never tells whether a file
 * outside the folder exists or how big it is.
 */
import { ModelInputError } from './types';

export function externalPathRefusal(location: string): ModelInputError {
  return new ModelInputError(
    `External data location ${JSON.stringify(location)} is refused: external data must be a relative path inside the model's folder (no absolute path, no "..", no link leading out).`,
  );
}

/** True when a location names a file below the model's folder on its face (no absolute path, drive, ".." or NUL). */
export function isConfinedLocation(location: string): boolean {
  if (location === '' || location.includes('\0')) return false;
  if (/^[\\/]/.test(location) || /^[a-zA-Z]:/.test(location) || /^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return false;
  return location.split(/[\\/]+/).every((segment) => segment !== '..');
}

/** Throws the refusal unless the location is confined on its face. */
export function assertConfinedLocation(location: string): void {
  if (!isConfinedLocation(location)) throw externalPathRefusal(location);
}
