/**
 * Multidirectional (numpy-style) broadcasting: the output shape of several inputs, and for each input
 * its element strides laid over the output shape (0 along broadcast dims), so kernels walk the output
 * once and read every input by offset.
 */
import { OnyxError } from '../../core/errors.js';
import type { Dims } from '../../core/tensor.js';

export function broadcastShapes(...shapes: Dims[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')} cannot be broadcast together`,
        );
      }
    }
  }
  return out;
}

/** Row-major strides of `dims`. */
export function stridesOf(dims: Dims): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** Strides of `inDims` aligned to `outDims` (right-aligned), with 0 where the input broadcasts. */
export function broadcastStrides(inDims: Dims, outDims: Dims): number[] {
  const own = stridesOf(inDims);
  const res = new Array<number>(outDims.length).fill(0);
  const off = outDims.length - inDims.length;
  for (let i = 0; i < inDims.length; i++) res[off + i] = inDims[i] === 1 ? 0 : own[i];
  return res;
}

/**
 * For every output element in row-major order, the flat offset into each input. Returns one
 * Int32Array per input (or `null` where the input has the output's exact shape: offset = index).
 */
export function broadcastOffsets(inputs: Dims[], outDims: Dims): (Int32Array | null)[] {
  return inputs.map((dims) => {
    if (dims.length === outDims.length && dims.every((d, i) => d === outDims[i])) return null;
    return stridedOffsets(outDims, broadcastStrides(dims, outDims));
  });
}

/**
 * The flat offsets (with `strides`) of every position of `dims` in row-major order: walks one
 * shape while reading another strided tensor (a stride may be 0 to skip an axis).
 */
export function stridedOffsets(dims: Dims, strides: readonly number[]): Int32Array {
  let n = 1;
  for (const d of dims) n *= d;
  const out = new Int32Array(n);
  const rank = dims.length;
  const counter = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let ax = rank - 1; ax >= 0; ax--) {
      counter[ax]++;
      off += strides[ax];
      if (counter[ax] < dims[ax]) break;
      off -= strides[ax] * counter[ax];
      counter[ax] = 0;
    }
  }
  return out;
}
