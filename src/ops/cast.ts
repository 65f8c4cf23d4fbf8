/**
 * Cast, CastLike and BitCast.
 *
 * Cast has one generic conversion path for every (source, target) pair: the source elements are read
 * as `number` (float, minifloat — decoded to exact float32 values — and ≤32-bit integers, bool as 0/1),
 * `bigint` (int64/uint64) or `string`, and a converter chosen once per node run turns each into the
 * target's storage element; minifloat targets are encoded at the end through `float-formats.ts`, which
 * applies `saturate` (float8, opset 19+) and `round_mode` (float8e8m0, opset 24+).
 *
 * Semantics (the spec leaves several cases undefined; Onyx follows what the ONNX reference
 * implementation — numpy / ml_dtypes on x86-64 — and onnxruntime produce):
 * - float → float rounds to nearest even, once (no double rounding, also from int64/uint64/double).
 * - float → integer truncates toward zero. Out-of-range values are undefined by the spec; like a C
 *   cast on x86-64: targets up to 32 bits (other than uint32) go through int32, so values outside the
 *   int32 range and NaN/±inf become INT32_MIN before wrapping to the target width; uint32 and the
 *   64-bit targets go through int64 (out-of-range → INT64_MIN; uint64 keeps [2^63, 2^64) exactly).
 *   int4/uint4/int2/uint2 wrap modulo 2^bits, as the ONNX test data expects (e.g. -9 → int4 7).
 * - integer → narrower integer wraps modulo 2^bits (two's complement); anything → bool is `x != 0`
 *   (NaN → true).
 * - number → string uses numpy's `astype(str)` formatting: shortest round-trip digits, positional for
 *   1e-4 ≤ |x| < 1e16 (float64), 1e6 (float32), 1e3 (float16), scientific (`1e+08`) otherwise;
 *   `nan`, `inf`, `-inf`, `-0.0`; bool → `True`/`False`. bfloat16/float8/float4 (ml_dtypes types in
 *   the reference) use C++'s `%g` (6 significant digits).
 * - string → number accepts decimal and scientific literals with surrounding whitespace, and
 *   `INF`/`+INF`/`-INF`/`INFINITY`/`NaN` in any case; integer literals convert exactly to int64/uint64;
 *   a decimal literal cast to an integer type is truncated ("100.5" → 100). Any other string is an
 *   error (the spec calls it undefined behaviour).
 */
import {
  allocData,
  DataType,
  dtypeFromCode,
  dtypeInfo,
  type DTypeInfo,
  type TensorData,
  type TensorType,
} from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import {
  encodeMinifloats,
  isMinifloat,
  minifloatToNumber,
  numberToMinifloat,
  type E8M0RoundMode,
  type MinifloatType,
} from '../core/float-formats.js';
import { Tensor } from '../core/tensor.js';
import type { Attributes } from '../ir/attributes.js';
import type { OpDef } from './kernel.js';
import { numbersOf, tensorInput } from './util/numeric.js';

export interface CastOptions {
  /** Cast's `saturate` attribute (float8 targets only); default true. */
  saturate?: boolean;
  /** Cast's `round_mode` attribute (float8e8m0 targets only); default 'up'. */
  roundMode?: E8M0RoundMode;
}

type SourceKind = 'number' | 'bigint' | 'string';

const INT32_MIN = -2147483648;
const TWO32 = 4294967296;
const TWO53 = 9007199254740992;
const TWO63 = 9223372036854775808;
const TWO64 = 18446744073709551616;
const INT64_MIN = -(2n ** 63n);

// ---------------------------------------------------------------------------------------------------
// number → integer (C-cast semantics on x86-64, see the module comment)

/** Wraps an integer-valued number (|t| < 2^53 or any exact integer) into `bits` two's complement. */
function wrapNumber(t: number, bits: number, signed: boolean): number {
  if (bits === 32) return signed ? t | 0 : t >>> 0;
  const shift = 32 - bits;
  return signed ? ((t | 0) << shift) >> shift : (t & ((1 << bits) - 1)) >>> 0;
}

/** A float to a ≤32-bit integer target (not uint32): through int32 as a C cast does. */
function floatToSmallInt(v: number, bits: number, signed: boolean): number {
  let t = Math.trunc(v);
  if (!(t >= INT32_MIN && t < 2147483648)) t = INT32_MIN; // NaN, ±inf, out of int32 range
  return wrapNumber(t, bits, signed);
}

/** A float to uint32: through int64. */
function floatToUint32(v: number): number {
  const t = Math.trunc(v);
  if (!(t >= -TWO63 && t < TWO63)) return 0; // low 32 bits of INT64_MIN
  const r = t % TWO32; // exact for integer-valued doubles
  return r < 0 ? r + TWO32 : r;
}

function floatToInt64(v: number): bigint {
  const t = Math.trunc(v);
  if (!(t >= -TWO63 && t < TWO63)) return INT64_MIN;
  return BigInt(t);
}

function floatToUint64(v: number): bigint {
  const t = Math.trunc(v);
  if (t >= 0 && t < TWO64) return BigInt(t);
  if (t >= -TWO63 && t < 0) return BigInt.asUintN(64, BigInt(t));
  return 2n ** 63n;
}

// ---------------------------------------------------------------------------------------------------
// bigint → float with a single rounding

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/**
 * The double nearest `v`, but rounded to odd when inexact, so that a later rounding to float32 or a
 * minifloat (≤ 24 significand bits) equals one correct rounding of `v` itself.
 */
function bigintToNumberRoundOdd(v: bigint): number {
  const n = Number(v);
  if (n > -TWO53 && n < TWO53) return n; // exact
  const back = BigInt(n);
  if (back === v) return n;
  F64[0] = n;
  if ((U64[0] & 1n) === 0n) {
    const absN = back < 0n ? -back : back;
    const absV = v < 0n ? -v : v;
    U64[0] = absN > absV ? U64[0] - 1n : U64[0] + 1n;
  }
  return F64[0];
}

// ---------------------------------------------------------------------------------------------------
// string parsing and formatting

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** A string as a JS number (see the module comment for the accepted forms). */
export function parseNumber(s: string): number {
  const t = s.trim();
  if (DECIMAL.test(t)) return Number(t);
  const lower = t.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return NaN;
  throw new OnyxError(
    'INVALID_ARGUMENT',
    `cannot cast string ${JSON.stringify(s)} to a number (expected a decimal or scientific literal, INF, -INF or NaN)`,
  );
}

/** A string as an exact integer when it is an integer literal, else undefined. */
function parseIntegerLiteral(s: string): bigint | undefined {
  const t = s.trim();
  return INTEGER.test(t) ? BigInt(t) : undefined;
}

/** Threshold below which numpy prints a float type positionally. */
const POSITIONAL_LIMIT: Partial<Record<TensorType, number>> = { float64: 1e16, float32: 1e6, float16: 1e3 };

/** Shortest decimal digits (no dot) and decimal exponent that round-trip `v` in `type`. */
function shortestDigits(v: number, type: TensorType): { digits: string; exp: number } {
  let s: string;
  if (type === 'float64') {
    s = v.toExponential();
  } else {
    const maxP = type === 'float16' ? 5 : 9;
    const roundTrip =
      type === 'float16'
        ? (x: number) => minifloatToNumber('float16', numberToMinifloat('float16', x))
        : Math.fround;
    // Round-tripping is monotonic in the digit count, so binary-search the shortest.
    let lo = 0;
    let hi = maxP - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (roundTrip(Number(v.toExponential(mid))) === v) hi = mid;
      else lo = mid + 1;
    }
    s = v.toExponential(lo);
  }
  const [mant, e] = s.split('e');
  return { digits: mant.replace('-', '').replace('.', ''), exp: Number(e) };
}

function expSuffix(exp: number): string {
  const a = Math.abs(exp);
  return `e${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
}

/** numpy's `str()` of a float16/float32/float64 value. */
function formatNumpyFloat(v: number, type: TensorType): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  const { digits, exp } = shortestDigits(a, type);
  if (a >= 1e-4 && a < (POSITIONAL_LIMIT[type] ?? 1e16)) {
    if (exp >= 0) {
      const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      return `${sign}${int}.${digits.slice(exp + 1) || '0'}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  const rest = digits.slice(1);
  return `${sign}${digits[0]}${rest ? '.' + rest : ''}${expSuffix(exp)}`;
}

/** C++ stream formatting of a float (`%g`, 6 significant digits), as ml_dtypes prints. */
function formatG6(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, e] = v.toExponential(5).split('e');
  const exp = Number(e);
  const strip = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 6) return `${strip(mant)}${expSuffix(exp)}`;
  return strip(v.toFixed(5 - exp));
}

/** 'true'/'false' (any case) or a number, non-zero (NaN included) meaning true. */
function stringToBool(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'true') return 1;
  if (t === 'false') return 0;
  return parseNumber(s) !== 0 ? 1 : 0;
}

function stringFormatter(src: TensorType): (x: number | bigint) => string {
  if (src === 'bool') return (x) => (x ? 'True' : 'False');
  const c = dtypeInfo(src).numericClass;
  if (c === 'int' || c === 'bigint') return (x) => String(x);
  if (src === 'float32' || src === 'float64' || src === 'float16')
    return (x) => formatNumpyFloat(x as number, src);
  return (x) => formatG6(x as number);
}

// ---------------------------------------------------------------------------------------------------
// The converter: one source element → one target storage element (minifloats: the value to encode)

type Converter = (x: any) => number | bigint | string;

function converterFor(srcType: TensorType, kind: SourceKind, dst: DTypeInfo): Converter {
  const to = dst.name;
  if (to === 'string') {
    if (kind === 'string') return (x: string) => x;
    return stringFormatter(srcType);
  }
  if (to === 'bool') {
    if (kind === 'string') return stringToBool;
    if (kind === 'bigint') return (x: bigint) => (x !== 0n ? 1 : 0);
    return (x: number) => (x !== 0 ? 1 : 0); // NaN !== 0
  }
  const c = dst.numericClass;
  if (c === 'float' || c === 'minifloat') {
    if (kind === 'number') return (x: number) => x;
    if (kind === 'bigint') return to === 'float64' ? (x: bigint) => Number(x) : bigintToNumberRoundOdd;
    return parseNumber;
  }
  if (c === 'bigint') {
    const unsigned = to === 'uint64';
    const fromFloat = unsigned ? floatToUint64 : floatToInt64;
    const wrap = unsigned ? (x: bigint) => BigInt.asUintN(64, x) : (x: bigint) => BigInt.asIntN(64, x);
    if (kind === 'bigint') return wrap;
    if (kind === 'number') {
      return isIntegerType(srcType) ? (x: number) => wrap(BigInt(x)) : fromFloat;
    }
    return (x: string) => {
      const lit = parseIntegerLiteral(x);
      return lit !== undefined ? wrap(lit) : fromFloat(parseNumber(x));
    };
  }
  if (c === 'int') {
    const bits = dst.bits;
    const signed = (dst.min as number) < 0;
    const fromFloat = to === 'uint32' ? floatToUint32 : (x: number) => floatToSmallInt(x, bits, signed);
    const fromBig = signed
      ? (x: bigint) => Number(BigInt.asIntN(bits, x))
      : (x: bigint) => Number(BigInt.asUintN(bits, x));
    if (kind === 'bigint') return fromBig;
    if (kind === 'number') {
      return isIntegerType(srcType) ? (x: number) => wrapNumber(x, bits, signed) : fromFloat;
    }
    return (x: string) => {
      const lit = parseIntegerLiteral(x);
      return lit !== undefined ? fromBig(lit) : fromFloat(parseNumber(x));
    };
  }
  throw new OnyxError('TYPE_MISMATCH', `Cast to ${dst.onnxName} is not supported`);
}

function isIntegerType(t: TensorType): boolean {
  return dtypeInfo(t).numericClass === 'int';
}

/** The source elements in the form the converter reads. */
function sourceOf(x: Tensor): { kind: SourceKind; elems: ArrayLike<any> } {
  const c = dtypeInfo(x.type).numericClass;
  if (c === 'complex') throw new OnyxError('TYPE_MISMATCH', `Cast from ${x.type} is not supported`);
  if (c === 'string') return { kind: 'string', elems: x.data as string[] };
  if (c === 'bigint') return { kind: 'bigint', elems: x.data as BigInt64Array };
  return { kind: 'number', elems: c === 'minifloat' ? numbersOf(x) : (x.data as ArrayLike<number>) };
}

/**
 * Converts `x` to `to` with Cast's semantics (see the module comment). Exported for other kernels
 * that need a dtype conversion (CastLike, quantization, shape ops, …).
 */
export function castTensor(x: Tensor, to: TensorType, options: CastOptions = {}): Tensor {
  if (x.type === to) return new Tensor(to, x.data, x.dims);
  const dst = dtypeInfo(to);
  if (dst.numericClass === 'complex') throw new OnyxError('TYPE_MISMATCH', `Cast to ${to} is not supported`);
  const { kind, elems } = sourceOf(x);
  const conv = converterFor(x.type, kind, dst);
  const n = x.size;
  if (isMinifloat(to)) {
    // Float sources (including decoded minifloats) are encoded directly; the codec rounds float64 once.
    const direct = kind === 'number' && (elems instanceof Float32Array || elems instanceof Float64Array);
    const values = direct ? (elems as Float32Array | Float64Array) : new Float64Array(n);
    if (values !== elems) for (let i = 0; i < n; i++) values[i] = conv(elems[i]) as number;
    const bits = encodeMinifloats(
      to as MinifloatType,
      values,
      undefined,
      options.saturate ?? true,
      options.roundMode ?? 'up',
    );
    return new Tensor(to, bits, x.dims);
  }
  const out = allocData(to, n) as unknown as { [i: number]: number | bigint | string };
  for (let i = 0; i < n; i++) out[i] = conv(elems[i]);
  return new Tensor(to, out as unknown as TensorData, x.dims);
}

// ---------------------------------------------------------------------------------------------------
// Attributes

/** Cast's `to`: an int DataType code (opset 6+) or, in Cast-1, the type's name as a string. */
function targetType(attrs: Attributes): TensorType {
  const raw = attrs.raw('to');
  if (raw === undefined) throw new OnyxError('INVALID_MODEL', "Cast needs the attribute 'to'");
  let code: number | undefined;
  if (raw.kind === 'int') code = raw.value;
  else if (raw.kind === 'string') {
    const name = raw.value.toUpperCase();
    code = (DataType as unknown as Record<string, number>)[name];
    if (code === undefined)
      throw new OnyxError('INVALID_MODEL', `Cast 'to' names an unknown data type '${raw.value}'`);
  } else {
    throw new OnyxError('INVALID_MODEL', `Cast 'to' should be an int data type code, got ${raw.kind}`);
  }
  const info = code === DataType.UNDEFINED ? undefined : dtypeFromCode(code);
  if (!info) throw new OnyxError('INVALID_MODEL', `Cast 'to' = ${code} is not a known ONNX data type`);
  return info.name;
}

function castOptions(attrs: Attributes): CastOptions {
  const saturate = attrs.int('saturate', 1);
  const roundMode = attrs.string('round_mode', 'up');
  if (roundMode !== 'up' && roundMode !== 'down' && roundMode !== 'nearest') {
    throw new OnyxError('INVALID_MODEL', `round_mode '${roundMode}' is not one of 'up', 'down', 'nearest'`);
  }
  return { saturate: saturate !== 0, roundMode };
}

// ---------------------------------------------------------------------------------------------------
// BitCast

/** Reinterprets the (little-endian) bits of `x` as `to`; both must have the same bit width. */
export function bitCastTensor(x: Tensor, to: TensorType): Tensor {
  const src = dtypeInfo(x.type);
  const dst = dtypeInfo(to);
  if (src.numericClass === 'string' || dst.numericClass === 'string') {
    throw new OnyxError('TYPE_MISMATCH', `BitCast does not support string tensors (${x.type} → ${to})`);
  }
  if (src.bits !== dst.bits) {
    throw new OnyxError(
      'TYPE_MISMATCH',
      `BitCast needs types of the same bit width: ${src.onnxName} has ${src.bits} bits, ${dst.onnxName} has ${dst.bits}`,
    );
  }
  if (x.type === to) return new Tensor(to, x.data, x.dims);
  const n = x.size;
  if (src.bits < 8) {
    // Sub-byte types are stored one element per byte: move the low `bits` bits, then sign-extend.
    const s = x.data as Int8Array | Uint8Array;
    const out = allocData(to, n) as Int8Array | Uint8Array;
    const mask = (1 << src.bits) - 1;
    const shift = 32 - src.bits;
    const signed = dst.min !== undefined && (dst.min as number) < 0;
    for (let i = 0; i < n; i++) out[i] = signed ? ((s[i] & mask) << shift) >> shift : s[i] & mask;
    return new Tensor(to, out, x.dims);
  }
  // Same storage width (complex: 2 lanes of half the width): copy the bytes into the target array.
  const sData = x.data as Exclude<TensorData, string[]>;
  const bytes = new Uint8Array(sData.buffer, sData.byteOffset, sData.byteLength).slice();
  const ctor = dst.arrayType as Float32ArrayConstructor;
  let out = new ctor(bytes.buffer, 0, bytes.byteLength / ctor.BYTES_PER_ELEMENT) as unknown as TensorData;
  if (to === 'bool') {
    const b = out as unknown as Uint8Array;
    for (let i = 0; i < n; i++) b[i] = b[i] !== 0 ? 1 : 0;
    out = b;
  }
  return new Tensor(to, out, x.dims);
}

// ---------------------------------------------------------------------------------------------------

export const ops: OpDef[] = [
  {
    opType: 'Cast',
    versions: [1, 6, 9, 13, 19, 21, 23, 24, 25],
    build(node) {
      const to = targetType(node.attrs);
      const options = castOptions(node.attrs);
      return (inputs) => [castTensor(tensorInput(inputs[0], 'Cast input'), to, options)];
    },
  },
  {
    opType: 'CastLike',
    versions: [15, 19, 21, 23, 24, 25],
    build(node) {
      const options = castOptions(node.attrs);
      return (inputs) => {
        const x = tensorInput(inputs[0], 'CastLike input');
        const like = tensorInput(inputs[1], 'CastLike target_type');
        return [castTensor(x, like.type, options)];
      };
    },
  },
  {
    opType: 'BitCast',
    versions: [26],
    build(node) {
      const to = targetType(node.attrs);
      return (inputs) => [bitCastTensor(tensorInput(inputs[0], 'BitCast input'), to)];
    },
  },
];
