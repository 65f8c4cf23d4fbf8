/**
 * Model loading: bytes (+ a way to read external data) → IR `Model`.
 */
import { OnyxError } from '../core/errors.js';
import { modelFromProto } from '../ir/from-proto.js';
import type { Model } from '../ir/graph.js';
import { NO_EXTERNAL_DATA, type ExternalDataReader } from './external-data.js';
import { decodeModel } from './proto.js';

export function loadModelBytes(bytes: Uint8Array, external: ExternalDataReader = NO_EXTERNAL_DATA): Model {
  if (bytes.length === 0) throw new OnyxError('INVALID_PROTOBUF', 'model is empty (0 bytes)');
  const proto = decodeModel(bytes);
  if (!proto.graph) {
    throw new OnyxError(
      'INVALID_MODEL',
      'the bytes decode but hold no graph: this is not an ONNX model (or it is truncated)',
    );
  }
  return modelFromProto(proto, external);
}
