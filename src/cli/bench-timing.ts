/**
 * How `onyx bench` samples one engine in one process: warm up by count and by time, then time runs
 * by count and by time, as onnxruntime_perf_test runs for a duration. A few-millisecond model needs
 * many runs before V8 has optimized its JavaScript and tiered up its WebAssembly; one run of a large
 * model already gives that.
 */

export interface TimingPlan {
  /** Warm-up: at least this many runs (at least one), and until `warmupMs` have passed. */
  warmup: number;
  warmupMs: number;
  /** Timed: at least this many runs, and more (up to `maxRuns`) until `minMs` have been timed. */
  runs: number;
  minMs: number;
  maxRuns: number;
}

/** Runs `run` as `plan` says; returns the warm-up count, each timed run's ms and the last result. */
export async function timeRuns<T>(
  run: () => Promise<T>,
  plan: TimingPlan,
  now: () => number = () => performance.now(),
): Promise<{ warmed: number; timesMs: number[]; last: T }> {
  const warmStart = now();
  let last = await run();
  let warmed = 1;
  while (warmed < plan.warmup || now() - warmStart < plan.warmupMs) {
    last = await run();
    warmed++;
  }
  const timesMs: number[] = [];
  let timed = 0;
  while (timesMs.length < plan.runs || (timed < plan.minMs && timesMs.length < plan.maxRuns)) {
    const start = now();
    last = await run();
    timesMs.push(now() - start);
    timed += timesMs[timesMs.length - 1];
  }
  return { warmed, timesMs, last };
}
