/**
 * Reading and writing ONNX value files (`.pb`): TensorProto, SequenceProto, MapProto and
 * OptionalProto, as used by ONNX's backend test data and by `onyx run --input x=file.pb`.
 */
import type { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import {
  decodeMapProto,
  decodeOptionalProto,
  decodeSequenceProto,
  decodeTensorProto,
  encodeMessage,
} from '../onnx/proto.js';
import {
  mapFromProto,
  optionalFromProto,
  sequenceFromProto,
  tensorFromProto,
  tensorToProto,
} from '../onnx/tensor-proto.js';

export type ValueKind = 'tensor' | 'sequence' | 'map' | 'optional';

export function readValueProto(bytes: Uint8Array, kind: ValueKind = 'tensor'): Value {
  switch (kind) {
    case 'tensor':
      return tensorFromProto(decodeTensorProto(bytes));
    case 'sequence':
      return sequenceFromProto(decodeSequenceProto(bytes));
    case 'map':
      return mapFromProto(decodeMapProto(bytes));
    case 'optional':
      return optionalFromProto(decodeOptionalProto(bytes));
  }
}

export function writeTensorProto(tensor: Tensor, name = ''): Uint8Array {
  return encodeMessage('TensorProto', tensorToProto(tensor, name));
}
