/**
 * Integer products for the quantized ops (MatMulInteger, QLinearMatMul): C (i32, rows [i0, i1) of
 * M × N) = (A − za) · (B − zb), with A (M × K) and B (K × N) 8-bit, signed or not, row-major (lda
 * and ldb bytes apart), za one zero point per row of A and zb one per column of B (i32 arrays).
 *
 * Both operands are widened to i16 with their zero points subtracted, each pair of depths (k, k+1)
 * side by side, so that one i32x4.dot_i16x8_s multiplies a pair of depths of one row of A by four
 * columns of B and adds the two products: B into panels of 8 columns (`packInt8B`: two v128 per
 * pair of depths), each block of 4 rows of A into the workspace (one v128 per pair: the pair of each
 * row, splat per row by a shuffle). Every sum is exact in i32 while K ≤ 33 000 (|a − za| and
 * |b − zb| ≤ 255); longer sums wrap, as 32-bit accumulators do in onnxruntime.
 */

/** Bytes of B packed by `packInt8B`. */
export function packedInt8BBytes(K: i32, N: i32): i32 {
  return ((N + 7) >> 3) * ((K + 1) >> 1) * 32;
}

/** Loads element `i` of an 8-bit array, signed or not. */
function byteAt(p: usize, signed: bool): i32 {
  return signed ? <i32>load<i8>(p) : <i32>load<u8>(p);
}

/**
 * B (K × N bytes at `b`, rows ldb apart) − zb → i16 panels of 8 columns at `dst`: for panel p and
 * pair kp, 16 i16 at dst + (p·⌈K/2⌉ + kp)·32, column-major pairs [b(2kp, j), b(2kp+1, j)] for the
 * panel's 8 columns; depths and columns past the matrix are zero.
 */
export function packInt8B(b: usize, ldb: i32, bSigned: bool, zb: usize, K: i32, N: i32, dst: usize): void {
  const pairs = (K + 1) >> 1;
  for (let j0 = 0; j0 < N; j0 += 8) {
    let d = dst + <usize>(j0 >> 3) * pairs * 32;
    for (let kp = 0; kp < pairs; kp++) {
      const k = 2 * kp;
      for (let j = 0; j < 8; j++) {
        const col = j0 + j;
        let lo = 0;
        let hi = 0;
        if (col < N) {
          const z = load<i32>(zb + ((<usize>col) << 2));
          lo = byteAt(b + <usize>k * ldb + col, bSigned) - z;
          if (k + 1 < K) hi = byteAt(b + <usize>(k + 1) * ldb + col, bSigned) - z;
        }
        store<i16>(d + ((<usize>j) << 2), <i16>lo);
        store<i16>(d + ((<usize>j) << 2), <i16>hi, 2);
      }
      d += 32;
    }
  }
}

/**
 * Rows [i0, i1) of C = (A − za)·(B − zb), B packed by `packInt8B`; `ws` has 16·⌈K/2⌉ + 32 bytes (a
 * block of A, and a partial row of C).
 */
export function igemm(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  lda: i32,
  aSigned: bool,
  za: usize,
  pb: usize,
  c: usize,
  ldc: i32,
  i0: i32,
  i1: i32,
  ws: usize,
): void {
  const pairs = (K + 1) >> 1;
  for (let i = i0; i < i1; i += 4) {
    const rows = min(4, i1 - i);
    packInt8A(a + <usize>i * lda, lda, aSigned, za + ((<usize>i) << 2), rows, K, ws);
    for (let j0 = 0; j0 < N; j0 += 8) {
      let q = pb + <usize>(j0 >> 3) * pairs * 32;
      let p = ws;
      let c00 = i32x4.splat(0);
      let c01 = i32x4.splat(0);
      let c10 = i32x4.splat(0);
      let c11 = i32x4.splat(0);
      let c20 = i32x4.splat(0);
      let c21 = i32x4.splat(0);
      let c30 = i32x4.splat(0);
      let c31 = i32x4.splat(0);
      const end = ws + <usize>pairs * 16;
      while (p < end) {
        const av = v128.load(p);
        const b0 = v128.load(q);
        const b1 = v128.load(q, 16);
        const a0 = i32x4.shuffle(av, av, 0, 0, 0, 0);
        const a1 = i32x4.shuffle(av, av, 1, 1, 1, 1);
        const a2 = i32x4.shuffle(av, av, 2, 2, 2, 2);
        const a3 = i32x4.shuffle(av, av, 3, 3, 3, 3);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(a0, b0));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(a0, b1));
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(a1, b0));
        c11 = i32x4.add(c11, i32x4.dot_i16x8_s(a1, b1));
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(a2, b0));
        c21 = i32x4.add(c21, i32x4.dot_i16x8_s(a2, b1));
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(a3, b0));
        c31 = i32x4.add(c31, i32x4.dot_i16x8_s(a3, b1));
        p += 16;
        q += 32;
      }
      const cols = min(8, N - j0);
      const row = c + (<usize>i * ldc + j0) * 4;
      storeRow(row, c00, c01, cols, end);
      if (rows > 1) storeRow(row + <usize>ldc * 4, c10, c11, cols, end);
      if (rows > 2) storeRow(row + <usize>ldc * 8, c20, c21, cols, end);
      if (rows > 3) storeRow(row + <usize>ldc * 12, c30, c31, cols, end);
    }
  }
}

/** Four rows of A (`rows` real, the rest zero) − their zero points → one v128 of i16 pairs per pair of depths. */
function packInt8A(a: usize, lda: i32, aSigned: bool, za: usize, rows: i32, K: i32, dst: usize): void {
  const pairs = (K + 1) >> 1;
  for (let r = 0; r < 4; r++) {
    const src = a + <usize>r * lda;
    const z = r < rows ? load<i32>(za + ((<usize>r) << 2)) : 0;
    let d = dst + ((<usize>r) << 2);
    for (let kp = 0; kp < pairs; kp++) {
      let lo = 0;
      let hi = 0;
      if (r < rows) {
        const k = 2 * kp;
        lo = byteAt(src + k, aSigned) - z;
        if (k + 1 < K) hi = byteAt(src + k + 1, aSigned) - z;
      }
      store<i32>(d, (lo & 0xffff) | (hi << 16));
      d += 16;
    }
  }
}

/** The first `cols` (≤ 8) of two i32x4 at p (a partial row through 32 bytes of scratch at `tmp`). */
function storeRow(p: usize, v0: v128, v1: v128, cols: i32, tmp: usize): void {
  if (cols == 8) {
    v128.store(p, v0);
    v128.store(p, v1, 16);
    return;
  }
  v128.store(tmp, v0);
  v128.store(tmp, v1, 16);
  for (let j = 0; j < cols; j++) store<i32>(p + ((<usize>j) << 2), load<i32>(tmp + ((<usize>j) << 2)));
}
