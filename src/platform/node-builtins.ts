/**
 * The Node.js built-in modules the platform adapters use (node.ts, node-worker.ts), reached without
 * `import()` where Node allows it: the first dynamic import of a Node process costs 12–20 ms (Node
 * 20.20, measured: the module loader's own code is compiled then), a tenth of a small model's whole
 * load. `process.getBuiltinModule` (Node ≥ 20.16) hands them over at once; older releases of Node 20
 * import them, in `loadNodeBuiltins`, which the public API awaits before it touches a file or starts
 * a worker. This module names no `node:` specifier a browser bundler would try to resolve, so the
 * core may import the adapters statically.
 */
import type * as Fs from 'node:fs';
import type * as Os from 'node:os';
import type * as Path from 'node:path';
import type * as WorkerThreads from 'node:worker_threads';
import { OnyxError } from '../core/errors.js';

export interface NodeBuiltins {
  fs: typeof Fs;
  os: typeof Os;
  path: typeof Path;
  workerThreads: typeof WorkerThreads;
}

const IDS = ['node:fs', 'node:os', 'node:path', 'node:worker_threads'] as const;

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

const proc = (globalThis as { process?: NodeProcess }).process;

let loaded: NodeBuiltins | undefined;

function assemble([fs, os, path, workerThreads]: unknown[]): NodeBuiltins {
  return {
    fs: fs as typeof Fs,
    os: os as typeof Os,
    path: path as typeof Path,
    workerThreads: workerThreads as typeof WorkerThreads,
  };
}

/** True when running under Node.js (the adapters' only platform). */
export function isNode(): boolean {
  return proc?.versions?.node !== undefined;
}

/** Makes `nodeBuiltins()` usable; resolves at once where Node has `process.getBuiltinModule`. */
export async function loadNodeBuiltins(): Promise<NodeBuiltins> {
  if (loaded) return loaded;
  if (proc?.getBuiltinModule) return nodeBuiltins();
  if (!isNode()) throw new OnyxError('NOT_IMPLEMENTED', 'files and threads need Node.js here');
  // A variable specifier keeps browser bundlers from resolving Node builtins.
  const load = (id: string): Promise<unknown> => import(id);
  loaded = assemble(await Promise.all(IDS.map(load)));
  return loaded;
}

/** The built-in modules: at once where Node has `process.getBuiltinModule`, else after `loadNodeBuiltins`. */
export function nodeBuiltins(): NodeBuiltins {
  if (loaded) return loaded;
  const get = proc?.getBuiltinModule;
  if (!get) {
    throw new OnyxError('RUNTIME_ERROR', "Node's built-in modules were used before loadNodeBuiltins()");
  }
  loaded = assemble(IDS.map((id) => get.call(proc, id)));
  return loaded;
}
