/**
 * The WASM SIMD kernels on the runtime's thread pool. `parallelSgemm` / `parallelSgemmWithPacked` /
 * `parallelConvolve` take the arguments of `WasmKernels.sgemm` / `sgemmWithPacked` / `convolve` and
 * split C into row or column blocks
 * (multiples of the micro-tile, MR = 4 rows / NR = 8 columns, as packed operands require), which the
 * caller and the workers take from a shared counter. Each thread has its own workspace for its packed
 * blocks; the epilogue (bias, clip) is applied by whichever thread computes the block. Depthwise
 * convolution and pooling split by plane; the elementwise and row-wise kernels (`rangeRunner`) by
 * element, row or plane.
 *
 * Work under PARALLEL_MIN_FLOPS (products: GEMM_/GEMV_PARALLEL_MIN_FLOPS) runs on the
 * calling thread alone: splitting it costs more than it saves. Workers spin between back-to-back
 * jobs, and the caller takes back the chunks of one that is slow to wake (runtime/thread-pool.ts),
 * so the thresholds sit at a few microseconds of work.
 */
import { OnyxError } from '../../../core/errors.js';
import {
  ThreadPool,
  loadThreadHost,
  type ParallelRange,
  type ThreadHost,
} from '../../../runtime/thread-pool.js';
import {
  wasmKernels,
  type ConvolveCall,
  type DepthwiseCall,
  type GemmEpilogue,
  type GemmExports,
  type PackedWeights,
  type PoolCall,
  type PlaneRunner,
  type SgemmRunner,
  type WasmKernels,
  type WinogradCall,
  type BatchedGemmCall,
  type GroupedGemmCall,
  type IntegerGemmCall,
  type LstmDirection,
  type LstmRunner,
} from './kernels.js';

/**
 * Below this much work (FLOP-equivalents, ~30 per ns) an elementwise or row-wise kernel runs on one
 * thread. From 2e6 to 2e5, BERT's layer normalizations over 128 × 256 and the GPT step's GELU over
 * 1024 now split: at 2 threads, old and new builds alternating in one process, new/old medians
 * GPT step 0.90 and 0.92, ShuffleNet 0.93, ResNet-50 0.97, MobileNetV2 0.98, BERT 0.99.
 */
export const PARALLEL_MIN_FLOPS = 2e5;

/**
 * Below this many FLOPs (2·M·N·K) a product of several rows runs on one thread. With the workers
 * spinning between back-to-back jobs a ~15 µs product already gains from a second thread:
 * ShuffleNet's per-group 1×1 convolutions (68×196×68, 1.8 MFLOP each) at 2 threads, median 31 →
 * 26 ms per run (same process, alternating).
 */
export const GEMM_PARALLEL_MIN_FLOPS = 4e5;

/**
 * Below this many FLOPs a one-row product (a GEMV, memory-bound: each thread streams its own columns
 * of the weights) runs on one thread. At 0.3 MFLOP (256 × 512 and up) the GPT step at 2 threads ran
 * 1.24 → 1.08 ms per run against one thread (an early pool that slept between jobs had made it
 * slower); from 0.1 MFLOP its 256 × 256 projections split too: 0.95–0.97 of the 0.3 MFLOP median
 * (4 × 3000 runs, same process, alternating).
 */
export const GEMV_PARALLEL_MIN_FLOPS = 1e5;

/**
 * Work of one window tap in FLOP-equivalents of time (GEMM FLOPs at ~30 GFLOP/s), measured at one
 * thread: max pooling ~0.6 ns per tap, depthwise convolution ~0.45 ns (counting them as 1 and 2
 * FLOPs kept GoogLeNet's 0.8 ms max pools on one thread).
 */
const POOL_TAP_WORK = 16;
/**
 * Work of transforming one tile of one channel, either way (16 values): ~15–20 ns measured at one
 * thread (the 16 positions are 16 separate streams of V or P).
 */
export const WINOGRAD_TILE_WORK = 500;
const DEPTHWISE_TAP_WORK = 12;
const MR = 4;
const NR = 8;
/** Packing one element costs about this many FLOPs of micro-kernel time (7–25 measured: a strided copy). */
const PACK_COST = 16;
/** Unfolding one im2col element from an image costs about 1.5× a plain packed element (measured). */
const IM2COL_COST = 24;
/**
 * Chunks per thread: two, so that a worker that wakes late or loses its core to another process
 * leaves its second chunk to a faster thread; more would repeat the packing of the shared operand.
 */
const CHUNKS_PER_THREAD = 2;
/**
 * Chunks per thread when the operand every chunk shares is pre-packed (a convolution's or a Gemm's
 * weights), so that a chunk costs no extra packing: finer pieces leave less for the last thread to
 * finish alone (at 2 threads ResNet-50's caller waited ~60 ms per run on its worker with two). Not
 * finer, though: each chunk streams the whole shared operand again, and chunks of ~4 MFLOP made
 * BERT's MatMuls (1 MB of packed weights, 128 rows) slower at 2 threads than six per thread (17–23
 * vs 15–18 ms per run, alternating processes).
 */
const FINE_CHUNKS_PER_THREAD = 6;
/**
 * The least work of a chunk: each costs ~1–2 µs of dispatch on its thread (a call into WASM, an
 * atomic), which a 2 MFLOP product cut into 12 chunks of ~5 µs each did not repay.
 */
const MIN_CHUNK_FLOPS = 1e6;
/**
 * A product split by rows packs op(B) once, whole, for every chunk when that takes at most this
 * many bytes (see `withSharedPackedB`).
 */
const SHARED_B_MAX_BYTES = 32 * 1024 * 1024;
/**
 * A plain op(B), which chunks otherwise read in place, is packed once from this depth: a 1×1
 * convolution at 7×7 (512×49×2048, 512×49×4608) ran ~25–30% faster at 2 threads with B packed
 * (three repeats, same process), one of depth 512 the same.
 */
const SHARED_PLAIN_B_MIN_DEPTH = 1024;
// Argument positions in GemmExports.sgemm.
const TRANS_B = 1;
const B_PTR = 8;
const LDB = 9;
const PACKED_B = 14;
const I0 = 15;
const I1 = 16;
const J0 = 17;
const J1 = 18;
const WS = 24;
const IM2COL = 25;

/** The exports a pool may call; `parallelFor` takes their index here. */
const POOL_EXPORTS = [
  'sgemm',
  'depthwiseConv',
  'pool2d',
  'activationRange',
  'binaryRange',
  'channelAffineRange',
  'lrnRange',
  'normRowsRange',
  'softmaxRange',
  'winogradInput',
  'winogradOutput',
  'sgemmStrided',
  'sgemmGroups',
  'lstmSequence',
  'igemm',
  'packIm2colRange',
  'permuteRange',
] as const;
type SplitExport = Exclude<(typeof POOL_EXPORTS)[number], 'sgemm'>;
const SGEMM = 0;

const kernelsOf = new WeakMap<ThreadPool, WasmKernels>();

/**
 * A pool of `threads` threads (the caller included) on `kernels`' memory and module. Undefined when
 * the engine has no WebAssembly SIMD128 (then there is nothing to run in parallel).
 */
export function createGemmThreadPool(
  threads: number,
  host: ThreadHost,
  kernels: WasmKernels | undefined = wasmKernels(),
  timeoutMs?: number,
): ThreadPool | undefined {
  if (!kernels) return undefined;
  const pool = new ThreadPool({
    threads,
    module: kernels.module,
    allocator: kernels.allocator,
    exportNames: POOL_EXPORTS,
    workspaceBytes: kernels.exports.WORKSPACE_BYTES.value as number,
    host,
    timeoutMs,
  });
  kernelsOf.set(pool, kernels);
  return pool;
}

/** Sessions' pools by thread count: all run on `wasmKernels()`'s memory, one job at a time. */
const sessionPools = new Map<number, ThreadPool>();

/**
 * The pool of a session, which must `release()` it: `requested` is `intraOpNumThreads` (undefined or
 * 0: one thread per logical processor, as onnxruntime; 1: no pool). Sessions with the same thread
 * count share one pool (as onnxruntime-web's global one): kernels dispatch synchronously, so jobs
 * never overlap, and N sessions do not start N sets of workers; the last release stops it. Where
 * threads cannot run (no SharedArrayBuffer, no worker support, no SIMD128) the session runs
 * single-threaded, and `warn` says why when threads were asked for explicitly.
 */
export async function sessionThreadPool(
  requested: number | undefined,
  warn: (message: string) => void,
): Promise<ThreadPool | undefined> {
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 0)) {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      `intraOpNumThreads must be a non-negative integer, got ${requested}`,
    );
  }
  if (requested === 1) return undefined;
  let host: ThreadHost;
  try {
    host = await loadThreadHost();
  } catch (e) {
    if (requested) warn(`intraOpNumThreads=${requested}: ${(e as Error).message}; kernels run on one thread`);
    return undefined;
  }
  const threads = requested || host.availableParallelism();
  if (threads <= 1) return undefined;
  const existing = sessionPools.get(threads);
  if (existing && !existing.isClosed) return existing.retain();
  const pool = createGemmThreadPool(threads, host);
  if (!pool && requested)
    warn(`intraOpNumThreads=${requested}: no WebAssembly SIMD128, kernels run on one thread`);
  if (pool) sessionPools.set(threads, pool);
  return pool;
}

/** The runner that splits one resolved sgemm call over `pool`; undefined without a pool of several. */
function runnerFor(pool: ThreadPool | undefined, kernels: WasmKernels): SgemmRunner | undefined {
  if (!pool || pool.size <= 1) return undefined;
  return (args) => {
    const [, , M, N, K, , , , , , , , , packedA, packedB] = args;
    const im2col = args[IM2COL] !== 0;
    const flops = 2 * M * N * K;
    const threads = 1 + pool.readyWorkers;
    if (threads === 1 || flops < (M === 1 ? GEMV_PARALLEL_MIN_FLOPS : GEMM_PARALLEL_MIN_FLOPS)) {
      kernels.exports.sgemm(...args);
      return;
    }
    const range = splitC(M, N, K, packedA !== 0, packedB !== 0, threads, im2col ? IM2COL_COST : PACK_COST);
    const plainB = !im2col && packedB === 0 && args[TRANS_B] === 0 && K >= SHARED_PLAIN_B_MIN_DEPTH;
    if (range.loSlot === I0 && range.chunks > 1 && (im2col || plainB)) {
      const bytes = kernels.exports.packedBBytes(K, N);
      if (bytes <= SHARED_B_MAX_BYTES) {
        withSharedPackedB(kernels, pool, args, K, N, bytes, (packed) =>
          pool.parallelFor(SGEMM, packed, splitC(M, N, K, packedA !== 0, true, threads), flops / 1e6),
        );
        return;
      }
    }
    pool.parallelFor(SGEMM, args, range, flops / 1e6);
  };
}

/**
 * Calls `fn` with the arguments of an sgemm whose op(B) (`bytes` packed) was packed once, whole,
 * into a block of the kernels' memory, released afterwards: a convolution's im2col operand (split by
 * rows, every chunk unfolded all of it again: ResNet-50's strided 14×14 convolution gained 1.40× from
 * a second thread, now 1.69×) or a plain matrix (see SHARED_PLAIN_B_MIN_DEPTH). The im2col unfolding
 * is itself split by columns over `pool` (on the calling thread alone it was ~3 ms of each 2-thread
 * ResNet-50 run).
 */
function withSharedPackedB(
  k: WasmKernels,
  pool: ThreadPool,
  args: number[],
  K: number,
  N: number,
  bytes: number,
  fn: (args: number[]) => void,
): void {
  const view = k.allocator.allocFloat32(bytes / 4, false);
  try {
    const dst = view.byteOffset;
    if (args[IM2COL] !== 0) {
      const unfold: Parameters<GemmExports['packIm2colRange']> = [
        args[IM2COL],
        args[B_PTR],
        K,
        N,
        dst,
        0,
        N,
        0,
      ];
      const runner = rangeRunner(pool, k, 'packIm2colRange', IM2COL_COST * K * N, NR);
      if (runner) runner(unfold, 5, 6, 7);
      else k.exports.packIm2colRange(...unfold);
    } else k.exports.packB(0, K, N, args[B_PTR], args[LDB], dst);
    const packed = [...args];
    packed[PACKED_B] = view.byteOffset;
    packed[IM2COL] = 0;
    fn(packed);
  } finally {
    k.allocator.releaseBlock(k.allocator.blockOf(view)!);
  }
}

/**
 * Rows or columns, whichever gives the shortest slowest thread: its share of the FLOPs (rounded to
 * whole micro-tiles) plus the packing it does — in a row split every chunk packs all of op(B) (unless
 * pre-packed) and its rows of op(A); in a column split, all of op(A) and its columns of op(B).
 * `bCost` is the cost of packing one element of op(B): more when it is unfolded from an image.
 */
export function splitC(
  M: number,
  N: number,
  K: number,
  packedA: boolean,
  packedB: boolean,
  threads: number,
  bCost = PACK_COST,
): ParallelRange {
  const rows = Math.min(M, Math.ceil(Math.ceil(M / MR) / threads) * MR);
  const cols = Math.min(N, Math.ceil(Math.ceil(N / NR) / threads) * NR);
  const cpt = CHUNKS_PER_THREAD;
  const byRows = 2 * rows * N * K + K * ((packedB ? 0 : bCost * cpt * N) + (packedA ? 0 : PACK_COST * rows));
  const byCols = 2 * M * cols * K + K * ((packedA ? 0 : PACK_COST * cpt * M) + (packedB ? 0 : bCost * cols));
  const rowSplit = byRows < byCols;
  const perThread = (rowSplit ? packedB : packedA) ? FINE_CHUNKS_PER_THREAD : cpt;
  // No chunk under MIN_CHUNK_FLOPS, though at least one per thread.
  const chunks = Math.max(
    threads,
    Math.min(threads * perThread, Math.floor((2 * M * N * K) / MIN_CHUNK_FLOPS)),
  );
  return rowSplit
    ? { begin: 0, end: M, grain: MR, chunks, loSlot: I0, hiSlot: I1, wsSlot: WS }
    : { begin: 0, end: N, grain: NR, chunks, loSlot: J0, hiSlot: J1, wsSlot: WS };
}

function kernelsFor(pool: ThreadPool | undefined): WasmKernels {
  const k = pool ? kernelsOf.get(pool) : wasmKernels();
  if (!k) {
    throw new OnyxError(
      'RUNTIME_ERROR',
      pool
        ? 'parallelSgemm: the pool was not made by createGemmThreadPool'
        : 'parallelSgemm: no WebAssembly SIMD128',
    );
  }
  return k;
}

/**
 * `WasmKernels.sgemm` (same arguments after the pool) on `pool`'s threads; with no pool, on the
 * process-wide kernels of `wasmKernels()` alone. Operands outside the pool's memory are copied in.
 */
export function parallelSgemm(
  pool: ThreadPool | undefined,
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
  epilogue?: GemmEpilogue,
): void {
  const k = kernelsFor(pool);
  const runner = runnerFor(pool, k);
  k.sgemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc, epilogue, runner);
}

/**
 * `WasmKernels.sgemmWithPacked` on `pool`'s threads; `w` must have been packed by the pool's kernels
 * (`wasmKernels()` for a session's pool).
 */
export function parallelSgemmWithPacked(
  pool: ThreadPool | undefined,
  w: PackedWeights,
  trans: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  X: Float32Array,
  xOff: number,
  ldx: number,
  beta: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
  epilogue?: GemmEpilogue,
): void {
  const k = kernelsFor(pool);
  const runner = runnerFor(pool, k);
  k.sgemmWithPacked(w, trans, M, N, K, alpha, X, xOff, ldx, beta, C, cOff, ldc, epilogue, runner);
}

/** `WasmKernels.convolve` on `pool`'s threads (packed weights from the pool's kernels). */
export function parallelConvolve(pool: ThreadPool | undefined, call: ConvolveCall): void {
  const k = kernelsFor(pool);
  k.convolve(call, runnerFor(pool, k));
}

/**
 * A runner that splits a call of `fn` on `k` over its range (planes, rows or elements, in whole
 * `grain`s) on `pool`; with no pool (or one on other kernels), undefined; under PARALLEL_MIN_FLOPS
 * of `work` (FLOPs, or their equivalent in time), the calling thread alone.
 */
export function rangeRunner(
  pool: ThreadPool | undefined,
  k: WasmKernels,
  fn: SplitExport,
  work: number,
  grain = 1,
): PlaneRunner | undefined {
  // A pool runs on its own kernels' memory: calls on other kernels stay on this thread.
  if (!pool || pool.size <= 1 || kernelsOf.get(pool) !== k) return undefined;
  return (args, loSlot, hiSlot, wsSlot) => {
    const threads = 1 + pool.readyWorkers;
    if (threads === 1 || work < PARALLEL_MIN_FLOPS) {
      (k.exports[fn] as (...a: number[]) => void)(...args);
      return;
    }
    pool.parallelFor(
      POOL_EXPORTS.indexOf(fn),
      args,
      {
        begin: args[loSlot],
        end: args[hiSlot],
        grain,
        chunks: threads * CHUNKS_PER_THREAD,
        loSlot,
        hiSlot,
        wsSlot,
      },
      work / 1e6,
    );
  };
}

/** `WasmKernels.depthwise` on `pool`'s threads, split by channel. */
export function parallelDepthwise(pool: ThreadPool | undefined, call: DepthwiseCall): void {
  const k = kernelsFor(pool);
  const { C, oh, ow, kh, kw } = call.geo;
  k.depthwise(call, rangeRunner(pool, k, 'depthwiseConv', DEPTHWISE_TAP_WORK * C * oh * ow * kh * kw));
}

/** `WasmKernels.sgemmBatch` on `pool`'s threads, split by whole products. */
export function parallelSgemmBatch(pool: ThreadPool | undefined, call: BatchedGemmCall): void {
  const k = kernelsFor(pool);
  const flops = 2 * call.M * call.N * call.K * call.count;
  k.sgemmBatch(call, rangeRunner(pool, k, 'sgemmStrided', flops));
}

/** `WasmKernels.sgemmGroups` on `pool`'s threads, each taking whole groups. */
export function parallelSgemmGroups(pool: ThreadPool | undefined, call: GroupedGemmCall): void {
  const k = kernelsFor(pool);
  const flops = 2 * call.M * call.N * call.K * call.weights.length;
  k.sgemmGroups(call, rangeRunner(pool, k, 'sgemmGroups', flops));
}

/**
 * `WasmKernels.winograd` on `pool`'s threads: the transforms split by channel, the 16 products by
 * whole products.
 */
export function parallelWinograd(pool: ThreadPool | undefined, call: WinogradCall): void {
  const k = kernelsFor(pool);
  const { geo, M } = call;
  const tiles = Math.ceil(geo.oh / 2) * Math.ceil(geo.ow / 2);
  k.winograd(call, {
    input: rangeRunner(pool, k, 'winogradInput', WINOGRAD_TILE_WORK * geo.C * tiles),
    gemm: rangeRunner(pool, k, 'sgemmGroups', 32 * M * tiles * geo.C),
    output: rangeRunner(pool, k, 'winogradOutput', WINOGRAD_TILE_WORK * M * tiles),
  });
}

/**
 * Least work of one LSTM step (FLOPs of its recurrent product) for threads to share it: a step then
 * costs a barrier (~1 µs spinning) instead of a job dispatch. The benchmark LSTM (H = 256, batch 1)
 * has 0.5 MFLOP steps, ~35 µs on one thread.
 */
export const LSTM_STEP_MIN_FLOPS = 2e5;

/** `WasmKernels.lstm` on `pool`'s threads at once, each on a block of hidden units. */
export function parallelLstm(pool: ThreadPool | undefined, d: LstmDirection): void {
  const k = kernelsFor(pool);
  let runner: LstmRunner | undefined;
  if (pool && pool.size > 1 && kernelsOf.get(pool) === k && 8 * d.Bt * d.H * d.H >= LSTM_STEP_MIN_FLOPS) {
    const threads = 1 + pool.readyWorkers;
    const work = (8 * d.S * d.Bt * d.H * d.H) / 1e6;
    runner = {
      threads,
      run: (args, parties, loSlot, hiSlot, wsSlot) =>
        pool.parallelFor(
          POOL_EXPORTS.indexOf('lstmSequence'),
          args,
          { begin: 0, end: d.H, grain: NR, chunks: parties, loSlot, hiSlot, wsSlot },
          work,
        ),
    };
  }
  k.lstm(d, runner);
}

/** `WasmKernels.igemm` on `pool`'s threads, split by blocks of 4 rows (counted as GEMM FLOPs). */
export function parallelIgemm(pool: ThreadPool | undefined, call: IntegerGemmCall): void {
  const k = kernelsFor(pool);
  k.igemm(call, rangeRunner(pool, k, 'igemm', 2 * call.M * call.N * call.K, 4));
}

/** `WasmKernels.pool2d` on `pool`'s threads, split by plane. */
export function parallelPool2d(pool: ThreadPool | undefined, call: PoolCall): void {
  const k = kernelsFor(pool);
  const { C, oh, ow, kh, kw } = call.geo;
  k.pool2d(call, rangeRunner(pool, k, 'pool2d', POOL_TAP_WORK * C * oh * ow * kh * kw));
}
