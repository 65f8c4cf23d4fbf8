/**
 * A straightforward GEMM with the same signature as the shared blocked GEMM (`util/gemm.ts`), used by
 * the recurrent and attention kernels until they switch to that one (a one-line import change):
 *
 *   C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C
 *
 * on row-major arrays given as (array, offset, leading dimension), op(X) = X or Xᵀ. Accumulates in
 * float64. With beta = 0, C is only written.
 */
export type GemmArray = Float32Array | Float64Array;

export function naiveGemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: GemmArray,
  aOff: number,
  lda: number,
  B: GemmArray,
  bOff: number,
  ldb: number,
  beta: number,
  C: GemmArray,
  cOff: number,
  ldc: number,
): void {
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;
  if (bCol === 1) {
    // Row-major op(B): accumulate rows of B scaled by A[i, k] (contiguous inner loop).
    const acc = new Float64Array(N);
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      const a0 = aOff + i * aRow;
      for (let k = 0; k < K; k++) {
        const a = A[a0 + k * aCol];
        if (a === 0) continue;
        const b0 = bOff + k * bRow;
        for (let j = 0; j < N; j++) acc[j] += a * B[b0 + j];
      }
      const c0 = cOff + i * ldc;
      if (beta === 0) for (let j = 0; j < N; j++) C[c0 + j] = alpha * acc[j];
      else for (let j = 0; j < N; j++) C[c0 + j] = alpha * acc[j] + beta * C[c0 + j];
    }
    return;
  }
  // Otherwise op(B) columns are contiguous along k when transB: dot products.
  for (let i = 0; i < M; i++) {
    const a0 = aOff + i * aRow;
    const c0 = cOff + i * ldc;
    for (let j = 0; j < N; j++) {
      let s = 0;
      let ai = a0;
      let bi = bOff + j * bCol;
      for (let k = 0; k < K; k++, ai += aCol, bi += bRow) s += A[ai] * B[bi];
      s *= alpha;
      C[c0 + j] = beta === 0 ? s : s + beta * C[c0 + j];
    }
  }
}
