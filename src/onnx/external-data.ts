/**
 * External tensor data (`data_location = EXTERNAL`): the `location`, `offset` and `length` entries of
 * a TensorProto name a byte range in a file beside the model. Locations are untrusted input: anything
 * that could reach outside the model's folder (absolute paths, `..`, drive letters, NUL bytes) is
 * refused here, and the platform adapter additionally refuses symlinks that lead out of the folder.
 */
import { OnyxError } from '../core/errors.js';

export interface ExternalDataRef {
  location: string;
  offset: number;
  length: number | undefined;
}

/** Reads the bytes of one external-data reference (already validated by `checkLocation`). */
export interface ExternalDataReader {
  read(ref: ExternalDataRef): Uint8Array;
}

/** Validates a location string and returns its normalized relative form (segments joined by '/'). */
export function checkLocation(location: string): string {
  const refuse = (why: string): never => {
    throw new OnyxError('UNSAFE_PATH', `external data location '${location}' is refused: ${why}`);
  };
  if (location.length === 0) refuse('it is empty');
  if (location.includes('\0')) refuse('it contains a NUL byte');
  if (/^[a-zA-Z]:/.test(location) || location.startsWith('/') || location.startsWith('\\')) {
    refuse('absolute paths are not allowed; it must be relative to the model folder');
  }
  const parts = location.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) refuse("'..' would leave the model folder");
  if (parts.length === 0) refuse('it names no file');
  return parts.join('/');
}

/** Reads external data from an in-memory map of file name → bytes (browser use, tests). */
export class MapExternalDataReader implements ExternalDataReader {
  private readonly files: Map<string, Uint8Array>;

  constructor(files: Map<string, Uint8Array> | Record<string, Uint8Array>) {
    const entries = files instanceof Map ? [...files] : Object.entries(files);
    this.files = new Map(entries.map(([k, v]) => [checkLocation(k), v]));
  }

  read(ref: ExternalDataRef): Uint8Array {
    const file = this.files.get(checkLocation(ref.location));
    if (!file) {
      throw new OnyxError('FILE_NOT_FOUND', `external data file '${ref.location}' was not provided`);
    }
    return sliceRange(file, ref, file.length);
  }
}

/** Bounds-checks an (offset, length) range against a file size and returns the slice. */
export function sliceRange(file: Uint8Array, ref: ExternalDataRef, fileSize: number): Uint8Array {
  const end = ref.length === undefined ? fileSize : ref.offset + ref.length;
  if (ref.offset < 0 || end > fileSize || end < ref.offset) {
    throw new OnyxError(
      'INVALID_MODEL',
      `external data range [${ref.offset}, ${end}) is outside '${ref.location}' (${fileSize} bytes)`,
    );
  }
  return file.subarray(ref.offset, end);
}

/** The reader used when a model has external data but came from bytes with no files attached. */
export const NO_EXTERNAL_DATA: ExternalDataReader = {
  read(ref) {
    throw new OnyxError(
      'FILE_NOT_FOUND',
      `tensor data is in external file '${ref.location}', but the model was loaded from bytes; ` +
        'load it from a path or pass `externalData` in the session options',
    );
  },
};
