/**
 * How `onyx bench` samples one engine in one process. It warms up by count and by time (a
 * few-millisecond model needs many runs before V8 has optimized its JavaScript and tiered up its
 * WebAssembly; one run of a large model already gives that), then times runs in slices: the bench
 * gives every engine of a model a slice in turn, so that all of them sample the same quiet and busy
 * spells of a shared machine (see commands/bench.ts).
 */

/** Prefix of the bench worker's protocol lines on stdout (an engine may print lines of its own). */
export const PROTOCOL_PREFIX = '@bench ';

export interface WarmUpPlan {
  /** At least this many runs (at least one), and until `warmupMs` have passed. */
  warmup: number;
  warmupMs: number;
}

/**
 * A slice starts with an untimed run when the engine's runs are shorter than this (ms): after the
 * other engines had the machine, the first run pays for cold caches and sleeping threads, which a
 * long run hardly notices.
 */
export const SETTLE_BELOW_MS = 100;

/** Warms up as `plan` says; returns how many runs that took, the last one's ms and its result. */
export async function warmUp<T>(
  run: () => Promise<T>,
  plan: WarmUpPlan,
  now: () => number = () => performance.now(),
): Promise<{ warmed: number; lastMs: number; last: T }> {
  const start = now();
  let before = start;
  let last = await run();
  let lastMs = now() - before;
  let warmed = 1;
  while (warmed < plan.warmup || now() - start < plan.warmupMs) {
    before = now();
    last = await run();
    lastMs = now() - before;
    warmed++;
  }
  return { warmed, lastMs, last };
}

/**
 * One slice: an untimed run first when runs take under SETTLE_BELOW_MS (`lastMs`, the previous
 * run's), then timed runs until `ms` have been timed (at least one). Returns each timed run's ms and
 * the last result.
 */
export async function timeSlice<T>(
  run: () => Promise<T>,
  ms: number,
  lastMs: number,
  now: () => number = () => performance.now(),
): Promise<{ timesMs: number[]; settled: boolean; last: T }> {
  const settled = lastMs < SETTLE_BELOW_MS;
  if (settled) await run();
  const timesMs: number[] = [];
  let timed = 0;
  let last: T;
  do {
    const start = now();
    last = await run();
    timesMs.push(now() - start);
    timed += timesMs[timesMs.length - 1];
  } while (timed < ms);
  return { timesMs, settled, last };
}
