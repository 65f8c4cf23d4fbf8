/**
 * Protobuf decode/encode of ONNX messages with the static code protobufjs-cli generates from
 * `onnx.proto` at build time (scripts/build-proto.mjs). Decoded messages keep `bytes` fields as views
 * into the input buffer (protobufjs slices with `subarray`), so weights are copied at most once: when
 * a tensor is materialized.
 */
import { OnyxError } from '../core/errors.js';
import { onnx } from './onnx-pb.js';
import type * as P from './proto-types.js';

/** What the generated code offers per message (typed here: the generated file is unchecked). */
interface MessageCodec {
  decode(bytes: Uint8Array): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  fromObject(object: Record<string, unknown>): unknown;
}

const types = onnx as unknown as Record<
  'ModelProto' | 'TensorProto' | 'SequenceProto' | 'MapProto' | 'OptionalProto' | 'GraphProto' | 'TypeProto',
  MessageCodec
>;

type MessageName = keyof typeof types;

function decode<T>(name: MessageName, bytes: Uint8Array, what: string): T {
  try {
    return types[name].decode(bytes) as unknown as T;
  } catch (e) {
    throw new OnyxError(
      'INVALID_PROTOBUF',
      `${what} is not a valid ONNX ${name} (${(e as Error).message}); the file may be truncated or not an ONNX file`,
      {},
      { cause: e },
    );
  }
}

export function decodeModel(bytes: Uint8Array): P.ModelProto {
  return decode<P.ModelProto>('ModelProto', bytes, 'model');
}

export function decodeTensorProto(bytes: Uint8Array): P.TensorProto {
  return decode<P.TensorProto>('TensorProto', bytes, 'tensor file');
}

export function decodeSequenceProto(bytes: Uint8Array): P.SequenceProto {
  return decode<P.SequenceProto>('SequenceProto', bytes, 'sequence file');
}

export function decodeMapProto(bytes: Uint8Array): P.MapProto {
  return decode<P.MapProto>('MapProto', bytes, 'map file');
}

export function decodeOptionalProto(bytes: Uint8Array): P.OptionalProto {
  return decode<P.OptionalProto>('OptionalProto', bytes, 'optional file');
}

/** Encodes a message given as a plain object with the camelCase field names of `proto-types.ts`. */
export function encodeMessage(name: MessageName, message: object): Uint8Array {
  const type = types[name];
  return type.encode(type.fromObject(message as Record<string, unknown>)).finish();
}

/** int64 fields arrive as `Long` (exact) or plain numbers; this gives a safe JS number or throws. */
export function toNumber(x: P.Int64 | null | undefined): number {
  if (x === null || x === undefined) return 0;
  if (typeof x === 'number') return x;
  const n = x.toNumber();
  if (!Number.isSafeInteger(n)) {
    throw new OnyxError(
      'INVALID_MODEL',
      `integer ${x.toString()} is outside the safe range for a size or index`,
    );
  }
  return n;
}

/**
 * Exact conversion of an int64/uint64 field to BigInt: the Long's two 32-bit halves, read as the
 * field's signedness (`Long.toString` divides by ten digit by digit: ~2 ms of a 450-node model's
 * first load went there).
 */
export function toBigInt(x: P.Int64, unsigned = false): bigint {
  if (typeof x === 'number') return BigInt(x);
  const bits = (BigInt(x.high >>> 0) << 32n) | BigInt(x.low >>> 0);
  return unsigned ? bits : BigInt.asIntN(64, bits);
}

/** int64 attribute values may legitimately exceed 2^53 (e.g. INT64_MAX as "until the end" in Slice). */
export function toIntAttr(x: P.Int64): number {
  if (typeof x === 'number') return x;
  const n = x.toNumber();
  if (Number.isSafeInteger(n)) return n;
  return n > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
}

/** True when a proto2 optional field was present on the wire (not just the default). */
export function has(message: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, field);
}
