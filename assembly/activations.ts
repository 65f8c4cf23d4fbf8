/**
 * Vectorised transcendental functions for the kernels, float32-accurate (a few ulp): exp by range
 * reduction to [−ln2/2, ln2/2] and Cephes' degree-6 polynomial, scaled by 2ⁿ through the exponent
 * bits; tanh as the [13/6] rational approximation Eigen uses (odd numerator, clamped where tanh is
 * ±1 in float32), accurate near 0 where 1 − 2/(e²ˣ + 1) would cancel; sigmoid = 1 / (1 + e⁻ˣ).
 * Their coefficients and clamps are read from the table in constants.ts (why: see there).
 */
import {
  EXP_HI,
  EXP_LO,
  EXP_P,
  EXPONENT_BIAS,
  ERFC_P,
  GELU_CUBIC,
  HALF,
  LN2_HI,
  LN2_LO,
  LOG2E,
  ONE,
  ROUNDING_SHIFT,
  SQRT_8_PI,
  SQRT1_2,
  TANH_HI,
  TANH_LO,
  TANH_P,
  TANH_Q,
  TWO,
  vc,
} from './constants';
import { madd } from './simd';

export function expV(x: v128): v128 {
  const v = clampV(x, EXP_LO, EXP_HI);
  // n = round-to-nearest-even(v·log2 e): adding 1.5·2²³ leaves n in the low mantissa bits, which
  // also give 2ⁿ's exponent below (|n| ≤ 127). One add and one subtract, where f32x4.nearest and
  // i32x4.trunc_sat_f32x4_s took V8 ~8 x64 instructions (trunc_sat fixes up NaN and overflow).
  const shifted = f32x4.add(f32x4.mul(v, vc(LOG2E)), vc(ROUNDING_SHIFT));
  const n = f32x4.sub(shifted, vc(ROUNDING_SHIFT));
  // r = v − n·ln2, with ln2 split in two so n·ln2_hi is exact.
  let r = f32x4.sub(v, f32x4.mul(n, vc(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, vc(LN2_LO)));
  // Horner's rule spelled out, here and below: a shared helper looping over the coefficients ran
  // these functions 20–35% slower (V8 does not unroll the loop).
  let p = vc(EXP_P);
  p = madd(p, r, vc(EXP_P + 16));
  p = madd(p, r, vc(EXP_P + 32));
  p = madd(p, r, vc(EXP_P + 48));
  p = madd(p, r, vc(EXP_P + 64));
  p = madd(p, r, vc(EXP_P + 80));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), vc(ONE));
  // (bits(shifted) + 127) << 23 = (n + 127) << 23: the shift drops 1.5·2²³'s own bits.
  const scale = i32x4.shl(i32x4.add(shifted, vc(EXPONENT_BIAS)), 23);
  return f32x4.mul(p, scale);
}

/**
 * x clamped to the table's [lo, hi] by pseudo-min/max (`b < a ? b : a`), one x64 instruction each
 * where f32x4.min/max's NaN and signed-zero rules cost V8 ~7; x stays the first operand, so a NaN x
 * comes through as NaN, as with min/max.
 */
function clampV(x: v128, lo: usize, hi: usize): v128 {
  return f32x4.pmin(f32x4.pmax(x, vc(lo)), vc(hi));
}

export function sigmoidV(x: v128): v128 {
  return f32x4.div(vc(ONE), f32x4.add(vc(ONE), expV(f32x4.neg(x))));
}

export function tanhV(x: v128): v128 {
  const v = clampV(x, TANH_LO, TANH_HI);
  const x2 = f32x4.mul(v, v);
  let p = vc(TANH_P);
  p = madd(p, x2, vc(TANH_P + 16));
  p = madd(p, x2, vc(TANH_P + 32));
  p = madd(p, x2, vc(TANH_P + 48));
  p = madd(p, x2, vc(TANH_P + 64));
  p = madd(p, x2, vc(TANH_P + 80));
  p = madd(p, x2, vc(TANH_P + 96));
  let q = vc(TANH_Q);
  q = madd(q, x2, vc(TANH_Q + 16));
  q = madd(q, x2, vc(TANH_Q + 32));
  q = madd(q, x2, vc(TANH_Q + 48));
  return f32x4.div(f32x4.mul(v, p), q);
}

/**
 * GELU, 0.5·x·(1 + erf(x/√2)), through erfc(|x|/√2) (Numerical Recipes' erfcc: fractional error
 * below 1.2e-7, one exp) so that the negative tail keeps its relative accuracy — the formula of the
 * TypeScript reference, ops/activations.ts.
 */
export function geluErfV(x: v128): v128 {
  const z = f32x4.mul(f32x4.abs(x), vc(SQRT1_2));
  const t = f32x4.div(vc(ONE), madd(vc(HALF), z, vc(ONE)));
  let p = vc(ERFC_P);
  p = madd(p, t, vc(ERFC_P + 16));
  p = madd(p, t, vc(ERFC_P + 32));
  p = madd(p, t, vc(ERFC_P + 48));
  p = madd(p, t, vc(ERFC_P + 64));
  p = madd(p, t, vc(ERFC_P + 80));
  p = madd(p, t, vc(ERFC_P + 96));
  p = madd(p, t, vc(ERFC_P + 112));
  p = madd(p, t, vc(ERFC_P + 128));
  p = madd(p, t, vc(ERFC_P + 144));
  const erfc = f32x4.mul(t, expV(f32x4.sub(p, f32x4.mul(z, z))));
  // x ≥ 0: 0.5·x·(2 − erfc); x < 0: 0.5·x·erfc.
  const factor = v128.bitselect(erfc, f32x4.sub(vc(TWO), erfc), f32x4.lt(x, f32x4.splat(0)));
  return f32x4.mul(f32x4.mul(vc(HALF), x), factor);
}

/**
 * GELU's tanh form, 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), computed as x·σ(2u) —
 * the same value, without the cancellation of 1 + tanh(u) in the negative tail.
 */
export function geluTanhV(x: v128): v128 {
  // 2u in one product: 2·√(2/π) is the double of √(2/π) in float32 too, so 2u is bit for bit the same.
  const u2 = f32x4.mul(vc(SQRT_8_PI), madd(f32x4.mul(vc(GELU_CUBIC), x), f32x4.mul(x, x), x));
  return f32x4.mul(x, sigmoidV(u2));
}

/** max(x, 0) that keeps NaN and −0 as they are (x < 0 ? 0 : x), like the TypeScript reference. */
export function reluV(x: v128): v128 {
  const zero = f32x4.splat(0);
  return v128.bitselect(zero, x, f32x4.lt(x, zero));
}

export const ACT_SIGMOID: i32 = 1;
export const ACT_TANH: i32 = 2;
export const ACT_GELU_ERF: i32 = 3;
export const ACT_GELU_TANH: i32 = 4;
export const ACT_RELU: i32 = 5;

/**
 * y[i] = f(x[i]) for i < n, f one of the ACT_ codes (y may be x); the last n mod 4 go through 16
 * bytes of the workspace `ws`, so nothing past element n − 1 is touched.
 */
export function activation(f: i32, x: usize, y: usize, n: i32, ws: usize): void {
  const full = n & ~3;
  vectors(f, x, y, full);
  if (full == n) return;
  v128.store(ws, f32x4.splat(0));
  for (let i = full; i < n; i++) store<f32>(ws + <usize>(i - full) * 4, load<f32>(x + <usize>i * 4));
  vectors(f, ws, ws, 4);
  for (let i = full; i < n; i++) store<f32>(y + <usize>i * 4, load<f32>(ws + <usize>(i - full) * 4));
}

/**
 * y = f(x) on n floats, a multiple of 4: one loop per function, each the function's only caller, so
 * that the optimizer inlines it. A call per vector (a shared `apply(f, v)` did that) leaves each
 * vector's long dependency chain — GELU's polynomial, division and exp — to finish before the next
 * starts. Measured per element (131072 floats in and out, one thread): GELU 9.7 → 6.9 ns, tanh-GELU
 * 6.7 → 3.6, sigmoid 4.2 → 3.7, tanh 3.8 → 2.2, Relu 1.3 → 0.23; DenseNet-121's 62 Relu nodes
 * 17.8 → 7.6 ms per run.
 */
function vectors(f: i32, x: usize, y: usize, n: i32): void {
  const end = <usize>n * 4;
  if (f == ACT_RELU) {
    for (let i: usize = 0; i < end; i += 16) v128.store(y + i, reluV(v128.load(x + i)));
  } else if (f == ACT_SIGMOID) {
    for (let i: usize = 0; i < end; i += 16) v128.store(y + i, sigmoidV(v128.load(x + i)));
  } else if (f == ACT_TANH) {
    for (let i: usize = 0; i < end; i += 16) v128.store(y + i, tanhV(v128.load(x + i)));
  } else if (f == ACT_GELU_ERF) {
    for (let i: usize = 0; i < end; i += 16) v128.store(y + i, geluErfV(v128.load(x + i)));
  } else {
    for (let i: usize = 0; i < end; i += 16) v128.store(y + i, geluTanhV(v128.load(x + i)));
  }
}

/**
 * Softmax of `rows` rows of `len` floats laid end to end: y = exp(x − max) / Σ, the max taken first
 * (a NaN in a row makes the row NaN, as in the TypeScript reference), the sum in float32.
 */
export function softmaxRows(x: usize, y: usize, rows: i32, len: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * len * 4;
    const yr = y + <usize>r * len * 4;
    let mv = f32x4.splat(-Infinity);
    let k = 0;
    for (; k + 4 <= len; k += 4) mv = f32x4.max(mv, v128.load(xr + <usize>k * 4));
    let m = max(
      max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
      max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)),
    );
    for (; k < len; k++) m = max(m, load<f32>(xr + <usize>k * 4));
    const mV = f32x4.splat(m);
    let sv = f32x4.splat(0);
    k = 0;
    for (; k + 4 <= len; k += 4) {
      const e = expV(f32x4.sub(v128.load(xr + <usize>k * 4), mV));
      v128.store(yr + <usize>k * 4, e);
      sv = f32x4.add(sv, e);
    }
    let sum =
      f32x4.extract_lane(sv, 0) +
      f32x4.extract_lane(sv, 1) +
      f32x4.extract_lane(sv, 2) +
      f32x4.extract_lane(sv, 3);
    for (; k < len; k++) {
      const e = f32x4.extract_lane(expV(f32x4.splat(load<f32>(xr + <usize>k * 4) - m)), 0);
      store<f32>(yr + <usize>k * 4, e);
      sum += e;
    }
    const inv = f32x4.splat(1 / sum);
    k = 0;
    for (; k + 4 <= len; k += 4) v128.store(yr + <usize>k * 4, f32x4.mul(v128.load(yr + <usize>k * 4), inv));
    for (; k < len; k++) store<f32>(yr + <usize>k * 4, load<f32>(yr + <usize>k * 4) / sum);
  }
}

/**
 * Per-channel affine map of N images of C channels × S elements (inference BatchNormalization):
 * y = x·scale[c] + shift[c] with float64 `scale` and `shift`, computed in float64 and rounded once —
 * bit-identical to the TypeScript loop — then max(·, 0) when `relu` (y may be x).
 */
export function channelAffine(
  x: usize,
  y: usize,
  N: i32,
  C: i32,
  S: i32,
  scale: usize,
  shift: usize,
  relu: bool,
): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const o = (<usize>n * C + c) * S * 4;
      const a = load<f64>(scale + <usize>c * 8);
      const b = load<f64>(shift + <usize>c * 8);
      const av = f64x2.splat(a);
      const bv = f64x2.splat(b);
      let i = 0;
      for (; i + 4 <= S; i += 4) {
        const v = v128.load(x + o + <usize>i * 4);
        const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(v), av), bv);
        const hi = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), av), bv);
        let r = v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
        if (relu) r = reluV(r);
        v128.store(y + o + <usize>i * 4, r);
      }
      for (; i < S; i++) {
        let v = <f32>(<f64>load<f32>(x + o + <usize>i * 4) * a + b);
        if (relu && v < 0) v = 0;
        store<f32>(y + o + <usize>i * 4, v);
      }
    }
  }
}

/**
 * Σ (x[j] − m)² over a row of `inner` floats (Σ x[j] when `square` is false), in float64: four
 * running sums of every fourth element, added pairwise at the end, then the tail — a fixed order,
 * the same for any split of the rows, that does not wait on one add per element.
 */
function rowSum(xr: usize, inner: i32, m: f64, square: bool): f64 {
  const mv = f64x2.splat(m);
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= inner; j += 4) {
    const v = v128.load(xr + <usize>j * 4);
    let lo = f64x2.promote_low_f32x4(v);
    let hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    if (square) {
      lo = f64x2.sub(lo, mv);
      hi = f64x2.sub(hi, mv);
      lo = f64x2.mul(lo, lo);
      hi = f64x2.mul(hi, hi);
    }
    a0 = f64x2.add(a0, lo);
    a1 = f64x2.add(a1, hi);
  }
  let s =
    f64x2.extract_lane(a0, 0) +
    f64x2.extract_lane(a1, 0) +
    (f64x2.extract_lane(a0, 1) + f64x2.extract_lane(a1, 1));
  for (; j < inner; j++) {
    const d = <f64>load<f32>(xr + <usize>j * 4) - (square ? m : 0);
    s += square ? d * d : d;
  }
  return s;
}

/** z = skip + (x + bias) over `inner` floats (bias: `inner` floats, or 0 for none), each add rounded to float32. */
function residualRow(x: usize, skip: usize, bias: usize, z: usize, inner: i32): void {
  let j = 0;
  for (; j + 4 <= inner; j += 4) {
    const o = <usize>j * 4;
    let t = v128.load(x + o);
    if (bias != 0) t = f32x4.add(t, v128.load(bias + o));
    v128.store(z + o, f32x4.add(v128.load(skip + o), t));
  }
  for (; j < inner; j++) {
    const o = <usize>j * 4;
    let t = load<f32>(x + o);
    if (bias != 0) t = t + load<f32>(bias + o);
    store<f32>(z + o, load<f32>(skip + o) + t);
  }
}

/**
 * LayerNormalization (RMSNormalization when `rms`: mean taken as 0) over `rows` rows of `inner`
 * floats: per row the mean and invStd = 1/√(Σ(x − mean)²/inner + eps) in float64 (stored to the
 * float64 arrays `mean` and `invStd`, one per row), then y = ((x − mean)·invStd)·scale[j] + bias[j],
 * every operand float64 (scale and bias are float64 arrays) and the result rounded once. With `skip`
 * (non-zero) each row normalized is skip + (x + addBias), written to `sum` first. The sums
 * run in another order than the TypeScript reference's one-by-one loop (float64: results agree to
 * the last float32 bit but in rare ties).
 */
export function normRows(
  x: usize,
  y: usize,
  rows: i32,
  inner: i32,
  mean: usize,
  invStd: usize,
  scale: usize,
  bias: usize,
  eps: f64,
  rms: bool,
  skip: usize,
  addBias: usize,
  sum: usize,
): void {
  for (let r = 0; r < rows; r++) {
    let xr = x + <usize>r * inner * 4;
    const yr = y + <usize>r * inner * 4;
    if (skip != 0) {
      // SkipLayerNormalization: the row normalized is skip + (x + addBias), made (and kept in
      // `sum`) first, in float32 as the two Adds it replaces.
      const zr = sum + <usize>r * inner * 4;
      residualRow(xr, skip + <usize>r * inner * 4, addBias, zr, inner);
      xr = zr;
    }
    const m = rms ? 0 : rowSum(xr, inner, 0, false) / <f64>inner;
    const s = 1 / Math.sqrt(rowSum(xr, inner, m, true) / <f64>inner + eps);
    store<f64>(mean + <usize>r * 8, m);
    store<f64>(invStd + <usize>r * 8, s);
    const mv = f64x2.splat(m);
    const sv = f64x2.splat(s);
    let j = 0;
    for (; j + 4 <= inner; j += 4) {
      const v = v128.load(xr + <usize>j * 4);
      const p = scale + <usize>j * 8;
      const q = bias + <usize>j * 8;
      const lo = f64x2.add(
        f64x2.mul(f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v), mv), sv), v128.load(p)),
        v128.load(q),
      );
      const hi = f64x2.add(
        f64x2.mul(
          f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), mv), sv),
          v128.load(p, 16),
        ),
        v128.load(q, 16),
      );
      v128.store(
        yr + <usize>j * 4,
        v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5),
      );
    }
    for (; j < inner; j++) {
      const v =
        (<f64>load<f32>(xr + <usize>j * 4) - m) * s * load<f64>(scale + <usize>j * 8) +
        load<f64>(bias + <usize>j * 8);
      store<f32>(yr + <usize>j * 4, <f32>v);
    }
  }
}

/**
 * LRN with β = 0.75 over N images of C channels × S positions, for positions [lo, hi) of each plane:
 * y = x / (bias + k·Σ x²)^0.75, the sum over the `before` channels before and `after` after, kept in
 * float64 in `sq` (hi − lo doubles) as it slides along the channels — one channel enters, one leaves
 * — and t^0.75 as √(t·√t): the TypeScript loop's float64 arithmetic in the same order, rounded once,
 * so bit-identical to it. Positions are independent: any split of [0, S) gives the same result.
 */
export function lrn075(
  x0: usize,
  y0: usize,
  N: i32,
  C: i32,
  S: i32,
  lo: i32,
  hi: i32,
  before: i32,
  after: i32,
  k: f64,
  bias: f64,
  sq: usize,
): void {
  const x = x0 + <usize>lo * 4;
  const y = y0 + <usize>lo * 4;
  const W = hi - lo;
  for (let n = 0; n < N; n++) {
    memory.fill(sq, 0, <usize>W * 8);
    for (let c = 0; c <= after; c++) addSquares(x, n, c, C, S, W, 1, sq);
    for (let c = 0; c < C; c++) {
      const b = (<usize>n * C + c) * S * 4;
      const kv = f64x2.splat(k);
      const bv = f64x2.splat(bias);
      let s = 0;
      for (; s + 2 <= W; s += 2) {
        const v = f64x2.promote_low_f32x4(v128.load64_zero(x + b + <usize>s * 4));
        const t = f64x2.add(bv, f64x2.mul(kv, v128.load(sq + <usize>s * 8)));
        const r = f64x2.div(v, f64x2.sqrt(f64x2.mul(t, f64x2.sqrt(t))));
        v128.store64_lane(y + b + <usize>s * 4, f32x4.demote_f64x2_zero(r), 0);
      }
      for (; s < W; s++) {
        const t = bias + k * load<f64>(sq + <usize>s * 8);
        store<f32>(
          y + b + <usize>s * 4,
          <f32>(<f64>load<f32>(x + b + <usize>s * 4) / Math.sqrt(t * Math.sqrt(t))),
        );
      }
      addSquares(x, n, c + after + 1, C, S, W, 1, sq);
      addSquares(x, n, c - before, C, S, W, -1, sq);
    }
  }
}

/** sq[s] += sign·x[n, c, s]² for s < W, for a channel inside [0, C), in float64 (LRN's sliding sum). */
function addSquares(x: usize, n: i32, c: i32, C: i32, S: i32, W: i32, sign: f64, sq: usize): void {
  if (c < 0 || c >= C) return;
  const b = x + (<usize>n * C + c) * S * 4;
  const g = f64x2.splat(sign);
  let s = 0;
  for (; s + 2 <= W; s += 2) {
    const v = f64x2.promote_low_f32x4(v128.load64_zero(b + <usize>s * 4));
    const q = sq + <usize>s * 8;
    v128.store(q, f64x2.add(v128.load(q), f64x2.mul(f64x2.mul(g, v), v)));
  }
  for (; s < W; s++) {
    const v = <f64>load<f32>(b + <usize>s * 4);
    const q = sq + <usize>s * 8;
    store<f64>(q, load<f64>(q) + sign * v * v);
  }
}
