/**
 * Reading and writing tensor elements as JS numbers regardless of storage: minifloat types
 * (float16, bfloat16, float8*, float4) are decoded to float32 values and rounded back on store, so a
 * kernel written once over `number` serves every float type. 64-bit integers stay exact as BigInt
 * in `bigint` kernels and are only converted to number where a kernel needs sizes or indices.
 */
import { dtypeInfo, type TensorType, type TypedArray, type NumericArray } from '../../core/dtype.js';
import { OnyxError } from '../../core/errors.js';
import { Tensor, type Dims } from '../../core/tensor.js';
import type { Value } from '../../core/value.js';
import {
  decodeMinifloats,
  encodeMinifloats,
  isMinifloat,
  type MinifloatType,
} from '../../core/float-formats.js';

/** Asserts that an input is a tensor (not a sequence/map/optional/omitted) and returns it. */
export function tensorInput(v: Value | undefined, what: string): Tensor {
  if (v instanceof Tensor) return v;
  throw new OnyxError(
    'TYPE_MISMATCH',
    `${what} must be a tensor, got ${v === undefined ? 'nothing (input omitted)' : v === null ? 'an empty optional' : Array.isArray(v) ? 'a sequence' : 'a map'}`,
  );
}

/** The elements as numbers: a view for native numeric storage, a decoded copy for minifloats. */
export function numbersOf(t: Tensor): NumericArray {
  if (isMinifloat(t.type)) return decodeMinifloats(t.type, t.data as Uint8Array | Uint16Array);
  const info = dtypeInfo(t.type);
  if (info.numericClass === 'bigint') return Float64Array.from(t.data as BigInt64Array, Number);
  if (info.numericClass === 'string')
    throw new OnyxError('TYPE_MISMATCH', 'expected a numeric tensor, got string');
  return t.data as NumericArray;
}

/** Builds a tensor of `type` from numbers (rounding minifloats, converting to BigInt for 64-bit). */
export function tensorFromNumbers(type: TensorType, values: ArrayLike<number>, dims: Dims): Tensor {
  if (isMinifloat(type)) return new Tensor(type, encodeMinifloats(type as MinifloatType, values), dims);
  const info = dtypeInfo(type);
  if (info.numericClass === 'bigint') {
    const arr = new (info.arrayType as BigInt64ArrayConstructor)(values.length);
    for (let i = 0; i < values.length; i++) arr[i] = BigInt(Math.trunc(values[i]));
    return new Tensor(type, arr, dims);
  }
  if (values instanceof info.arrayType) return new Tensor(type, values as TypedArray, dims);
  return new Tensor(type, (info.arrayType as Float32ArrayConstructor).from(values), dims);
}

/** Integer elements (int8…int64, uint*) as safe JS numbers; for shapes, axes, indices. */
export function intsOf(t: Tensor, what = 'tensor'): number[] {
  const info = dtypeInfo(t.type);
  if (info.numericClass === 'bigint') {
    return Array.from(t.data as BigInt64Array, (x) => {
      const n = Number(x);
      // Clamp values beyond ±2^53 (e.g. INT64_MAX meaning "to the end" in Slice) instead of failing.
      return Number.isSafeInteger(n) ? n : n > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
    });
  }
  if (info.numericClass === 'int') return Array.from(t.data as NumericArray);
  throw new OnyxError('TYPE_MISMATCH', `${what} must be an integer tensor, got ${t.type}`);
}

/** A scalar (or one-element) tensor's value as a number. */
export function scalarOf(t: Tensor, what = 'tensor'): number {
  if (t.size !== 1)
    throw new OnyxError('SHAPE_MISMATCH', `${what} must hold one value, got dims [${t.dims.join(', ')}]`);
  const info = dtypeInfo(t.type);
  if (info.numericClass === 'bigint') return intsOf(t, what)[0];
  return numbersOf(t)[0];
}

export function isFloatType(type: TensorType): boolean {
  const c = dtypeInfo(type).numericClass;
  return c === 'float' || c === 'minifloat';
}

export function isBigIntType(type: TensorType): boolean {
  return dtypeInfo(type).numericClass === 'bigint';
}

/** An int64 tensor from JS numbers (shapes, indices). */
export function int64Tensor(values: readonly number[], dims: Dims = [values.length]): Tensor {
  return new Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    dims,
  );
}

/** Dims or any list of numbers as `[a, b, c]`, for error messages. */
export function fmt(xs: ArrayLike<number>): string {
  return `[${Array.from(xs).join(', ')}]`;
}
