/**
 * The vector constants of the transcendental kernels (activations.ts), in a table at a fixed
 * address of the memory. V8 builds every v128.const from general registers, ~3 x64 instructions
 * each time a loop uses it (expV alone uses 14); a load from this table is one instruction and hits
 * L1. Per element over 65536 floats, one thread, relaxed SIMD: sigmoid 2.0 → 1.35 ns, tanh 1.0 →
 * 0.78, GELU 3.55 → 3.37; tanh-GELU 1.55 → 1.72 and softmax rows 1.92 → 2.09 (their loops kept
 * fewer constants, which V8 then held in registers).
 *
 * The JS allocator never hands out the memory below RESERVED_LOW_BYTES (runtime/wasm-allocator.ts),
 * and the kernels' owner calls `initConstants` once per memory before any kernel runs
 * (ep/cpu/wasm/kernels.ts); every instance on the memory, the worker threads' included, reads the
 * same table.
 */

/** First byte of the table (offset 0 stays null). */
const BASE: usize = 64;

// exp: clamp, n = round(x·log2 e), ln 2 in two parts, Cephes' polynomial, 2ⁿ's exponent bias.
export const EXP_LO: usize = BASE;
export const EXP_HI: usize = BASE + 16;
export const LOG2E: usize = BASE + 32;
/** 1.5·2²³: float32 sums with it round to an integer, kept in the low mantissa bits. */
export const ROUNDING_SHIFT: usize = BASE + 48;
export const LN2_HI: usize = BASE + 64;
export const LN2_LO: usize = BASE + 80;
/** EXP_P + 16·i: the polynomial's coefficients, highest degree first (6 of them). */
export const EXP_P: usize = BASE + 96;
export const ONE: usize = BASE + 192;
export const EXPONENT_BIAS: usize = BASE + 208;
// tanh: Eigen's clamp and [13/6] rational function, coefficients highest degree first.
export const TANH_LO: usize = BASE + 224;
export const TANH_HI: usize = BASE + 240;
/** TANH_P + 16·i: 7 numerator coefficients; TANH_Q + 16·i: 4 denominator coefficients. */
export const TANH_P: usize = BASE + 256;
export const TANH_Q: usize = BASE + 368;
// GELU: 1/√2, erfc's 10 coefficients (highest first), 0.5, 2; tanh form's 2·√(2/π) and 0.044715.
export const SQRT1_2: usize = BASE + 432;
export const ERFC_P: usize = BASE + 448;
export const HALF: usize = BASE + 608;
export const TWO: usize = BASE + 624;
export const SQRT_8_PI: usize = BASE + 640;
export const GELU_CUBIC: usize = BASE + 656;
/** One past the table (kernels.test.ts checks that the allocator's reserved bytes hold it). */
export const CONSTANTS_END: usize = BASE + 672;

/** The constant at `at` (one of the addresses above, + 16·i into a coefficient list); inlined. */
export function vc(at: usize): v128 {
  return v128.load(at);
}

/** Writes `value` to every lane of the vector at `at`. */
function put(at: usize, value: f32): void {
  v128.store(at, f32x4.splat(value));
}

/**
 * Writes the table (idempotent: every owner of the memory writes the same bytes). Value by value:
 * an array literal would be a data segment or a runtime allocation, both in memory the JS side owns.
 */
export function initConstants(): void {
  put(EXP_LO, -87.33654);
  put(EXP_HI, 88.37626);
  put(LOG2E, 1.4426950408889634);
  put(ROUNDING_SHIFT, 12582912);
  put(LN2_HI, 0.693359375);
  put(LN2_LO, -2.1219444e-4);
  put(EXP_P, 1.98756915e-4);
  put(EXP_P + 16, 1.3981999507e-3);
  put(EXP_P + 32, 8.3334519073e-3);
  put(EXP_P + 48, 4.1665795894e-2);
  put(EXP_P + 64, 1.6666665459e-1);
  put(EXP_P + 80, 5.0000001201e-1);
  put(ONE, 1);
  v128.store(EXPONENT_BIAS, i32x4.splat(127));
  put(TANH_LO, -7.90531110763549805);
  put(TANH_HI, 7.90531110763549805);
  put(TANH_P, -2.76076847742355e-16);
  put(TANH_P + 16, 2.00018790482477e-13);
  put(TANH_P + 32, -8.60467152213735e-11);
  put(TANH_P + 48, 5.12229709037114e-8);
  put(TANH_P + 64, 1.48572235717979e-5);
  put(TANH_P + 80, 6.37261928875436e-4);
  put(TANH_P + 96, 4.89352455891786e-3);
  put(TANH_Q, 1.19825839466702e-6);
  put(TANH_Q + 16, 1.18534705686654e-4);
  put(TANH_Q + 32, 2.268434632439e-3);
  put(TANH_Q + 48, 4.89352518554385e-3);
  put(SQRT1_2, 0.7071067811865476);
  put(ERFC_P, 0.17087277);
  put(ERFC_P + 16, -0.82215223);
  put(ERFC_P + 32, 1.48851587);
  put(ERFC_P + 48, -1.13520398);
  put(ERFC_P + 64, 0.27886807);
  put(ERFC_P + 80, -0.18628806);
  put(ERFC_P + 96, 0.09678418);
  put(ERFC_P + 112, 0.37409196);
  put(ERFC_P + 128, 1.00002368);
  put(ERFC_P + 144, -1.26551223);
  put(HALF, 0.5);
  put(TWO, 2);
  put(SQRT_8_PI, 1.5957691216057308);
  put(GELU_CUBIC, 0.044715);
}
