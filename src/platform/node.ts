/**
 * The Node.js platform adapter: the only module outside `cli/` that touches `node:fs`/`node:path`,
 * through node-builtins.ts (the public API awaits `loadNodeBuiltins()` before it calls in here), so
 * the core runs unchanged in browsers and workers.
 */
import { OnyxError } from '../core/errors.js';
import { checkLocation, type ExternalDataReader, type ExternalDataRef } from '../onnx/external-data.js';
import { isNode, loadNodeBuiltins, nodeBuiltins } from './node-builtins.js';

/** The bytes of the model file at `path`, and a reader of the external data beside it. */
export async function openModelFile(
  path: string,
): Promise<{ bytes: Uint8Array; external: ExternalDataReader }> {
  if (!isNode()) {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      `a model file path ('${path}') needs Node.js; elsewhere pass the model's bytes`,
    );
  }
  await loadNodeBuiltins();
  return { bytes: readModelFile(path), external: new FolderExternalDataReader(path) };
}

function readModelFile(path: string): Uint8Array {
  try {
    return nodeBuiltins().fs.readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OnyxError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'INVALID_ARGUMENT',
      `cannot read model file '${path}': ${(e as Error).message}`,
      {},
      { cause: e },
    );
  }
}

/** Writes a file (the optimized model of `optimizedModelFilePath`), replacing any old one. */
export async function writeFile(path: string, bytes: Uint8Array): Promise<void> {
  await loadNodeBuiltins();
  try {
    nodeBuiltins().fs.writeFileSync(path, bytes);
  } catch (e) {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      `cannot write '${path}': ${(e as Error).message}`,
      {},
      { cause: e },
    );
  }
}

/**
 * Reads external data next to the model. Besides the string checks of `checkLocation`, the real
 * path (after following symlinks) must stay inside the model's real folder.
 */
class FolderExternalDataReader implements ExternalDataReader {
  private readonly root: string;

  constructor(modelPath: string) {
    const { fs, path } = nodeBuiltins();
    this.root = fs.realpathSync(path.dirname(modelPath));
  }

  read(ref: ExternalDataRef): Uint8Array {
    const { closeSync, fstatSync, openSync, readSync, realpathSync } = nodeBuiltins().fs;
    const { isAbsolute, join, relative, sep } = nodeBuiltins().path;
    const rel = checkLocation(ref.location);
    let real: string;
    try {
      real = realpathSync(join(this.root, ...rel.split('/')));
    } catch (e) {
      throw new OnyxError(
        'FILE_NOT_FOUND',
        `external data file '${ref.location}' not found next to the model`,
        {},
        { cause: e },
      );
    }
    const inside = relative(this.root, real);
    if (inside === '' || inside.startsWith('..' + sep) || inside === '..' || isAbsolute(inside)) {
      throw new OnyxError(
        'UNSAFE_PATH',
        `external data location '${ref.location}' resolves outside the model folder`,
      );
    }
    const fd = openSync(real, 'r');
    try {
      const size = fstatSync(fd).size;
      const end = ref.length === undefined ? size : ref.offset + ref.length;
      if (ref.offset > size || end > size) {
        throw new OnyxError(
          'INVALID_MODEL',
          `external data range [${ref.offset}, ${end}) is outside '${ref.location}' (${size} bytes)`,
        );
      }
      const out = new Uint8Array(end - ref.offset);
      let done = 0;
      while (done < out.length) {
        const n = readSync(fd, out, done, out.length - done, ref.offset + done);
        if (n === 0) break;
        done += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }
}
