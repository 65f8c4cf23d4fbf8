/**
 * GEMM throughput: the TypeScript reference `gemm`, the WASM SIMD128 kernels and their relaxed-SIMD
 * build, against a measured SIMD128 peak (a register-only loop of independent f32x4 multiply-adds,
 * compiled here with AssemblyScript).
 *
 *   node --import tsx bench/gemm.ts [--quick]
 *
 * WebAssembly is compiled by the optimizing tier only (--no-liftoff, set below). Every figure is given twice: per second of this process's CPU time (what the code achieves,
 * stable on a busy machine) and per wall-clock second (what a caller waits). Each is the best of
 * several rounds.
 */
import asc from 'assemblyscript/asc';
import { setFlagsFromString } from 'node:v8';
import { createWasmKernels, wasmSimdVariant, type WasmKernels } from '../src/ep/cpu/wasm/kernels.js';
import { gemm } from '../src/ops/util/gemm.js';

// Compile WebAssembly with the optimizing tier directly: a long single call (the peak loop) would
// otherwise run in the baseline tier, since V8 tiers a function up only for its later calls.
setFlagsFromString('--no-liftoff');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 10 : 30;
const ROUND_CPU_S = 0.04;

interface Rate {
  cpu: number;
  wall: number;
}

interface Job {
  fn: () => void;
  /** FLOPs per call. */
  flops: number;
}

/**
 * Best GFLOP/s of each job, by CPU time and by wall time. The jobs take turns in short windows, so
 * that on a shared machine each sees the same quiet and busy spells and their ratios stay fair.
 */
function measure(jobs: Job[]): Rate[] {
  for (const j of jobs) {
    j.fn(); // warm-up: scratch growth, caches
    j.fn();
  }
  const best = jobs.map(() => ({ cpu: 0, wall: 0 }));
  for (let r = 0; r < ROUNDS; r++) {
    jobs.forEach(({ fn, flops }, i) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let calls = 0;
      let cpu: number;
      do {
        fn();
        calls++;
        const c = process.cpuUsage(c0);
        cpu = (c.user + c.system) / 1e6;
      } while (cpu < ROUND_CPU_S);
      const wall = (performance.now() - t0) / 1e3;
      best[i].cpu = Math.max(best[i].cpu, (calls * flops) / cpu / 1e9);
      best[i].wall = Math.max(best[i].wall, (calls * flops) / wall / 1e9);
    });
  }
  return best;
}

const fmt = (r: Rate): string => `${r.cpu.toFixed(1).padStart(6)} (wall ${r.wall.toFixed(1).padStart(5)})`;

/**
 * The peak: a register-only loop of `n` independent accumulators, acc = acc·m + d (one f32x4 mul+add
 * or relaxed_madd each, 8 FLOPs). A mul+add chain has ~6 cycles of latency, so it takes enough
 * accumulators to fill the pipes but not so many that V8 spills: 8, 10 and 12 are tried and the
 * fastest is the peak job.
 */
async function peakJob(relaxed: boolean): Promise<Job> {
  const madd = relaxed ? 'f32x4.relaxed_madd(a, m, d)' : 'f32x4.add(f32x4.mul(a, m), d)';
  const loop = (n: number): string => {
    const acc = Array.from({ length: n }, (_, i) => `a${i}`);
    return `
    export function peak${n}(steps: i32, x: f32, y: f32): f32 {
      const m = f32x4.splat(x);
      const d = f32x4.splat(y);
      ${acc.map((a, i) => `let ${a} = f32x4.splat(${i});`).join(' ')}
      for (let i = 0; i < steps; i++) { ${acc.map((a) => `${a} = step(${a}, m, d);`).join(' ')} }
      let s = a0; ${acc
        .slice(1)
        .map((a) => `s = f32x4.add(s, ${a});`)
        .join(' ')}
      return f32x4.extract_lane(s, 0);
    }`;
  };
  const counts = [8, 10, 12];
  const src = `function step(a: v128, m: v128, d: v128): v128 { return ${madd}; }\n${counts.map(loop).join('\n')}`;
  const enable = relaxed ? ['simd', 'relaxed-simd'] : ['simd'];
  const { binary, stderr } = await asc.compileString(src, { optimizeLevel: 3, runtime: 'stub', enable });
  if (!binary) throw new Error(stderr.toString());
  const module = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
  const { exports } = new WebAssembly.Instance(module, { env: { abort() {} } });
  const steps = 200_000;
  const jobs = counts.map((n) => {
    const run = exports[`peak${n}`] as (steps: number, x: number, y: number) => number;
    return { fn: () => void run(steps, 0.999, 1e-7), flops: steps * n * 8 };
  });
  const rates = measure(jobs);
  return jobs[rates.reduce((b, r, i) => (r.cpu > rates[b].cpu ? i : b), 0)];
}

function random(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.random() - 0.5;
  return x;
}

interface Shape {
  name: string;
  M: number;
  N: number;
  K: number;
}

const shapes: Shape[] = [
  { name: '256³', M: 256, N: 256, K: 256 },
  { name: '512³', M: 512, N: 512, K: 512 },
  { name: 'conv 64×3136×576 (ResNet 3×3, 56²)', M: 64, N: 3136, K: 576 },
  { name: 'conv 256×3136×64 (ResNet 1×1, 56²)', M: 256, N: 3136, K: 64 },
  { name: 'matvec 1×768×768', M: 1, N: 768, K: 768 },
];

/** WASM GEMM jobs: operands in the kernels' memory (zero-copy), B pre-packed, operands on the JS heap. */
function wasmJobs(k: WasmKernels, { M, N, K }: Shape): Job[] {
  const alloc = (n: number, init?: Float32Array): Float32Array => {
    const x = k.allocator.alloc('float32', [n]).data as Float32Array;
    if (init) x.set(init);
    return x;
  };
  const a0 = random(M * K);
  const b0 = random(K * N);
  const c0 = new Float32Array(M * N);
  const A = alloc(M * K, a0);
  const B = alloc(K * N, b0);
  const C = alloc(M * N);
  const w = k.packWeights('B', false, K, N, B, 0, N);
  const flops = 2 * M * N * K;
  return [
    { fn: () => k.sgemm(false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, C, 0, N), flops },
    { fn: () => k.sgemmWithPacked(w, false, M, N, K, 1, A, 0, K, 0, C, 0, N), flops },
    { fn: () => k.sgemm(false, false, M, N, K, 1, a0, 0, K, b0, 0, N, 0, c0, 0, N), flops },
  ];
}

/**
 * The 8-bit integer GEMM of the quantized ops (uint8 A and B minus zero points, int32 C; B packed
 * once, A copied in per call as the ops do): integer operations (2 per multiply-add) per second.
 */
function int8Job(k: WasmKernels, { M, N, K }: Shape): Job {
  const bytes = (n: number) =>
    Uint8Array.from({ length: n }, (_, i) => (Math.imul(i, 2654435761) >>> 13) & 255);
  const A = bytes(M * K);
  const packedB = k.packInt8Weights(bytes(K * N), 0, N, new Int32Array(N).fill(128), K, N);
  const za = new Int32Array(M).fill(128);
  const C = new Int32Array(M * N);
  const call = { M, N, K, A, aOff: 0, lda: K, za, packedB, C, cOff: 0, ldc: N };
  return { fn: () => k.igemm(call), flops: 2 * M * N * K };
}

console.log(
  `Node ${process.versions.node}, V8 ${process.versions.v8}; engine-selected variant: ${wasmSimdVariant}`,
);
console.log(
  `GFLOP/s per CPU-second (per wall-second in parentheses), best of ${ROUNDS} interleaved rounds\n`,
);

const variants = (['simd', 'relaxed-simd'] as const).filter((v) => v === 'simd' || wasmSimdVariant === v);
const setups = await Promise.all(
  variants.map(async (v) => ({
    v,
    peak: await peakJob(v === 'relaxed-simd'),
    k: createWasmKernels(undefined, v)!,
  })),
);
for (const shape of shapes) {
  const { M, N, K } = shape;
  console.log(`${shape.name}  (M=${M} N=${N} K=${K})`);
  if (!quick || M * N * K <= 256 ** 3) {
    const A = random(M * K);
    const B = random(K * N);
    const C = new Float32Array(M * N);
    const fn = (): void => gemm(false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, C, 0, N);
    console.log(`  TS gemm                           ${fmt(measure([{ fn, flops: 2 * M * N * K }])[0])}`);
  }
  for (const { v, peak, k } of setups) {
    const [p, plain, packed, heap, int8] = measure([peak, ...wasmJobs(k, shape), int8Job(k, shape)]);
    const pct = (x: Rate): string => `${((100 * x.cpu) / p.cpu).toFixed(0).padStart(3)}% of peak`;
    const label = v.padEnd(12);
    const peakName = v === 'simd' ? 'f32x4 mul+add' : 'f32x4.relaxed_madd';
    console.log(`  peak ${label} ${peakName.padEnd(18)}  ${fmt(p)}`);
    console.log(`  wasm ${label} in memory           ${fmt(plain)}  ${pct(plain)}`);
    console.log(`  wasm ${label} packed B            ${fmt(packed)}  ${pct(packed)}`);
    console.log(`  wasm ${label} JS-heap operands    ${fmt(heap)}  ${pct(heap)}`);
    console.log(`  wasm ${label} int8, packed B      ${fmt(int8)}  (GOP/s: i32x4.dot_i16x8_s)`);
  }
  console.log();
}
