/**
 * 2-D max and average pooling (no dilation) for WebAssembly SIMD128, built like depthwise.ts: each
 * output row starts at −∞ (max) or 0 (sum), takes one sweep per kernel tap over the output columns
 * whose input is inside the image — four columns per f32x4 at stride 1 and 2 — and, for the
 * average, is divided by each position's count (given per output position: the valid or the padded
 * window size, as count_include_pad and ceil_mode decide). Max propagates NaN, as numpy's max does.
 *
 * Geometry: a window.ts `Window` at `g` (dh, dw unused). Planes [p0, p1) are computed.
 */
import { endColumn, firstColumn, Window } from './window';

export const POOL_MAX: i32 = 0;
export const POOL_AVERAGE: i32 = 1;

/** y[p] = pool(x[p]) for planes [p0, p1); `divisors` (oh × ow) is read for POOL_AVERAGE only. */
export function pool2d(
  g: usize,
  x: usize,
  y: usize,
  kind: i32,
  divisors: usize,
  p0: i32,
  p1: i32,
  _ws: usize,
): void {
  const win = changetype<Window>(g);
  const H = win.H;
  const W = win.W;
  const kh = win.kh;
  const kw = win.kw;
  const sh = win.sh;
  const sw = win.sw;
  const pt = win.padTop;
  const pl = win.padLeft;
  const oh = win.oh;
  const ow = win.ow;
  const isMax = kind == POOL_MAX;
  const start: f32 = isMax ? -Infinity : 0;
  const startV = f32x4.splat(start);
  for (let p = p0; p < p1; p++) {
    const xp = x + <usize>p * H * W * 4;
    for (let oy = 0; oy < oh; oy++) {
      const row = y + (<usize>p * oh * ow + <usize>oy * ow) * 4;
      let j = 0;
      for (; j + 4 <= ow; j += 4) v128.store(row + <usize>j * 4, startV);
      for (; j < ow; j++) store<f32>(row + <usize>j * 4, start);
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky;
        if (<u32>iy >= <u32>H) continue;
        const src = xp + <usize>iy * W * 4;
        for (let kx = 0; kx < kw; kx++) {
          const off = kx - pl;
          const last = endColumn(off, sw, W, ow);
          let ox = min(firstColumn(off, sw), last);
          if (sw == 1 || sw == 2) {
            for (; ox + 4 <= last; ox += 4) {
              const s = src + <usize>(ox * sw + off) * 4;
              const v =
                sw == 1 ? v128.load(s) : v128.shuffle<f32>(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
              const q = row + <usize>ox * 4;
              v128.store(q, isMax ? f32x4.max(v128.load(q), v) : f32x4.add(v128.load(q), v));
            }
          }
          for (; ox < last; ox++) {
            const q = row + <usize>ox * 4;
            const v = load<f32>(src + <usize>(ox * sw + off) * 4);
            store<f32>(q, isMax ? max(load<f32>(q), v) : load<f32>(q) + v);
          }
        }
      }
      if (!isMax) {
        const d = divisors + <usize>oy * ow * 4;
        j = 0;
        for (; j + 4 <= ow; j += 4) {
          const q = row + <usize>j * 4;
          v128.store(q, f32x4.div(v128.load(q), v128.load(d + <usize>j * 4)));
        }
        for (; j < ow; j++) {
          const q = row + <usize>j * 4;
          store<f32>(q, load<f32>(q) / load<f32>(d + <usize>j * 4));
        }
      }
    }
  }
}
