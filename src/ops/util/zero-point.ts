/**
 * The shared first step of the integer matrix ops (MatMulInteger, ConvInteger): int8/uint8 values
 * minus their zero point, widened to float64 (exact for every product sum these ops can form).
 */
import { OnyxError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { fmt } from './numeric.js';

/**
 * `t − zp`, where `zp` is absent, a scalar, or one value per slice along an axis of `count` slices
 * whose elements are `stride` apart. `checkType` also requires zp to have t's element type.
 */
export function minusZeroPoint(
  op: string,
  what: string,
  t: Tensor,
  zp: Tensor | undefined,
  count: number,
  stride: number,
  checkType: boolean,
): Float64Array {
  const z = zeroPoints(op, what, t, zp, count, checkType);
  const out = Float64Array.from(t.data as Int8Array | Uint8Array);
  if (z.length === 1) {
    if (z[0] !== 0) for (let i = 0; i < out.length; i++) out[i] -= z[0];
  } else {
    for (let i = 0; i < out.length; i++) out[i] -= z[Math.floor(i / stride) % count];
  }
  return out;
}

/**
 * The zero point(s) of int8/uint8 `t` per slice of `count`: zp's one or `count` values, or [0]
 * when absent (checked as `minusZeroPoint` documents).
 */
export function zeroPoints(
  op: string,
  what: string,
  t: Tensor,
  zp: Tensor | undefined,
  count: number,
  checkType: boolean,
): ArrayLike<number> {
  if (t.type !== 'int8' && t.type !== 'uint8') {
    throw new OnyxError('TYPE_MISMATCH', `${op} ${what} must be int8 or uint8, got ${t.type}`);
  }
  if (!zp) return [0];
  if (checkType && zp.type !== t.type) {
    throw new OnyxError(
      'TYPE_MISMATCH',
      `${op} ${what}_zero_point must have ${what}'s type ${t.type}, got ${zp.type}`,
    );
  }
  const z = zp.data as Int8Array | Uint8Array;
  if (z.length !== 1 && z.length !== count) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${op} ${what}_zero_point must be a scalar${count > 1 ? ` or hold ${count} values` : ''}, got dims ${fmt(zp.dims)}`,
    );
  }
  return z;
}
