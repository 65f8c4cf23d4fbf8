/**
 * Single-precision GEMM for WebAssembly SIMD128, in AssemblyScript:
 *
 *   C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C,   then optionally C = act(C + bias)
 *
 * on row-major float32 matrices that live in the (imported, shared) linear memory. Pointers are byte
 * addresses, leading dimensions are in elements, op(X) = X or Xᵀ.
 *
 * Goto/BLIS layering: for each block of NC columns and KC depth, op(B) is packed into column panels of
 * NR (k-major, zero-padded) that the micro-kernel streams from L1; for each block of MC rows, op(A) is
 * packed into row panels of MR (k-major, zero-padded) that stay in L2. The 4×8 micro-kernel keeps the
 * C tile in 8 f32x4 accumulators: per k it loads one B panel row as two v128 and broadcasts four A
 * values (v128.load32_splat), 8 multiply-adds per 6 loads. 4×8 is the largest tile whose accumulators,
 * two B vectors, one A broadcast and the product temporary fit V8's 15 allocatable xmm registers on
 * x64 (6×8 spills, measured), and 8 independent accumulators cover the add latency.
 *
 * Compiled twice by scripts/build-wasm.mjs: with plain SIMD (mul + add) and with relaxed SIMD
 * (ASC_FEATURE_RELAXED_SIMD: f32x4.relaxed_madd, one fused FMA where the CPU has it).
 *
 * The memory holds no data of this module (no static data, stub runtime, nothing allocated): every
 * byte it touches is passed in, so any allocator may own the memory. All entries are re-entrant
 * except for the per-instance epilogue globals, and each thread has its own instance and workspace.
 */

import { madd } from './simd';
import { Window } from './window';

/** Micro-tile rows (A panel height). */
export const MR: i32 = 4;
/** Micro-tile columns (B panel width, two f32x4). */
export const NR: i32 = 8;
/** B panels the one-row kernel (`rowKernel`) reads per pass: ROW_PANELS·NR columns of C. */
const ROW_PANELS: i32 = 4;
/** Depth of one packed block: a KC×NR B panel (8 KiB) stays in L1. */
export const KC: i32 = 256;
/** Rows of A packed per block: MC×KC floats (128 KiB) stay in L2. */
export const MC: i32 = 128;
/** Columns of B packed per block: KC×NC floats (2 MiB) stay in L3 and are reused by every MC block. */
export const NC: i32 = 2048;
/** Bytes of the workspace `sgemm` needs: packed A block, packed B block, one edge tile. */
export const WORKSPACE_BYTES: i32 = (MC * KC + KC * NC + MR * NR) * 4;

/** Bias modes of the epilogue. */
export const BIAS_NONE: i32 = 0;
/** bias[j] added to column j (MatMul/Gemm). */
export const BIAS_COL: i32 = 1;
/** bias[i] added to row i (Conv as W[Cout×K]·col[K×HW]). */
export const BIAS_ROW: i32 = 2;

// Per-call state of the tile stores, set once by sgemm (globals keep the micro-kernel's signature
// small; each worker thread has its own instance, hence its own globals).
let alphaV: v128 = f32x4.splat(1);
let betaS: f32 = 0;
let betaV: v128 = f32x4.splat(0);
let biasPtr: usize = 0;
/** Bytes from an element of C to its addend in a sum laid out as C (FusedConv's Z); 0: none. */
let sumOff: usize = 0;
let biasKind: i32 = 0;
let clamp: bool = false;
let minS: f32 = 0;
let maxS: f32 = 0;
let minV: v128 = f32x4.splat(0);
let maxV: v128 = f32x4.splat(0);
let tilePtr: usize = 0;
/** alpha = 1, no beta, sum, clamp or row bias: a tile row's store is C (+ C) (+ column bias). */
let plainStores: bool = false;

// Store modes of a tile: first K block (apply beta) and last K block (apply the epilogue).
const FIRST: i32 = 1;
const LAST: i32 = 2;

function roundUp(x: i32, m: i32): i32 {
  return ((x + m - 1) / m) * m;
}

/**
 * Computes the sub-block C[i0:i1, j0:j1] of the product (rows and columns are global indices, so a
 * pool of workers can split one GEMM by rows or columns, each with its own workspace `ws` of
 * WORKSPACE_BYTES, 16-byte aligned).
 *
 * `packedA` / `packedB`, when non-zero, point to operands laid out by packA / packB for the whole
 * M×K / K×N matrix; `a`/`lda`/`transA` (resp. for B) are then ignored, and i0 (resp. j0) must be a
 * multiple of MR (resp. NR).
 *
 * beta = 0 writes C without reading it (NaNs already there do not propagate), as in BLAS. `sum`,
 * when non-zero, is the byte distance (mod 2³²) from each element of C to its addend in an array
 * laid out as C (FusedConv's Z), added with beta·C: the caller need not copy Z into C first. The
 * epilogue (bias, then clamp to [actMin, actMax] when `clip` is set; ReLU is [0, +inf]) is applied
 * once to the final value.
 *
 * `im2col`, when non-zero, points to a convolution's window.ts `Window`: op(B) is then the virtual
 * im2col matrix of the C × H × W image at `b` — row (c·kh + ky)·kw + kx, column oy·ow + ox, holding
 * X[c, oy·sh − padTop + ky·dh, ox·sw − padLeft + kx·dw], or 0 outside the image — packed straight
 * from the image (`ldb`, `transB` and `packedB` are ignored), so a convolution needs no im2col
 * buffer and reads its input once per K block.
 */
export function sgemm(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  packedA: usize,
  packedB: usize,
  i0: i32,
  i1: i32,
  j0: i32,
  j1: i32,
  bias: usize,
  biasMode: i32,
  clip: bool,
  actMin: f32,
  actMax: f32,
  ws: usize,
  im2col: usize,
  sum: usize,
): void {
  if (i0 >= i1 || j0 >= j1) return;
  betaS = beta;
  sumOff = sum;
  betaV = f32x4.splat(beta);
  biasPtr = bias;
  biasKind = biasMode;
  clamp = clip;
  minS = actMin;
  maxS = actMax;
  minV = f32x4.splat(actMin);
  maxV = f32x4.splat(actMax);
  if (K <= 0 || alpha == 0) {
    scaleBlock(c, ldc, i0, i1, j0, j1);
    return;
  }
  alphaV = f32x4.splat(alpha);
  plainStores = alpha == 1 && beta == 0 && sum == 0 && !clip && biasMode != BIAS_ROW;

  // Element strides of op(A) (i, k) and op(B) (k, j).
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;
  const mPad = roundUp(M, MR);
  const nPad = roundUp(N, NR);
  const wsA = ws;
  const wsB = ws + <usize>(MC * KC) * 4;
  tilePtr = wsB + <usize>(KC * NC) * 4;
  // A plain row-major op(B) under one block of A rows is read in place, panel rows ldb apart: each
  // panel is used by that block alone, so packing it (a pointwise convolution's whole image, an
  // attention head's V under its one query row) would cost a pass over B for nothing. Partial panels
  // at the right edge are still packed.
  const direct = packedB == 0 && im2col == 0 && !transB && (M == 1 || (i1 - i0 > 1 && i1 - i0 <= MC));
  if (M == 1 && transB && packedA == 0 && packedB == 0 && im2col == 0 && aCol == 1) {
    // One row times a plain Bᵀ (an attention head's query times its keys): dot products along B's
    // rows, read in place, where packing would transpose all of B for a single use.
    dotRows(K, a, b, ldb, c, j0, j1);
    return;
  }

  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const mode = (pc == 0 ? FIRST : 0) | (pc + kc >= K ? LAST : 0);
      let pb: usize;
      if (packedB != 0) {
        pb = packedB + (<usize>pc * nPad + <usize>jc * kc) * 4;
      } else if (im2col != 0) {
        pb = wsB;
        packBlockIm2col(im2col, b, K, pc, jc, kc, nc, pb);
      } else if (direct) {
        pb = b + (<usize>pc * ldb + <usize>jc) * 4;
      } else {
        pb = wsB;
        packBlockB(b + (<usize>pc * bRow + <usize>jc * bCol) * 4, bRow, bCol, kc, nc, pb);
      }
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        let pa: usize;
        // A single row of an unpacked A is read where it is (aStep bytes between its k): packing
        // it per call cost an RNN step ~2.5 µs of its ~40 (measured on the benchmark LSTM).
        let aStep = MR * 4;
        if (packedA != 0) {
          pa = packedA + (<usize>pc * mPad + <usize>ic * kc) * 4;
        } else if (mc == 1) {
          pa = a + (<usize>ic * aRow + <usize>pc * aCol) * 4;
          aStep = aCol * 4;
        } else {
          pa = wsA;
          packBlockA(a + (<usize>ic * aRow + <usize>pc * aCol) * 4, aRow, aCol, mc, kc, pa);
        }
        if (mc == 1) {
          // One row (a matrix-vector product, e.g. batch-1 MatMul/Gemm, RNN steps): the 4×8 tile
          // would compute three rows of zeros; this kernel streams B at ROW_PANELS panels per
          // iteration.
          for (let jr = 0; jr < nc; jr += ROW_PANELS * NR) {
            const nr = min(ROW_PANELS * NR, nc - jr);
            const cRow = c + (<usize>ic * ldc + <usize>(jc + jr)) * 4;
            // Two calls, B read in place or packed: called once, rowKernel would be inlined into
            // this long function, where V8 compiles its loop ~25% slower (measured).
            if (direct && nr == ROW_PANELS * NR) {
              rowKernel(kc, pa, aStep, pb + <usize>jr * 4, NR * 4, ldb * 4, cRow, nr, mode, ic, jc + jr);
              continue;
            }
            let panels = pb + <usize>jr * kc * 4;
            if (direct) {
              panels = wsB;
              packBlockB(pb + <usize>jr * 4, ldb, 1, kc, nr, wsB);
            }
            rowKernel(kc, pa, aStep, panels, <usize>kc * NR * 4, NR * 4, cRow, nr, mode, ic, jc + jr);
          }
          continue;
        }
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          let pbPanel = pb + <usize>jr * kc * 4;
          let bStep = NR * 4;
          if (direct && nr == NR) {
            pbPanel = pb + <usize>jr * 4;
            bStep = ldb * 4;
          } else if (direct) {
            pbPanel = wsB;
            packBlockB(pb + <usize>jr * 4, ldb, 1, kc, nr, wsB);
          }
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const row = ic + ir;
            const col = jc + jr;
            kernel(
              kc,
              pa + <usize>ir * kc * 4,
              pbPanel,
              bStep,
              c + (<usize>row * ldc + <usize>col) * 4,
              ldc,
              mr,
              nr,
              mode,
              row,
              col,
            );
          }
        }
      }
    }
  }
}

/**
 * Products [b0, b1) of a batch of equal-shaped ones, C_i = alpha·op(A_i)·op(B_i) (beta = 0, no
 * epilogue), matrix i at a + i·strideA, b + i·strideB, c + i·strideC (strides in elements): a thread
 * pool splits a batch of small products (attention heads) by whole products, each packing its own.
 */
export function sgemmStrided(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  strideA: i32,
  b: usize,
  ldb: i32,
  strideB: i32,
  c: usize,
  ldc: i32,
  strideC: i32,
  b0: i32,
  b1: i32,
  ws: usize,
): void {
  for (let i = b0; i < b1; i++) {
    const ai = a + <usize>i * strideA * 4;
    const bi = b + <usize>i * strideB * 4;
    const ci = c + <usize>i * strideC * 4;
    sgemm(
      transA,
      transB,
      M,
      N,
      K,
      alpha,
      ai,
      lda,
      bi,
      ldb,
      0,
      ci,
      ldc,
      0,
      0,
      0,
      M,
      0,
      N,
      0,
      0,
      false,
      0,
      0,
      ws,
      0,
      0,
    );
  }
}

/**
 * Groups [g0, g1) of a grouped 1×1 convolution, C_g = A_g·B_g + beta·C_g, then bias rows and the
 * clamp: A_g (M×K) pre-packed at the byte address held by the u32 at aTable + 4g, B_g (K×N, rows
 * ldb apart) at b + g·strideB floats, C_g (rows ldc apart) at c + g·strideC, its M biases at
 * bias + g·M floats (bias 0: none). A thread pool splits by whole groups: splitting each group's
 * small product cost a pool job and a sync per group (ShuffleNet's 34 × 784 × 34 ones got slower
 * on two threads). Each group is exactly the sgemm call the per-group path makes.
 */
export function sgemmGroups(
  M: i32,
  N: i32,
  K: i32,
  aTable: usize,
  b: usize,
  ldb: i32,
  strideB: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  strideC: i32,
  bias: usize,
  clip: bool,
  actMin: f32,
  actMax: f32,
  g0: i32,
  g1: i32,
  ws: usize,
): void {
  for (let g = g0; g < g1; g++) {
    const packedA = <usize>load<u32>(aTable + <usize>g * 4);
    const bg = b + <usize>g * strideB * 4;
    const cg = c + <usize>g * strideC * 4;
    const biasG: usize = bias != 0 ? bias + <usize>g * M * 4 : 0;
    const mode = bias != 0 ? BIAS_ROW : BIAS_NONE;
    sgemm(
      false,
      false,
      M,
      N,
      K,
      1,
      0,
      0,
      bg,
      ldb,
      beta,
      cg,
      ldc,
      packedA,
      0,
      0,
      M,
      0,
      N,
      biasG,
      mode,
      clip,
      actMin,
      actMax,
      ws,
      0,
      0,
    );
  }
}

/**
 * Packs op(B) (K×N, element (k, j) at b + (k·bRow + j·bCol)·4 with bRow/bCol from transB) into the
 * layout sgemm reads with `packedB`: KC blocks one after another, each kc × nPad, made of NR-wide
 * k-major panels. `dst` needs packedBBytes(K, N).
 */
export function packB(transB: bool, K: i32, N: i32, b: usize, ldb: i32, dst: usize): void {
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;
  const nPad = roundUp(N, NR);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    packBlockB(b + <usize>pc * bRow * 4, bRow, bCol, kc, N, dst + <usize>pc * nPad * 4);
  }
}

/**
 * Packs columns [j0, j1) of the im2col matrix (K×N) of the image at `x` (window at `g`) where packB
 * lays out the whole matrix, for sgemm's `packedB`: a pool splitting a convolution by rows then
 * unfolds the image once, not once per chunk, its threads each a range of columns (j0 a multiple
 * of NR; j1 too, or N).
 */
export function packIm2colRange(
  g: usize,
  x: usize,
  K: i32,
  N: i32,
  dst: usize,
  j0: i32,
  j1: i32,
  _ws: usize,
): void {
  if (j0 >= j1) return;
  const nPad = roundUp(N, NR);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    packBlockIm2col(g, x, K, pc, j0, kc, j1 - j0, dst + (<usize>pc * nPad + <usize>j0 * kc) * 4);
  }
}

/** Packs op(A) (M×K) into KC blocks of MR-high k-major panels for sgemm's `packedA`. */
export function packA(transA: bool, M: i32, K: i32, a: usize, lda: i32, dst: usize): void {
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const mPad = roundUp(M, MR);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    packBlockA(a + <usize>pc * aCol * 4, aRow, aCol, M, kc, dst + <usize>pc * mPad * 4);
  }
}

export function packedBBytes(K: i32, N: i32): i32 {
  return roundUp(N, NR) * K * 4;
}

export function packedABytes(M: i32, K: i32): i32 {
  return roundUp(M, MR) * K * 4;
}

/** kc × nc of op(B) → ceil(nc/NR) panels of kc × NR floats, k-major, zero-padded on the right. */
function packBlockB(src: usize, bRow: i32, bCol: i32, kc: i32, nc: i32, dst: usize): void {
  const rowBytes = <usize>bRow * 4;
  for (let jp = 0; jp < nc; jp += NR) {
    const nr = min(NR, nc - jp);
    let s = src + <usize>jp * bCol * 4;
    let d = dst + <usize>jp * kc * 4;
    if (nr == NR && bCol == 1) {
      for (let k = 0; k < kc; k++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += rowBytes;
        d += 32;
      }
    } else if (nr == NR) {
      // op(B) = Bᵀ: each panel column is a contiguous row of B; read eight of them in step.
      const cb = <usize>bCol * 4;
      for (let k = 0; k < kc; k++) {
        store<f32>(d, load<f32>(s));
        store<f32>(d, load<f32>(s + cb), 4);
        store<f32>(d, load<f32>(s + 2 * cb), 8);
        store<f32>(d, load<f32>(s + 3 * cb), 12);
        store<f32>(d, load<f32>(s + 4 * cb), 16);
        store<f32>(d, load<f32>(s + 5 * cb), 20);
        store<f32>(d, load<f32>(s + 6 * cb), 24);
        store<f32>(d, load<f32>(s + 7 * cb), 28);
        s += rowBytes;
        d += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let j = 0; j < NR; j++) {
          store<f32>(d + <usize>j * 4, j < nr ? load<f32>(s + <usize>j * bCol * 4) : 0);
        }
        s += rowBytes;
        d += 32;
      }
    }
  }
}

/**
 * Rows [pc, pc + kc) and columns [jc, jc + nc) of the im2col matrix of the image at `x` (window at
 * `g`) → NR-wide k-major panels, as packBlockB lays out a matrix. A panel whose NR output positions
 * lie on one output row reads each kernel tap's inputs from one input row: two v128 loads at stride
 * 1, four and two shuffles at stride 2, NR scalar loads otherwise, when the taps are inside the image; at stride 1 a tap reaching into
 * the padding at a row's edge reads the window and zeroes the lanes outside the row; panels crossing
 * rows, and other taps into the padding, go element by element.
 */
function packBlockIm2col(g: usize, x: usize, K: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  const win = changetype<Window>(g);
  const H = win.H;
  const W = win.W;
  const kh = win.kh;
  const kw = win.kw;
  const sh = win.sh;
  const sw = win.sw;
  const dh = win.dh;
  const dw = win.dw;
  const pt = win.padTop;
  const pl = win.padLeft;
  const ow = win.ow;
  const plane = <usize>H * W * 4;
  // The image's bytes: a panel at a row's edge may read a whole NR-wide window and mask the
  // lanes outside the row, if the window stays inside the image.
  const xEnd = x + <usize>(K / (kh * kw)) * plane;
  const lanes0 = i32x4(0, 1, 2, 3);
  const lanes1 = i32x4(4, 5, 6, 7);
  const widthV = i32x4.splat(W);
  // Where each of the NR columns of a crossing panel starts in the input (iy0, ix0), in the tile.
  const iyAt = tilePtr;
  const ixAt = tilePtr + <usize>NR * 4;
  for (let jp = 0; jp < nc; jp += NR) {
    const nr = min(NR, nc - jp);
    const p0 = jc + jp;
    const oy = p0 / ow;
    const ox = p0 - oy * ow;
    const oneRow = nr == NR && ox + NR <= ow;
    const iyBase = oy * sh - pt;
    const ixBase = ox * sw - pl;
    if (!oneRow) {
      for (let j = 0; j < NR; j++) {
        const p = p0 + j;
        const y = p / ow;
        // Columns past the matrix read as padding: an input row no tap can reach.
        store<i32>(iyAt + <usize>j * 4, j < nr ? y * sh - pt : -(1 << 30));
        store<i32>(ixAt + <usize>j * 4, j < nr ? (p - y * ow) * sw - pl : 0);
      }
    }
    let d = dst + <usize>jp * kc * 4;
    // Tap (c, ky, kx) of row pc, then stepped along.
    let kx = pc % kw;
    let ky = (pc / kw) % kh;
    let chan = x + <usize>(pc / (kw * kh)) * plane;
    for (let k = 0; k < kc; k++) {
      const dy = ky * dh;
      const dx = kx * dw;
      if (oneRow) {
        const iy = iyBase + dy;
        const ix = ixBase + dx;
        const last = ix + (NR - 1) * sw;
        if (<u32>iy >= <u32>H) {
          v128.store(d, f32x4.splat(0));
          v128.store(d, f32x4.splat(0), 16);
        } else if (ix >= 0 && last < W) {
          const s = chan + (<usize>iy * W + ix) * 4;
          if (sw == 1) {
            v128.store(d, v128.load(s));
            v128.store(d, v128.load(s, 16), 16);
          } else if (sw == 2 && s + 16 * 4 <= xEnd) {
            // Stride 2: the even lanes of 16 floats (the last, odd one may lie past the row).
            v128.store(d, v128.shuffle<f32>(v128.load(s), v128.load(s, 16), 0, 2, 4, 6));
            v128.store(d, v128.shuffle<f32>(v128.load(s, 32), v128.load(s, 48), 0, 2, 4, 6), 16);
          } else {
            const step = <usize>sw * 4;
            for (let j = 0; j < NR; j++) store<f32>(d + <usize>j * 4, load<f32>(s + <usize>j * step));
          }
        } else {
          const row = chan + <usize>iy * W * 4;
          const s = row + <isize>ix * 4;
          if (sw == 1 && s >= x && s + NR * 4 <= xEnd) {
            // Stride 1 at a row's edge (the padding columns): the window's eight floats, the lanes
            // outside [0, W) zeroed — not eight scalar loads and tests.
            const at = i32x4.splat(ix);
            const c0 = i32x4.add(at, lanes0);
            const c1 = i32x4.add(at, lanes1);
            const zero = i32x4.splat(0);
            const in0 = v128.and(i32x4.ge_s(c0, zero), i32x4.lt_s(c0, widthV));
            const in1 = v128.and(i32x4.ge_s(c1, zero), i32x4.lt_s(c1, widthV));
            v128.store(d, v128.and(v128.load(s), in0));
            v128.store(d, v128.and(v128.load(s, 16), in1), 16);
          } else {
            for (let j = 0; j < NR; j++) {
              const xj = ix + j * sw;
              store<f32>(d + <usize>j * 4, <u32>xj < <u32>W ? load<f32>(row + <usize>xj * 4) : 0);
            }
          }
        }
      } else {
        for (let j = 0; j < NR; j++) {
          const iy = load<i32>(iyAt + <usize>j * 4) + dy;
          const ix = load<i32>(ixAt + <usize>j * 4) + dx;
          const inside = <u32>iy < <u32>H && <u32>ix < <u32>W;
          store<f32>(d + <usize>j * 4, inside ? load<f32>(chan + (<usize>iy * W + ix) * 4) : 0);
        }
      }
      d += NR * 4;
      if (++kx == kw) {
        kx = 0;
        if (++ky == kh) {
          ky = 0;
          chan += plane;
        }
      }
    }
  }
}

/** mc × kc of op(A) → ceil(mc/MR) panels of kc × MR floats, k-major, zero-padded at the bottom. */
function packBlockA(src: usize, aRow: i32, aCol: i32, mc: i32, kc: i32, dst: usize): void {
  const colBytes = <usize>aCol * 4;
  const rowBytes = <usize>aRow * 4;
  for (let ip = 0; ip < mc; ip += MR) {
    const mr = min(MR, mc - ip);
    let s = src + <usize>ip * rowBytes;
    let d = dst + <usize>ip * kc * 4;
    if (mr == MR && aRow == 1) {
      // op(A) = Aᵀ: the four rows of a panel are contiguous in A.
      for (let k = 0; k < kc; k++) {
        v128.store(d, v128.load(s));
        s += colBytes;
        d += 16;
      }
    } else if (mr == MR) {
      // Four rows, four k at a time, transposed in registers.
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const r0 = v128.load(s);
        const r1 = v128.load(s + rowBytes);
        const r2 = v128.load(s + 2 * rowBytes);
        const r3 = v128.load(s + 3 * rowBytes);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
        const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
        const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
        const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
        v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
        s += 16;
        d += 64;
      }
      for (; k < kc; k++) {
        store<f32>(d, load<f32>(s));
        store<f32>(d, load<f32>(s + rowBytes), 4);
        store<f32>(d, load<f32>(s + 2 * rowBytes), 8);
        store<f32>(d, load<f32>(s + 3 * rowBytes), 12);
        s += colBytes;
        d += 16;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let i = 0; i < MR; i++) {
          store<f32>(d + <usize>i * 4, i < mr ? load<f32>(s + <usize>i * rowBytes) : 0);
        }
        s += colBytes;
        d += 16;
      }
    }
  }
}

/**
 * The 4×8 micro-kernel: acc = Apanel(kc×4)ᵀ · Bpanel(kc×8), then stored into C at `c` (row `row`,
 * column `col` of the whole C, for the bias) for the mr × nr valid part.
 */
function kernel(
  kc: i32,
  pa: usize,
  pb: usize,
  bStep: i32,
  c: usize,
  ldc: i32,
  mr: i32,
  nr: i32,
  mode: i32,
  row: i32,
  col: i32,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  // One k per iteration: unrolled by two, V8 hoists the loads and spills accumulators (measured).
  const end = pb + <usize>kc * bStep;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    pa += 16;
    pb += bStep;
  }
  // Spill the accumulators; one call stores the tile. (Four calls of a row store, each passed two
  // vectors, cost more than the spill: GEMM 48×12544×8, a pointwise convolution, 0.77 → 0.61 ms.)
  const t = tilePtr;
  v128.store(t, c00);
  v128.store(t, c01, 16);
  v128.store(t, c10, 32);
  v128.store(t, c11, 48);
  v128.store(t, c20, 64);
  v128.store(t, c21, 80);
  v128.store(t, c30, 96);
  v128.store(t, c31, 112);
  if (mr == MR && nr == NR) storeRows(c, ldc, t, MR, mode, row, col);
  else storeEdge(c, ldc, t, mr, nr, mode, row, col);
}

/**
 * Stores `rows` whole 8-wide rows spilled at `t` (NR apart) through `storeRow` — its only caller,
 * so it is inlined into this loop.
 */
function storeRows(c: usize, ldc: i32, t: usize, rows: i32, mode: i32, row: i32, col: i32): void {
  const step = <usize>ldc * 4;
  // Two loops, not one with the test per row: the 64×1024×64 product ran 1–3% slower that way.
  if (plainStores) {
    for (let i = 0; i < rows; i++) {
      const s = t + <usize>i * NR * 4;
      plainPair(c + <usize>i * step, v128.load(s), v128.load(s, 16), mode, col);
    }
    return;
  }
  for (let i = 0; i < rows; i++) {
    const s = t + <usize>i * NR * 4;
    storeRow(c + <usize>i * step, v128.load(s), v128.load(s, 16), mode, row + i, col);
  }
}

/** Stores the mr × nr valid part of a tile spilled at `t` (rows NR apart) element by element. */
function storeEdge(c: usize, ldc: i32, t: usize, mr: i32, nr: i32, mode: i32, row: i32, col: i32): void {
  const alpha = f32x4.extract_lane(alphaV, 0);
  for (let i = 0; i < mr; i++) {
    const o = c + <usize>i * ldc * 4;
    for (let j = 0; j < nr; j++) {
      const p = o + <usize>j * 4;
      let v = alpha * load<f32>(t + <usize>(i * NR + j) * 4);
      if (mode & FIRST) {
        if (betaS != 0) v += betaS * load<f32>(p);
        if (sumOff != 0) v += load<f32>(p + sumOff);
      } else {
        v += load<f32>(p);
      }
      if (mode & LAST) {
        if (biasKind == BIAS_COL) v += load<f32>(biasPtr + <usize>(col + j) * 4);
        else if (biasKind == BIAS_ROW) v += load<f32>(biasPtr + <usize>(row + i) * 4);
        if (clamp) v = min(max(v, minS), maxS);
      }
      store<f32>(p, v);
    }
  }
}

/**
 * One row of C over up to ROW_PANELS B panels (nr ≤ ROW_PANELS·NR columns): acc = Apanel[·][0]ᵀ ·
 * Bpanels, eight independent accumulators — with four, each k waited on the FMAs of the one before
 * (a lone GEMV streamed its packed B at ~39 GB/s; eight: ~54). Each element sums over k in the same
 * order as the 4×8 kernel, so a row computed here or there — whichever way a pool splits C — is
 * bit-identical. A's row is read aStep bytes per k: a packed panel's first row (MR floats, rows 1–3
 * are padding) or the unpacked row itself. Panel p starts p·panelStride bytes after `pb` (packed
 * panels one after another, or NR columns apart in a row of B read in place); panels past the last
 * column repeat the last one (read, never stored). All advance bStep bytes per k: NR floats when
 * packed, a row of B when read in place.
 */
function rowKernel(
  kc: i32,
  pa: usize,
  aStep: usize,
  pb: usize,
  panelStride: usize,
  bStep: usize,
  c: usize,
  nr: i32,
  mode: i32,
  row: i32,
  col: i32,
): void {
  const last = (nr - 1) / NR;
  let p1 = pb + <usize>min(1, last) * panelStride;
  let p2 = pb + <usize>min(2, last) * panelStride;
  let p3 = pb + <usize>min(3, last) * panelStride;
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let b0 = f32x4.splat(0);
  let b1 = f32x4.splat(0);
  let d0 = f32x4.splat(0);
  let d1 = f32x4.splat(0);
  let e0 = f32x4.splat(0);
  let e1 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(pa);
    a0 = madd(x, v128.load(pb), a0);
    a1 = madd(x, v128.load(pb, 16), a1);
    b0 = madd(x, v128.load(p1), b0);
    b1 = madd(x, v128.load(p1, 16), b1);
    d0 = madd(x, v128.load(p2), d0);
    d1 = madd(x, v128.load(p2, 16), d1);
    e0 = madd(x, v128.load(p3), e0);
    e1 = madd(x, v128.load(p3, 16), e1);
    pa += aStep;
    pb += bStep;
    p1 += bStep;
    p2 += bStep;
    p3 += bStep;
  }
  if (plainStores && nr == ROW_PANELS * NR) {
    // The usual one-row product (MatMul, an RNN step): straight to C, without storeRow's tests.
    plainPair(c, a0, a1, mode, col);
    plainPair(c + 32, b0, b1, mode, col + 8);
    plainPair(c + 64, d0, d1, mode, col + 16);
    plainPair(c + 96, e0, e1, mode, col + 24);
    return;
  }
  // Spilled to the tile before any call: V8 keeps a vector that lives across a call in memory for
  // its whole life, the loop included (the kernel ran ~40% slower storing through calls directly).
  const t = tilePtr;
  v128.store(t, a0);
  v128.store(t, a1, 16);
  v128.store(t, b0, 32);
  v128.store(t, b1, 48);
  v128.store(t, d0, 64);
  v128.store(t, d1, 80);
  v128.store(t, e0, 96);
  v128.store(t, e1, 112);
  for (let p = 0; p * NR < nr; p++) {
    const o = <usize>p * NR * 4;
    rowStore(c + o, t + o, min(NR, nr - p * NR), mode, row, col + p * NR);
  }
}

/**
 * C[0, j0:j1] of a one-row product with a plain Bᵀ: element j is the dot product of A's row (K
 * contiguous floats at `a`) and B's row j (at b + j·ldb floats), NR columns at a time, each summed
 * four k at a time in one f32x4 lane per k mod 4, the lanes added at the end, then the K mod 4 last
 * k. (Its own summation order: a one-row product only ever comes here, however a pool splits it.)
 */
function dotRows(K: i32, a: usize, b: usize, ldb: i32, c: usize, j0: i32, j1: i32): void {
  const rowBytes = <usize>ldb * 4;
  const k4 = K & ~3;
  const t = tilePtr;
  for (let j = j0; j < j1; j += NR) {
    const nr = min(NR, j1 - j);
    // Rows past the last column repeat it (read, never stored).
    const r0 = b + <usize>j * rowBytes;
    const r1 = b + <usize>(j + min(1, nr - 1)) * rowBytes;
    const r2 = b + <usize>(j + min(2, nr - 1)) * rowBytes;
    const r3 = b + <usize>(j + min(3, nr - 1)) * rowBytes;
    const r4 = b + <usize>(j + min(4, nr - 1)) * rowBytes;
    const r5 = b + <usize>(j + min(5, nr - 1)) * rowBytes;
    const r6 = b + <usize>(j + min(6, nr - 1)) * rowBytes;
    const r7 = b + <usize>(j + min(7, nr - 1)) * rowBytes;
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let s3 = f32x4.splat(0);
    let s4 = f32x4.splat(0);
    let s5 = f32x4.splat(0);
    let s6 = f32x4.splat(0);
    let s7 = f32x4.splat(0);
    for (let k = 0; k < k4; k += 4) {
      const o = <usize>k * 4;
      const x = v128.load(a + o);
      s0 = madd(x, v128.load(r0 + o), s0);
      s1 = madd(x, v128.load(r1 + o), s1);
      s2 = madd(x, v128.load(r2 + o), s2);
      s3 = madd(x, v128.load(r3 + o), s3);
      s4 = madd(x, v128.load(r4 + o), s4);
      s5 = madd(x, v128.load(r5 + o), s5);
      s6 = madd(x, v128.load(r6 + o), s6);
      s7 = madd(x, v128.load(r7 + o), s7);
    }
    v128.store(t, laneSums(s0, s1, s2, s3));
    v128.store(t, laneSums(s4, s5, s6, s7), 16);
    for (let k = k4; k < K; k++) {
      const x = load<f32>(a + <usize>k * 4);
      const o = <usize>k * 4;
      store<f32>(t, load<f32>(t) + x * load<f32>(r0 + o));
      store<f32>(t, load<f32>(t, 4) + x * load<f32>(r1 + o), 4);
      store<f32>(t, load<f32>(t, 8) + x * load<f32>(r2 + o), 8);
      store<f32>(t, load<f32>(t, 12) + x * load<f32>(r3 + o), 12);
      store<f32>(t, load<f32>(t, 16) + x * load<f32>(r4 + o), 16);
      store<f32>(t, load<f32>(t, 20) + x * load<f32>(r5 + o), 20);
      store<f32>(t, load<f32>(t, 24) + x * load<f32>(r6 + o), 24);
      store<f32>(t, load<f32>(t, 28) + x * load<f32>(r7 + o), 28);
    }
    rowStore(c + <usize>j * 4, t, nr, FIRST | LAST, 0, j);
  }
}

/** [Σ lanes of p, Σ lanes of q, Σ lanes of r, Σ lanes of s]. */
function laneSums(p: v128, q: v128, r: v128, s: v128): v128 {
  const pq = f32x4.add(v128.shuffle<f32>(p, q, 0, 1, 4, 5), v128.shuffle<f32>(p, q, 2, 3, 6, 7));
  const rs = f32x4.add(v128.shuffle<f32>(r, s, 0, 1, 4, 5), v128.shuffle<f32>(r, s, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(pq, rs, 0, 2, 4, 6), v128.shuffle<f32>(pq, rs, 1, 3, 5, 7));
}

/**
 * Stores nr ≤ NR columns of one row spilled at `t`: a whole row through storeRows, a partial one
 * element-wise.
 */
function rowStore(c: usize, t: usize, nr: i32, mode: i32, row: i32, col: i32): void {
  if (nr == NR) storeRows(c, 0, t, 1, mode, row, col);
  else storeEdge(c, 0, t, 1, nr, mode, row, col);
}

/** storeRow when `plainStores`: eight columns at p = acc (+ C after the first K block) (+ bias). */
function plainPair(p: usize, v0: v128, v1: v128, mode: i32, col: i32): void {
  let x0 = v0;
  let x1 = v1;
  if (!(mode & FIRST)) {
    x0 = f32x4.add(x0, v128.load(p));
    x1 = f32x4.add(x1, v128.load(p, 16));
  }
  if (mode & LAST && biasKind == BIAS_COL) {
    const q = biasPtr + <usize>col * 4;
    x0 = f32x4.add(x0, v128.load(q));
    x1 = f32x4.add(x1, v128.load(q, 16));
  }
  v128.store(p, x0);
  v128.store(p, x1, 16);
}

/** One full 8-wide row of a tile: C = alpha·acc (+ beta·C + sum | + C) (+ bias, clamp). */
function storeRow(p: usize, v0: v128, v1: v128, mode: i32, row: i32, col: i32): void {
  let x0 = f32x4.mul(v0, alphaV);
  let x1 = f32x4.mul(v1, alphaV);
  if (mode & FIRST) {
    if (betaS != 0) {
      x0 = madd(betaV, v128.load(p), x0);
      x1 = madd(betaV, v128.load(p, 16), x1);
    }
    if (sumOff != 0) {
      x0 = f32x4.add(x0, v128.load(p + sumOff));
      x1 = f32x4.add(x1, v128.load(p + sumOff, 16));
    }
  } else {
    x0 = f32x4.add(x0, v128.load(p));
    x1 = f32x4.add(x1, v128.load(p, 16));
  }
  if (mode & LAST) {
    if (biasKind == BIAS_COL) {
      const q = biasPtr + <usize>col * 4;
      x0 = f32x4.add(x0, v128.load(q));
      x1 = f32x4.add(x1, v128.load(q, 16));
    } else if (biasKind == BIAS_ROW) {
      const r = v128.load32_splat(biasPtr + <usize>row * 4);
      x0 = f32x4.add(x0, r);
      x1 = f32x4.add(x1, r);
    }
    if (clamp) {
      x0 = f32x4.min(f32x4.max(x0, minV), maxV);
      x1 = f32x4.min(f32x4.max(x1, minV), maxV);
    }
  }
  v128.store(p, x0);
  v128.store(p, x1, 16);
}

/** K = 0 or alpha = 0: C = beta·C + sum, then the epilogue. */
function scaleBlock(c: usize, ldc: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  for (let i = i0; i < i1; i++) {
    const o = c + <usize>i * ldc * 4;
    for (let j = j0; j < j1; j++) {
      const p = o + <usize>j * 4;
      let v: f32 = betaS == 0 ? 0 : betaS * load<f32>(p);
      if (sumOff != 0) v += load<f32>(p + sumOff);
      if (biasKind == BIAS_COL) v += load<f32>(biasPtr + <usize>j * 4);
      else if (biasKind == BIAS_ROW) v += load<f32>(biasPtr + <usize>i * 4);
      if (clamp) v = min(max(v, minS), maxS);
      store<f32>(p, v);
    }
  }
}
