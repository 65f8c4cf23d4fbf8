/**
 * The one door from the ops to the WebAssembly SIMD128 kernels (ep/cpu/wasm, on the session's
 * thread pool when it has one), and the switch between them and the plain-TypeScript reference.
 *
 * Products: MatMul, Gemm, Conv, ConvTranspose, attention and the RNNs call `sgemm` (and
 * `parallelSgemmWithPacked` for pre-packed weights) and never branch themselves: float32 runs in
 * WASM, and everything else — float64, integers computed in float64, engines without SIMD128, or the
 * reference mode — on the `gemm` of gemm.ts, the reference the fast path is tested against. The
 * other kernels (im2col-in-the-GEMM convolution, depthwise convolution, pooling, the LSTM
 * recurrence, sigmoid/tanh) are used by their ops when `fastFloat32()` holds; those ops keep their
 * own TypeScript path as the reference.
 *
 * Both paths take the same fused epilogue (bias per row or column, then a clip for Relu/Clip), so a
 * kernel's result does not depend on which path ran, up to float32 rounding (the reference
 * accumulates in float64).
 *
 * Constant weights are packed once at build time (`packConstant`) into the micro-kernel's layout;
 * `ownPacked` ties the packed blocks to the kernel: freed by `Kernel.dispose` when the session is
 * released, or, for a kernel that is dropped without one (built by a test, by a session never
 * released), by a FinalizationRegistry when the kernel is collected — the blocks live in the
 * process-wide WebAssembly memory, which no garbage collector would reclaim on its own.
 *
 * Reference mode: `ONYX_KERNELS=reference` in the environment (read once, at load), or
 * `setKernelMode('reference')` (tests run their cases in both modes).
 */
import { envVar } from '../../core/env-var.js';
import type { Tensor } from '../../core/tensor.js';
import {
  wasmKernels,
  wasmSimdVariant,
  type Activation,
  type BatchedGemmCall,
  type GemmEpilogue,
  type ImageWindow,
  type Window2D,
  type LstmDirection,
  type PackedBlock,
  type PackedInt8B,
  type PackedWeights,
  type WasmKernels,
} from '../../ep/cpu/wasm/kernels.js';
import {
  parallelConvolve,
  parallelDepthwise,
  parallelIgemm,
  parallelLstm,
  parallelPool2d,
  parallelSgemmBatch,
  parallelWinograd,
  parallelSgemm,
  parallelSgemmWithPacked,
  parallelSgemmGroups,
  rangeRunner,
} from '../../ep/cpu/wasm/parallel-gemm.js';
import { currentThreadPool, type ThreadPool } from '../../runtime/thread-pool.js';
import type { Kernel } from '../kernel.js';
import { gemm, type FloatArray } from './gemm.js';

export type { Activation, GemmEpilogue, ImageWindow, LstmDirection, PackedInt8B, PackedWeights, Window2D };
/**
 * The window kernels on the session's pool, for float32 in fast mode (callers check `fastFloat32()`
 * first; their reference paths are their own): a convolution image as one GEMM with im2col packed
 * from the image, depthwise convolution, max/average pooling.
 */
export { parallelConvolve, parallelDepthwise, parallelPool2d, parallelWinograd };
/**
 * `sgemm` with one operand pre-packed by `packConstant` (`WasmKernels.sgemmWithPacked`'s arguments
 * after the pool): `w` is op(B) and X is A, or `w` is op(A) and X is B. Callers check
 * `fastFloat32()` first (the mode may have changed since packing) and use `sgemm` on the unpacked
 * weights otherwise.
 */
export { parallelSgemmWithPacked };
/** A grouped 1×1 convolution's pre-packed products in one call, split by whole groups (fast mode). */
export { parallelSgemmGroups };

/** 'fast': WASM SIMD for float32 where the engine has it; 'reference': the TypeScript kernels only. */
export type KernelMode = 'fast' | 'reference';

let mode: KernelMode = envVar('ONYX_KERNELS') === 'reference' ? 'reference' : 'fast';

/** Sets the kernel mode (for tests and benchmarks); returns the previous one. */
export function setKernelMode(m: KernelMode): KernelMode {
  const prev = mode;
  mode = m;
  return prev;
}

export function kernelMode(): KernelMode {
  return mode;
}

/** True when float32 products run on the WASM SIMD kernels now. */
export function fastFloat32(): boolean {
  return mode === 'fast' && wasmSimdVariant !== undefined;
}

/**
 * C = epilogue(alpha·op(A)·op(B) + beta·C): the arguments of gemm.ts's `gemm`, then the fused
 * epilogue and the session's thread pool (`RunContext.threads`), both optional.
 */
export function sgemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: FloatArray,
  aOff: number,
  lda: number,
  B: FloatArray,
  bOff: number,
  ldb: number,
  beta: number,
  C: FloatArray,
  cOff: number,
  ldc: number,
  epilogue?: GemmEpilogue,
  pool?: ThreadPool,
): void {
  if (A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array && fastFloat32()) {
    parallelSgemm(
      pool,
      transA,
      transB,
      M,
      N,
      K,
      alpha,
      A,
      aOff,
      lda,
      B,
      bOff,
      ldb,
      beta,
      C,
      cOff,
      ldc,
      epilogue,
    );
    return;
  }
  gemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
  applyEpilogue(C, cOff, ldc, M, N, epilogue);
}

/** True when a convolution with output rows `ow` wide can run by Winograd on the WASM kernels. */
export function winogradFits(ow: number): boolean {
  const k = fastFloat32() ? wasmKernels() : undefined;
  return k !== undefined && k.winogradPlaneRows(ow) >= 1;
}

/**
 * `count` products C_i = alpha·op(A_i)·op(B_i) of one shape, back to back in C (see
 * `BatchedGemmCall`; here on any compute arrays): float32 on the WASM GEMM, split over `pool` by
 * whole products; otherwise one reference GEMM each.
 */
export function sgemmBatch(
  call: Omit<BatchedGemmCall, 'A' | 'B' | 'C'> & { A: FloatArray; B: FloatArray; C: FloatArray },
  pool?: ThreadPool,
): void {
  const { A, B, C } = call;
  if (A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array && fastFloat32()) {
    // The same record, its arrays now known to be float32 (a spread copy costs V8 microseconds).
    parallelSgemmBatch(pool, call as BatchedGemmCall);
    return;
  }
  const { transA, transB, M, N, K, alpha, aOff, lda, strideA, bOff, ldb, strideB, cOff, ldc, strideC } = call;
  for (let i = 0; i < call.count; i++) {
    const [a, b, c] = [aOff + i * strideA, bOff + i * strideB, cOff + i * strideC];
    gemm(transA, transB, M, N, K, alpha, A, a, lda, B, b, ldb, 0, C, c, ldc);
  }
}

/**
 * Packs a constant float32 operand for the WASM kernels (the arguments of `WasmKernels.packWeights`),
 * or undefined when float32 products do not run there now (the kernel then uses `sgemm`).
 */
export function packConstant(...args: Parameters<WasmKernels['packWeights']>): PackedWeights | undefined {
  const [, , rows, cols] = args;
  const k = fastFloat32() ? wasmKernels() : undefined;
  if (!k || rows <= 0 || cols <= 0) return undefined;
  return k.packWeights(...args);
}

/** A constant 8-bit B (K × N, row-major) minus zb (one or N values) packed once; undefined off the WASM kernels. */
export function packInt8Weights(
  B: Int8Array | Uint8Array,
  zb: ArrayLike<number>,
  K: number,
  N: number,
): PackedInt8B | undefined {
  if (!fastIntegers(K)) return undefined;
  return wasmKernels()!.packInt8Weights(B, 0, N, perIndex(zb, N), K, N);
}

/** Zero points as n int32s: one value repeated, or the first n of one per index. */
function perIndex(z: ArrayLike<number>, n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => z[z.length === 1 ? 0 : i]);
}

/** True when 8-bit products of depth K run on the WASM kernels now (`integerProducts`). */
export function fastIntegers(K: number): boolean {
  const k = mode === 'fast' ? wasmKernels() : undefined;
  return !!k && 16 * Math.ceil(K / 2) + 32 <= (k.exports.WORKSPACE_BYTES.value as number);
}

/**
 * Int32 products of 8-bit matrices minus their zero points (MatMulInteger, QLinearMatMul): for each
 * t < batch, out[t] (M × N) = (A[aBatch[t]] − za)·(B[bBatch[t]] − zb), A's matrices M × K and B's
 * K × N, row-major and back to back; za one value or one per row, zb one or one per column. On
 * the WASM kernels (`WasmKernels.igemm`, split over the running session's threads); undefined when
 * they are not in use or K is too deep for them — callers keep their reference path. `packedB`
 * (B's one matrix minus zb, from `packInt8Weights`) replaces B and zb.
 */
export function integerProducts(
  A: Int8Array | Uint8Array,
  B: Int8Array | Uint8Array,
  za: ArrayLike<number>,
  zb: ArrayLike<number>,
  M: number,
  N: number,
  K: number,
  aBatch: ArrayLike<number>,
  bBatch: ArrayLike<number>,
  packedB?: PackedInt8B,
): Int32Array | undefined {
  if (!fastIntegers(K)) return undefined;
  const [zaRows, zbCols] = [perIndex(za, M), perIndex(zb, N)];
  const out = new Int32Array(aBatch.length * M * N);
  const pool = currentThreadPool();
  for (let t = 0; t < aBatch.length; t++) {
    parallelIgemm(pool, {
      M,
      N,
      K,
      A,
      aOff: aBatch[t] * M * K,
      lda: K,
      za: zaRows,
      B,
      bOff: bBatch[t] * K * N,
      ldb: N,
      zb: zbCols,
      packedB,
      C: out,
      cOff: t * M * N,
      ldc: N,
    });
  }
  return out;
}

/** `WasmKernels.winogradWeights` when the WASM kernels are in use, else undefined. */
export function packWinogradWeights(
  ...args: Parameters<WasmKernels['winogradWeights']>
): PackedWeights[] | undefined {
  const [, , M, C] = args;
  const k = fastFloat32() ? wasmKernels() : undefined;
  return k && M > 0 && C > 0 ? k.winogradWeights(...args) : undefined;
}

/**
 * One direction of a plain float32 LSTM on the WASM kernels (`WasmKernels.lstm`), its hidden units
 * shared by the running session's threads when its steps are large enough. Callers check
 * `fastFloat32()` first.
 */
export function slstm(direction: LstmDirection): void {
  parallelLstm(currentThreadPool(), direction);
}

// The elementwise and row-wise kernels below split their range over the running session's pool
// (`currentThreadPool`) when the work is large enough to pay for waking it. Work is counted in
// FLOP-equivalents of time (GEMM FLOPs at ~30 GFLOP/s), per element, measured at one thread:
// BERT-base's erf GELU 7.6 ns, softmax 4.7, LayerNorm's apply step and a bias Add ~1.2 ns.
const WORK_PER_ELEMENT: Record<Activation, number> = {
  gelu: 230,
  'gelu-tanh': 200,
  sigmoid: 120,
  tanh: 120,
  relu: 8,
};
const SOFTMAX_WORK = 140;
const LRN_WORK = 150; // GoogLeNet's LRN: ~5.7 ns per element
const AFFINE_WORK = 36;
// A permuting copy: ~0.15 ns per element in long contiguous runs (ShuffleNet's channel shuffle, 28
// µs for 188 K elements), ~0.6 in runs of 64 (BERT's head split).
const COPY_WORK = 12;

/** `WasmKernels.attentionDecode` (one query row per batch over a cache). Callers check `fastFloat32()`. */
export function sattentionDecode(...args: Parameters<WasmKernels['attentionDecode']>): void {
  wasmKernels()!.attentionDecode(...args);
}

/**
 * `WasmKernels.batchNormFold` (a BatchNormalization folded into float32 Conv weights) when float32
 * runs on the WASM kernels; undefined otherwise, for the caller to fold in TypeScript.
 */
export function sbatchNormFold(...args: Parameters<WasmKernels['batchNormFold']>): Float32Array | undefined {
  return fastFloat32() ? wasmKernels()!.batchNormFold(...args) : undefined;
}

/** `WasmKernels.permute` (Transpose, Concat of 4-byte elements). Callers check `fastFloat32()`. */
export function spermute(...args: WithoutRunner<WasmKernels['permute']>): void {
  const [k, [X]] = [wasmKernels()!, args];
  k.permute(...args, rangeRunner(currentThreadPool(), k, 'permuteRange', X.length * COPY_WORK));
}

/** True when `x` views the WASM kernels' memory (run storage from the arena). */
export function inWasmMemory(x: Float32Array): boolean {
  const k = fastFloat32() ? wasmKernels() : undefined;
  return k !== undefined && k.inMemory(x);
}

/** out = f(src) elementwise on the WASM kernels. Callers check `fastFloat32()`. */
export function sactivation(f: Activation, src: Float32Array, out: Float32Array): void {
  const [k, n] = [wasmKernels()!, src.length];
  k.activation(
    f,
    src,
    0,
    out,
    0,
    n,
    rangeRunner(currentThreadPool(), k, 'activationRange', n * WORK_PER_ELEMENT[f], 4),
  );
}

/**
 * `WasmKernels.channelAffine` (inference BatchNormalization, bit-identical to the TypeScript loop).
 * Callers check `fastFloat32()`.
 */
export function schannelAffine(...args: WithoutRunner<WasmKernels['channelAffine']>): void {
  const [k, [X]] = [wasmKernels()!, args];
  k.channelAffine(...args, rangeRunner(currentThreadPool(), k, 'channelAffineRange', X.length * AFFINE_WORK));
}

/** `WasmKernels.lrn075` (LRN with β = 0.75). Callers check `fastFloat32()`. */
export function slrn075(...args: WithoutRunner<WasmKernels['lrn075']>): void {
  const [k, [X]] = [wasmKernels()!, args];
  k.lrn075(...args, rangeRunner(currentThreadPool(), k, 'lrnRange', X.length * LRN_WORK));
}

/** `WasmKernels.normRows` (LayerNormalization and RMSNormalization). Callers check `fastFloat32()`. */
export function snormRows(...args: WithoutRunner<WasmKernels['normRows']>): void {
  const [X, Y, rows, inner, scale, bias, eps, rms, stats, residual] = args;
  const k = wasmKernels()!;
  // Every argument spelled out: the trailing optional ones may be left out by the caller, and the
  // runner must still land in its own place.
  const runner = rangeRunner(currentThreadPool(), k, 'normRowsRange', rows * inner * AFFINE_WORK);
  k.normRows(X, Y, rows, inner, scale, bias, eps, rms, stats, residual, runner);
}

/** `WasmKernels.binary2d` (Add, Sub, Mul, Div). Callers check `fastFloat32()`. */
export function sbinary2d(...args: WithoutRunner<WasmKernels['binary2d']>): void {
  const [k, [, , , , outer, inner]] = [wasmKernels()!, args];
  k.binary2d(...args, rangeRunner(currentThreadPool(), k, 'binaryRange', outer * inner * AFFINE_WORK));
}

/** out = softmax of src's rows of `len` on the WASM kernels. Callers check `fastFloat32()`. */
export function ssoftmax(src: Float32Array, out: Float32Array, len: number): void {
  const k = wasmKernels()!;
  k.softmax(
    src,
    0,
    out,
    0,
    src.length,
    len,
    rangeRunner(currentThreadPool(), k, 'softmaxRange', src.length * SOFTMAX_WORK),
  );
}

/** A kernel method's parameters without its trailing optional runner. */
type WithoutRunner<F> = F extends (...a: [...infer P, runner?: infer _R]) => void ? P : never;

/** Frees weights packed by `packConstant` that no kernel owns (e.g. packed for one run). */
export function releasePacked(...ws: (PackedWeights | undefined)[]): void {
  releaseAll(ws.filter((w): w is PackedWeights => w !== undefined));
}

function releaseAll(ws: readonly PackedBlock[]): void {
  const k = wasmKernels();
  if (k) for (const w of ws) k.releaseWeights(w);
}

const finalizer = new FinalizationRegistry<readonly PackedBlock[]>(releaseAll);

/**
 * Makes `kernel` the owner of packed weights: `kernel.dispose()` frees them (and chains to a dispose
 * the kernel already had); so does collecting the kernel, for one dropped without dispose.
 */
export function ownPacked(kernel: Kernel, ws: readonly (PackedBlock | undefined)[]): Kernel {
  const held = ws.filter((w): w is PackedBlock => w !== undefined);
  if (held.length === 0) return kernel;
  const token = {};
  finalizer.register(kernel, held, token);
  const inner = kernel.dispose;
  kernel.dispose = () => {
    finalizer.unregister(token);
    releaseAll(held);
    inner?.();
  };
  return kernel;
}

/** The epilogue on the reference path: C += bias (per row or column), then clamp. */
export function applyEpilogue(
  C: FloatArray,
  cOff: number,
  ldc: number,
  M: number,
  N: number,
  epilogue: GemmEpilogue | undefined,
): void {
  if (!epilogue || M <= 0 || N <= 0) return;
  const { sum, bias, clip } = epilogue;
  for (let i = 0; i < M; i++) {
    const row = cOff + i * ldc;
    if (sum) {
      const z = (sum.offset ?? 0) + i * ldc;
      for (let j = 0; j < N; j++) C[row + j] += sum.data[z + j];
    }
    if (bias) {
      const b = bias.data;
      const o = bias.offset ?? 0;
      if (bias.axis === 'row') {
        const v = b[o + i];
        for (let j = 0; j < N; j++) C[row + j] += v;
      } else {
        for (let j = 0; j < N; j++) C[row + j] += b[o + j];
      }
    }
    if (clip) {
      const { min, max } = clip;
      for (let j = 0; j < N; j++) {
        // min(max(v, lo), hi) as ONNX Clip and the WASM kernel (hi wins when lo > hi; NaN stays).
        let v = C[row + j];
        if (v < min) v = min;
        if (v > max) v = max;
        C[row + j] = v;
      }
    }
  }
}

let scratch: { block: Tensor; view: Float32Array } | undefined;

/**
 * A float32 scratch array of at least `n` elements inside the WASM kernels' memory (grown on demand,
 * reused: one user at a time), so operands built there — Conv's im2col — reach the GEMM without a
 * copy. Undefined while float32 products do not run on the WASM kernels.
 */
export function operandScratch(n: number): Float32Array | undefined {
  const k = fastFloat32() ? wasmKernels() : undefined;
  if (!k) return undefined;
  if (!scratch || scratch.view.length < n) {
    if (scratch) k.allocator.release(scratch.block);
    const block = k.allocator.alloc('float32', [Math.max(n, 2 * (scratch?.view.length ?? 0))]);
    scratch = { block, view: block.data as Float32Array };
    // Growing the memory made a new buffer object: let the kernels see this generation of it.
    k.inMemory(scratch.view);
  }
  return scratch.view;
}
