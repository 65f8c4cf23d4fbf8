/**
 * Generic elementwise evaluation with broadcasting, written once for every element type. Elements
 * reach `fn` as `number` (float, minifloat — decoded to float32 values — and ≤32-bit ints, bool as
 * 0/1), `bigint` (int64/uint64) or `string`. The result is stored into the output type: numbers are
 * rounded for minifloats and wrap like C for integer arrays; bigint outputs need bigint results.
 */
import { allocData, dtypeInfo, type TensorType, type TypedArray } from '../../core/dtype.js';
import { encodeMinifloats, isMinifloat, type MinifloatType } from '../../core/float-formats.js';
import { Tensor, shapeSize } from '../../core/tensor.js';
import { broadcastOffsets, broadcastShapes } from './broadcast.js';
import { float32Binary, type Float32BinaryOp } from './float32-binary.js';
import { numbersOf } from './numeric.js';

export type Element = number | bigint | string;

/** The elements of `t` in the form kernels compute on (see module comment). */
export function elementsOf(t: Tensor): ArrayLike<Element> {
  const c = dtypeInfo(t.type).numericClass;
  if (c === 'minifloat') return numbersOf(t);
  return t.data as ArrayLike<Element>;
}

/** Output storage that accepts computed elements; `finish` converts minifloats at the end. */
function outputSink(
  type: TensorType,
  n: number,
): { data: Element[] | TypedArray | string[]; finish(): Tensor['data'] } {
  if (isMinifloat(type)) {
    const tmp = new Float32Array(n);
    return { data: tmp, finish: () => encodeMinifloats(type as MinifloatType, tmp) };
  }
  const data = allocData(type, n);
  return { data, finish: () => data };
}

export function unary(x: Tensor, outType: TensorType, fn: (a: any) => Element): Tensor {
  const src = elementsOf(x);
  const n = x.size;
  const sink = outputSink(outType, n);
  const out = sink.data as Element[];
  for (let i = 0; i < n; i++) out[i] = fn(src[i]);
  return new Tensor(outType, sink.finish(), x.dims);
}

export function binary(
  a: Tensor,
  b: Tensor,
  outType: TensorType,
  fn: (x: any, y: any) => Element,
  float32Op?: Float32BinaryOp,
): Tensor {
  const dims = broadcastShapes(a.dims, b.dims);
  const n = shapeSize(dims);
  if (float32Op && a.type === 'float32' && b.type === 'float32' && outType === 'float32') {
    const out = allocData('float32', n, false) as Float32Array; // float32Binary writes every element
    float32Binary(float32Op, a.data as Float32Array, a.dims, b.data as Float32Array, b.dims, dims, out);
    return new Tensor('float32', out, dims);
  }
  const [oa, ob] = broadcastOffsets([a.dims, b.dims], dims);
  const A = elementsOf(a);
  const B = elementsOf(b);
  const sink = outputSink(outType, n);
  const out = sink.data as Element[];
  if (!oa && !ob) for (let i = 0; i < n; i++) out[i] = fn(A[i], B[i]);
  else if (!oa) for (let i = 0; i < n; i++) out[i] = fn(A[i], B[ob![i]]);
  else if (!ob) for (let i = 0; i < n; i++) out[i] = fn(A[oa[i]], B[i]);
  else for (let i = 0; i < n; i++) out[i] = fn(A[oa[i]], B[ob[i]]);
  return new Tensor(outType, sink.finish(), dims);
}

/** Any number of broadcast inputs (Where, Sum, Max, Min, Mean, Clip with tensors, …). */
export function nary(inputs: readonly Tensor[], outType: TensorType, fn: (xs: Element[]) => Element): Tensor {
  const dims = broadcastShapes(...inputs.map((t) => t.dims));
  const n = shapeSize(dims);
  const offsets = broadcastOffsets(
    inputs.map((t) => t.dims),
    dims,
  );
  const srcs = inputs.map(elementsOf);
  const sink = outputSink(outType, n);
  const out = sink.data as Element[];
  const args = new Array<Element>(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < srcs.length; k++) args[k] = srcs[k][offsets[k] ? offsets[k]![i] : i];
    out[i] = fn(args);
  }
  return new Tensor(outType, sink.finish(), dims);
}
