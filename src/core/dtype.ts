/**
 * The ONNX element types: their numeric codes (TensorProto.DataType), the public type names used by
 * `Tensor.type` (onnxruntime-common's names, extended for the types it cannot carry), and how each is
 * stored in memory.
 *
 * Storage rule: one array element per tensor element, always. Sub-byte types (int4, uint4, float4e2m1,
 * int2, uint2) are unpacked to one byte each so every kernel can index them directly; packing happens
 * only at the protobuf boundary. 16- and 8-bit float formats hold their raw bit patterns (Uint16Array /
 * Uint8Array) and are converted through `float-formats.ts`; complex types interleave (re, im).
 */
import { newFloat32Array, newStorage } from './buffer-pool.js';

export enum DataType {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  COMPLEX64 = 14,
  COMPLEX128 = 15,
  BFLOAT16 = 16,
  FLOAT8E4M3FN = 17,
  FLOAT8E4M3FNUZ = 18,
  FLOAT8E5M2 = 19,
  FLOAT8E5M2FNUZ = 20,
  UINT4 = 21,
  INT4 = 22,
  FLOAT4E2M1 = 23,
  FLOAT8E8M0 = 24,
  UINT2 = 25,
  INT2 = 26,
}

export type TensorType =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1'
  | 'float8e8m0'
  | 'uint2'
  | 'int2';

export type NumericArray =
  Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
export type BigIntArray = BigInt64Array | BigUint64Array;
export type TypedArray = NumericArray | BigIntArray;
export type TensorData = TypedArray | string[];

/**
 * How kernels compute on a type:
 * - `float`: native JS floats (float32, float64);
 * - `minifloat`: stored as bits, computed in float32 and rounded back on store;
 * - `int`: JS numbers that fit exactly (≤ 32 bits, and bool);
 * - `bigint`: 64-bit integers as BigInt;
 * - `string`, `complex`: their own kernels.
 */
export type NumericClass = 'float' | 'minifloat' | 'int' | 'bigint' | 'string' | 'complex';

export interface DTypeInfo {
  readonly code: DataType;
  readonly name: TensorType;
  /** ONNX spelling, used in error messages (e.g. `tensor(float)`). */
  readonly onnxName: string;
  readonly numericClass: NumericClass;
  /** Bits per element in ONNX's packed wire format. */
  readonly bits: number;
  /** Array elements per tensor element (2 for complex). */
  readonly lanes: number;
  readonly arrayType:
    | Float32ArrayConstructor
    | Float64ArrayConstructor
    | Int8ArrayConstructor
    | Uint8ArrayConstructor
    | Int16ArrayConstructor
    | Uint16ArrayConstructor
    | Int32ArrayConstructor
    | Uint32ArrayConstructor
    | BigInt64ArrayConstructor
    | BigUint64ArrayConstructor
    | ArrayConstructor;
  /** Inclusive value range for integer types (used by Cast/saturation and validation). */
  readonly min?: number | bigint;
  readonly max?: number | bigint;
}

function info(
  code: DataType,
  name: TensorType,
  onnxName: string,
  numericClass: NumericClass,
  bits: number,
  arrayType: DTypeInfo['arrayType'],
  range?: [number | bigint, number | bigint],
  lanes = 1,
): DTypeInfo {
  return { code, name, onnxName, numericClass, bits, lanes, arrayType, min: range?.[0], max: range?.[1] };
}

const TABLE: readonly DTypeInfo[] = [
  info(DataType.FLOAT, 'float32', 'float', 'float', 32, Float32Array),
  info(DataType.UINT8, 'uint8', 'uint8', 'int', 8, Uint8Array, [0, 255]),
  info(DataType.INT8, 'int8', 'int8', 'int', 8, Int8Array, [-128, 127]),
  info(DataType.UINT16, 'uint16', 'uint16', 'int', 16, Uint16Array, [0, 65535]),
  info(DataType.INT16, 'int16', 'int16', 'int', 16, Int16Array, [-32768, 32767]),
  info(DataType.INT32, 'int32', 'int32', 'int', 32, Int32Array, [-2147483648, 2147483647]),
  info(DataType.INT64, 'int64', 'int64', 'bigint', 64, BigInt64Array, [-(2n ** 63n), 2n ** 63n - 1n]),
  info(DataType.STRING, 'string', 'string', 'string', 0, Array),
  info(DataType.BOOL, 'bool', 'bool', 'int', 8, Uint8Array, [0, 1]),
  info(DataType.FLOAT16, 'float16', 'float16', 'minifloat', 16, Uint16Array),
  info(DataType.DOUBLE, 'float64', 'double', 'float', 64, Float64Array),
  info(DataType.UINT32, 'uint32', 'uint32', 'int', 32, Uint32Array, [0, 4294967295]),
  info(DataType.UINT64, 'uint64', 'uint64', 'bigint', 64, BigUint64Array, [0n, 2n ** 64n - 1n]),
  info(DataType.COMPLEX64, 'complex64', 'complex64', 'complex', 64, Float32Array, undefined, 2),
  info(DataType.COMPLEX128, 'complex128', 'complex128', 'complex', 128, Float64Array, undefined, 2),
  info(DataType.BFLOAT16, 'bfloat16', 'bfloat16', 'minifloat', 16, Uint16Array),
  info(DataType.FLOAT8E4M3FN, 'float8e4m3fn', 'float8e4m3fn', 'minifloat', 8, Uint8Array),
  info(DataType.FLOAT8E4M3FNUZ, 'float8e4m3fnuz', 'float8e4m3fnuz', 'minifloat', 8, Uint8Array),
  info(DataType.FLOAT8E5M2, 'float8e5m2', 'float8e5m2', 'minifloat', 8, Uint8Array),
  info(DataType.FLOAT8E5M2FNUZ, 'float8e5m2fnuz', 'float8e5m2fnuz', 'minifloat', 8, Uint8Array),
  info(DataType.UINT4, 'uint4', 'uint4', 'int', 4, Uint8Array, [0, 15]),
  info(DataType.INT4, 'int4', 'int4', 'int', 4, Int8Array, [-8, 7]),
  info(DataType.FLOAT4E2M1, 'float4e2m1', 'float4e2m1', 'minifloat', 4, Uint8Array),
  info(DataType.FLOAT8E8M0, 'float8e8m0', 'float8e8m0', 'minifloat', 8, Uint8Array),
  info(DataType.UINT2, 'uint2', 'uint2', 'int', 2, Uint8Array, [0, 3]),
  info(DataType.INT2, 'int2', 'int2', 'int', 2, Int8Array, [-2, 1]),
];

const BY_CODE = new Map<number, DTypeInfo>(TABLE.map((t) => [t.code, t]));
const BY_NAME = new Map<string, DTypeInfo>(TABLE.map((t) => [t.name, t]));

export function dtypeFromCode(code: number): DTypeInfo | undefined {
  return BY_CODE.get(code);
}

export function dtypeInfo(name: TensorType): DTypeInfo {
  const t = BY_NAME.get(name);
  if (!t) throw new TypeError(`unknown tensor type '${name}'`);
  return t;
}

export function isTensorType(name: unknown): name is TensorType {
  return typeof name === 'string' && BY_NAME.has(name);
}

export function allDTypes(): readonly DTypeInfo[] {
  return TABLE;
}

/**
 * Allocates storage for `n` elements of `type`, zero-filled unless `zeroed` is false (for a kernel
 * that writes every element; see core/buffer-pool.ts).
 */
export function allocData(type: TensorType, n: number, zeroed = true): TensorData {
  const t = dtypeInfo(type);
  if (t.arrayType === Array) return new Array<string>(n).fill('');
  const Ctor = t.arrayType as Float32ArrayConstructor;
  if (Ctor === Float32Array && t.lanes === 1) return newFloat32Array(n, zeroed);
  const bytes = n * t.lanes * Ctor.BYTES_PER_ELEMENT;
  return new Ctor(newStorage(bytes, zeroed), 0, n * t.lanes) as unknown as TypedArray;
}

/** The tensor type that a typed array maps to when the user gives no type (onnxruntime-common rules). */
export function typeOfArray(data: unknown): TensorType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof BigUint64Array) return 'uint64';
  if (Array.isArray(data) && data.every((x) => typeof x === 'string')) return 'string';
  return undefined;
}
