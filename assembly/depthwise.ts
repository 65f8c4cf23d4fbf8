/**
 * Depthwise 2-D convolution (one input channel per group, MobileNet's 3×3 layers) for WebAssembly
 * SIMD128: each output row is built in place — bias (and FusedConv's Z) first, then one
 * multiply-add sweep per kernel tap over the output columns whose input lies inside the image (so
 * the inner loop tests nothing), four columns per f32x4 at stride 1 and 2 — then clamped. The row
 * stays in L1 across the kh·kw sweeps.
 *
 * Geometry: a window.ts `Window` at `g`. Channels [c0, c1) are computed, so a thread pool
 * can split by channel.
 */
import { madd } from './simd';
import { endColumn, firstColumn, Window } from './window';

/**
 * y[c] = clamp(conv(x[c], w[c]) + bias[c] + z[c]) for channels [c0, c1): x is C × H × W, w is
 * C × kh × kw, y and z are C × oh × ow; `bias` and `z` may be 0 (absent). `_ws`, the thread's
 * workspace that a pool passes to every export, is not needed here.
 */
export function depthwiseConv(
  g: usize,
  x: usize,
  w: usize,
  bias: usize,
  z: usize,
  y: usize,
  c0: i32,
  c1: i32,
  clip: bool,
  lo: f32,
  hi: f32,
  _ws: usize,
): void {
  const win = changetype<Window>(g);
  const H = win.H;
  const W = win.W;
  const kh = win.kh;
  const kw = win.kw;
  const sh = win.sh;
  const sw = win.sw;
  const dh = win.dh;
  const dw = win.dw;
  const pt = win.padTop;
  const pl = win.padLeft;
  const oh = win.oh;
  const ow = win.ow;
  const inPlane = <usize>H * W * 4;
  const outPlane = <usize>oh * ow * 4;
  const taps = <usize>kh * kw * 4;
  const loV = f32x4.splat(lo);
  const hiV = f32x4.splat(hi);
  for (let c = c0; c < c1; c++) {
    const xc = x + <usize>c * inPlane;
    const wc = w + <usize>c * taps;
    const b: f32 = bias != 0 ? load<f32>(bias + <usize>c * 4) : 0;
    const bV = f32x4.splat(b);
    for (let oy = 0; oy < oh; oy++) {
      const row = y + <usize>c * outPlane + <usize>oy * ow * 4;
      const zRow = z != 0 ? z + <usize>c * outPlane + <usize>oy * ow * 4 : 0;
      // Start: bias (+ Z).
      let j = 0;
      if (zRow != 0) {
        for (; j + 4 <= ow; j += 4)
          v128.store(row + <usize>j * 4, f32x4.add(bV, v128.load(zRow + <usize>j * 4)));
        for (; j < ow; j++) store<f32>(row + <usize>j * 4, b + load<f32>(zRow + <usize>j * 4));
      } else {
        for (; j + 4 <= ow; j += 4) v128.store(row + <usize>j * 4, bV);
        for (; j < ow; j++) store<f32>(row + <usize>j * 4, b);
      }
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        if (<u32>iy >= <u32>H) continue;
        const src = xc + <usize>iy * W * 4;
        for (let kx = 0; kx < kw; kx++) {
          const wv = load<f32>(wc + <usize>(ky * kw + kx) * 4);
          const wV = f32x4.splat(wv);
          // Output columns whose input column ox·sw − pl + kx·dw lies in [0, W).
          const off = kx * dw - pl;
          const last = endColumn(off, sw, W, ow);
          let ox = min(firstColumn(off, sw), last);
          if (sw == 1) {
            for (; ox + 4 <= last; ox += 4) {
              const p = row + <usize>ox * 4;
              v128.store(p, madd(wV, v128.load(src + <usize>(ox + off) * 4), v128.load(p)));
            }
          } else if (sw == 2) {
            for (; ox + 4 <= last; ox += 4) {
              const s = src + <usize>(2 * ox + off) * 4;
              const even = v128.shuffle<f32>(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
              const p = row + <usize>ox * 4;
              v128.store(p, madd(wV, even, v128.load(p)));
            }
          }
          for (; ox < last; ox++) {
            const p = row + <usize>ox * 4;
            store<f32>(p, load<f32>(p) + wv * load<f32>(src + <usize>(ox * sw + off) * 4));
          }
        }
      }
      if (clip) {
        j = 0;
        for (; j + 4 <= ow; j += 4) {
          const p = row + <usize>j * 4;
          v128.store(p, f32x4.min(f32x4.max(v128.load(p), loV), hiV));
        }
        for (; j < ow; j++) {
          const p = row + <usize>j * 4;
          store<f32>(p, min(max(load<f32>(p), lo), hi));
        }
      }
    }
  }
}
