/**
 * The WebAssembly SIMD128 kernels (assembly/gemm.ts, embedded by scripts/build-wasm.mjs) bound to a
 * shared `WebAssembly.Memory`.
 *
 * At load the relaxed-SIMD build (f32x4.relaxed_madd) is chosen when the engine validates it — on
 * Node 20 only after enabling V8's `--experimental-wasm-relaxed-simd`, which is tried only under
 * Node and only when the first validation fails — else the plain SIMD128 build; when SIMD128 itself
 * does not validate, `wasmKernels()` is undefined and callers keep the TypeScript kernels.
 *
 * Memory: a `WasmKernels` is bound to a `WasmMemoryAllocator`, which owns every byte of the memory
 * (the module has no data of its own). Operands that already live in that memory are used in place;
 * others are copied into a scratch region (one allocator block, grown on demand, bump-allocated per
 * call) and C is copied back. Pre-packed weights are allocator blocks too, released by
 * `releaseWeights`.
 */
import { useSharedArena } from '../../../core/buffer-pool.js';
import type { Tensor } from '../../../core/tensor.js';
import { WasmMemoryAllocator } from '../../../runtime/wasm-allocator.js';
import { relaxedSimdWasm, simdWasm } from './kernels-binary.js';

export type WasmSimdVariant = 'simd' | 'relaxed-simd';

/** The module's exports; pointers are byte addresses in the memory (for a worker pool's direct use). */
export interface GemmExports {
  sgemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
    packedA: number,
    packedB: number,
    i0: number,
    i1: number,
    j0: number,
    j1: number,
    bias: number,
    biasMode: number,
    clip: number,
    actMin: number,
    actMax: number,
    ws: number,
    im2col: number,
    sum: number,
  ): void;
  permuteRange(
    dst: number,
    src: number,
    rank: number,
    plan: number,
    outer: number,
    lo: number,
    hi: number,
    ws: number,
  ): void;
  sgemmGroups(
    M: number,
    N: number,
    K: number,
    aTable: number,
    b: number,
    ldb: number,
    strideB: number,
    beta: number,
    c: number,
    ldc: number,
    strideC: number,
    bias: number,
    clip: number,
    actMin: number,
    actMax: number,
    g0: number,
    g1: number,
    ws: number,
  ): void;
  sgemmStrided(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: number,
    lda: number,
    strideA: number,
    b: number,
    ldb: number,
    strideB: number,
    c: number,
    ldc: number,
    strideC: number,
    b0: number,
    b1: number,
    ws: number,
  ): void;
  depthwiseConv(
    geometry: number,
    x: number,
    w: number,
    bias: number,
    z: number,
    y: number,
    c0: number,
    c1: number,
    clip: number,
    lo: number,
    hi: number,
    ws: number,
  ): void;
  pool2d(
    geometry: number,
    x: number,
    y: number,
    kind: number,
    divisors: number,
    p0: number,
    p1: number,
    ws: number,
  ): void;
  winogradInput(
    x: number,
    C: number,
    H: number,
    W: number,
    padTop: number,
    padLeft: number,
    ty0: number,
    ty1: number,
    twp: number,
    v: number,
    c0: number,
    c1: number,
    ws: number,
  ): void;
  winogradWeights(src: number, M: number, C: number, m0: number, m1: number, dsts: number): void;
  winogradOutput(
    p: number,
    M: number,
    ty0: number,
    ty1: number,
    twp: number,
    oh: number,
    ow: number,
    y: number,
    bias: number,
    z: number,
    clip: number,
    lo: number,
    hi: number,
    m0: number,
    m1: number,
    ws: number,
  ): void;
  lstmSequence(
    S: number,
    Bt: number,
    H: number,
    xw: number,
    xStep: number,
    xBatch: number,
    packedR: number,
    rBias: number,
    peep: number,
    h: number,
    hNext: number,
    c: number,
    y: number,
    yStep: number,
    yBatch: number,
    reverse: number,
    hr: number,
    sync: number,
    parties: number,
    u0: number,
    u1: number,
    ws: number,
  ): void;
  packedInt8BBytes(K: number, N: number): number;
  packInt8B(b: number, ldb: number, bSigned: number, zb: number, K: number, N: number, dst: number): void;
  igemm(
    M: number,
    N: number,
    K: number,
    a: number,
    lda: number,
    aSigned: number,
    za: number,
    pb: number,
    c: number,
    ldc: number,
    i0: number,
    i1: number,
    ws: number,
  ): void;
  activationRange(f: number, x: number, y: number, lo: number, hi: number, ws: number): void;
  zeroBytes(p: number, n: number): void;
  attentionDecode(
    q: number,
    k: number,
    v: number,
    y: number,
    B: number,
    N: number,
    T: number,
    H: number,
    Hv: number,
    scale: number,
    scores: number,
    bias: number,
    biasB: number,
    biasH: number,
    biasT: number,
  ): void;
  batchNormFold(
    w: number,
    y: number,
    M: number,
    per: number,
    gamma: number,
    beta: number,
    mean: number,
    variance: number,
    bias: number,
    eps: number,
    shift: number,
  ): void;
  lrn075(
    x: number,
    y: number,
    N: number,
    C: number,
    S: number,
    lo: number,
    hi: number,
    before: number,
    after: number,
    k: number,
    bias: number,
    sq: number,
  ): void;
  lrnRange(
    x: number,
    y: number,
    N: number,
    C: number,
    S: number,
    before: number,
    after: number,
    k: number,
    bias: number,
    lo: number,
    hi: number,
    ws: number,
  ): void;
  normRowsRange(
    x: number,
    y: number,
    inner: number,
    mean: number,
    invStd: number,
    scale: number,
    bias: number,
    eps: number,
    rms: number,
    skip: number,
    addBias: number,
    sum: number,
    lo: number,
    hi: number,
    ws: number,
  ): void;
  binaryRange(
    op: number,
    a: number,
    b: number,
    y: number,
    outer: number,
    inner: number,
    aOuter: number,
    aInner: number,
    bOuter: number,
    bInner: number,
    lo: number,
    hi: number,
    ws: number,
  ): void;
  BIN_ADD: WebAssembly.Global;
  BIN_SUB: WebAssembly.Global;
  BIN_MUL: WebAssembly.Global;
  BIN_DIV: WebAssembly.Global;
  channelAffineRange(
    x: number,
    y: number,
    C: number,
    S: number,
    scale: number,
    shift: number,
    relu: number,
    lo: number,
    hi: number,
    ws: number,
  ): void;
  softmaxRange(x: number, y: number, len: number, lo: number, hi: number, ws: number): void;
  packA(transA: number, M: number, K: number, a: number, lda: number, dst: number): void;
  packB(transB: number, K: number, N: number, b: number, ldb: number, dst: number): void;
  packIm2colRange(
    window: number,
    x: number,
    K: number,
    N: number,
    dst: number,
    j0: number,
    j1: number,
    ws: number,
  ): void;
  packedABytes(M: number, K: number): number;
  packedBBytes(K: number, N: number): number;
  WORKSPACE_BYTES: WebAssembly.Global;
  CONSTANTS_END: WebAssembly.Global;
  initConstants(): void;
  MR: WebAssembly.Global;
  NR: WebAssembly.Global;
  KC: WebAssembly.Global;
  WINDOW_FIELDS: WebAssembly.Global;
  WINOGRAD_SKEW: WebAssembly.Global;
  POOL_MAX: WebAssembly.Global;
  ACT_SIGMOID: WebAssembly.Global;
  ACT_TANH: WebAssembly.Global;
  ACT_GELU_ERF: WebAssembly.Global;
  ACT_GELU_TANH: WebAssembly.Global;
  ACT_RELU: WebAssembly.Global;
  POOL_AVERAGE: WebAssembly.Global;
  BIAS_COL: WebAssembly.Global;
  BIAS_ROW: WebAssembly.Global;
}

/** A permuting copy as loops: sizes, destination strides, source strides (elements; innermost last). */
export interface PermutePlan {
  n: readonly number[];
  ds: readonly number[];
  ss: readonly number[];
}

/**
 * Fused after the product: C = act(C + sum + bias). `sum` (FusedConv's Z) is an array laid out as C
 * from `offset` (same leading dimension), added to the product once, before the bias: no copy of it
 * into C first. `axis: 'col'` adds bias[j] to column j (Gemm/MatMul), `'row'` adds bias[i] to row i
 * (Conv computed as W[Cout×K]·col[K×HW]); `clip` clamps to [min, max] (ReLU is [0, Infinity]).
 */
export interface GemmEpilogue {
  sum?: { data: Float32Array; offset?: number };
  bias?: { data: Float32Array; offset?: number; axis: 'col' | 'row' };
  clip?: { min: number; max: number };
}

/**
 * A 2-D window over an H × W plane: kernel kh × kw, strides, dilations, leading padding and the
 * output size (1-D windows are 2-D ones of height 1). Laid out in memory as assembly/window.ts's
 * `Window` for the kernels.
 */
export interface Window2D {
  H: number;
  W: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
  oh: number;
  ow: number;
}

/** C planes (channels) of an image under a 2-D window. */
export interface ImageWindow extends Window2D {
  C: number;
}

/**
 * One image of a convolution as a GEMM for `WasmKernels.convolve`: Y (M × oh·ow at Y[yOff], rows
 * oh·ow apart) = weights · im2col(X) + beta·Y, then the epilogue. The weights (M × C·kh·kw) are
 * packed or a row-major matrix at data[offset]; X[xOff…] is the C × H × W image, unfolded by the
 * kernel as it packs (no im2col buffer).
 */
export interface ConvolveCall {
  weights: PackedWeights | { data: Float32Array; offset: number };
  M: number;
  X: Float32Array;
  xOff: number;
  geo: ImageWindow;
  beta: number;
  Y: Float32Array;
  yOff: number;
  epilogue?: GemmEpilogue;
}

/**
 * A depthwise 2-D convolution of geo.C channels for `WasmKernels.depthwise`: Y (C × oh·ow at
 * Y[yOff]) = clamp(conv(X, W) + bias + sum), X the C × H × W image at X[xOff], W the C × kh × kw
 * taps at W[wOff], `sum` (FusedConv's Z) laid out as Y; bias (per channel, axis 'row') and clamp
 * from the epilogue.
 */
export interface DepthwiseCall {
  X: Float32Array;
  xOff: number;
  W: Float32Array;
  wOff: number;
  geo: ImageWindow;
  Y: Float32Array;
  yOff: number;
  epilogue?: GemmEpilogue;
  sum?: Float32Array;
}

/**
 * One image of a 3×3, stride-1, dilation-1 convolution by Winograd F(2×2, 3×3) for
 * `WasmKernels.winograd`: Y (M × oh × ow at Y[yOff]) from X (geo.C × H × W at X[xOff]); `weights` are
 * the 16 transformed weight matrices U_ξ (M × C each, packed as A: ops/winograd.ts); bias (per output
 * channel, axis 'row') and clamp from the epilogue; `sum` (FusedConv's Z) laid out as Y.
 */
export interface WinogradCall {
  X: Float32Array;
  xOff: number;
  weights: readonly PackedWeights[];
  M: number;
  geo: ImageWindow;
  Y: Float32Array;
  yOff: number;
  epilogue?: GemmEpilogue;
  sum?: Float32Array;
}

/**
 * A grouped 1×1 convolution's products for `WasmKernels.sgemmGroups`: for each group g, Y_g (M×N at
 * Y[yOff + g·strideY], rows N apart) = weights[g] (M×K, packed side A) · X_g (K×N at X[xOff +
 * g·strideX], rows ldx apart) + beta·Y_g, then the epilogue (a bias of M values per group, in order).
 */
export interface GroupedGemmCall {
  weights: readonly PackedWeights[];
  M: number;
  N: number;
  K: number;
  X: Float32Array;
  xOff: number;
  ldx: number;
  strideX: number;
  Y: Float32Array;
  yOff: number;
  strideY: number;
  /** 0, or 1 to add onto Y (which must then live in the kernels' memory). */
  beta: number;
  epilogue?: GemmEpilogue;
}

/** A batch of equal-shaped products for `WasmKernels.sgemmBatch` (strides in elements). */
export interface BatchedGemmCall {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  A: Float32Array;
  aOff: number;
  lda: number;
  strideA: number;
  B: Float32Array;
  bOff: number;
  ldb: number;
  strideB: number;
  C: Float32Array;
  cOff: number;
  ldc: number;
  strideC: number;
  count: number;
}

/** How `WasmKernels.winograd` splits its three stages over threads (each absent: this thread). */
export interface WinogradRunners {
  input?: PlaneRunner;
  /** For the 16 products, split by whole products (`sgemmGroups`). */
  gemm?: PlaneRunner;
  output?: PlaneRunner;
}

/**
 * 2-D max or average pooling of geo.C planes (dilation 1) for `WasmKernels.pool2d`: Y (C × oh·ow at
 * Y[yOff]) from X (C × H × W at X[xOff]); `divisors` (oh·ow, average only) is each position's count.
 */
export interface PoolCall {
  X: Float32Array;
  xOff: number;
  geo: ImageWindow;
  Y: Float32Array;
  yOff: number;
  kind: 'max' | 'average';
  divisors?: Float32Array;
}

/**
 * One integer product for `WasmKernels.igemm`: C (M × N, rows ldc apart) = (A − za)·(B − zb), A
 * (M × K) and B (K × N) 8-bit and row-major from element aOff / bOff with leading dimensions lda and
 * ldb, za one zero point per row of A, zb one per column of B.
 */
export interface IntegerGemmCall {
  M: number;
  N: number;
  K: number;
  A: Int8Array | Uint8Array;
  aOff: number;
  lda: number;
  za: Int32Array;
  /** B as bytes (with bOff, ldb, zb), or packed once (`packInt8Weights`). */
  B?: Int8Array | Uint8Array;
  bOff?: number;
  ldb?: number;
  zb?: Int32Array;
  packedB?: PackedInt8B;
  C: Int32Array;
  cOff: number;
  ldc: number;
}

/**
 * Runs `WasmKernels.lstm`'s sequence on `parties` threads at once (all of them needed: they meet
 * at a barrier every step), each on its own block of hidden units: `args` with the block's bounds
 * at loSlot/hiSlot and the thread's workspace at wsSlot. `threads` is how many it can run.
 */
export interface LstmRunner {
  threads: number;
  run(args: number[], parties: number, loSlot: number, hiSlot: number, wsSlot: number): void;
}

/**
 * One direction of an LSTM over a sequence for `WasmKernels.lstm` (default activations, no clip):
 * xw holds x·Wᵀ + Wb, row t·xStep + b·xBatch of 4H; R is R_dᵀ packed as the B side (H × 4H); h and c
 * (Bt × H) are the initial state and receive the final one; Y's row for (t, b) starts at element
 * yOff + t·yStep + b·yBatch.
 */
export interface LstmDirection {
  S: number;
  Bt: number;
  H: number;
  xw: Float32Array;
  xStep: number;
  xBatch: number;
  R: PackedWeights;
  rBias?: Float32Array;
  peepholes?: Float32Array;
  h: Float32Array;
  c: Float32Array;
  Y: Float32Array;
  yOff: number;
  yStep: number;
  yBatch: number;
  reverse: boolean;
}

/** The exports that run an elementwise or row-wise kernel on part of its range (assembly/ranges.ts). */
export type RangeExport =
  | 'activationRange'
  | 'binaryRange'
  | 'channelAffineRange'
  | 'lrnRange'
  | 'normRowsRange'
  | 'softmaxRange'
  | 'permuteRange'
  | 'sgemmGroups';

/** The elementwise functions of `WasmKernels.activation`: gelu is the erf form, gelu-tanh the other. */
export type Activation = 'sigmoid' | 'tanh' | 'gelu' | 'gelu-tanh' | 'relu';

/** A product's operands once resolved to addresses in the memory (0: absent). */
interface ResolvedOperands {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  a: number;
  lda: number;
  packedA: number;
  b: number;
  ldb: number;
  packedB: number;
  im2col: number;
}

/**
 * Runs one resolved `sgemm` export call: `args` are its arguments in export order, set for the whole
 * of C ([0, M) × [0, N)) on this instance's workspace. A worker pool (parallel-gemm.ts) passes one to
 * split the call into blocks of C across threads.
 */
export type SgemmRunner = (args: Parameters<GemmExports['sgemm']>) => void;

/**
 * The same for a call that splits over a range of planes, rows or elements (`depthwiseConv`,
 * `pool2d`, the `…Range` exports): `args` hold the whole range [args[loSlot], args[hiSlot]), and a
 * pool writes each chunk's bounds there instead.
 */
export type PlaneRunner = (args: number[], loSlot: number, hiSlot: number, wsSlot: number) => void;

/** A constant operand packed once into a block of the kernels' memory (see `releaseWeights`). */
export interface PackedBlock {
  readonly block: Tensor;
  released: boolean;
}

/** A constant operand packed once for the micro-kernel: op(A) (M×K) or op(B) (K×N). */
export interface PackedWeights extends PackedBlock {
  readonly side: 'A' | 'B';
  /** M×K for side A, K×N for side B. */
  readonly rows: number;
  readonly cols: number;
  /** Byte address of the packed data. */
  readonly ptr: number;
}

/** A constant 8-bit B (K × N) minus its zero points, packed once for `WasmKernels.igemm`. */
export interface PackedInt8B extends PackedBlock {
  readonly K: number;
  readonly N: number;
  readonly ptr: number;
}

const decode = (b64: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
const simdBytes = decode(simdWasm);
const relaxedBytes = decode(relaxedSimdWasm);

/** Which build this engine runs, decided once at load (top-level await for the Node flag). */
export const wasmSimdVariant: WasmSimdVariant | undefined = await pickVariant();

async function pickVariant(): Promise<WasmSimdVariant | undefined> {
  try {
    if (!WebAssembly.validate(simdBytes)) return undefined;
    if (WebAssembly.validate(relaxedBytes)) return 'relaxed-simd';
    const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
    if (proc?.versions?.node) {
      // A variable specifier keeps browser bundlers from resolving a Node builtin.
      const specifier = 'node:v8';
      const v8 = (await import(specifier)) as { setFlagsFromString(flags: string): void };
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      if (WebAssembly.validate(relaxedBytes)) return 'relaxed-simd';
    }
  } catch {
    // No WebAssembly, or the flag could not be set: whatever validated so far stands.
  }
  return WebAssembly.validate(simdBytes) ? 'simd' : undefined;
}

const modules = new Map<WasmSimdVariant, WebAssembly.Module>();

function compiled(variant: WasmSimdVariant): WebAssembly.Module {
  let m = modules.get(variant);
  if (!m) {
    // Synchronous compile: the module is a few KiB (browsers allow that off the main thread).
    m = new WebAssembly.Module(variant === 'relaxed-simd' ? relaxedBytes : simdBytes);
    modules.set(variant, m);
  }
  return m;
}

/** An inference BatchNormalization's parameters (one float per channel) and the Conv's bias, if any. */
export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  bias?: Float32Array;
  eps: number;
}

/** An operand for `begin`: a rows × cols matrix in the array, leading dimension ld. */
type Span = [Float32Array, number, number, number];

/** The first n floats of x as one row, for `begin`. */
const flatSpan = (x: Float32Array, n: number): Span => [x, 1, n, n];

/** The bias vector of an epilogue as a span for `begin`: one row of N (per column) or M (per row). */
function biasSpan(epilogue: GemmEpilogue | undefined, M: number, N: number): Span[] {
  const bias = epilogue?.bias;
  return bias ? [[bias.data, 1, bias.axis === 'col' ? N : M, 1]] : [];
}

/** A GEMM epilogue's operands as spans for `begin`: its sum (M × N, rows ldc apart) and bias. */
function epilogueSpans(epilogue: GemmEpilogue | undefined, M: number, N: number, ldc: number): Span[] {
  const sum = epilogue?.sum;
  return sum ? [[sum.data, M, N, ldc], ...biasSpan(epilogue, M, N)] : biasSpan(epilogue, M, N);
}

const ALIGN = 64;
/** Tiles in a row of Winograd's layout: ⌈ow / 2⌉ rounded up to whole f32x4 groups. */
const winogradRowTiles = (ow: number): number => Math.ceil(Math.ceil(ow / 2) / 4) * 4;
/**
 * Floats of transformed tiles (V) and products (P) one Winograd chunk may hold: a few MiB, so that a
 * large image (VGG's 224×224×64) does not take hundreds of MiB of scratch.
 */
const WINOGRAD_CHUNK_FLOATS = 1 << 21;
/** Target size of one slab of heap weights copied in for packing. */
const SLAB_BYTES = 1 << 20;
/** Units (positions of the outer dims) a permute is cut into for a pool: enough to balance two to eight threads. */
const PERMUTE_UNITS = 64;
const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** The kernels on one allocator's memory. Single-threaded: one call at a time per instance. */
export class WasmKernels {
  readonly exports: GemmExports;
  readonly memory: WebAssembly.Memory;
  /** The compiled module, for a worker pool to instantiate on the same memory. */
  readonly module: WebAssembly.Module;
  private readonly workspace: Tensor;
  /** The module's code for each `Activation`, read once. */
  private readonly activationCodes: Record<Activation, number>;
  /** The module's code for each `binary2d` operation, read once. */
  private readonly binaryCodes: Record<'add' | 'sub' | 'mul' | 'div', number>;
  private scratch: Tensor | undefined;
  private scratchTop = 0;

  constructor(
    readonly allocator: WasmMemoryAllocator,
    readonly variant: WasmSimdVariant,
  ) {
    this.memory = allocator.memory;
    this.module = compiled(variant);
    const instance = new WebAssembly.Instance(this.module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as GemmExports;
    const { zeroBytes } = this.exports;
    // The kernels' constant table, in the memory's reserved low bytes (kernels.test.ts checks that
    // it fits): every instance on this memory, the pool's workers too, reads what this one writes.
    this.exports.initConstants();
    allocator.useZeroFill((offset, bytes) => zeroBytes(offset, bytes));
    this.workspace = allocator.alloc('float32', [(this.exports.WORKSPACE_BYTES.value as number) / 4]);
    const e = this.exports;
    const code = (g: WebAssembly.Global) => g.value as number;
    this.activationCodes = {
      sigmoid: code(e.ACT_SIGMOID),
      tanh: code(e.ACT_TANH),
      gelu: code(e.ACT_GELU_ERF),
      'gelu-tanh': code(e.ACT_GELU_TANH),
      relu: code(e.ACT_RELU),
    };
    this.binaryCodes = {
      add: code(e.BIN_ADD),
      sub: code(e.BIN_SUB),
      mul: code(e.BIN_MUL),
      div: code(e.BIN_DIV),
    };
  }

  /**
   * C = alpha·op(A)·op(B) + beta·C (then the epilogue), the signature of ops/util/gemm.ts's `gemm`:
   * offsets and leading dimensions in elements, A is M×K (K×M when transA), B is K×N (N×K when
   * transB). beta = 0 writes C without reading it.
   */
  sgemm(
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
    runner?: SgemmRunner,
  ): void {
    if (M <= 0 || N <= 0) return;
    const k = Math.max(K, 0);
    this.begin([
      [A, transA ? k : M, transA ? M : k, lda],
      [B, transB ? N : k, transB ? k : N, ldb],
      [C, M, N, ldc],
      ...epilogueSpans(epilogue, M, N, ldc),
    ]);
    const a = this.place(A, aOff, transA ? k : M, transA ? M : k, lda);
    const b = this.place(B, bOff, transB ? N : k, transB ? k : N, ldb);
    const ops = { transA, transB, M, N, K, alpha, a, lda, packedA: 0, b, ldb, packedB: 0, im2col: 0 };
    this.run(ops, beta, C, cOff, ldc, epilogue, runner);
  }

  /**
   * `count` products C_i = alpha·op(A_i)·op(B_i) of one shape (beta = 0), A_i at A[aOff + i·strideA]
   * and likewise B_i, C_i; leading dimensions as in `sgemm`. `runner` may split the batch.
   */
  sgemmBatch(call: BatchedGemmCall, runner?: PlaneRunner): void {
    const { transA, transB, M, N, K, alpha, A, aOff, lda, strideA, B, bOff, ldb, strideB } = call;
    const { C, cOff, ldc, strideC, count } = call;
    if (M <= 0 || N <= 0 || count <= 0) return;
    // C is written whole (copied back whole when outside the memory): its products must tile it.
    if (ldc !== N || strideC !== M * N) throw new Error('sgemmBatch: C must hold its products back to back');
    const k = Math.max(K, 0);
    const last = (stride: number, rows: number, cols: number, ld: number) =>
      (count - 1) * stride + (rows - 1) * ld + cols;
    const aLen = last(strideA, transA ? k : M, transA ? M : k, lda);
    const bLen = last(strideB, transB ? N : k, transB ? k : N, ldb);
    const cLen = last(strideC, M, N, ldc);
    this.begin([
      [A, 1, aLen, aLen],
      [B, 1, bLen, bLen],
      [C, 1, cLen, cLen],
    ]);
    const a = k > 0 ? this.place(A, aOff, 1, aLen, aLen) : 0;
    const b = k > 0 ? this.place(B, bOff, 1, bLen, bLen) : 0;
    const { ptr: c, copyOut } = this.output(C, cOff, cLen);
    const ws = (this.workspace.data as Float32Array).byteOffset;
    const args = [
      +transA,
      +transB,
      M,
      N,
      K,
      alpha,
      a,
      lda,
      strideA,
      b,
      ldb,
      strideB,
      c,
      ldc,
      strideC,
      0,
      count,
      ws,
    ];
    if (runner) runner(args, 15, 16, 17);
    else this.exports.sgemmStrided(...(args as Parameters<GemmExports['sgemmStrided']>));
    copyOut();
  }

  /** A grouped 1×1 convolution's products in one call (see `GroupedGemmCall`), split by whole groups. */
  sgemmGroups(call: GroupedGemmCall, runner?: PlaneRunner): void {
    const { weights, M, N, K, X, xOff, ldx, strideX, Y, yOff, strideY, beta, epilogue } = call;
    const groups = weights.length;
    for (const w of weights) this.checkPacked(w, 'A', M, K);
    if (M <= 0 || N <= 0 || K <= 0 || groups === 0) return;
    if (beta !== 0 && !this.inMemory(Y))
      throw new Error('sgemmGroups: accumulating needs Y in the kernels’ memory');
    const xLen = (groups - 1) * strideX + (K - 1) * ldx + N;
    const yLen = (groups - 1) * strideY + M * N;
    const bias = epilogue?.bias;
    const spans: Span[] = [
      [X, 1, xLen, xLen],
      [Y, 1, yLen, yLen],
    ];
    if (bias) spans.push([bias.data, 1, M * groups, M * groups]);
    this.begin(spans, groups * 4);
    const x = this.place(X, xOff, 1, xLen, xLen);
    const b = bias ? this.place(bias.data, bias.offset ?? 0, 1, M * groups, M * groups) : 0;
    const table = this.pointerTable(weights);
    const { ptr: y, copyOut } = this.output(Y, yOff, yLen);
    const clip = epilogue?.clip;
    const [min, max] = [clip?.min ?? 0, clip?.max ?? 0];
    const args = [M, N, K, table, x, ldx, strideX, beta, y, N, strideY, b, clip ? 1 : 0, min, max, 0, groups];
    this.range('sgemmGroups', args, runner);
    copyOut();
  }

  /** One image of a convolution as a GEMM, im2col packed from the image (see `ConvolveCall`). */
  convolve(call: ConvolveCall, runner?: SgemmRunner): void {
    const { weights, M, X, xOff, geo, beta, Y, yOff, epilogue } = call;
    const K = geo.C * geo.kh * geo.kw;
    const N = geo.oh * geo.ow;
    const packed = 'ptr' in weights ? weights : undefined;
    const plain = 'ptr' in weights ? undefined : weights;
    if (packed) this.checkPacked(packed, 'A', M, K);
    if (M <= 0 || N <= 0) return;
    const image = geo.C * geo.H * geo.W;
    const spans: Span[] = [[X, 1, image, image], [Y, M, N, N], ...epilogueSpans(epilogue, M, N, N)];
    if (plain) spans.push([plain.data, M, K, K]);
    const window = this.beginWindow(spans, geo);
    const b = this.place(X, xOff, 1, image, image);
    const a = plain ? this.place(plain.data, plain.offset, M, K, K) : 0;
    const packedA = packed ? packed.ptr : 0;
    const ops = {
      transA: false,
      transB: false,
      M,
      N,
      K,
      alpha: 1,
      a,
      lda: K,
      packedA,
      b,
      ldb: 0,
      packedB: 0,
      im2col: window,
    };
    this.run(ops, beta, Y, yOff, N, epilogue, runner);
  }

  /**
   * Packs a constant operand once: op(A) (side 'A', rows×cols = M×K, stored K×M when `trans`) or
   * op(B) (side 'B', rows×cols = K×N, stored N×K when `trans`), from `X` at `off` with leading
   * dimension `ld`. The block lives in the allocator's memory until `releaseWeights`.
   */
  packWeights(
    side: 'A' | 'B',
    trans: boolean,
    rows: number,
    cols: number,
    X: Float32Array,
    off: number,
    ld: number,
  ): PackedWeights {
    const e = this.exports;
    const bytes = side === 'A' ? e.packedABytes(rows, cols) : e.packedBBytes(rows, cols);
    const block = this.allocator.alloc('float32', [Math.max(bytes / 4, 1)]);
    const ptr = (block.data as Float32Array).byteOffset;
    // Weights on the JS heap pass through a bounded scratch, never one as large as the biggest
    // weight (VGG's 400 MB fully connected layer). The depth index (K) is X's row index for op(A)
    // stored transposed and op(B) stored as is: then X goes one depth block (KC rows) at a time.
    // Otherwise it goes a slab of whole rows at a time (contiguous: one copy), each slab packed
    // into every depth block at its offset.
    const [width, depth] = side === 'A' ? [rows, cols] : [cols, rows];
    const tile = (side === 'A' ? e.MR.value : e.NR.value) as number;
    const padded = Math.ceil(width / tile) * tile;
    const KC = e.KC.value as number;
    const pack = (src: number, ldSrc: number, pc: number, kc: number, first: number, count: number) => {
      const dst = ptr + (pc * padded + first * kc) * 4;
      if (side === 'A') e.packA(+trans, count, kc, src, ldSrc, dst);
      else e.packB(+trans, kc, count, src, ldSrc, dst);
    };
    const depthIsRow = side === 'A' ? trans : !trans;
    if (depthIsRow || this.inMemory(X)) {
      for (let pc = 0; pc < depth; pc += KC) {
        const kc = Math.min(KC, depth - pc);
        let src: number;
        if (depthIsRow) {
          this.begin([[X, kc, width, ld]]);
          src = this.place(X, off + pc * ld, kc, width, ld);
        } else {
          src = X.byteOffset + (off + pc) * 4;
        }
        pack(src, ld, pc, kc, 0, width);
      }
    } else {
      const slab = Math.max(tile, Math.floor(SLAB_BYTES / (4 * depth * tile)) * tile);
      for (let r0 = 0; r0 < width; r0 += slab) {
        const r = Math.min(slab, width - r0);
        this.begin([[X, r, depth, ld]]);
        const src = this.place(X, off + r0 * ld, r, depth, ld);
        for (let pc = 0; pc < depth; pc += KC) pack(src + pc * 4, ld, pc, Math.min(KC, depth - pc), r0, r);
      }
    }
    return { side, rows, cols, ptr, block, released: false };
  }

  /**
   * Winograd F(2×2, 3×3) weights: the 16 matrices U_ξ = (G g Gᵀ)[ξ] (M × C each) of W (M × C × 3 × 3
   * at `off`), each packed as a GEMM A operand, transformed in one pass straight into the packed
   * layout (assembly/winograd.ts). Weights on the JS heap pass a slab of whole panels at a time.
   */
  winogradWeights(W: Float32Array, off: number, M: number, C: number): PackedWeights[] {
    const e = this.exports;
    const bytes = e.packedABytes(M, C);
    const packs = Array.from({ length: 16 }, (): PackedWeights => {
      const block = this.allocator.alloc('float32', [bytes / 4]);
      return {
        side: 'A',
        rows: M,
        cols: C,
        ptr: (block.data as Float32Array).byteOffset,
        block,
        released: false,
      };
    });
    const MR = e.MR.value as number;
    const rowFloats = C * 9;
    const slab = this.inMemory(W) ? M : Math.max(MR, Math.floor(SLAB_BYTES / (4 * rowFloats * MR)) * MR);
    for (let m0 = 0; m0 < M; m0 += slab) {
      const rows = Math.min(slab, M - m0);
      this.begin([[W, rows, rowFloats, rowFloats]], 16 * 4);
      const src = this.place(W, off + m0 * rowFloats, rows, rowFloats, rowFloats);
      const dsts = this.reserve(16 * 4);
      new Uint32Array(this.memory.buffer, dsts, 16).set(packs.map((w) => w.ptr));
      e.winogradWeights(src, M, C, m0, m0 + rows, dsts);
    }
    return packs;
  }

  releaseWeights(w: PackedBlock): void {
    if (w.released) return;
    w.released = true;
    this.allocator.release(w.block);
  }

  /**
   * C = alpha·op(A)·op(B) + beta·C with one operand pre-packed: `w` is op(B) (K×N) and X is A
   * (M×K, K×M when `trans`), or `w` is op(A) (M×K) and X is B (K×N, N×K when `trans`).
   */
  sgemmWithPacked(
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
    runner?: SgemmRunner,
  ): void {
    if (w.side === 'A') this.checkPacked(w, 'A', M, K);
    else this.checkPacked(w, 'B', K, N);
    if (M <= 0 || N <= 0) return;
    const k = Math.max(K, 0);
    const [xr, xc] = w.side === 'B' ? (trans ? [k, M] : [M, k]) : trans ? [N, k] : [k, N];
    this.begin([[X, xr, xc, ldx], [C, M, N, ldc], ...epilogueSpans(epilogue, M, N, ldc)]);
    const x = this.place(X, xOff, xr, xc, ldx);
    // Each field spelled out: V8 (Node 20) took ~10 µs to copy an object by spread and add fields.
    const [onB, p] = [w.side === 'B', w.ptr];
    const ops: ResolvedOperands = {
      transA: onB && trans,
      transB: !onB && trans,
      M,
      N,
      K,
      alpha,
      a: onB ? x : 0,
      lda: onB ? ldx : 0,
      packedA: onB ? 0 : p,
      b: onB ? 0 : x,
      ldb: onB ? 0 : ldx,
      packedB: onB ? p : 0,
      im2col: 0,
    };
    this.run(ops, beta, C, cOff, ldc, epilogue, runner);
  }

  /** A depthwise 2-D convolution (see `DepthwiseCall`). */
  depthwise(call: DepthwiseCall, runner?: PlaneRunner): void {
    const { X, xOff, W: Wt, wOff, geo, Y, yOff, epilogue, sum } = call;
    const { C, H, W, kh, kw, oh, ow } = geo;
    if (C <= 0 || oh <= 0 || ow <= 0) return;
    const image = C * H * W;
    const out = C * oh * ow;
    const spans: Span[] = [
      [X, 1, image, image],
      [Wt, 1, C * kh * kw, C * kh * kw],
      [Y, 1, out, out],
      ...biasSpan(epilogue, C, 0),
    ];
    if (sum) spans.push([sum, 1, out, out]);
    const g = this.beginWindow(spans, geo);
    const x = this.place(X, xOff, 1, image, image);
    const w = this.place(Wt, wOff, 1, C * kh * kw, C * kh * kw);
    const z = sum ? this.place(sum, yOff, 1, out, out) : 0;
    const bias = epilogue?.bias;
    const b = bias ? this.place(bias.data, bias.offset ?? 0, 1, C, C) : 0;
    const { ptr: y, copyOut } = this.output(Y, yOff, out);
    const clip = epilogue?.clip;
    const args = [
      g,
      x,
      w,
      b,
      z,
      y,
      0,
      C,
      clip ? 1 : 0,
      clip?.min ?? 0,
      clip?.max ?? 0,
      (this.workspace.data as Float32Array).byteOffset,
    ];
    if (runner) runner(args, 6, 7, 11);
    else this.exports.depthwiseConv(...(args as Parameters<GemmExports['depthwiseConv']>));
    copyOut();
  }

  /**
   * An inference BatchNormalization folded into the Conv weights W [M, per] before it
   * (assembly/folding.ts): Y = W with output channel c scaled by γ[c]/√(var[c] + eps) (Y may be W);
   * returns the folded bias (B[c] − mean[c])·scale + β[c], B being 0 when absent. The floats of
   * optimizer/conv-folding.ts's TypeScript fold, bit for bit.
   */
  batchNormFold(W: Float32Array, Y: Float32Array, M: number, per: number, p: BatchNormParams): Float32Array {
    const shift = new Float32Array(M);
    const n = M * per;
    if (M <= 0) return shift;
    // Scaled in place (Y = W, the usual case): W's one copy in the scratch is also the output.
    const inPlace = Y === W;
    const spans = [flatSpan(W, n), ...(inPlace ? [] : [flatSpan(Y, n)])];
    for (const x of [p.gamma, p.beta, p.mean, p.variance, p.bias]) if (x) spans.push(flatSpan(x, M));
    this.begin(spans, M * 4);
    const w = this.place(W, 0, 1, n, n);
    const [g, b, m, v] = [p.gamma, p.beta, p.mean, p.variance].map((x) => this.place(x, 0, 1, M, M));
    const bias = p.bias ? this.place(p.bias, 0, 1, M, M) : 0;
    const s = this.reserve(M * 4);
    const out = inPlace ? undefined : this.output(Y, 0, n);
    this.exports.batchNormFold(w, out?.ptr ?? w, M, per, g, b, m, v, bias, p.eps, s);
    if (out) out.copyOut();
    else if (!this.inMemory(W)) W.set(new Float32Array(this.memory.buffer, w, n));
    shift.set(new Float32Array(this.memory.buffer, s, M));
    return shift;
  }

  /**
   * Attention of one query row per batch over a key/value cache (assembly/attention.ts): Q [B, N·H]
   * (its bias added), K [B, N, T, H] and V [B, N, T, Hv] → Y [B, N·Hv], each head's softmax of
   * scale·(q·K[t]) + bias weighting the rows of V. The optional attention bias is read at element
   * b·strides[0] + h·strides[1] + t·strides[2] of its data (strides 0 along broadcast dims).
   */
  attentionDecode(
    Q: Float32Array,
    K: Float32Array,
    V: Float32Array,
    Y: Float32Array,
    shape: { B: number; N: number; T: number; H: number; Hv: number },
    scale: number,
    bias?: { data: Float32Array; strides: readonly [number, number, number] },
  ): void {
    const { B, N, T, H, Hv } = shape;
    const [nq, nk, nv, ny] = [B * N * H, B * N * T * H, B * N * T * Hv, B * N * Hv];
    if (ny <= 0) return;
    const nb = bias?.data.length ?? 0;
    const spans = [flatSpan(Q, nq), flatSpan(K, nk), flatSpan(V, nv), flatSpan(Y, ny)];
    if (bias) spans.push(flatSpan(bias.data, nb));
    this.begin(spans, T * 4);
    const [q, k, v] = [this.place(Q, 0, 1, nq, nq), this.place(K, 0, 1, nk, nk), this.place(V, 0, 1, nv, nv)];
    const b = bias ? this.place(bias.data, 0, 1, nb, nb) : 0;
    const [sb, sh, st] = bias?.strides ?? [0, 0, 0];
    const scores = this.reserve(T * 4);
    const { ptr: y, copyOut } = this.output(Y, 0, ny);
    this.exports.attentionDecode(q, k, v, y, B, N, T, H, Hv, scale, scores, b, sb, sh, st);
    copyOut();
  }

  /**
   * Y = X permuted: the loops of `plan` (sizes n, destination and source strides in elements,
   * innermost last; see ops/data-movement.ts `permutePlan`) over 4-byte elements, which these
   * float views carry bit for bit (assembly/permute.ts).
   */
  permute(X: Float32Array, Y: Float32Array, plan: PermutePlan, runner?: PlaneRunner): void {
    const [count, out, rank] = [X.length, Y.length, plan.n.length];
    if (count === 0 || out === 0) return;
    this.begin(
      [
        [X, 1, count, count],
        [Y, 1, out, out],
      ],
      rank * 12,
    );
    const x = this.place(X, 0, 1, count, count);
    const { ptr: y, copyOut } = this.output(Y, 0, out);
    const p = this.reserve(rank * 12);
    new Int32Array(this.memory.buffer, p, rank * 3).set([...plan.n, ...plan.ds, ...plan.ss]);
    // Units for a pool: the fewest outer dims that make PERMUTE_UNITS positions (ShuffleNet's
    // channel shuffle has 3 or 4 groups outermost), the innermost run always whole; one unit alone.
    let [outer, units] = [0, 1];
    if (runner) while (outer < rank - 1 && units < PERMUTE_UNITS) units *= plan.n[outer++];
    this.range('permuteRange', [y, x, rank, p, outer, 0, units], units > 1 ? runner : undefined);
    copyOut();
  }

  /** 2-D max or average pooling (see `PoolCall`). */
  pool2d(call: PoolCall, runner?: PlaneRunner): void {
    const { X, xOff, geo, Y, yOff, kind, divisors } = call;
    const { C, H, W, oh, ow } = geo;
    if (C <= 0 || oh <= 0 || ow <= 0) return;
    const image = C * H * W;
    const out = C * oh * ow;
    const spans: Span[] = [
      [X, 1, image, image],
      [Y, 1, out, out],
    ];
    if (divisors) spans.push([divisors, 1, oh * ow, oh * ow]);
    const g = this.beginWindow(spans, geo);
    const x = this.place(X, xOff, 1, image, image);
    const d = divisors ? this.place(divisors, 0, 1, oh * ow, oh * ow) : 0;
    const { ptr: y, copyOut } = this.output(Y, yOff, out);
    const e = this.exports;
    const k = (kind === 'max' ? e.POOL_MAX.value : e.POOL_AVERAGE.value) as number;
    const args = [g, x, y, k, d, 0, C, (this.workspace.data as Float32Array).byteOffset];
    if (runner) runner(args, 5, 6, 7);
    else e.pool2d(...(args as Parameters<GemmExports['pool2d']>));
    copyOut();
  }

  /** Where a kernel writes n floats of Y[yOff…]: in place, or scratch that `copyOut` copies back. */
  private output(Y: Float32Array, yOff: number, n: number): { ptr: number; copyOut: () => void } {
    if (this.inMemory(Y)) return { ptr: Y.byteOffset + yOff * 4, copyOut: () => {} };
    const ptr = this.reserve(n * 4);
    return { ptr, copyOut: () => Y.set(new Float32Array(this.memory.buffer, ptr, n), yOff) };
  }

  /** `begin` for a window kernel: reserves and writes the window (assembly/window.ts); its address. */
  private beginWindow(spans: Span[], geo: Window2D): number {
    const fields = this.exports.WINDOW_FIELDS.value as number;
    this.begin(spans, fields * 4);
    const g = this.reserve(fields * 4);
    const { H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow } = geo;
    new Int32Array(this.memory.buffer, g, fields).set([
      H,
      W,
      kh,
      kw,
      sh,
      sw,
      dh,
      dw,
      padTop,
      padLeft,
      oh,
      ow,
    ]);
    return g;
  }

  /**
   * A Winograd F(2×2, 3×3) convolution of one image (see `WinogradCall`): for each chunk of tile
   * rows, the input transform (V = Bᵀ d B per tile and channel), the 16 products P_ξ = U_ξ · V_ξ on
   * the GEMM, then the output transform (Y = Aᵀ P A, bias, Z, clamp). Chunks keep V and P within
   * WINOGRAD_CHUNK_FLOATS (whole rows of tiles, at least one) and the padded input rows of a chunk
   * within a thread's workspace.
   */
  winograd(call: WinogradCall, runners: WinogradRunners = {}): void {
    const { X, xOff, weights, M, geo, Y, yOff, epilogue, sum } = call;
    const { C, H, W, padTop, padLeft, oh, ow } = geo;
    if (weights.length !== 16) throw new Error(`Winograd needs 16 weight matrices, got ${weights.length}`);
    for (const w of weights) this.checkPacked(w, 'A', M, C);
    if (M <= 0 || oh <= 0 || ow <= 0) return;
    const th = Math.ceil(oh / 2);
    const twp = winogradRowTiles(ow);
    const e = this.exports;
    const planeRows = this.winogradPlaneRows(ow);
    if (planeRows < 1) throw new Error(`Winograd: an output row of ${ow} does not fit the workspace`);
    const rows = Math.max(
      1,
      Math.min(th, planeRows, Math.floor(WINOGRAD_CHUNK_FLOATS / (16 * (C + M) * twp))),
    );
    const skew = e.WINOGRAD_SKEW.value as number;
    const vFloats = 16 * (C * rows * twp + skew);
    const pFloats = 16 * (M * rows * twp + skew);
    const image = C * H * W;
    const out = M * oh * ow;
    const spans: Span[] = [[X, 1, image, image], [Y, 1, out, out], ...biasSpan(epilogue, M, 0)];
    if (sum) spans.push([sum, 1, out, out]);
    this.begin(spans, (vFloats + pFloats + 16) * 4 + 3 * ALIGN);
    const x = this.place(X, xOff, 1, image, image);
    const bias = epilogue?.bias;
    const b = bias ? this.place(bias.data, bias.offset ?? 0, 1, M, M) : 0;
    const z = sum ? this.place(sum, yOff, 1, out, out) : 0;
    const { ptr: y, copyOut } = this.output(Y, yOff, out);
    const v = this.reserve(vFloats * 4);
    const p = this.reserve(pFloats * 4);
    const table = this.pointerTable(weights);
    const ws = (this.workspace.data as Float32Array).byteOffset;
    const clip = epilogue?.clip;
    for (let ty0 = 0; ty0 < th; ty0 += rows) {
      const ty1 = Math.min(th, ty0 + rows);
      const T = (ty1 - ty0) * twp;
      const inArgs = [x, C, H, W, padTop, padLeft, ty0, ty1, twp, v, 0, C, ws];
      if (runners.input) runners.input(inArgs, 10, 11, 12);
      else e.winogradInput(...(inArgs as Parameters<GemmExports['winogradInput']>));
      // The 16 products P_ξ = U_ξ · V_ξ in one call, which a pool splits by whole products: one
      // dispatch and join instead of 16 (a 256-channel 14×14 3×3 convolution at 2 threads ~3%
      // faster).
      const [vStep, pStep] = [C * T + skew, M * T + skew];
      const gemmArgs = [M, T, C, table, v, T, vStep, 0, p, T, pStep, 0, 0, 0, 0, 0, 16];
      this.range('sgemmGroups', gemmArgs, runners.gemm);
      const outArgs = [
        p,
        M,
        ty0,
        ty1,
        twp,
        oh,
        ow,
        y,
        b,
        z,
        clip ? 1 : 0,
        clip?.min ?? 0,
        clip?.max ?? 0,
        0,
        M,
        ws,
      ];
      if (runners.output) runners.output(outArgs, 13, 14, 15);
      else e.winogradOutput(...(outArgs as Parameters<GemmExports['winogradOutput']>));
    }
    copyOut();
  }

  /**
   * Rows of tiles whose padded input rows fit a thread's workspace, for output rows `ow` wide; under
   * 1 (rows over ~137 000 wide) a convolution cannot take `winograd`.
   */
  winogradPlaneRows(ow: number): number {
    const wsBytes = this.exports.WORKSPACE_BYTES.value as number;
    return Math.floor((wsBytes / ((2 * winogradRowTiles(ow) + 4) * 4) - 2) / 2);
  }

  /** Runs one LSTM direction over its whole sequence in WebAssembly (assembly/lstm.ts). */
  lstm(d: LstmDirection, runner?: LstmRunner): void {
    const { S, Bt, H, xw, R, rBias, peepholes, h, c, Y } = d;
    this.checkPacked(R, 'B', H, 4 * H);
    if (S <= 0 || Bt <= 0 || H <= 0) return;
    // Threads each take a block of hidden units, whole GEMM panels of gate columns (see
    // assembly/lstm.ts): H a multiple of NR, at least one panel per thread.
    const NR = this.exports.NR.value as number;
    const parties = runner && H % NR === 0 ? Math.min(runner.threads, H / NR) : 1;
    const spans: Span[] = [
      [xw, 1, xw.length, xw.length],
      [h, 1, Bt * H, Bt * H],
      [c, 1, Bt * H, Bt * H],
      [Y, 1, Y.length, Y.length],
    ];
    if (rBias) spans.push([rBias, 1, 4 * H, 4 * H]);
    if (peepholes) spans.push([peepholes, 1, 3 * H, 3 * H]);
    const hrBytes = Bt * 4 * H * 4;
    this.begin(spans, hrBytes + (parties > 1 ? Bt * H * 4 + 2 * ALIGN : 0));
    const x = this.place(xw, 0, 1, xw.length, xw.length);
    const hp = this.place(h, 0, 1, Bt * H, Bt * H);
    const cp = this.place(c, 0, 1, Bt * H, Bt * H);
    const yp = this.place(Y, 0, 1, Y.length, Y.length);
    const rb = rBias ? this.place(rBias, 0, 1, 4 * H, 4 * H) : 0;
    const pp = peepholes ? this.place(peepholes, 0, 1, 3 * H, 3 * H) : 0;
    const hr = this.reserve(hrBytes);
    const hNext = parties > 1 ? this.reserve(Bt * H * 4) : hp;
    const sync = parties > 1 ? this.reserve(16) : 0;
    if (sync) new Int32Array(this.memory.buffer, sync, 4).fill(0);
    const ws = (this.workspace.data as Float32Array).byteOffset;
    const args: Parameters<GemmExports['lstmSequence']> = [
      S,
      Bt,
      H,
      x,
      d.xStep,
      d.xBatch,
      R.ptr,
      rb,
      pp,
      hp,
      hNext,
      cp,
      yp + d.yOff * 4,
      d.yStep,
      d.yBatch,
      +d.reverse,
      hr,
      sync,
      parties,
      0,
      H,
      ws,
    ];
    if (parties > 1) {
      runner!.run(args, parties, 19, 20, 21);
      if (new Int32Array(this.memory.buffer, sync, 4)[2] !== 0) {
        throw new Error('LSTM: a thread did not reach the step barrier within 10 s');
      }
      // An odd number of steps leaves the final h in the second buffer.
      if (S % 2 === 1) new Float32Array(this.memory.buffer).copyWithin(hp / 4, hNext / 4, hNext / 4 + Bt * H);
    } else {
      this.exports.lstmSequence(...args);
    }
    const back = (dst: Float32Array, ptr: number) => {
      if (!this.inMemory(dst)) dst.set(new Float32Array(this.memory.buffer, ptr, dst.length));
    };
    back(h, hp);
    back(c, cp);
    back(Y, yp);
  }

  /**
   * An integer product (assembly/igemm.ts): B widened and packed, then A's rows, split by `runner`
   * (rows, in blocks of 4) when given. The operands are copied in and C out. Throws when a block of
   * A (16 bytes per pair of depths) does not fit a thread's workspace: K over ~137 000.
   */
  igemm(call: IntegerGemmCall, runner?: PlaneRunner): void {
    const { M, N, K, A, aOff, lda, za, packedB, C, cOff, ldc } = call;
    if (packedB && (packedB.released || packedB.K !== K || packedB.N !== N)) {
      throw new Error(`igemm: packed B is ${packedB.K}×${packedB.N}, the product needs ${K}×${N}`);
    }
    if (M <= 0 || N <= 0) return;
    const e = this.exports;
    if (16 * Math.ceil(K / 2) + 32 > (this.workspace.data as Float32Array).byteLength) {
      throw new Error(`igemm: K = ${K} does not fit a thread's workspace`);
    }
    const aBytes = (M - 1) * lda + K;
    const cCount = (M - 1) * ldc + N;
    const sizes = [aBytes, 4 * M, 4 * cCount];
    const bScratch = packedB ? 0 : this.int8BScratchBytes(K, N, call.ldb);
    this.begin([], sizes.reduce((t, n) => t + alignUp(n), 0) + bScratch);
    const [a, zaPtr, c] = sizes.map((n) => this.reserve(n));
    new Uint8Array(this.memory.buffer).set(new Uint8Array(A.buffer, A.byteOffset + aOff, aBytes), a);
    new Int32Array(this.memory.buffer, zaPtr, M).set(za.subarray(0, M));
    const pb = packedB ? packedB.ptr : this.packInt8BInto(call, K, N);
    const ws = (this.workspace.data as Float32Array).byteOffset;
    const args = [M, N, K, a, lda, +(A instanceof Int8Array), zaPtr, pb, c, ldc, 0, M, ws];
    if (runner) runner(args, 10, 11, 12);
    else e.igemm(...(args as Parameters<GemmExports['igemm']>));
    this.rowsOut(C, cOff, new Int32Array(this.memory.buffer, c, cCount), M, N, ldc);
  }

  /** A constant 8-bit B (K × N, rows ldb apart) minus zb (one per column), packed once for `igemm`. */
  packInt8Weights(
    B: Int8Array | Uint8Array,
    bOff: number,
    ldb: number,
    zb: Int32Array,
    K: number,
    N: number,
  ): PackedInt8B {
    const block = this.allocator.alloc('float32', [Math.max(1, this.exports.packedInt8BBytes(K, N) / 4)]);
    const ptr = (block.data as Float32Array).byteOffset;
    this.begin([], this.int8BScratchBytes(K, N, ldb));
    this.packInt8BInto({ B, bOff, ldb, zb }, K, N, ptr);
    return { K, N, ptr, block, released: false };
  }

  /** Scratch for B's bytes and zero points, and its panels (unless `dst` is given to `packInt8BInto`). */
  private int8BScratchBytes(K: number, N: number, ldb = N): number {
    const bBytes = K > 0 ? (K - 1) * ldb + N : 0;
    return alignUp(bBytes) + alignUp(4 * N) + alignUp(this.exports.packedInt8BBytes(K, N));
  }

  /**
   * Copies B and zb into the scratch (reserved by the caller's `begin`) and packs B at `dst`, or in
   * the scratch; returns where the panels are.
   */
  private packInt8BInto(
    call: Pick<IntegerGemmCall, 'B' | 'bOff' | 'ldb' | 'zb'>,
    K: number,
    N: number,
    dst?: number,
  ): number {
    const { B, bOff = 0, ldb = N, zb } = call;
    if (!B || !zb) throw new Error('igemm: B needs its bytes and zero points, or a packed B');
    const bBytes = K > 0 ? (K - 1) * ldb + N : 0;
    const b = this.reserve(bBytes);
    const zbPtr = this.reserve(4 * N);
    const out = dst ?? this.reserve(this.exports.packedInt8BBytes(K, N));
    if (bBytes > 0)
      new Uint8Array(this.memory.buffer).set(new Uint8Array(B.buffer, B.byteOffset + bOff, bBytes), b);
    new Int32Array(this.memory.buffer, zbPtr, N).set(zb.subarray(0, N));
    this.exports.packInt8B(b, ldb, +(B instanceof Int8Array), zbPtr, K, N, out);
    return out;
  }

  /**
   * Y[yOff…] = f(X[xOff…]) for n elements (assembly/activations.ts). Every method from here to
   * `softmax` takes an optional runner that splits its range (elements, rows or planes) over a pool.
   */
  activation(
    f: Activation,
    X: Float32Array,
    xOff: number,
    Y: Float32Array,
    yOff: number,
    n: number,
    runner?: PlaneRunner,
  ): void {
    if (n <= 0) return;
    const code = this.activationCodes[f];
    this.rowwise(X, xOff, Y, yOff, n, (x, y) => this.range('activationRange', [code, x, y, 0, n], runner));
  }

  /**
   * Y = X·scale[c] + shift[c] over N images of C channels × S elements, in float64 and rounded once
   * (then max(·, 0) when `relu`): inference BatchNormalization (assembly/activations.ts).
   */
  channelAffine(
    X: Float32Array,
    Y: Float32Array,
    N: number,
    C: number,
    S: number,
    scale: Float64Array,
    shift: Float64Array,
    relu: boolean,
    runner?: PlaneRunner,
  ): void {
    const n = N * C * S;
    if (n <= 0) return;
    this.rowwise(
      X,
      0,
      Y,
      0,
      n,
      (x, y, p) => {
        this.float64At(p, scale.subarray(0, C), shift.subarray(0, C));
        this.range('channelAffineRange', [x, y, C, S, p, p + C * 8, +relu, 0, N * C], runner);
      },
      2 * C * 8,
    );
  }

  /**
   * Y = A ∘ B (add, sub, mul, div) over `outer` runs of `inner` elements (assembly/binary.ts): run r
   * reads A from element r·aOuter (walking when aInner is 1, one repeated value when 0), B likewise,
   * and writes Y[r·inner…]. Results are those of the TypeScript float32 path, bit for bit.
   */
  binary2d(
    op: 'add' | 'sub' | 'mul' | 'div',
    A: Float32Array,
    B: Float32Array,
    Y: Float32Array,
    outer: number,
    inner: number,
    aOuter: number,
    aInner: 0 | 1,
    bOuter: number,
    bInner: 0 | 1,
    runner?: PlaneRunner,
  ): void {
    if (outer <= 0 || inner <= 0) return;
    const extent = (stepOuter: number, stepInner: number) =>
      (outer - 1) * stepOuter + (stepInner ? inner : 1);
    const [na, nb, ny] = [extent(aOuter, aInner), extent(bOuter, bInner), outer * inner];
    this.begin([
      [A, 1, na, na],
      [B, 1, nb, nb],
      [Y, 1, ny, ny],
    ]);
    const a = this.place(A, 0, 1, na, na);
    const b = this.place(B, 0, 1, nb, nb);
    const { ptr: y, copyOut } = this.output(Y, 0, ny);
    // One run splits by element, several by run (assembly/ranges.ts).
    const units = outer === 1 ? inner : outer;
    const code = this.binaryCodes[op];
    this.range(
      'binaryRange',
      [code, a, b, y, outer, inner, aOuter, aInner, bOuter, bInner, 0, units],
      runner,
    );
    copyOut();
  }

  /**
   * LayerNormalization (RMSNormalization when `rms`) over `rows` rows of `inner` floats: each row's
   * mean and invStd = 1/√(variance + eps) in float64, then Y = ((X − mean[r])·invStd[r])·scale[j] +
   * bias[j] in float64, rounded once (assembly/activations.ts); the statistics are copied into
   * `stats` when given (LayerNormalization's Mean and InvStdDev outputs). With `residual`
   * (SkipLayerNormalization) the rows normalized are skip + (X + addBias), written to `sum`.
   */
  normRows(
    X: Float32Array,
    Y: Float32Array,
    rows: number,
    inner: number,
    scale: Float64Array,
    bias: Float64Array,
    eps: number,
    rms: boolean,
    stats?: { mean: Float64Array; invStd: Float64Array },
    residual?: { skip: Float32Array; addBias?: Float32Array; sum: Float32Array },
    runner?: PlaneRunner,
  ): void {
    const n = rows * inner;
    if (n <= 0) return;
    const params = (2 * rows + 2 * inner) * 8;
    const spans: Span[] = [
      [X, 1, n, n],
      [Y, 1, n, n],
    ];
    if (residual) {
      spans.push([residual.skip, 1, n, n], [residual.sum, 1, n, n]);
      if (residual.addBias) spans.push([residual.addBias, 1, inner, inner]);
    }
    this.begin(spans, params);
    const x = this.place(X, 0, 1, n, n);
    const skip = residual ? this.place(residual.skip, 0, 1, n, n) : 0;
    const addBias = residual?.addBias ? this.place(residual.addBias, 0, 1, inner, inner) : 0;
    const p = this.reserve(params);
    const sum = residual ? this.output(residual.sum, 0, n) : undefined;
    const { ptr: y, copyOut } = this.output(Y, 0, n);
    const [m, s, sc, b] = [p, p + rows * 8, p + 2 * rows * 8, p + (2 * rows + inner) * 8];
    this.float64At(sc, scale.subarray(0, inner), bias.subarray(0, inner));
    const args = [x, y, inner, m, s, sc, b, eps, +rms, skip, addBias, sum?.ptr ?? 0, 0, rows];
    this.range('normRowsRange', args, runner);
    if (stats) {
      stats.mean.set(new Float64Array(this.memory.buffer, m, rows));
      stats.invStd.set(new Float64Array(this.memory.buffer, s, rows));
    }
    sum?.copyOut();
    copyOut();
  }

  /**
   * LRN with β = 0.75 over N × C × S (window `before` + 1 + `after` channels, k = α / size):
   * bit-identical to ops/normalization.ts's loop (assembly/activations.ts).
   */
  lrn075(
    X: Float32Array,
    Y: Float32Array,
    N: number,
    C: number,
    S: number,
    window: { before: number; after: number; k: number; bias: number },
    runner?: PlaneRunner,
  ): void {
    const n = N * C * S;
    if (n <= 0) return;
    const { before, after, k, bias } = window;
    // Split by position, each thread's running sums in its workspace, when they fit there.
    const split = S * 8 <= this.workspace.size * 4;
    this.rowwise(
      X,
      0,
      Y,
      0,
      n,
      (x, y, sq) =>
        split
          ? this.range('lrnRange', [x, y, N, C, S, before, after, k, bias, 0, S], runner)
          : this.exports.lrn075(x, y, N, C, S, 0, S, before, after, k, bias, sq),
      split ? 0 : S * 8,
    );
  }

  /** Softmax of n / len rows of `len` floats at X[xOff…] into Y[yOff…]. */
  softmax(
    X: Float32Array,
    xOff: number,
    Y: Float32Array,
    yOff: number,
    n: number,
    len: number,
    runner?: PlaneRunner,
  ): void {
    if (n <= 0 || len <= 0) return;
    this.rowwise(X, xOff, Y, yOff, n, (x, y) => this.range('softmaxRange', [x, y, len, 0, n / len], runner));
  }

  /**
   * Calls a `…Range` export (assembly/ranges.ts) on its whole range — `args` end with the range's
   * bounds; the thread's workspace follows — or hands it to `runner` to split.
   */
  private range(name: RangeExport, args: number[], runner: PlaneRunner | undefined): void {
    const hi = args.length - 1;
    args.push((this.workspace.data as Float32Array).byteOffset);
    if (runner) runner(args, hi - 1, hi, hi + 1);
    else (this.exports[name] as (...a: number[]) => void)(...args);
  }

  /**
   * Runs `fn(x, y, scratch)` on n floats of X placed in this memory, a place for n floats of Y, and
   * `scratchBytes` of scratch (a kernel's parameters or working rows).
   */
  private rowwise(
    X: Float32Array,
    xOff: number,
    Y: Float32Array,
    yOff: number,
    n: number,
    fn: (x: number, y: number, scratch: number) => void,
    scratchBytes = 0,
  ): void {
    this.begin(
      [
        [X, 1, n, n],
        [Y, 1, n, n],
      ],
      scratchBytes,
    );
    const x = this.place(X, xOff, 1, n, n);
    const scratch = scratchBytes > 0 ? this.reserve(scratchBytes) : 0;
    const { ptr: y, copyOut } = this.output(Y, yOff, n);
    fn(x, y, scratch);
    copyOut();
  }

  /** Writes `arrays` one after another as float64 at byte address p. */
  private float64At(p: number, ...arrays: Float64Array[]): void {
    let at = p;
    for (const a of arrays) {
      new Float64Array(this.memory.buffer, at, a.length).set(a);
      at += a.length * 8;
    }
  }

  /** Throws unless `w` is live packed weights of `side` with the shape the product needs. */
  private checkPacked(w: PackedWeights, side: 'A' | 'B', rows: number, cols: number): void {
    if (w.released) throw new Error('packed weights were released');
    if (w.side !== side || w.rows !== rows || w.cols !== cols) {
      throw new Error(
        `packed weights are ${w.side} ${w.rows}×${w.cols}, the product needs ${side} ${rows}×${cols}`,
      );
    }
  }

  /**
   * True when `x` is a view of this memory, of any generation of its buffer (growing replaces the
   * buffer object; views made before keep the old one; the allocator, which alone grows it, knows
   * them all).
   */
  inMemory(x: Float32Array): boolean {
    return this.allocator.holds(x);
  }

  private run(
    ops: ResolvedOperands,
    beta: number,
    C: Float32Array,
    cOff: number,
    ldc: number,
    epilogue: GemmEpilogue | undefined,
    runner: SgemmRunner | undefined,
  ): void {
    const e = this.exports;
    const { M, N } = ops;
    const cInPlace = this.inMemory(C);
    // Copy C in only when its old values are read (beta ≠ 0); with beta = 0 the scratch is write-only.
    const c = cInPlace
      ? C.byteOffset + cOff * 4
      : beta !== 0
        ? this.place(C, cOff, M, N, ldc)
        : this.reserve(((M - 1) * ldc + N) * 4);
    let bias = 0;
    let biasMode = 0;
    if (epilogue?.bias) {
      const { data, offset = 0, axis } = epilogue.bias;
      bias = this.place(data, offset, 1, axis === 'col' ? N : M, 1);
      biasMode = (axis === 'col' ? e.BIAS_COL.value : e.BIAS_ROW.value) as number;
    }
    // The sum as the byte distance from C to it (mod 2³², as the kernel adds it to addresses); a
    // sum that is C itself (an output written over its own addend) makes beta·C + C.
    let sumOff = 0;
    if (epilogue?.sum) {
      const z = this.place(epilogue.sum.data, epilogue.sum.offset ?? 0, M, N, ldc);
      if (z === c) beta += 1;
      else sumOff = (z - c) >>> 0;
    }
    const clip = epilogue?.clip;
    const ws = (this.workspace.data as Float32Array).byteOffset;
    const args: Parameters<GemmExports['sgemm']> = [
      +ops.transA,
      +ops.transB,
      M,
      N,
      ops.K,
      ops.alpha,
      ops.a,
      ops.lda,
      ops.b,
      ops.ldb,
      beta,
      c,
      ldc,
      ops.packedA,
      ops.packedB,
      0,
      M,
      0,
      N,
      bias,
      biasMode,
      clip ? 1 : 0,
      clip?.min ?? 0,
      clip?.max ?? 0,
      ws,
      ops.im2col,
      sumOff,
    ];
    if (runner) runner(args);
    else e.sgemm(...args);
    if (!cInPlace)
      this.rowsOut(C, cOff, new Float32Array(this.memory.buffer, c, (M - 1) * ldc + N), M, N, ldc);
  }

  /** Copies M rows of N (ldc apart) from `view`, a product in the memory, to C at cOff. */
  private rowsOut<T extends Float32Array | Int32Array>(
    C: T,
    cOff: number,
    view: T,
    M: number,
    N: number,
    ldc: number,
  ): void {
    if (ldc === N) C.set(view, cOff);
    else for (let i = 0; i < M; i++) C.set(view.subarray(i * ldc, i * ldc + N), cOff + i * ldc);
  }

  /**
   * The byte address of the rows×cols matrix at X[off], leading dimension ld: in place when X is in
   * this memory, else copied (rows spanning ld apart, so the strides stay) into the scratch region.
   */
  private place(X: Float32Array, off: number, rows: number, cols: number, ld: number): number {
    if (this.inMemory(X)) return X.byteOffset + off * 4;
    if (rows <= 0 || cols <= 0) return 0;
    const count = (rows - 1) * ld + cols;
    const ptr = this.reserve(count * 4);
    new Float32Array(this.memory.buffer, ptr, count).set(X.subarray(off, off + count));
    return ptr;
  }

  /**
   * Starts a call: makes the scratch block big enough for every operand of `spans` that is not in
   * this memory (each a rows×cols matrix at X[off], leading dimension ld; C included), so that no
   * scratch pointer handed out during the call can move; `extraBytes` more are reserved for the call's
   * own data.
   */
  private begin(spans: Span[], extraBytes = 0): void {
    this.scratchTop = 0;
    let need = alignUp(extraBytes);
    for (const [X, rows, cols, ld] of spans) {
      if (rows > 0 && cols > 0 && !this.inMemory(X)) need += alignUp(((rows - 1) * ld + cols) * 4);
    }
    const have = this.scratch ? (this.scratch.data as Float32Array).byteLength : 0;
    if (need > have) {
      if (this.scratch) this.allocator.release(this.scratch);
      this.scratch = this.allocator.alloc('float32', [Math.max(need, 2 * have) / 4]);
    }
  }

  /** The packed blocks' addresses as a u32 table in the scratch block (reserve its 4 bytes each in `begin`). */
  private pointerTable(weights: readonly PackedWeights[]): number {
    const table = this.reserve(weights.length * 4);
    new Uint32Array(this.memory.buffer, table, weights.length).set(weights.map((w) => w.ptr));
    return table;
  }

  /** Bump-allocates from the scratch block, sized by `begin` for this call. */
  private reserve(bytes: number): number {
    const ptr = (this.scratch!.data as Float32Array).byteOffset + this.scratchTop;
    this.scratchTop += alignUp(bytes);
    return ptr;
  }
}

/**
 * Kernels on `allocator`'s memory (a new allocator of their own when omitted), in `variant`
 * (default: the one this engine validated). Undefined when the engine has no WebAssembly SIMD128.
 */
export function createWasmKernels(
  allocator: WasmMemoryAllocator = new WasmMemoryAllocator(),
  variant: WasmSimdVariant | undefined = wasmSimdVariant,
): WasmKernels | undefined {
  if (!variant) return undefined;
  if (variant === 'relaxed-simd' && wasmSimdVariant !== 'relaxed-simd') return undefined;
  return new WasmKernels(allocator, variant);
}

let shared: WasmKernels | undefined;

/** The process-wide kernels on their own memory, created on first use; undefined without SIMD128. */
export function wasmKernels(): WasmKernels | undefined {
  if (!shared) {
    shared = createWasmKernels();
    // Run storage of float32 tensors lives in these kernels' memory from now on: they (and the
    // thread pools, which share it) then read inputs and write outputs in place.
    if (shared) useSharedArena(shared.allocator);
  }
  return shared;
}
