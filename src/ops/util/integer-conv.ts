/**
 * The int32 convolution of 8-bit x and w minus their zero points, shared by ConvInteger and
 * QLinearConv: per image and group, the image's patches are unfolded as bytes (taps in the padding
 * read x's zero point, so they are zero once it is subtracted) and multiplied by the integer GEMM
 * (`integerProducts`, assembly/igemm.ts): W_g (Mg × Cg·k) · col (Cg·k × P).
 */
import { shapeSize } from '../../core/tensor.js';
import { fastIntegers, integerProducts } from './dispatch.js';
import { im2col } from './im2col.js';
import type { Window } from './window.js';

export interface IntegerConvShape {
  N: number;
  C: number;
  M: number;
  group: number;
  /** Input spatial dims. */
  spatial: number[];
  window: Pick<Window, 'kernel' | 'strides' | 'dilations' | 'padBegin' | 'outSpatial'>;
}

/**
 * Y (int32, N × M × output positions) = conv(x − xZp, w − wZp), wZp one value or one per output
 * channel; undefined when the WASM kernels are not in use (callers keep their reference path).
 */
export function integerConv(
  x: Int8Array | Uint8Array,
  w: Int8Array | Uint8Array,
  xZp: number,
  wZp: ArrayLike<number>,
  s: IntegerConvShape,
): Int32Array | undefined {
  const { N, C, M, group } = s;
  const [Cg, Mg] = [C / group, M / group];
  const K = Cg * shapeSize(s.window.kernel);
  const P = shapeSize(s.window.outSpatial);
  if (!fastIntegers(K)) return undefined;
  const inSize = shapeSize(s.spatial);
  const col = x instanceof Int8Array ? new Int8Array(K * P) : new Uint8Array(K * P);
  const Y = new Int32Array(N * M * P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      im2col(x, (n * C + g * Cg) * inSize, Cg, s.spatial, s.window, col, xZp);
      const za = wZp.length === 1 ? wZp : Array.prototype.slice.call(wZp, g * Mg, (g + 1) * Mg);
      const y = integerProducts(w, col, za, [xZp], Mg, P, K, [g], [0])!;
      Y.set(y, (n * M + g * Mg) * P);
    }
  }
  return Y;
}
