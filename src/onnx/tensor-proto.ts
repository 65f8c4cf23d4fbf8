/**
 * TensorProto ⇄ Tensor, and the ONNX value protos (SequenceProto, MapProto, OptionalProto) ⇄ Value.
 * Handles raw_data and every typed field for every element type, sub-byte packing (int4, uint4,
 * float4e2m1: two per byte, low nibble first; int2/uint2: four per byte) and external data.
 * Assumes a little-endian host, as ONNX's raw_data is little-endian and every JS engine we target is.
 */
import { allocData, dtypeFromCode, type DTypeInfo, type TensorData, type TypedArray } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { MAX_TENSOR_ELEMENTS } from '../core/limits.js';
import { Tensor } from '../core/tensor.js';
import type { MapKey, Value } from '../core/value.js';
import { NO_EXTERNAL_DATA, type ExternalDataReader } from './external-data.js';
import { toBigInt, toNumber } from './proto.js';
import type * as P from './proto-types.js';

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

export function tensorDType(code: number, where: string): DTypeInfo {
  const t = dtypeFromCode(code);
  if (!t) throw new OnyxError('INVALID_MODEL', `${where}: unknown tensor data type ${code}`);
  return t;
}

export function tensorFromProto(tp: P.TensorProto, external: ExternalDataReader = NO_EXTERNAL_DATA): Tensor {
  const where = `tensor '${tp.name}'`;
  const t = tensorDType(tp.dataType, where);
  const dims = tp.dims.map((d) => toNumber(d));
  let n = 1;
  for (const d of dims) {
    if (d < 0) throw new OnyxError('INVALID_MODEL', `${where} has a negative dim in [${dims.join(', ')}]`);
    n *= d;
  }
  if (n > MAX_TENSOR_ELEMENTS) {
    throw new OnyxError('LIMIT_EXCEEDED', `${where} of dims [${dims.join(', ')}] is too large`);
  }
  let data: TensorData;
  if (tp.dataLocation === 1) {
    data = fromBytes(t, externalBytes(tp, external), n, where);
  } else if (tp.rawData && tp.rawData.length > 0) {
    data = fromBytes(t, tp.rawData, n, where);
  } else {
    data = fromTypedFields(t, tp, n, where);
  }
  return new Tensor(t.name, data, dims);
}

function externalBytes(tp: P.TensorProto, external: ExternalDataReader): Uint8Array {
  const entries = new Map(tp.externalData.map((e) => [e.key, e.value]));
  const location = entries.get('location');
  if (!location) throw new OnyxError('INVALID_MODEL', `tensor '${tp.name}' is external but has no location`);
  const parse = (key: string): number | undefined => {
    const s = entries.get(key);
    if (s === undefined) return undefined;
    const v = Number(s);
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new OnyxError('INVALID_MODEL', `tensor '${tp.name}' has an invalid external ${key} '${s}'`);
    }
    return v;
  };
  return external.read({ location, offset: parse('offset') ?? 0, length: parse('length') });
}

/** Number of bytes `n` elements take on the wire (packed for sub-byte types). */
function wireBytes(t: DTypeInfo, n: number): number {
  return Math.ceil((n * t.bits * t.lanes) / 8);
}

function fromBytes(t: DTypeInfo, bytes: Uint8Array, n: number, where: string): TensorData {
  if (t.name === 'string')
    throw new OnyxError('INVALID_MODEL', `${where}: string tensors cannot use raw_data`);
  const expected = wireBytes(t, n);
  if (bytes.length !== expected) {
    throw new OnyxError(
      'INVALID_MODEL',
      `${where} holds ${bytes.length} bytes of data, expected ${expected}`,
    );
  }
  if (t.bits < 8) return unpackSubByte(t, bytes, n);
  const out = allocData(t.name, n) as TypedArray;
  // One copy, which also fixes alignment (raw_data may start at any byte offset in the file).
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

function unpackSubByte(t: DTypeInfo, bytes: ArrayLike<number>, n: number): TensorData {
  const out = allocData(t.name, n) as Int8Array | Uint8Array;
  const perByte = 8 / t.bits;
  const mask = (1 << t.bits) - 1;
  const signed = out instanceof Int8Array;
  for (let i = 0; i < n; i++) {
    let v = (bytes[Math.floor(i / perByte)] >> ((i % perByte) * t.bits)) & mask;
    if (signed && v >= 1 << (t.bits - 1)) v -= 1 << t.bits;
    out[i] = v;
  }
  return out;
}

function packSubByte(t: DTypeInfo, data: ArrayLike<number>): Uint8Array {
  const perByte = 8 / t.bits;
  const mask = (1 << t.bits) - 1;
  const out = new Uint8Array(Math.ceil(data.length / perByte));
  for (let i = 0; i < data.length; i++) {
    out[Math.floor(i / perByte)] |= (data[i] & mask) << ((i % perByte) * t.bits);
  }
  return out;
}

function expectCount(have: number, want: number, where: string): void {
  if (have !== want) throw new OnyxError('INVALID_MODEL', `${where} has ${have} values, expected ${want}`);
}

function fromTypedFields(t: DTypeInfo, tp: P.TensorProto, n: number, where: string): TensorData {
  const count = n * t.lanes;
  switch (t.name) {
    case 'string':
      expectCount(tp.stringData.length, n, where);
      return tp.stringData.map((b) => utf8.decode(b));
    case 'float32':
    case 'complex64':
      expectCount(tp.floatData.length, count, where);
      return Float32Array.from(tp.floatData);
    case 'float64':
    case 'complex128':
      expectCount(tp.doubleData.length, count, where);
      return Float64Array.from(tp.doubleData);
    case 'int64':
      expectCount(tp.int64Data.length, n, where);
      return BigInt64Array.from(tp.int64Data, (x) => toBigInt(x));
    case 'uint64':
      expectCount(tp.uint64Data.length, n, where);
      return BigUint64Array.from(tp.uint64Data, (x) => toBigInt(x, true));
    case 'uint32':
      expectCount(tp.uint64Data.length, n, where);
      return Uint32Array.from(tp.uint64Data, (x) => toNumber(x));
    default: {
      if (t.bits < 8) {
        // Sub-byte types put one packed byte in each int32_data entry.
        expectCount(tp.int32Data.length, wireBytes(t, n), where);
        return unpackSubByte(t, tp.int32Data, n);
      }
      // Every other type of 16 bits or less (including float16/bfloat16/float8 bit patterns).
      expectCount(tp.int32Data.length, n, where);
      const out = allocData(t.name, n) as TypedArray;
      (out as Int32Array).set(tp.int32Data);
      return out;
    }
  }
}

/** Plain-object TensorProto (camelCase fields) for `encodeMessage('TensorProto', …)`; uses raw_data. */
export function tensorToProto(tensor: Tensor, name = ''): Record<string, unknown> {
  const t = tensorDType(codeOf(tensor), 'tensor');
  const proto: Record<string, unknown> = { name, dims: [...tensor.dims], dataType: t.code };
  if (tensor.type === 'string') {
    proto.stringData = (tensor.data as string[]).map((s) => utf8Encoder.encode(s));
  } else if (t.bits < 8) {
    proto.rawData = packSubByte(t, tensor.data as Uint8Array);
  } else {
    const d = tensor.data as TypedArray;
    proto.rawData = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  }
  return proto;
}

function codeOf(tensor: Tensor): number {
  return dtypeCodeByName.get(tensor.type) ?? 0;
}

const dtypeCodeByName = new Map<string, number>();
for (let code = 1; code <= 26; code++) {
  const t = dtypeFromCode(code);
  if (t) dtypeCodeByName.set(t.name, code);
}

export function dtypeCode(type: string): number {
  const c = dtypeCodeByName.get(type);
  if (c === undefined) throw new OnyxError('INVALID_ARGUMENT', `unknown tensor type '${type}'`);
  return c;
}

// --- SequenceProto / MapProto / OptionalProto (used by test data and the CLI) ---

const enum ElemKind {
  TENSOR = 1,
  SPARSE_TENSOR = 2,
  SEQUENCE = 3,
  MAP = 4,
  OPTIONAL = 5,
}

export function sequenceFromProto(sp: P.SequenceProto): Value[] {
  switch (sp.elemType) {
    case ElemKind.TENSOR:
      return sp.tensorValues.map((t) => tensorFromProto(t));
    case ElemKind.SEQUENCE:
      return sp.sequenceValues.map(sequenceFromProto);
    case ElemKind.MAP:
      return sp.mapValues.map(mapFromProto);
    case ElemKind.OPTIONAL:
      return sp.optionalValues.map(optionalFromProto);
    default:
      if (sp.tensorValues.length > 0) return sp.tensorValues.map((t) => tensorFromProto(t));
      return [];
  }
}

export function mapFromProto(mp: P.MapProto): Map<MapKey, Value> {
  const keyType = tensorDType(mp.keyType, `map '${mp.name}'`);
  const keys: MapKey[] =
    keyType.name === 'string'
      ? mp.stringKeys.map((b) => utf8.decode(b))
      : mp.keys.map((k) => (keyType.numericClass === 'bigint' ? toBigInt(k) : toNumber(k)));
  const values = mp.values ? sequenceFromProto(mp.values) : [];
  if (values.length !== keys.length) {
    throw new OnyxError(
      'INVALID_MODEL',
      `map '${mp.name}' has ${keys.length} keys but ${values.length} values`,
    );
  }
  return new Map(keys.map((k, i) => [k, values[i]]));
}

export function optionalFromProto(op: P.OptionalProto): Value {
  switch (op.elemType) {
    case ElemKind.TENSOR:
      return op.tensorValue ? tensorFromProto(op.tensorValue) : null;
    case ElemKind.SEQUENCE:
      return op.sequenceValue ? sequenceFromProto(op.sequenceValue) : null;
    case ElemKind.MAP:
      return op.mapValue ? mapFromProto(op.mapValue) : null;
    case ElemKind.OPTIONAL:
      return op.optionalValue ? optionalFromProto(op.optionalValue) : null;
    default:
      return null;
  }
}
