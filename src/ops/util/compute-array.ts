/**
 * The arrays that the float kernels (GEMM, convolution, pooling, normalization) compute on, for any
 * numeric element type: float32 and float64 tensors are used in place; minifloats (float16,
 * bfloat16, float8…) are decoded to float32 and rounded back on store; integer types are computed in
 * float64 (exact for the integer ranges these kernels meet) and converted back with C-like wrapping.
 */
import { newFloat32Array, newStorage } from '../../core/buffer-pool.js';
import { dtypeInfo, type TensorType } from '../../core/dtype.js';
import { OnyxError } from '../../core/errors.js';
import { Tensor, type Dims } from '../../core/tensor.js';
import { constantInput, type NodeInfo } from '../kernel.js';
import { numbersOf, tensorFromNumbers } from './numeric.js';
import type { FloatArray } from './gemm.js';

/** The typed array a kernel computes in: Float32Array or Float64Array. */
export type ComputeArrayType = Float32ArrayConstructor | Float64ArrayConstructor;

/** The array type that results of `type` are computed in. */
export function computeArrayType(type: TensorType): ComputeArrayType {
  const c = dtypeInfo(type).numericClass;
  if (type === 'float32' || c === 'minifloat') return Float32Array;
  if (c === 'float' || c === 'int' || c === 'bigint') return Float64Array;
  throw new OnyxError('TYPE_MISMATCH', `expected a numeric tensor, got tensor(${type})`);
}

/**
 * A fresh compute array for `n` elements of `type`, zero-filled unless `zeroed` is false (the
 * caller's kernel overwrites every element).
 */
export function computeArray(type: TensorType, n: number, zeroed = true): FloatArray {
  const Ctor = computeArrayType(type);
  if (Ctor === Float32Array) return newFloat32Array(n, zeroed);
  return new Ctor(newStorage(n * Ctor.BYTES_PER_ELEMENT, zeroed), 0, n);
}

/** `t`'s elements in its compute array type: a view when no conversion is needed, else a copy. */
export function computeOf(t: Tensor): FloatArray {
  const want = computeArrayType(t.type);
  const d = t.data;
  if (d instanceof want) return d as FloatArray;
  const nums = numbersOf(t);
  return nums instanceof want ? (nums as FloatArray) : want.from(nums as ArrayLike<number>);
}

/** `t`'s elements as float64 (always a readable array; a view for float64 tensors). */
export function float64Of(t: Tensor): Float64Array {
  if (t.data instanceof Float64Array) return t.data;
  return Float64Array.from(numbersOf(t) as ArrayLike<number>);
}

/**
 * `float64Of` for a node's parameter inputs (scale, shift): those at `indices` that are constant
 * are converted once, when the kernel is built, not on every run (~10 µs of a 256-wide LayerNorm's
 * ~30, measured on the GPT step); any other tensor is converted when asked.
 */
export function float64Params(node: NodeInfo, indices: readonly number[]): (p: Tensor) => Float64Array {
  const constants = new Map<Tensor, Float64Array>();
  for (const i of indices) {
    const c = constantInput(node, i);
    if (c) constants.set(c, float64Of(c));
  }
  return (p) => constants.get(p) ?? float64Of(p);
}

/** A tensor of `type` holding the computed values (no copy for float32/float64 results). */
export function tensorFromCompute(type: TensorType, values: FloatArray, dims: Dims): Tensor {
  if (type === 'float32' && values instanceof Float32Array) return new Tensor(type, values, dims);
  if (type === 'float64' && values instanceof Float64Array) return new Tensor(type, values, dims);
  const c = dtypeInfo(type).numericClass;
  if (c === 'int' && type !== 'bool') {
    // Integer results: round toward zero as C casts do, then let the typed array wrap.
    const out = new (dtypeInfo(type).arrayType as Int32ArrayConstructor)(values.length);
    for (let i = 0; i < values.length; i++) out[i] = Math.trunc(values[i]);
    return new Tensor(type, out, dims);
  }
  return tensorFromNumbers(type, values, dims);
}
