/**
 * Vectorised transcendental functions for the kernels, float32-accurate (a few ulp): exp by range
 * reduction to [−ln2/2, ln2/2] and Cephes' degree-6 polynomial, scaled by 2ⁿ through the exponent
 * bits; tanh as the [13/6] rational approximation Eigen uses (odd numerator, clamped where tanh is
 * ±1 in float32), accurate near 0 where 1 − 2/(e²ˣ + 1) would cancel; sigmoid = 1 / (1 + e⁻ˣ).
 */
import { madd } from './simd';

export function expV(x: v128): v128 {
  const v = f32x4.min(f32x4.max(x, f32x4.splat(-87.33654)), f32x4.splat(88.37626));
  const n = f32x4.nearest(f32x4.mul(v, f32x4.splat(1.4426950408889634)));
  // r = v − n·ln2, with ln2 split in two so n·ln2_hi is exact.
  let r = f32x4.sub(v, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.1219444e-4)));
  let p = f32x4.splat(1.98756915e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

export function sigmoidV(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expV(f32x4.neg(x))));
}

export function tanhV(x: v128): v128 {
  const v = f32x4.min(f32x4.max(x, f32x4.splat(-7.90531110763549805)), f32x4.splat(7.90531110763549805));
  const x2 = f32x4.mul(v, v);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = madd(p, x2, f32x4.splat(2.00018790482477e-13));
  p = madd(p, x2, f32x4.splat(-8.60467152213735e-11));
  p = madd(p, x2, f32x4.splat(5.12229709037114e-8));
  p = madd(p, x2, f32x4.splat(1.48572235717979e-5));
  p = madd(p, x2, f32x4.splat(6.37261928875436e-4));
  p = madd(p, x2, f32x4.splat(4.89352455891786e-3));
  let q = f32x4.splat(1.19825839466702e-6);
  q = madd(q, x2, f32x4.splat(1.18534705686654e-4));
  q = madd(q, x2, f32x4.splat(2.268434632439e-3));
  q = madd(q, x2, f32x4.splat(4.89352518554385e-3));
  return f32x4.div(f32x4.mul(v, p), q);
}

export const ACT_SIGMOID: i32 = 1;
export const ACT_TANH: i32 = 2;

function apply(f: i32, v: v128): v128 {
  return f == ACT_SIGMOID ? sigmoidV(v) : tanhV(v);
}

/** y[i] = f(x[i]) for i < n, f ACT_SIGMOID or ACT_TANH (y may be x). */
export function activation(f: i32, x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + <usize>i * 4, apply(f, v128.load(x + <usize>i * 4)));
  // The last n mod 4 one at a time (in lane 0), never touching memory past element n − 1.
  for (; i < n; i++) {
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(apply(f, f32x4.splat(load<f32>(x + <usize>i * 4))), 0));
  }
}
