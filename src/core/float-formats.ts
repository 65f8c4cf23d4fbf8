/**
 * Conversions between JS numbers and the ONNX minifloat element types, which tensors store as raw bit
 * patterns (see `dtype.ts`): float16 / bfloat16 in Uint16Array; the float8 variants and float8e8m0 in
 * Uint8Array; float4e2m1 one element per byte (low 4 bits) in Uint8Array.
 *
 * Every format is described by one row of `SPECS` and handled by the same codec. float16 and bfloat16
 * additionally get hand-specialised encoders (they are used on large tensors); the tests check them
 * against the generic codec.
 *
 * Semantics follow the ONNX Cast operator (opset 24+) and its reference implementation:
 * - Rounding is round-to-nearest-even at the target precision, subnormals included.
 * - float16 / bfloat16: IEEE-like; overflow gives ±inf. `saturate` is ignored. Cast to bfloat16 rounds to
 *   nearest even: the ONNX 1.23 conformance data (test_cast_FLOAT_to_BFLOAT16) expects that, not the
 *   truncation that onnx.helper.float32_to_bfloat16(truncate=True) and older test data used.
 * - float8 (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz), following the two tables in the Cast description:
 *   `saturate` = true (default): ±inf and values whose rounded magnitude exceeds the largest finite value
 *   become ±max (for every one of the four, fnuz included, and e5m2's inf too);
 *   `saturate` = false: they become NaN, or ±inf for e5m2. "Exceeds" is judged after rounding, so e.g.
 *   464 (the tie between 448 and 480) becomes 448 in e4m3fn, while 248 overflows e4m3fnuz (its max 240
 *   has an odd mantissa, so the tie goes up).
 *   fnuz formats have no -0: -0 and negative values that round to zero encode as +0 (0x00); 0x80 is NaN.
 * - float4e2m1 always saturates (±inf and overflow → ±6) and has no NaN. -0 is kept (0x8). NaN (of
 *   either sign) encodes as 0x8, the bare sign bit. This follows the ONNX 1.23 conformance data
 *   (test_cast_FLOAT_to_FLOAT4E2M1, test_castlike_FLOAT{,16}_to_FLOAT4E2M1 map the positive NaN
 *   0x7fc00000 / 0x7e00 to 0x8). That data comes from ONNX's own reference implementation (Cast there
 *   is numpy `astype` to ml_dtypes' float4_e2m1fn), so it is what ONNX's checker holds runtimes to. The
 *   float4 table in ONNX's docs (and, per an earlier note here, onnxruntime) give +6 (0x7) instead;
 *   Onyx follows the test data. Decoding 0x8 still gives -0 (NaN does not survive a round trip).
 * - float8e8m0 (unsigned, value 2^(bits-127), 0xFF = NaN) takes a rounding mode; see `E8M0RoundMode`.
 *
 * Inputs are JS numbers (float64). They are first narrowed to float32 with round-to-odd (a sticky bit
 * records any precision lost), which makes the second rounding to the target exact: every target has
 * at least two fewer significand bits than float32 and no wider exponent range, so the result equals a
 * single correct rounding of the float64 value (no double-rounding error for Cast from double).
 */

export type MinifloatType =
  | 'float16'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'float4e2m1'
  | 'float8e8m0';

/**
 * Cast's `round_mode` attribute (opset 24+), which only applies to float8e8m0. Following the ONNX
 * reference (`numpy_helper.to_float8e8m0`), `up` is the ceiling to a power of two (any fraction rounds
 * up, the CUDA behaviour), `down` truncates to the power of two below, and `nearest` rounds to the
 * nearer power of two with the tie (1.5·2^k) going up.
 */
export type E8M0RoundMode = 'up' | 'down' | 'nearest';

/** How NaN is encoded: IEEE (all-ones exponent, non-zero mantissa); all magnitude bits set; the sign bit alone (fnuz); none. */
type NanEncoding = 'ieee' | 'allOnes' | 'negZero' | 'none';
/** What overflow (and ±inf) becomes: ±inf always; ±max always; or chosen by Cast's `saturate` flag. */
type OverflowRule = 'inf' | 'saturate' | 'attr';

interface FormatSpec {
  readonly exponentBits: number;
  readonly mantissaBits: number;
  readonly bias: number;
  readonly hasInfinity: boolean;
  readonly nan: NanEncoding;
  /** "Finite, no negative zero": -0 encodes as +0 and the bare sign bit is NaN. */
  readonly fnuz: boolean;
  /** No sign bit and no mantissa: the bits are the biased exponent (float8e8m0). */
  readonly exponentOnly: boolean;
  readonly overflow: OverflowRule;
}

function spec(
  exponentBits: number,
  mantissaBits: number,
  bias: number,
  nan: NanEncoding,
  overflow: OverflowRule,
  exponentOnly = false,
): FormatSpec {
  return {
    exponentBits,
    mantissaBits,
    bias,
    hasInfinity: nan === 'ieee',
    nan,
    fnuz: nan === 'negZero',
    exponentOnly,
    overflow,
  };
}

const SPECS: Readonly<Record<MinifloatType, FormatSpec>> = {
  float16: spec(5, 10, 15, 'ieee', 'inf'),
  bfloat16: spec(8, 7, 127, 'ieee', 'inf'),
  float8e4m3fn: spec(4, 3, 7, 'allOnes', 'attr'),
  float8e4m3fnuz: spec(4, 3, 8, 'negZero', 'attr'),
  float8e5m2: spec(5, 2, 15, 'ieee', 'attr'),
  float8e5m2fnuz: spec(5, 2, 16, 'negZero', 'attr'),
  float4e2m1: spec(2, 1, 1, 'none', 'saturate'),
  float8e8m0: spec(8, 0, 127, 'allOnes', 'attr', true),
};

/** A format's constants, derived once from its spec so the hot paths only read numbers. */
interface Codec {
  readonly type: MinifloatType;
  readonly spec: FormatSpec;
  readonly totalBits: number;
  readonly mantissaBits: number;
  readonly bias: number;
  /** Unbiased exponent of the smallest normal number (also the scale of the subnormals). */
  readonly emin: number;
  readonly signBit: number;
  readonly magMask: number;
  /** Magnitude bits of the largest finite value. */
  readonly maxMag: number;
  /** Magnitude bits of infinity (only meaningful when the format has one). */
  readonly infMag: number;
  /** Lazily built bits → value table (all formats except bfloat16, whose decode is a shift). */
  table: Float32Array | undefined;
}

function makeCodec(type: MinifloatType): Codec {
  const s = SPECS[type];
  const totalBits = s.exponentOnly ? s.exponentBits : 1 + s.exponentBits + s.mantissaBits;
  const signBit = s.exponentOnly ? 0 : 1 << (totalBits - 1);
  const magMask = s.exponentOnly ? (1 << totalBits) - 1 : signBit - 1;
  const infMag = ((1 << s.exponentBits) - 1) << s.mantissaBits;
  // IEEE formats reserve the top exponent; e4m3fn and e8m0 reserve only the all-ones pattern for NaN;
  // fnuz and float4 use every magnitude pattern for finite numbers.
  const maxMag = s.nan === 'ieee' ? infMag - 1 : s.nan === 'allOnes' ? magMask - 1 : magMask;
  return {
    type,
    spec: s,
    totalBits,
    mantissaBits: s.mantissaBits,
    bias: s.bias,
    emin: 1 - s.bias,
    signBit,
    magMask,
    maxMag,
    infMag,
    table: undefined,
  };
}

const CODECS = new Map<string, Codec>((Object.keys(SPECS) as MinifloatType[]).map((t) => [t, makeCodec(t)]));

function codecOf(type: MinifloatType): Codec {
  const c = CODECS.get(type);
  if (!c) throw new TypeError(`'${String(type)}' is not a minifloat type`);
  return c;
}

export function isMinifloat(t: string): t is MinifloatType {
  return CODECS.has(t);
}

// ---------------------------------------------------------------------------------------------------
// float32 bit access. One shared scratch: JS is single-threaded and none of these functions re-enter.

const SCRATCH_F32 = new Float32Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH_F32.buffer);

/**
 * float32 bits of `v`, rounded to odd when `v` is not exactly a float32: if the round-to-nearest result
 * has an even last bit, step one ulp back towards `v`. The odd last bit then acts as a sticky bit, so a
 * later rounding to fewer bits sees "above/below the tie" correctly.
 */
function f32BitsRoundOdd(v: number): number {
  SCRATCH_F32[0] = v;
  const r = SCRATCH_F32[0];
  let b = SCRATCH_U32[0];
  // `r === r` excludes NaN; bits are sign-magnitude, so ±1 moves the magnitude by one ulp.
  if (r !== v && r === r && (b & 1) === 0) b = Math.abs(r) > Math.abs(v) ? b - 1 : b + 1;
  return b;
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/** Exact value of a bit pattern, straight from the format's definition (used to build the tables). */
function decodeGeneric(c: Codec, bits: number): number {
  const s = c.spec;
  if (s.exponentOnly) return bits === c.magMask ? NaN : 2 ** (bits - c.bias);
  const mag = bits & c.magMask;
  const negative = (bits & c.signBit) !== 0;
  if (s.nan === 'negZero' && negative && mag === 0) return NaN;
  if (s.nan === 'allOnes' && mag === c.magMask) return NaN;
  const e = mag >>> c.mantissaBits;
  const m = mag & ((1 << c.mantissaBits) - 1);
  let v: number;
  if (s.nan === 'ieee' && mag >= c.infMag) {
    if (m !== 0) return NaN;
    v = Infinity;
  } else if (e === 0) {
    v = m * 2 ** (c.emin - c.mantissaBits); // subnormal (or zero)
  } else {
    v = (m + 2 ** c.mantissaBits) * 2 ** (e - c.bias - c.mantissaBits);
  }
  return negative ? -v : v;
}

/** bits → value table: 256 entries for the 8-bit formats, 16 for float4, 65536 for float16. */
function tableOf(c: Codec): Float32Array {
  let t = c.table;
  if (!t) {
    t = new Float32Array(1 << c.totalBits);
    for (let i = 0; i < t.length; i++) t[i] = decodeGeneric(c, i);
    c.table = t;
  }
  return t;
}

/** bits → value. NaN patterns (whatever their payload) give NaN; fnuz/e8m0 never give -0. */
export function minifloatToNumber(type: MinifloatType, bits: number): number {
  const c = codecOf(type);
  if (type === 'bfloat16') {
    // bfloat16 is the top half of a float32.
    SCRATCH_U32[0] = (bits & 0xffff) << 16;
    return SCRATCH_F32[0];
  }
  return tableOf(c)[bits & ((1 << c.totalBits) - 1)];
}

export function decodeMinifloats(
  type: MinifloatType,
  bits: Uint8Array | Uint16Array,
  out?: Float32Array,
): Float32Array {
  const c = codecOf(type);
  const n = bits.length;
  checkStorage(c, bits);
  if (out && out.length < n) throw new RangeError(`output holds ${out.length} elements, need ${n}`);
  const dst = out ?? new Float32Array(n);
  if (type === 'bfloat16') {
    // Write float32 bit patterns directly: exact, and NaN payloads survive.
    const d32 = new Uint32Array(dst.buffer, dst.byteOffset, n);
    for (let i = 0; i < n; i++) d32[i] = bits[i] << 16;
    return dst;
  }
  const table = tableOf(c);
  const mask = (1 << c.totalBits) - 1; // float4 lives in the low nibble
  for (let i = 0; i < n; i++) dst[i] = table[bits[i] & mask];
  return dst;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/**
 * float32 bits → format bits, for every format but e8m0. `sat` is the effective saturation: whether
 * overflow/±inf becomes ±max (else ±inf when the format has it, else NaN).
 */
function encodeGeneric(c: Codec, b: number, sat: boolean): number {
  const sign = b >>> 31 !== 0 ? c.signBit : 0;
  const a = b & 0x7fffffff;
  if (a > 0x7f800000) return nanBits(c, sign, a);

  let mag: number;
  if (a === 0x7f800000) {
    mag = c.maxMag + 1; // ±inf: treat as overflow, which the rules below resolve per format
  } else {
    // value = sig · 2^(eff-23), with the implicit bit for normal float32 numbers.
    const E = a >>> 23;
    const eff = (E === 0 ? 1 : E) - 127;
    const sig = E === 0 ? a & 0x7fffff : (a & 0x7fffff) | 0x800000;
    // Target exponent: the value's own, or emin for the target's subnormal range (fixed quantum).
    const te = eff > c.emin ? eff : c.emin;
    const shift = te - eff + 23 - c.mantissaBits; // bits of `sig` below the target's last place (≥ 13)
    let q = 0;
    if (shift <= 24) {
      // Beyond 24 the value is under half the smallest subnormal, which rounds to zero.
      q = sig >>> shift;
      const rem = sig & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && (q & 1) !== 0)) q++;
    }
    // q includes the implicit bit for normal results, so adding it to the exponent field minus one is
    // right for normals and subnormals alike, and a rounding carry moves into the exponent on its own.
    mag = ((te - c.emin) << c.mantissaBits) + q;
  }

  if (mag > c.maxMag) {
    if (sat) mag = c.maxMag;
    else if (c.spec.hasInfinity) mag = c.infMag;
    else return nanBits(c, sign, 0);
  }
  if (mag === 0 && c.spec.fnuz) return 0; // fnuz has no -0 (0x80 is its NaN)
  return sign | mag;
}

/** The format's NaN: IEEE formats keep sign and top payload bits (forced quiet); e4m3fn keeps the sign. */
function nanBits(c: Codec, sign: number, a: number): number {
  switch (c.spec.nan) {
    case 'ieee':
      return sign | c.infMag | (1 << (c.mantissaBits - 1)) | ((a & 0x7fffff) >>> (23 - c.mantissaBits));
    case 'allOnes':
      return sign | c.magMask;
    case 'negZero':
      return c.signBit;
    case 'none':
      return c.signBit; // float4e2m1: NaN → 0x8, as the ONNX reference (ml_dtypes) does; see the header
  }
}

/**
 * float32 bits → float8e8m0 bits. Sign is ignored (casting negatives is unspecified; the ONNX reference
 * uses the magnitude). Range is judged on the value rounded with an unbounded exponent, like the `[x]`
 * of the float8 tables: above 2^127 or below 2^-127 gives 2^127 / 2^-127 when saturating, else NaN
 * (so 2^-140 is out of range even for `up`, while 0.75·2^-127 rounds up to 2^-127). Zero is below the
 * range (ONNX's e8m0 table: 0 → 0x00 saturating, NaN otherwise); +inf → 2^127 saturating, else NaN.
 */
function encodeE8M0(b: number, sat: boolean, mode: E8M0RoundMode): number {
  const a = b & 0x7fffffff;
  if (a > 0x7f800000) return 0xff;
  if (a === 0x7f800000) return sat ? 0xfe : 0xff;
  if (a === 0) return sat ? 0x00 : 0xff;
  const E = a >>> 23;
  const m = a & 0x7fffff;
  let e: number; // floor(log2(value))
  let frac: number; // bits below the leading one
  let fracBits: number;
  if (E !== 0) {
    e = E - 127;
    frac = m;
    fracBits = 23;
  } else {
    const lead = 31 - Math.clz32(m); // float32 subnormal: value = m · 2^-149
    e = lead - 149;
    frac = m - 2 ** lead;
    fracBits = lead;
  }
  if (mode === 'up') {
    if (frac !== 0) e++;
  } else if (mode === 'nearest') {
    if (fracBits > 0 && frac >= 2 ** (fracBits - 1)) e++; // fraction ≥ .5: ties go up
  } // 'down': keep the power of two below
  const biased = e + 127;
  if (biased > 0xfe) return sat ? 0xfe : 0xff;
  if (biased < 0) return sat ? 0x00 : 0xff;
  return biased;
}

/** float16 from float32 bits: the generic algorithm with float16's constants folded in. */
function encodeF16(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff;
  if (a >= 0x47800000) {
    // ≥ 2^16: overflow, inf or NaN.
    if (a > 0x7f800000) return sign | 0x7e00 | ((a >>> 13) & 0x3ff);
    return sign | 0x7c00;
  }
  if (a >= 0x38800000) {
    // Normal float16 range (≥ 2^-14): round the 13 dropped bits to nearest even, then rebias (127 → 15).
    // A carry out of the mantissa bumps the exponent, up to infinity for [65520, 65536).
    return sign | (((a + 0xfff + ((a >>> 13) & 1)) >>> 13) - 0x1c000);
  }
  // Subnormal float16: count in units of 2^-24.
  const shift = 126 - (a >>> 23); // ≥ 14
  if (shift > 24) return sign; // below 2^-25: rounds to ±0
  const sig = (a & 0x7fffff) | 0x800000;
  let q = sig >>> shift;
  const rem = sig & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) !== 0)) q++;
  return sign | q;
}

/** bfloat16 from float32 bits: round the low 16 bits to nearest even; overflow carries into inf. */
function encodeBF16(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return (b >>> 16) | 0x40; // NaN: keep sign/payload, force quiet
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
}

/** Validates `round_mode` up front (it comes from a model attribute, so it may be any string). */
function checkRoundMode(mode: string): void {
  if (mode !== 'up' && mode !== 'down' && mode !== 'nearest') {
    throw new RangeError(`unknown float8e8m0 round_mode '${mode}' (expected up, down or nearest)`);
  }
}

function effectiveSaturate(c: Codec, saturate: boolean): boolean {
  return c.spec.overflow === 'attr' ? saturate : c.spec.overflow === 'saturate';
}

function encodeBits(c: Codec, b: number, sat: boolean, mode: E8M0RoundMode): number {
  switch (c.type) {
    case 'float16':
      return encodeF16(b);
    case 'bfloat16':
      return encodeBF16(b);
    case 'float8e8m0':
      return encodeE8M0(b, sat, mode);
    default:
      return encodeGeneric(c, b, sat);
  }
}

/**
 * value → bits, rounding to nearest even. `saturate` follows Cast's attribute of the same name (default
 * true) and only matters for the float8 types; `roundMode` only matters for float8e8m0.
 */
export function numberToMinifloat(
  type: MinifloatType,
  value: number,
  saturate = true,
  roundMode: E8M0RoundMode = 'up',
): number {
  const c = codecOf(type);
  checkRoundMode(roundMode);
  return encodeBits(c, f32BitsRoundOdd(value), effectiveSaturate(c, saturate), roundMode);
}

/**
 * Encodes `values` into `out` (or a new Uint16Array for float16/bfloat16, Uint8Array otherwise).
 * Float32Array input is read as bits directly (no per-element conversion).
 */
export function encodeMinifloats(
  type: MinifloatType,
  values: ArrayLike<number>,
  out?: Uint8Array | Uint16Array,
  saturate = true,
  roundMode: E8M0RoundMode = 'up',
): Uint8Array | Uint16Array {
  const c = codecOf(type);
  checkRoundMode(roundMode);
  const n = values.length;
  let dst: Uint8Array | Uint16Array;
  if (out) {
    checkStorage(c, out);
    if (out.length < n) throw new RangeError(`output holds ${out.length} elements, need ${n}`);
    dst = out;
  } else {
    dst = c.totalBits > 8 ? new Uint16Array(n) : new Uint8Array(n);
  }
  const sat = effectiveSaturate(c, saturate);
  const src32 =
    values instanceof Float32Array ? new Uint32Array(values.buffer, values.byteOffset, n) : undefined;
  // Separate loops per fast format so each call site stays monomorphic.
  if (type === 'float16') {
    if (src32) for (let i = 0; i < n; i++) dst[i] = encodeF16(src32[i]);
    else for (let i = 0; i < n; i++) dst[i] = encodeF16(f32BitsRoundOdd(values[i]));
  } else if (type === 'bfloat16') {
    if (src32) for (let i = 0; i < n; i++) dst[i] = encodeBF16(src32[i]);
    else for (let i = 0; i < n; i++) dst[i] = encodeBF16(f32BitsRoundOdd(values[i]));
  } else if (c.spec.exponentOnly) {
    if (src32) for (let i = 0; i < n; i++) dst[i] = encodeE8M0(src32[i], sat, roundMode);
    else for (let i = 0; i < n; i++) dst[i] = encodeE8M0(f32BitsRoundOdd(values[i]), sat, roundMode);
  } else if (src32) {
    for (let i = 0; i < n; i++) dst[i] = encodeGeneric(c, src32[i], sat);
  } else {
    for (let i = 0; i < n; i++) dst[i] = encodeGeneric(c, f32BitsRoundOdd(values[i]), sat);
  }
  return dst;
}

/** Rejects an array of the wrong element width (e.g. a Uint8Array for float16). */
function checkStorage(c: Codec, arr: Uint8Array | Uint16Array): void {
  const want = c.totalBits > 8 ? 2 : 1;
  if (arr.BYTES_PER_ELEMENT !== want) {
    throw new TypeError(`${c.type} is stored in ${want === 2 ? 'Uint16Array' : 'Uint8Array'}`);
  }
}

/**
 * The generic codec applied to float16/bfloat16 too, bypassing their specialised encoders. Exported only
 * so the tests can check the fast paths against it.
 * @internal
 */
export function encodeMinifloatGeneric(type: MinifloatType, value: number, saturate = true): number {
  const c = codecOf(type);
  const b = f32BitsRoundOdd(value);
  const sat = effectiveSaturate(c, saturate);
  return c.spec.exponentOnly ? encodeE8M0(b, sat, 'up') : encodeGeneric(c, b, sat);
}
