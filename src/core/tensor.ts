/**
 * The tensor that users and kernels share. Its constructor and fields follow onnxruntime-common's
 * `Tensor` (`new Tensor(type, data, dims)`, `.type`, `.data`, `.dims`, `.size`, `reshape`, `dispose`), so
 * programs written for onnxruntime-web/-node work unchanged; the extra element types ONNX defines
 * (bfloat16, float8*, float4, int4, …) use the storage described in `dtype.ts`.
 */
import {
  allocData,
  dtypeInfo,
  isTensorType,
  typeOfArray,
  type TensorData,
  type TensorType,
} from './dtype.js';
import { OnyxError } from './errors.js';
import { MAX_TENSOR_ELEMENTS, MAX_RANK } from './limits.js';

export type Dims = readonly number[];

export class Tensor {
  readonly type: TensorType;
  readonly dims: Dims;
  readonly size: number;
  readonly location = 'cpu' as const;
  private storage: TensorData | undefined;

  constructor(
    type: TensorType,
    data: TensorData | readonly number[] | readonly boolean[] | readonly bigint[],
    dims?: Dims,
  );
  constructor(data: TensorData, dims?: Dims);
  constructor(a: unknown, b?: unknown, c?: unknown) {
    let type: TensorType;
    let raw: unknown;
    let dims: unknown;
    if (typeof a === 'string') {
      if (!isTensorType(a)) throw new OnyxError('INVALID_ARGUMENT', `unknown tensor type '${a}'`);
      [type, raw, dims] = [a, b, c];
    } else {
      const inferred = typeOfArray(a);
      if (!inferred) throw new OnyxError('INVALID_ARGUMENT', 'cannot infer tensor type from the given data');
      [type, raw, dims] = [inferred, a, b];
    }
    const data = coerceData(type, raw);
    const lanes = dtypeInfo(type).lanes;
    const shape = dims === undefined ? [data.length / lanes] : validateDims(dims);
    const size = shapeSize(shape);
    if (size * lanes !== data.length) {
      throw new OnyxError(
        'INVALID_ARGUMENT',
        `tensor data has ${data.length / lanes} elements but dims [${shape.join(', ')}] need ${size}`,
      );
    }
    this.type = type;
    // A copy of the caller's array, not frozen: V8 (Node 20) slices a frozen array ~20× slower
    // (650 vs 30 ns for three dims), and kernels slice dims all the time — a 256-wide Relu spent
    // 1.8 of its 4.7 µs constructing its output. onnxruntime-common does not freeze dims either.
    this.dims = [...shape];
    this.size = size;
    this.storage = data;
  }

  /** The elements; throws once the tensor was disposed. */
  get data(): TensorData {
    if (this.storage === undefined) throw new OnyxError('INVALID_ARGUMENT', 'tensor was disposed');
    return this.storage;
  }

  /** onnxruntime-common compatibility: CPU tensors resolve immediately. */
  async getData(): Promise<TensorData> {
    return this.data;
  }

  /** A tensor with new dims over the same data (no copy), as in onnxruntime-common. */
  reshape(dims: Dims): Tensor {
    return new Tensor(this.type, this.data, dims);
  }

  dispose(): void {
    this.storage = undefined;
  }

  /** A zero-filled tensor. */
  static zeros(type: TensorType, dims: Dims): Tensor {
    return new Tensor(type, allocData(type, shapeSize(validateDims(dims))), dims);
  }
}

/** True when two shapes are the same: same rank, same dims. */
export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function shapeSize(dims: Dims): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** `dims` as a shape, or a typed error: not an array, rank or element count over the limits, bad dims. */
export function validateDims(dims: unknown): number[] {
  if (!Array.isArray(dims)) throw new OnyxError('INVALID_ARGUMENT', 'tensor dims must be an array');
  if (dims.length > MAX_RANK)
    throw new OnyxError('LIMIT_EXCEEDED', `tensor rank ${dims.length} exceeds ${MAX_RANK}`);
  let n = 1;
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new OnyxError(
        'INVALID_ARGUMENT',
        `tensor dims must be non-negative integers, got [${dims.join(', ')}]`,
      );
    }
    n *= d;
  }
  if (n > MAX_TENSOR_ELEMENTS) {
    throw new OnyxError(
      'LIMIT_EXCEEDED',
      `tensor of dims [${dims.join(', ')}] exceeds ${MAX_TENSOR_ELEMENTS} elements`,
    );
  }
  return dims as number[];
}

/** Accepts the data forms onnxruntime-common accepts (typed arrays, or plain arrays to convert). */
function coerceData(type: TensorType, raw: unknown): TensorData {
  const t = dtypeInfo(type);
  if (type === 'string') {
    if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw as string[];
    throw new OnyxError('INVALID_ARGUMENT', "a 'string' tensor needs a string[]");
  }
  if (raw instanceof t.arrayType) return raw as TensorData;
  if (Array.isArray(raw)) {
    if (t.numericClass === 'bigint') {
      return (t.arrayType as BigInt64ArrayConstructor).from(raw as bigint[], (x) =>
        BigInt(x as bigint | number),
      );
    }
    return (t.arrayType as Float32ArrayConstructor).from(raw as number[], (x) => Number(x));
  }
  throw new OnyxError(
    'INVALID_ARGUMENT',
    `a '${type}' tensor needs a ${t.arrayType.name} (or a plain array), got ${describe(raw)}`,
  );
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  return (x as object).constructor?.name ?? typeof x;
}
