/**
 * The input and output transforms of Winograd's minimal filtering F(2×2, 3×3) for WebAssembly
 * SIMD128 (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015). A 3×3, stride-1
 * convolution computes each 2×2 output tile from a 4×4 input tile d as
 *
 *   Y = Aᵀ [ Σ_c U[c] ⊙ (Bᵀ d[c] B) ] A,   U[c] = G g[c] Gᵀ (the weights, transformed once),
 *
 *   Bᵀ = | 1  0 -1  0 |   G = | 1    0    0  |   Aᵀ = | 1  1  1  0 |
 *        | 0  1  1  0 |       | 1/2  1/2  1/2 |        | 0  1 -1 -1 |
 *        | 0 -1  1  0 |       | 1/2 -1/2  1/2 |
 *        | 0  1  0 -1 |       | 0    0    1  |
 *
 * so the sum over channels becomes 16 independent GEMMs (one per position ξ of the 4×4 tile: M×C
 * weights times C×T transformed tiles) with 16 multiplications per tile where direct convolution
 * takes 36: 2.25× fewer FLOPs. The GEMMs run on gemm.ts; this file makes their operands and turns
 * their products into the output.
 *
 * Layouts (floats): V[ξ][c][t] and P[ξ][m][t] for tiles t = ty·twp + tx, where a row of tiles is
 * padded to twp, a multiple of 4, so that both transforms work on four horizontally adjacent tiles
 * per f32x4 (lanes past the last real tile compute values nothing reads). Consecutive ξ are
 * C·T + WINOGRAD_SKEW (M·T + WINOGRAD_SKEW) floats apart: C·T is usually a multiple of 1024, and
 * sixteen streams 4 KiB apart all fall in one set of the 8-way L1 cache (measured: 17 → 8–10 ns per
 * tile and channel with the skew).
 */
import { KC, MR } from './gemm';

/** Floats added between consecutive ξ matrices of V and P: one cache line. */
export const WINOGRAD_SKEW: i32 = 16;

// Lanes of one row of the 4 tiles' 4×4 inputs at columns 2·lane + j, from input columns [x, x+10).
function even(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 2, 4, 6);
}

function odd(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 1, 3, 5, 7);
}

/**
 * V of tile rows [ty0, ty1) for channels [c0, c1) of the C × H × W image at `x`: the input rows
 * of those tiles are copied into a zero-padded plane in the thread's workspace `ws` (rows Wp = 2·twp
 * + 4 floats apart, 2·(ty1 − ty0) + 2 of them; the input's top-left pixel sits at padded row padTop,
 * column padLeft), then transformed four tiles at a time. The caller checks that the plane fits the
 * workspace. Plain SIMD loops pad: V8 runs memory.fill/copy on shared memory through a runtime call
 * each.
 */
export function winogradInput(
  x: usize,
  C: i32,
  H: i32,
  W: i32,
  padTop: i32,
  padLeft: i32,
  ty0: i32,
  ty1: i32,
  twp: i32,
  v: usize,
  c0: i32,
  c1: i32,
  ws: usize,
): void {
  const th = ty1 - ty0;
  const Wp = 2 * twp + 4;
  const Hp = 2 * th + 2;
  const rowBytes = <usize>Wp * 4;
  const T = th * twp;
  const xi = <usize>(C * T + WINOGRAD_SKEW) * 4; // between two ξ of V
  const zero = f32x4.splat(0);
  // Input rows (plane row = input row + padTop − 2·ty0) and columns that land in the plane.
  const top = padTop - 2 * ty0;
  const r0 = max(0, -top);
  const r1 = min(H, Hp - top);
  const cols = min(W, Wp - padLeft);
  for (let c = c0; c < c1; c++) {
    for (let p = ws, end = ws + <usize>Hp * rowBytes; p < end; p += 16) v128.store(p, zero);
    const src = x + <usize>c * H * W * 4;
    for (let r = r0; r < r1; r++) {
      const s = src + <usize>r * W * 4;
      const d = ws + <usize>(r + top) * rowBytes + <usize>padLeft * 4;
      let i = 0;
      for (; i + 4 <= cols; i += 4) v128.store(d + <usize>i * 4, v128.load(s + <usize>i * 4));
      for (; i < cols; i++) store<f32>(d + <usize>i * 4, load<f32>(s + <usize>i * 4));
    }
    let out = v + <usize>c * T * 4;
    for (let ty = 0; ty < th; ty++) {
      const row = ws + <usize>(2 * ty) * rowBytes;
      for (let tx = 0; tx < twp; tx += 4) {
        // Row i of the four tiles' inputs: d_i0 … d_i3 (columns 2·lane + j).
        const p0 = row + <usize>(2 * tx) * 4;
        const p1 = p0 + rowBytes;
        const p2 = p1 + rowBytes;
        const p3 = p2 + rowBytes;
        let a = v128.load(p0);
        let b = v128.load(p0, 16);
        let e = v128.load(p0, 8);
        let f = v128.load(p0, 24);
        const d00 = even(a, b);
        const d01 = odd(a, b);
        const d02 = even(e, f);
        const d03 = odd(e, f);
        a = v128.load(p1);
        b = v128.load(p1, 16);
        e = v128.load(p1, 8);
        f = v128.load(p1, 24);
        const d10 = even(a, b);
        const d11 = odd(a, b);
        const d12 = even(e, f);
        const d13 = odd(e, f);
        a = v128.load(p2);
        b = v128.load(p2, 16);
        e = v128.load(p2, 8);
        f = v128.load(p2, 24);
        const d20 = even(a, b);
        const d21 = odd(a, b);
        const d22 = even(e, f);
        const d23 = odd(e, f);
        a = v128.load(p3);
        b = v128.load(p3, 16);
        e = v128.load(p3, 8);
        f = v128.load(p3, 24);
        const d30 = even(a, b);
        const d31 = odd(a, b);
        const d32 = even(e, f);
        const d33 = odd(e, f);
        // Bᵀ d: rows.
        inputRow(f32x4.sub(d00, d20), f32x4.sub(d01, d21), f32x4.sub(d02, d22), f32x4.sub(d03, d23), out, xi);
        const o1 = out + 4 * xi;
        inputRow(f32x4.add(d10, d20), f32x4.add(d11, d21), f32x4.add(d12, d22), f32x4.add(d13, d23), o1, xi);
        const o2 = o1 + 4 * xi;
        inputRow(f32x4.sub(d20, d10), f32x4.sub(d21, d11), f32x4.sub(d22, d12), f32x4.sub(d23, d13), o2, xi);
        const o3 = o2 + 4 * xi;
        inputRow(f32x4.sub(d10, d30), f32x4.sub(d11, d31), f32x4.sub(d12, d32), f32x4.sub(d13, d33), o3, xi);
        out += 16;
      }
    }
  }
}

/** (Bᵀ d) B for one row (t0 … t3, lanes = tiles): V[4i + j] at out + j·xi. */
function inputRow(t0: v128, t1: v128, t2: v128, t3: v128, out: usize, xi: usize): void {
  v128.store(out, f32x4.sub(t0, t2));
  v128.store(out + xi, f32x4.add(t1, t2));
  v128.store(out + 2 * xi, f32x4.sub(t2, t1));
  v128.store(out + 3 * xi, f32x4.sub(t1, t3));
}

/**
 * Tile rows [ty0, ty1) of the output planes [m0, m1) of M × oh × ow at `y` from the products P of
 * those tiles: Y = Aᵀ P A per tile, plus bias[m] (when `bias` ≠ 0) and Z (FusedConv's sum at `z`,
 * Y's layout, when ≠ 0), clamped to [lo, hi] when `clip`. `ws` holds a 64-byte spill for tiles at
 * the right or bottom edge.
 */
export function winogradOutput(
  pr: usize,
  M: i32,
  ty0: i32,
  ty1: i32,
  twp: i32,
  oh: i32,
  ow: i32,
  y: usize,
  bias: usize,
  z: usize,
  clip: bool,
  lo: f32,
  hi: f32,
  m0: i32,
  m1: i32,
  ws: usize,
): void {
  const T = (ty1 - ty0) * twp;
  const xi = <usize>(M * T + WINOGRAD_SKEW) * 4; // between two ξ of P
  const loV = f32x4.splat(lo);
  const hiV = f32x4.splat(hi);
  const rowBytes = <usize>ow * 4;
  for (let m = m0; m < m1; m++) {
    const bV = f32x4.splat(bias != 0 ? load<f32>(bias + <usize>m * 4) : 0);
    let p = pr + <usize>m * T * 4;
    const plane = <usize>m * oh * rowBytes;
    for (let ty = ty0; ty < ty1; ty++) {
      for (let tx = 0; tx < twp; tx += 4) {
        // Aᵀ P: s0j = P0j + P1j + P2j, s1j = P1j − P2j − P3j, for columns j.
        const q1 = p + 4 * xi;
        const q2 = q1 + 4 * xi;
        const q3 = q2 + 4 * xi;
        const a0 = v128.load(p);
        const a1 = v128.load(p + xi);
        const a2 = v128.load(p + 2 * xi);
        const a3 = v128.load(p + 3 * xi);
        const b0 = v128.load(q1);
        const b1 = v128.load(q1 + xi);
        const b2 = v128.load(q1 + 2 * xi);
        const b3 = v128.load(q1 + 3 * xi);
        const c0 = v128.load(q2);
        const c1 = v128.load(q2 + xi);
        const c2 = v128.load(q2 + 2 * xi);
        const c3 = v128.load(q2 + 3 * xi);
        const e1 = v128.load(q3 + xi);
        const e2 = v128.load(q3 + 2 * xi);
        const e3 = v128.load(q3 + 3 * xi);
        const e0 = v128.load(q3);
        const s00 = f32x4.add(f32x4.add(a0, b0), c0);
        const s01 = f32x4.add(f32x4.add(a1, b1), c1);
        const s02 = f32x4.add(f32x4.add(a2, b2), c2);
        const s03 = f32x4.add(f32x4.add(a3, b3), c3);
        const s10 = f32x4.sub(f32x4.sub(b0, c0), e0);
        const s11 = f32x4.sub(f32x4.sub(b1, c1), e1);
        const s12 = f32x4.sub(f32x4.sub(b2, c2), e2);
        const s13 = f32x4.sub(f32x4.sub(b3, c3), e3);
        // · A: y_i0 = s_i0 + s_i1 + s_i2, y_i1 = s_i1 − s_i2 − s_i3; lanes are the four tiles.
        const y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), bV);
        const y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), bV);
        const y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), bV);
        const y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), bV);
        // Output rows 2·ty and 2·ty + 1, columns 2·tx … 2·tx + 7: the tiles' pairs interleaved.
        const oy = 2 * ty;
        const ox = 2 * tx;
        const at = plane + <usize>oy * rowBytes + <usize>ox * 4;
        let r0 = v128.shuffle<f32>(y00, y01, 0, 4, 1, 5);
        let r1 = v128.shuffle<f32>(y00, y01, 2, 6, 3, 7);
        let r2 = v128.shuffle<f32>(y10, y11, 0, 4, 1, 5);
        let r3 = v128.shuffle<f32>(y10, y11, 2, 6, 3, 7);
        if (ox + 8 <= ow && oy + 2 <= oh) {
          const below = at + rowBytes;
          if (z != 0) {
            r0 = f32x4.add(r0, v128.load(z + at));
            r1 = f32x4.add(r1, v128.load(z + at, 16));
            r2 = f32x4.add(r2, v128.load(z + below));
            r3 = f32x4.add(r3, v128.load(z + below, 16));
          }
          if (clip) {
            r0 = f32x4.min(f32x4.max(r0, loV), hiV);
            r1 = f32x4.min(f32x4.max(r1, loV), hiV);
            r2 = f32x4.min(f32x4.max(r2, loV), hiV);
            r3 = f32x4.min(f32x4.max(r3, loV), hiV);
          }
          v128.store(y + at, r0);
          v128.store(y + at, r1, 16);
          v128.store(y + below, r2);
          v128.store(y + below, r3, 16);
        } else if (ox < ow) {
          v128.store(ws, r0);
          v128.store(ws, r1, 16);
          v128.store(ws, r2, 32);
          v128.store(ws, r3, 48);
          edge(ws, y, z, at, rowBytes, min(8, ow - ox), min(2, oh - oy), clip, lo, hi);
        }
        p += 16;
      }
    }
  }
}

/** Stores the valid rows × cols of a 2 × 8 block spilled at `t` (plus Z, clamped) element-wise. */
function edge(
  t: usize,
  y: usize,
  z: usize,
  at: usize,
  rowBytes: usize,
  cols: i32,
  rows: i32,
  clip: bool,
  lo: f32,
  hi: f32,
): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const o = at + <usize>i * rowBytes + <usize>j * 4;
      let v = load<f32>(t + <usize>(i * 8 + j) * 4);
      if (z != 0) v += load<f32>(z + o);
      if (clip) v = min(max(v, lo), hi);
      store<f32>(y + o, v);
    }
  }
}

/**
 * The weights' transform U_ξ = (G g Gᵀ)[ξ], written straight into the GEMM's packed A layout (see
 * gemm.ts packBlockA: depth blocks of KC channels, each a run of MR-row panels stored channel-major),
 * one packed M × C matrix per ξ at the 16 addresses listed (u32) at `dsts`. Rows [m0, m1) of the
 * M × C × 3 × 3 weights at `src` (its first row is m0; m0 a multiple of MR): one panel of four
 * output channels per f32x4, rows past M zero. One pass over the fresh memory, where transforming
 * into planes and packing them was two, and SIMD where the transform had been scalar JavaScript.
 */
export function winogradWeights(src: usize, M: i32, C: i32, m0: i32, m1: i32, dsts: usize): void {
  const mPad = (M + MR - 1) & ~(MR - 1);
  const half = f32x4.splat(0.5);
  const rowFloats = C * 9;
  for (let m = m0; m < m1; m += MR) {
    const rows = min(MR, M - m);
    for (let c = 0; c < C; c++) {
      const pc = c - (c % KC);
      const kc = min(KC, C - pc);
      const at = (<usize>(pc * mPad + m * kc + (c - pc) * MR)) << 2;
      const g = src + ((<usize>((m - m0) * rowFloats + c * 9)) << 2);
      // g's rows r and columns j (gRJ), four output channels per vector.
      const g00 = lanes(g, 0, rows, rowFloats);
      const g01 = lanes(g, 1, rows, rowFloats);
      const g02 = lanes(g, 2, rows, rowFloats);
      const g10 = lanes(g, 3, rows, rowFloats);
      const g11 = lanes(g, 4, rows, rowFloats);
      const g12 = lanes(g, 5, rows, rowFloats);
      const g20 = lanes(g, 6, rows, rowFloats);
      const g21 = lanes(g, 7, rows, rowFloats);
      const g22 = lanes(g, 8, rows, rowFloats);
      // Rows of t = G g, each giving four ξ of U = t Gᵀ.
      storeRow(dsts, 0, at, g00, g01, g02, half);
      storeRow(
        dsts,
        1,
        at,
        sum3(g00, g10, g20, half),
        sum3(g01, g11, g21, half),
        sum3(g02, g12, g22, half),
        half,
      );
      storeRow(
        dsts,
        2,
        at,
        alt3(g00, g10, g20, half),
        alt3(g01, g11, g21, half),
        alt3(g02, g12, g22, half),
        half,
      );
      storeRow(dsts, 3, at, g20, g21, g22, half);
    }
  }
}

/** (a + b + c) / 2 */
function sum3(a: v128, b: v128, c: v128, half: v128): v128 {
  return f32x4.mul(f32x4.add(f32x4.add(a, b), c), half);
}

/** (a − b + c) / 2 */
function alt3(a: v128, b: v128, c: v128, half: v128): v128 {
  return f32x4.mul(f32x4.add(f32x4.sub(a, b), c), half);
}

/** Row i (a, b, c) of t = G g times Gᵀ: U_ξ for ξ = 4i … 4i + 3, stored at byte `at` of each. */
function storeRow(dsts: usize, i: i32, at: usize, a: v128, b: v128, c: v128, half: v128): void {
  const x = dsts + ((<usize>(4 * i)) << 2);
  v128.store(<usize>load<u32>(x) + at, a);
  v128.store(<usize>load<u32>(x, 4) + at, sum3(a, b, c, half));
  v128.store(<usize>load<u32>(x, 8) + at, alt3(a, b, c, half));
  v128.store(<usize>load<u32>(x, 12) + at, c);
}

/** Weight j (of 9) of four consecutive output channels, `rows` of them real, the rest zero. */
function lanes(g: usize, j: i32, rows: i32, rowFloats: i32): v128 {
  const stride = (<usize>rowFloats) << 2;
  const p = g + ((<usize>j) << 2);
  let v = f32x4.splat(load<f32>(p));
  if (rows > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + stride));
  else v = f32x4.replace_lane(v, 1, 0);
  if (rows > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * stride));
  else v = f32x4.replace_lane(v, 2, 0);
  if (rows > 3) v = f32x4.replace_lane(v, 3, load<f32>(p + 3 * stride));
  else v = f32x4.replace_lane(v, 3, 0);
  return v;
}
