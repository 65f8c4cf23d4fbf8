/**
 * Reads an environment variable where the platform has them (Node's `process.env`) and undefined
 * elsewhere (browsers, workers), without importing any Node module, so core code can offer
 * developer switches (e.g. `ONYX_KERNELS=reference`) and still run unchanged in a browser.
 */
export function envVar(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name];
}
