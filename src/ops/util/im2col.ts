/**
 * im2col: every patch of an image unfolded as one column, for the convolutions that multiply on a
 * GEMM outside the WASM kernels (which unfold as they pack): the reference float path, and the
 * integer convolutions' bytes (util/integer-conv.ts). 1-D and 2-D windows go row by row (block
 * copies of whole input rows); higher ranks walk every tap.
 */
import { shapeSize } from '../../core/tensor.js';
import type { ImageWindow, Window2D } from './dispatch.js';
import type { Window } from './window.js';

/** A float or 8-bit array, the element types im2col copies. */
export type Im2colArray = Float32Array | Float64Array | Int8Array | Uint8Array;

/** The window fields im2col reads. */
export type Im2colWindow = Pick<Window, 'kernel' | 'strides' | 'dilations' | 'padBegin' | 'outSpatial'>;

/**
 * The 2-D window over C channels of a 1-D or 2-D convolution (1-D ones become height-1 2-D ones).
 * Built whole for each channel count: V8 (Node 20) took ~2–10 µs per call to spread an object and
 * add a field, a cost every grouped convolution paid per group.
 */
export function as2d(spatial: number[], w: Im2colWindow, C = 1): ImageWindow | undefined {
  if (spatial.length === 2) {
    return {
      C,
      H: spatial[0],
      W: spatial[1],
      kh: w.kernel[0],
      kw: w.kernel[1],
      sh: w.strides[0],
      sw: w.strides[1],
      dh: w.dilations[0],
      dw: w.dilations[1],
      padTop: w.padBegin[0],
      padLeft: w.padBegin[1],
      oh: w.outSpatial[0],
      ow: w.outSpatial[1],
    };
  }
  if (spatial.length === 1) {
    return {
      C,
      H: 1,
      W: spatial[0],
      kh: 1,
      kw: w.kernel[0],
      sh: 1,
      sw: w.strides[0],
      dh: 1,
      dw: w.dilations[0],
      padTop: 0,
      padLeft: w.padBegin[0],
      oh: 1,
      ow: w.outSpatial[0],
    };
  }
  return undefined;
}

/** The output columns [lo, hi) whose input column ox·sw + off lies in [0, W). */
export function validRange(off: number, sw: number, W: number, ow: number): [number, number] {
  const lo = off >= 0 ? 0 : Math.ceil(-off / sw);
  const hi = W - 1 - off < 0 ? 0 : Math.floor((W - 1 - off) / sw) + 1;
  return [Math.min(lo, ow), Math.max(Math.min(hi, ow), Math.min(lo, ow))];
}

/**
 * im2col for output rows [oy0, oy1): col[(c·kh + ky)·kw + kx][(oy − oy0)·ow + ox]; taps outside
 * the image read `pad` (0 for a float convolution, the zero point for an integer one). col has
 * X's element type.
 */
export function im2col2d<T extends Im2colArray>(
  X: T,
  xOff: number,
  Cg: number,
  g: Window2D,
  oy0: number,
  oy1: number,
  col: T,
  pad = 0,
): void {
  const { H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, ow } = g;
  const cols = (oy1 - oy0) * ow;
  let r = 0;
  for (let c = 0; c < Cg; c++) {
    const plane = xOff + c * H * W;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, r++) {
        const dst = r * cols;
        const ixOff = kx * dw - padLeft;
        const [lo, hi] = validRange(ixOff, sw, W, ow);
        for (let oy = oy0; oy < oy1; oy++) {
          const d = dst + (oy - oy0) * ow;
          const iy = oy * sh - padTop + ky * dh;
          if (iy < 0 || iy >= H) {
            col.fill(pad, d, d + ow);
            continue;
          }
          if (lo > 0) col.fill(pad, d, d + lo);
          const src = plane + iy * W + ixOff;
          if (sw === 1 && hi - lo > 32) {
            // Long rows: one block copy. Short ones (deep layers' 7- and 14-wide maps) copy faster
            // in the loop below than through a subarray view made per row (measured ~5× at 7).
            col.set(X.subarray(src + lo, src + hi) as never, d + lo);
          } else if (sw === 1) {
            for (let ox = lo; ox < hi; ox++) col[d + ox] = X[src + ox];
          } else {
            for (let ox = lo; ox < hi; ox++) col[d + ox] = X[src + ox * sw];
          }
          if (hi < ow) col.fill(pad, d + hi, d + ow);
        }
      }
    }
  }
}

/**
 * col[(c, k…)][p] for the Cg channels of the image at X[xOff…] (each `spatial`), p over all the
 * window's output positions, at any rank; taps outside the image read `pad`.
 */
export function im2col<T extends Im2colArray>(
  X: T,
  xOff: number,
  Cg: number,
  spatial: number[],
  w: Im2colWindow,
  col: T,
  pad = 0,
): void {
  const g2 = as2d(spatial, w);
  if (g2) {
    im2col2d(X, xOff, Cg, g2, 0, g2.oh, col, pad);
    return;
  }
  const n = spatial.length;
  const P = shapeSize(w.outSpatial);
  const kSize = shapeSize(w.kernel);
  const inSize = shapeSize(spatial);
  const inStrides = new Array<number>(n);
  for (let i = n - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= spatial[i];
  }
  const kk = new Array<number>(n).fill(0);
  const o = new Array<number>(n).fill(0);
  for (let c = 0; c < Cg; c++) {
    kk.fill(0);
    for (let k = 0; k < kSize; k++) {
      const dst = (c * kSize + k) * P;
      o.fill(0);
      for (let p = 0; p < P; p++) {
        let off = xOff + c * inSize;
        let ok = true;
        for (let i = 0; i < n; i++) {
          const ii = o[i] * w.strides[i] - w.padBegin[i] + kk[i] * w.dilations[i];
          if (ii < 0 || ii >= spatial[i]) {
            ok = false;
            break;
          }
          off += ii * inStrides[i];
        }
        col[dst + p] = ok ? X[off] : pad;
        for (let i = n - 1; i >= 0; i--) {
          if (++o[i] < w.outSpatial[i]) break;
          o[i] = 0;
        }
      }
      for (let i = n - 1; i >= 0; i--) {
        if (++kk[i] < w.kernel[i]) break;
        kk[i] = 0;
      }
    }
  }
}
