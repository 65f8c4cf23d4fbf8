/**
 * Reads NumPy `.npy` files (format versions 1–3, little-endian, C order) into Tensors, so
 * `onyx run --input x=file.npy` accepts what Python users already have.
 */
import { OnyxError, Tensor, type TensorType } from '../index.js';

const DTYPES: Record<string, TensorType> = {
  f4: 'float32',
  f8: 'float64',
  f2: 'float16',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  b1: 'bool',
};

const CTORS: Record<string, { new (b: ArrayBuffer): ArrayLike<unknown> }> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

export function readNpy(bytes: Uint8Array, what = 'npy file'): Tensor {
  const bad = (why: string): never => {
    throw new OnyxError('INVALID_ARGUMENT', `${what} is not a readable .npy file: ${why}`);
  };
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY')
    bad('bad magic');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([<>|=]?)([a-z]\d+)'/.exec(header) ?? bad('no descr');
  if (descr[1] === '>') bad('big-endian data is not supported');
  if (/'fortran_order':\s*True/.test(header)) bad('Fortran order is not supported');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header) ?? bad('no shape');
  const dims = shapeText[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const type = DTYPES[descr[2]] ?? bad(`dtype '${descr[2]}' is not supported`);
  const body = bytes.slice(start + headerLen);
  const data = new CTORS[type](body.buffer);
  return new Tensor(type, data as Float32Array, dims);
}
