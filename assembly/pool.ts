/**
 * 2-D max and average pooling (no dilation) for WebAssembly SIMD128, built like depthwise.ts: each
 * output row starts at −∞ (max) or 0 (sum), takes one sweep per kernel tap over the output columns
 * whose input is inside the image — four columns per f32x4 at stride 1 and 2 — and, for the
 * average, is divided by each position's count (given per output position: the valid or the padded
 * window size, as count_include_pad and ceil_mode decide). Max propagates NaN, as numpy's max does.
 *
 * Rows under four outputs wide (a 7 × 7 average over a 7 × 7 image, as ResNet-50 ends) leave
 * nothing to vectorize across outputs, and each tap's sweep was all setup: those outputs are
 * computed one at a time instead, each window row four input columns per f32x4 (ResNet-50's
 * 2048 × 7 × 7 average pool, the kernel alone: ~990 → ~45 µs).
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
  if (ow < 4) {
    narrowRows(win, x, y, isMax, divisors, p0, p1);
    return;
  }
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

/**
 * `pool2d` for outputs under four wide: one output at a time. A window as wide as the image covers
 * whole rows, one contiguous span; otherwise each of its rows is one.
 */
function narrowRows(win: Window, x: usize, y: usize, isMax: bool, divisors: usize, p0: i32, p1: i32): void {
  const H = win.H;
  const W = win.W;
  const oh = win.oh;
  const ow = win.ow;
  for (let p = p0; p < p1; p++) {
    const xp = x + <usize>p * H * W * 4;
    for (let oy = 0; oy < oh; oy++) {
      const top = oy * win.sh - win.padTop;
      const r0 = max(top, 0);
      const r1 = min(top + win.kh, H);
      for (let ox = 0; ox < ow; ox++) {
        const left = ox * win.sw - win.padLeft;
        const c0 = max(left, 0);
        const c1 = min(left + win.kw, W);
        let v: f32;
        if (c0 == 0 && c1 == W) {
          v = reduceSpan(xp + <usize>r0 * W * 4, (r1 - r0) * W, isMax);
        } else {
          v = isMax ? -Infinity : 0;
          for (let iy = r0; iy < r1; iy++) {
            const r = reduceSpan(xp + (<usize>iy * W + <usize>c0) * 4, c1 - c0, isMax);
            v = isMax ? max(v, r) : v + r;
          }
        }
        const o = oy * ow + ox;
        const q = y + (<usize>p * oh * ow + <usize>o) * 4;
        store<f32>(q, isMax ? v : v / load<f32>(divisors + <usize>o * 4));
      }
    }
  }
}

/**
 * The max or the sum of n floats at `src` (−∞ or 0 when n ≤ 0). Two loops, not one choosing max or
 * add per vector: that one (a select the compiler could not hoist) took 77 µs on ResNet-50's last
 * pool where these take 45 (AssemblyScript has no compile-time parameter to specialize one on).
 */
function reduceSpan(src: usize, n: i32, isMax: bool): f32 {
  return isMax ? maxSpan(src, n) : sumSpan(src, n);
}

/** Σ of n floats at `src`: two f32x4 partial sums, then the tail. */
function sumSpan(src: usize, n: i32): f32 {
  let a = f32x4.splat(0);
  let b = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const s = src + <usize>i * 4;
    a = f32x4.add(a, v128.load(s));
    b = f32x4.add(b, v128.load(s, 16));
  }
  if (i + 4 <= n) {
    a = f32x4.add(a, v128.load(src + <usize>i * 4));
    i += 4;
  }
  a = f32x4.add(a, b);
  let t: f32 = 0;
  for (; i < n; i++) t += load<f32>(src + <usize>i * 4);
  return (
    f32x4.extract_lane(a, 0) +
    f32x4.extract_lane(a, 1) +
    (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3)) +
    t
  );
}

/** The max of n floats at `src` (NaN if any is): two f32x4 partial maxima, then the tail. */
function maxSpan(src: usize, n: i32): f32 {
  let a = f32x4.splat(-Infinity);
  let b = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const s = src + <usize>i * 4;
    a = f32x4.max(a, v128.load(s));
    b = f32x4.max(b, v128.load(s, 16));
  }
  if (i + 4 <= n) {
    a = f32x4.max(a, v128.load(src + <usize>i * 4));
    i += 4;
  }
  a = f32x4.max(a, b);
  let t: f32 = -Infinity;
  for (; i < n; i++) t = max(t, load<f32>(src + <usize>i * 4));
  return max(
    max(
      max(f32x4.extract_lane(a, 0), f32x4.extract_lane(a, 1)),
      max(f32x4.extract_lane(a, 2), f32x4.extract_lane(a, 3)),
    ),
    t,
  );
}
