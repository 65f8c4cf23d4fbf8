/**
 * Intra-op threads: GFLOP/s of the WASM SIMD GEMM at 1 and N threads (parallelSgemm on a worker
 * pool), with the speedup, on a 512³ product and on ResNet-50-like conv GEMMs (weights pre-packed as
 * A = W[Cout×K], B = im2col[K×HW] unpacked, fused bias per row + ReLU, as Conv calls it); then small
 * cubes forced parallel, to place GEMM_PARALLEL_MIN_FLOPS (the size below which one thread is faster).
 *
 *   node --import tsx bench/threads.ts [--quick] [--threads N]
 *
 * Two measures, because on a shared machine wall time swings with other load:
 * - wall: the best of many short rounds, the 1- and N-thread jobs taking turns round by round so both
 *   see the same quiet and busy spells. What a caller waits; but on an oversubscribed machine the
 *   threads do not hold cores at the same time, and the speedup collapses.
 * - cpu: FLOPs per second of the busiest thread's CPU time (Linux schedstat: the calling thread's
 *   own; the workers' as the process total minus it, shared evenly). That is the wall rate on
 *   dedicated cores minus only wake-up latency (which the small cubes expose): it counts re-packing,
 *   imbalance and the chunks each thread really took. Best of the rounds too.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { createWasmKernels, wasmSimdVariant, type WasmKernels } from '../src/ep/cpu/wasm/kernels.js';
import {
  GEMM_PARALLEL_MIN_FLOPS,
  createGemmThreadPool,
  parallelSgemm,
  parallelSgemmWithPacked,
  splitC,
} from '../src/ep/cpu/wasm/parallel-gemm.js';
import { nodeThreadHost } from '../src/platform/node-worker.js';
import type { ThreadPool } from '../src/runtime/thread-pool.js';
import { WasmMemoryAllocator } from '../src/runtime/wasm-allocator.js';

setFlagsFromString('--no-liftoff'); // optimizing tier from the first call (see bench/gemm.ts)

const quick = process.argv.includes('--quick');
const threadsArg = process.argv.indexOf('--threads');
const THREADS = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 2;
const ROUNDS = quick ? 8 : 25;
const ROUND_S = 0.05;

interface Rate {
  wall: number;
  cpu: number;
}

/** A job and its thread count. */
type Job = [() => void, number];

/** CPU seconds of the calling thread (schedstat's first field: nanoseconds on a CPU). */
const threadCpu = (): number =>
  Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;

/** Best GFLOP/s of each job by wall clock and by its busiest thread's CPU time. */
function measure(jobs: Job[], flops: number): Rate[] {
  for (const [fn] of jobs) for (let i = 0; i < 3; i++) fn();
  const best = jobs.map(() => ({ wall: 0, cpu: 0 }));
  for (let r = 0; r < ROUNDS; r++) {
    jobs.forEach(([fn, threads], i) => {
      const c0 = process.cpuUsage();
      const m0 = threadCpu();
      const t0 = performance.now();
      let calls = 0;
      let wall: number;
      do {
        fn();
        calls++;
        wall = (performance.now() - t0) / 1e3;
      } while (wall < ROUND_S);
      const main = threadCpu() - m0;
      const c = process.cpuUsage(c0);
      const workers = Math.max(0, (c.user + c.system) / 1e6 - main) / Math.max(1, threads - 1);
      const busiest = threads > 1 ? Math.max(main, workers) : main;
      best[i].wall = Math.max(best[i].wall, (calls * flops) / wall / 1e9);
      best[i].cpu = Math.max(best[i].cpu, (calls * flops) / busiest / 1e9);
    });
  }
  return best;
}

function random(k: WasmKernels, n: number): Float32Array {
  const x = k.allocator.alloc('float32', [n]).data as Float32Array;
  for (let i = 0; i < n; i++) x[i] = Math.random() - 0.5;
  return x;
}

const allocator = new WasmMemoryAllocator();
const kernels = createWasmKernels(allocator);
if (!kernels) throw new Error('no WebAssembly SIMD128 in this engine');
const pool = createGemmThreadPool(THREADS, nodeThreadHost, kernels)!;
// A 1-thread "pool" (no worker): parallelSgemm on the same kernels and memory, single-threaded.
const single = createGemmThreadPool(1, nodeThreadHost, kernels)!;

/** The 1-thread and N-thread jobs of one shape. */
function jobsFor(M: number, N: number, K: number, conv: boolean): Job[] {
  const A = random(kernels!, M * K);
  const B = random(kernels!, K * N);
  const C = random(kernels!, M * N);
  if (!conv) {
    const run = (p: ThreadPool) => () =>
      parallelSgemm(p, false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, C, 0, N);
    return [
      [run(single), 1],
      [run(pool), THREADS],
    ];
  }
  const w = kernels!.packWeights('A', false, M, K, A, 0, K);
  const epilogue = {
    bias: { data: random(kernels!, M), axis: 'row' as const },
    clip: { min: 0, max: Infinity },
  };
  const run = (p: ThreadPool) => () =>
    parallelSgemmWithPacked(p, w, false, M, N, K, 1, B, 0, N, 0, C, 0, N, epilogue);
  return [
    [run(single), 1],
    [run(pool), THREADS],
  ];
}

const fmt = (r: Rate): string =>
  `${r.wall.toFixed(1).padStart(6)} (${r.cpu.toFixed(1).padStart(5)})`.padStart(16);
const speedup = (r1: Rate, rN: Rate): string =>
  `${(rN.wall / r1.wall).toFixed(2)}× (${(rN.cpu / r1.cpu).toFixed(2)}×)`;

const t0 = performance.now();
while (pool.readyWorkers < THREADS - 1) await new Promise((r) => setTimeout(r, 1));
console.log(
  `WASM ${wasmSimdVariant}, ${THREADS} threads (workers ready ${(performance.now() - t0).toFixed(0)} ms after start); ` +
    `best of ${ROUNDS} rounds × ${ROUND_S * 1e3} ms`,
);
console.log("GFLOP/s: wall clock (in parentheses: per second of the busiest thread's CPU time)\n");
console.log(
  `${'shape (M×N×K)'.padEnd(24)} ${'1 thread'.padStart(16)} ${`${THREADS} threads`.padStart(16)}  speedup`,
);
const shapes: [string, number, number, number, boolean][] = [
  ['512³ (both unpacked)', 512, 512, 512, false],
  ['conv 64×3136×576', 64, 3136, 576, true],
  ['conv 256×784×2304', 256, 784, 2304, true],
  ['conv 512×49×4608', 512, 49, 4608, true],
];
for (const [name, M, N, K, conv] of shapes) {
  const [r1, rN] = measure(jobsFor(M, N, K, conv), 2 * M * N * K);
  console.log(`${name.padEnd(24)} ${fmt(r1)} ${fmt(rN)}  ${speedup(r1, rN)}`);
}

console.log(
  `\nsmall cubes, forced parallel (GEMM_PARALLEL_MIN_FLOPS = ${GEMM_PARALLEL_MIN_FLOPS / 1e6} MFLOP)`,
);
for (const n of [32, 64, 80, 100, 128, 160, 256]) {
  const A = random(kernels, n * n);
  const C = random(kernels, n * n);
  const one = () => kernels.sgemm(false, false, n, n, n, 1, A, 0, n, A, 0, n, 0, C, 0, n);
  const forced = () =>
    kernels.sgemm(false, false, n, n, n, 1, A, 0, n, A, 0, n, 0, C, 0, n, undefined, (args) =>
      pool.parallelFor(0, args, splitC(n, n, n, false, false, THREADS)),
    );
  const [r1, rN] = measure(
    [
      [one, 1],
      [forced, THREADS],
    ],
    2 * n ** 3,
  );
  console.log(
    `${`${n}³ (${((2 * n ** 3) / 1e6).toFixed(2)} MFLOP)`.padEnd(24)} ${fmt(r1)} ${fmt(rN)}  ${speedup(r1, rN)}`,
  );
}
await pool.close();
await single.close();
