/**
 * A plain-TypeScript single-precision / double-precision GEMM:
 *
 *   C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C
 *
 * on row-major Float32Array / Float64Array views (offset + leading dimension), op(X) = X or Xᵀ.
 *
 * Structure (the classic Goto/BLIS layering, scaled down for a JS engine):
 * - N is cut into blocks of NC columns and K into blocks of KC, so one packed block of B (KC × NC)
 *   stays in cache and the packing buffers stay small whatever the problem size;
 * - for each block, op(B) is packed into column panels of NR = 4 (k-major, zero-padded), and op(A)
 *   into row panels of MR = 4 per M block of MC rows, so the inner kernel reads both operands
 *   contiguously whatever the transposes and strides were;
 * - a 4×4 register-blocked micro-kernel keeps 16 accumulators in locals and does 16 multiply-adds per
 *   8 loads; edge tiles are computed in full on the zero padding and only the valid part is stored.
 *
 * Accumulation is in float64 (JS numbers) and rounded once into C for each K block, so float32
 * results are at least as accurate as a float32 BLAS.
 */

export type FloatArray = Float32Array | Float64Array;

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 128;
const NC = 1024;

// Packing buffers, reused between calls (grown on demand; single-threaded, gemm never re-enters).
// Operands are packed as float64 whatever their type: the float32 → float64 conversion then happens
// once while packing instead of in the inner loop (measured ~10% faster than float32 panels).
let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NR);

/**
 * C = alpha·op(A)·op(B) + beta·C. `lda`/`ldb`/`ldc` are the row strides of A, B, C as stored (A is
 * M×K, or K×M when transposed; B is K×N, or N×K when transposed). With beta = 0, C is only written
 * (NaNs already in C do not propagate), as in BLAS.
 */
export function gemm(
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
): void {
  if (M <= 0 || N <= 0) return;
  // C ← beta·C first; the blocked loops below only accumulate.
  if (beta !== 1) {
    for (let i = 0; i < M; i++) {
      const row = cOff + i * ldc;
      if (beta === 0) C.fill(0, row, row + N);
      else for (let j = 0; j < N; j++) C[row + j] *= beta;
    }
  }
  if (K <= 0 || alpha === 0) return;

  // Strides of op(A) (element (i, k)) and op(B) (element (k, j)).
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;

  // Matrix-vector products and small problems: packing does not pay off.
  if (M === 1) {
    gemv(N, K, alpha, B, bOff, bCol, bRow, A, aOff, aCol, C, cOff, 1);
    return;
  }
  if (N === 1) {
    gemv(M, K, alpha, A, aOff, aRow, aCol, B, bOff, bRow, C, cOff, ldc);
    return;
  }
  if (M * N * K <= 4096) {
    smallGemm(M, N, K, alpha, A, aOff, aRow, aCol, B, bOff, bRow, bCol, C, cOff, ldc);
    return;
  }

  const needB = Math.ceil(Math.min(N, NC) / NR) * NR * Math.min(K, KC);
  if (packB.length < needB) packB = new Float64Array(needB);
  const needA = MC * Math.min(K, KC);
  if (packA.length < needA) packA = new Float64Array(needA);
  const pa = packA;
  const pb = packB;

  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = Math.min(NC, N - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      packPanels(B, bOff + k0 * bRow + j0 * bCol, bCol, bRow, nc, kc, pb);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = Math.min(MC, M - i0);
        packPanels(A, aOff + i0 * aRow + k0 * aCol, aRow, aCol, mc, kc, pa);
        const cBase = cOff + i0 * ldc + j0;
        // One B micro-panel (kc × NR) stays in L1 while the packed A block streams from L2.
        for (let jp = 0; jp < nc; jp += NR) {
          const nr = Math.min(NR, nc - jp);
          const bBase = jp * kc;
          for (let ip = 0; ip < mc; ip += MR) {
            const mr = Math.min(MR, mc - ip);
            microKernel(kc, alpha, pa, ip * kc, pb, bBase, C, cBase + ip * ldc + jp, ldc, mr, nr);
          }
        }
      }
    }
  }
}

/**
 * Packs `count` rows of a strided operand into panels of 4 (MR = NR = 4), each kc × 4, k-major,
 * zero-padded.
 * `within` steps between the 4 rows of a panel, `along` steps along K. op(A) (mc × kc) packs with
 * (within, along) = (aRow, aCol); op(B) (kc × nc) packs its columns as rows with (bCol, bRow).
 */
function packPanels(
  X: FloatArray,
  off: number,
  within: number,
  along: number,
  count: number,
  kc: number,
  dst: Float64Array,
): void {
  for (let p = 0; p < count; p += 4) {
    const r = Math.min(4, count - p);
    let d = p * kc;
    const base = off + p * within;
    if (r === 4) {
      const x1 = base + within;
      const x2 = base + 2 * within;
      const x3 = base + 3 * within;
      for (let k = 0; k < kc; k++) {
        const c = k * along;
        dst[d] = X[base + c];
        dst[d + 1] = X[x1 + c];
        dst[d + 2] = X[x2 + c];
        dst[d + 3] = X[x3 + c];
        d += 4;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const s = base + k * along;
        for (let i = 0; i < 4; i++) dst[d + i] = i < r ? X[s + i * within] : 0;
        d += 4;
      }
    }
  }
}

/** C[4×4 tile] += alpha · Apanel(kc×4)ᵀ · Bpanel(kc×4); stores only mr × nr. */
function microKernel(
  kc: number,
  alpha: number,
  pa: Float64Array,
  aBase: number,
  pb: Float64Array,
  bBase: number,
  C: FloatArray,
  c: number,
  ldc: number,
  mr: number,
  nr: number,
): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  let a = aBase;
  let b = bBase;
  for (let k = 0; k < kc; k++) {
    const b0 = pb[b];
    const b1 = pb[b + 1];
    const b2 = pb[b + 2];
    const b3 = pb[b + 3];
    let x = pa[a];
    c00 += x * b0;
    c01 += x * b1;
    c02 += x * b2;
    c03 += x * b3;
    x = pa[a + 1];
    c10 += x * b0;
    c11 += x * b1;
    c12 += x * b2;
    c13 += x * b3;
    x = pa[a + 2];
    c20 += x * b0;
    c21 += x * b1;
    c22 += x * b2;
    c23 += x * b3;
    x = pa[a + 3];
    c30 += x * b0;
    c31 += x * b1;
    c32 += x * b2;
    c33 += x * b3;
    a += 4;
    b += 4;
  }
  if (mr === MR && nr === NR) {
    C[c] += alpha * c00;
    C[c + 1] += alpha * c01;
    C[c + 2] += alpha * c02;
    C[c + 3] += alpha * c03;
    c += ldc;
    C[c] += alpha * c10;
    C[c + 1] += alpha * c11;
    C[c + 2] += alpha * c12;
    C[c + 3] += alpha * c13;
    c += ldc;
    C[c] += alpha * c20;
    C[c + 1] += alpha * c21;
    C[c + 2] += alpha * c22;
    C[c + 3] += alpha * c23;
    c += ldc;
    C[c] += alpha * c30;
    C[c + 1] += alpha * c31;
    C[c + 2] += alpha * c32;
    C[c + 3] += alpha * c33;
    return;
  }
  const rows = [
    [c00, c01, c02, c03],
    [c10, c11, c12, c13],
    [c20, c21, c22, c23],
    [c30, c31, c32, c33],
  ];
  for (let i = 0; i < mr; i++) {
    const r = rows[i];
    const o = c + i * ldc;
    for (let j = 0; j < nr; j++) C[o + j] += alpha * r[j];
  }
}

/**
 * y[i·yStride] += alpha · Σ_k M(i, k) · x[k·xStride] for i < rows, where M(i, k) = Mat[mOff + i·mRow + k·mCol].
 * Dot products when M's rows are contiguous, otherwise row-wise axpy into a float64 accumulator.
 */
function gemv(
  rows: number,
  K: number,
  alpha: number,
  Mat: FloatArray,
  mOff: number,
  mRow: number,
  mCol: number,
  x: FloatArray,
  xOff: number,
  xStride: number,
  y: FloatArray,
  yOff: number,
  yStride: number,
): void {
  if (mCol === 1) {
    for (let i = 0; i < rows; i++) {
      const m = mOff + i * mRow;
      let s0 = 0;
      let s1 = 0;
      let k = 0;
      if (xStride === 1) {
        for (; k + 1 < K; k += 2) {
          s0 += Mat[m + k] * x[xOff + k];
          s1 += Mat[m + k + 1] * x[xOff + k + 1];
        }
      }
      for (; k < K; k++) s0 += Mat[m + k] * x[xOff + k * xStride];
      y[yOff + i * yStride] += alpha * (s0 + s1);
    }
    return;
  }
  const acc = new Float64Array(rows);
  for (let k = 0; k < K; k++) {
    const xv = x[xOff + k * xStride];
    const m = mOff + k * mCol;
    if (mRow === 1) for (let i = 0; i < rows; i++) acc[i] += Mat[m + i] * xv;
    else for (let i = 0; i < rows; i++) acc[i] += Mat[m + i * mRow] * xv;
  }
  for (let i = 0; i < rows; i++) y[yOff + i * yStride] += alpha * acc[i];
}

/** Unpacked triple loop for tiny products (i-k-j order, contiguous in C). */
function smallGemm(
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: FloatArray,
  aOff: number,
  aRow: number,
  aCol: number,
  B: FloatArray,
  bOff: number,
  bRow: number,
  bCol: number,
  C: FloatArray,
  cOff: number,
  ldc: number,
): void {
  for (let i = 0; i < M; i++) {
    const cRow = cOff + i * ldc;
    for (let j = 0; j < N; j++) {
      let s = 0;
      let a = aOff + i * aRow;
      let b = bOff + j * bCol;
      for (let k = 0; k < K; k++) {
        s += A[a] * B[b];
        a += aCol;
        b += bRow;
      }
      C[cRow + j] += alpha * s;
    }
  }
}
