/**
 * Static type facts about graph values: element type plus symbolic shape for tensors, and the
 * nested types of sequences, maps and optionals. A dim is a number when known, a string when it is a
 * named symbolic dim (e.g. 'batch'), and null when nothing is known.
 */
import type { TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { tensorDType } from '../onnx/tensor-proto.js';
import { has, toNumber } from '../onnx/proto.js';
import type * as P from '../onnx/proto-types.js';

export type Dim = number | string | null;

export type ValueType =
  | { kind: 'tensor'; elemType: TensorType; shape: Dim[] | null }
  | { kind: 'sparse_tensor'; elemType: TensorType; shape: Dim[] | null }
  | { kind: 'sequence'; elem: ValueType | null }
  | { kind: 'map'; key: TensorType; value: ValueType | null }
  | { kind: 'optional'; elem: ValueType | null };

function shapeFromProto(shape: P.TensorShapeProto | null | undefined): Dim[] | null {
  if (!shape) return null;
  return shape.dim.map((d) => {
    if (has(d, 'dimValue')) return toNumber(d.dimValue);
    if (has(d, 'dimParam') && d.dimParam) return d.dimParam;
    return null;
  });
}

export function typeFromProto(tp: P.TypeProto | null | undefined, where: string): ValueType | null {
  if (!tp) return null;
  if (tp.tensorType) {
    return {
      kind: 'tensor',
      elemType: tensorDType(tp.tensorType.elemType, where).name,
      shape: shapeFromProto(tp.tensorType.shape),
    };
  }
  if (tp.sparseTensorType) {
    return {
      kind: 'sparse_tensor',
      elemType: tensorDType(tp.sparseTensorType.elemType, where).name,
      shape: shapeFromProto(tp.sparseTensorType.shape),
    };
  }
  if (tp.sequenceType) return { kind: 'sequence', elem: typeFromProto(tp.sequenceType.elemType, where) };
  if (tp.mapType) {
    return {
      kind: 'map',
      key: tensorDType(tp.mapType.keyType, where).name,
      value: typeFromProto(tp.mapType.valueType, where),
    };
  }
  if (tp.optionalType) return { kind: 'optional', elem: typeFromProto(tp.optionalType.elemType, where) };
  throw new OnyxError('INVALID_MODEL', `${where}: type has no tensor, sequence, map or optional part`);
}

/** ONNX-style spelling, e.g. `tensor(float)[batch,3,224,224]` or `seq(tensor(int64))`. */
export function formatType(t: ValueType | null): string {
  if (!t) return '?';
  switch (t.kind) {
    case 'tensor':
    case 'sparse_tensor': {
      const base = `${t.kind === 'tensor' ? 'tensor' : 'sparse_tensor'}(${t.elemType})`;
      return t.shape ? `${base}[${t.shape.map((d) => d ?? '?').join(',')}]` : base;
    }
    case 'sequence':
      return `seq(${formatType(t.elem)})`;
    case 'map':
      return `map(${t.key},${formatType(t.value)})`;
    case 'optional':
      return `optional(${formatType(t.elem)})`;
  }
}
