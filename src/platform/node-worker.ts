/**
 * Node.js threads for the runtime's pool (runtime/thread-pool.ts): `worker_threads` workers and the
 * main thread's blocking `Atomics.wait` (allowed in Node, unlike a browser page). Its modules come
 * through node-builtins.ts (the pool awaits `loadNodeBuiltins()` first), so the core stays free of
 * `node:*` imports.
 */
import type { ThreadHost, WorkerHandle } from '../runtime/thread-pool.js';
import { nodeBuiltins } from './node-builtins.js';

export const nodeThreadHost: ThreadHost = {
  availableParallelism: () => nodeBuiltins().os.availableParallelism(),

  startWorker(source: string, init: unknown): WorkerHandle {
    // An eval'd CommonJS script: no file to resolve, so it works from src/ (tsx), dist/ and bundles.
    // `once` drops the port's listener, so the worker never keeps its own event loop alive.
    const script = `require('node:worker_threads').parentPort.once('message', (init) =>
      (${source})(init, (cb) => process.on('exit', cb)));`;
    // No execArgv: the worker needs no loader (tsx, a test runner's hooks), only WebAssembly.
    const { Worker } = nodeBuiltins().workerThreads;
    const worker = new Worker(script, { eval: true, name: 'onyx-pool', execArgv: [] });
    // Workers never keep the process alive: a program that forgets session.release() still exits.
    worker.unref();
    let exitListener: ((reason: string) => void) | undefined;
    let exitReason: string | undefined;
    const exited = new Promise<void>((resolve) => {
      const stop = (reason: string): void => {
        if (exitReason !== undefined) return;
        exitReason = reason;
        exitListener?.(reason);
        resolve();
      };
      // An 'error' listener also keeps a worker's uncaught exception from crashing the process.
      worker.on('error', (e: Error) => stop(`uncaught ${e.name}: ${e.message}`));
      worker.on('exit', (code) => stop(`exit code ${code}`));
    });
    worker.postMessage(init);
    return {
      onExit(listener) {
        exitListener = listener;
        if (exitReason !== undefined) listener(exitReason);
      },
      async terminate() {
        await worker.terminate();
        await exited;
      },
    };
  },

  wait: (ctl, index, value, timeoutMs) => Atomics.wait(ctl, index, value, timeoutMs),
};
