/**
 * Reading any numeric tensor as JS floats and writing float results back into any numeric type, for
 * kernels that compute in floating point whatever the element type (interpolation, recurrences,
 * attention). float32/float64 tensors are read without a copy; minifloats are decoded; integer
 * results are truncated toward zero and saturated to the type's range (no C-style wrap-around).
 */
import { dtypeInfo, type TensorType } from '../../core/dtype.js';
import { OnyxError } from '../../core/errors.js';
import type { Dims } from '../../core/tensor.js';
import { Tensor } from '../../core/tensor.js';
import { numbersOf, tensorFromNumbers } from './numeric.js';

export type FloatArray = Float32Array | Float64Array;

/** The elements of a real numeric tensor as floats (a view for float32/float64, else a copy). */
export function floatsOf(t: Tensor, what = 'input'): FloatArray {
  const c = dtypeInfo(t.type).numericClass;
  if (c === 'string' || c === 'complex')
    throw new OnyxError('TYPE_MISMATCH', `${what} must be a real numeric tensor, got ${t.type}`);
  const v = numbersOf(t);
  if (v instanceof Float32Array || v instanceof Float64Array) return v;
  return Float64Array.from(v);
}

/** A tensor of `type` holding `values` (rounded for minifloats; truncated and saturated for ints). */
export function tensorFromFloats(type: TensorType, values: ArrayLike<number>, dims: Dims): Tensor {
  const info = dtypeInfo(type);
  if (info.numericClass === 'int' || info.numericClass === 'bigint') {
    const lo = Number(info.min);
    const hi = Number(info.max);
    const n = values.length;
    const tmp = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      tmp[i] = Number.isNaN(v) ? 0 : v <= lo ? lo : v >= hi ? hi : Math.trunc(v);
    }
    if (type === 'bool') for (let i = 0; i < n; i++) tmp[i] = tmp[i] !== 0 ? 1 : 0;
    if (info.numericClass === 'bigint') {
      const arr = new (info.arrayType as BigInt64ArrayConstructor)(n);
      for (let i = 0; i < n; i++) {
        const v = tmp[i];
        arr[i] = v === hi ? (info.max as bigint) : v === lo ? (info.min as bigint) : BigInt(v);
      }
      return new Tensor(type, arr, dims);
    }
    return tensorFromNumbers(type, tmp, dims);
  }
  return tensorFromNumbers(type, values, dims);
}

/** True for float32, float64 and the minifloat types. */
export function isFloatingType(type: TensorType): boolean {
  const c = dtypeInfo(type).numericClass;
  return c === 'float' || c === 'minifloat';
}
