/**
 * Every value that flows along a graph edge. Tensors are `Tensor`; ONNX sequences are plain arrays;
 * maps are JS `Map`s; an empty optional is `null` (a present optional is just its element). This is
 * also exactly what users pass and receive through the public API.
 */
import { Tensor } from './tensor.js';

export type MapKey = string | number | bigint;
export type Value = Tensor | Value[] | Map<MapKey, Value> | null;

export function isTensor(v: Value | undefined): v is Tensor {
  return v instanceof Tensor;
}

export function describeValue(v: Value | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty optional';
  if (v instanceof Tensor) return `tensor(${v.type}) [${v.dims.join(', ')}]`;
  if (Array.isArray(v)) return `a sequence of ${v.length}`;
  return `a map of ${v.size}`;
}
