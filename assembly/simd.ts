/** SIMD helpers shared by the kernels. */

/** a·b + c: one fused multiply-add in the relaxed-SIMD build (ASC_FEATURE_RELAXED_SIMD). */
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
