/**
 * Node.js access to files that dependencies ship (WebAssembly binaries of the image codecs). Kept
 * in platform/ with node.ts so the core stays free of `node:fs`; src/image imports it lazily and
 * only under Node.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The bytes of a file inside an installed package, e.g. '@jsquash/webp/codec/dec/webp_dec.wasm'. */
export function readPackageFile(specifier: string): Uint8Array {
  return readFileSync(require.resolve(specifier));
}
