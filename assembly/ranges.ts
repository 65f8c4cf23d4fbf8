/**
 * Entry points for the thread pool (src/runtime/thread-pool.ts `parallelFor`): each runs one
 * elementwise or row-wise kernel on the part [lo, hi) of its work — elements, rows or planes, as
 * named — so that the pool can hand the chunks of one call to different threads. The thread's
 * workspace, which the pool passes to every entry, is used by LRN only (`_ws` elsewhere). A chunk
 * computes exactly what the whole call computes for its part: results do not depend on the split.
 */
import { activation, channelAffine, lrn075, normRows, softmaxRows } from './activations';
import { binary2d } from './binary';

/** `activation` on elements [lo, hi). */
export function activationRange(f: i32, x: usize, y: usize, lo: i32, hi: i32, ws: usize): void {
  activation(f, x + <usize>lo * 4, y + <usize>lo * 4, hi - lo, ws);
}

/** `softmaxRows` on rows [lo, hi) of `len`. */
export function softmaxRange(x: usize, y: usize, len: i32, lo: i32, hi: i32, _ws: usize): void {
  const o = <usize>lo * len * 4;
  softmaxRows(x + o, y + o, hi - lo, len);
}

/** `normRows` on rows [lo, hi) of `inner` (mean and invStd receive one float64 per row). */
export function normRowsRange(
  x: usize,
  y: usize,
  inner: i32,
  mean: usize,
  invStd: usize,
  scale: usize,
  bias: usize,
  eps: f64,
  rms: bool,
  skip: usize,
  addBias: usize,
  sum: usize,
  lo: i32,
  hi: i32,
  _ws: usize,
): void {
  const o = <usize>lo * inner * 4;
  const r = <usize>lo * 8;
  const sk: usize = skip != 0 ? skip + o : 0;
  const z: usize = skip != 0 ? sum + o : 0;
  normRows(x + o, y + o, hi - lo, inner, mean + r, invStd + r, scale, bias, eps, rms, sk, addBias, z);
}

/** `channelAffine` on planes [lo, hi) of S elements, plane p being channel p mod C of its image. */
export function channelAffineRange(
  x: usize,
  y: usize,
  C: i32,
  S: i32,
  scale: usize,
  shift: usize,
  relu: bool,
  lo: i32,
  hi: i32,
  _ws: usize,
): void {
  for (let p = lo; p < hi; p++) {
    const o = <usize>p * S * 4;
    const c = <usize>(p % C) * 8;
    channelAffine(x + o, y + o, 1, 1, S, scale + c, shift + c, relu);
  }
}

/**
 * `binary2d` on runs [lo, hi) of `inner` elements — or, when there is one run (outer = 1), on its
 * elements [lo, hi).
 */
export function binaryRange(
  op: i32,
  a: usize,
  b: usize,
  y: usize,
  outer: i32,
  inner: i32,
  aOuter: i32,
  aInner: i32,
  bOuter: i32,
  bInner: i32,
  lo: i32,
  hi: i32,
  _ws: usize,
): void {
  if (outer == 1) {
    const o = <usize>lo * 4;
    binary2d(op, a + o * aInner, b + o * bInner, y + o, 1, hi - lo, 0, aInner, 0, bInner);
    return;
  }
  const r = <usize>lo;
  binary2d(
    op,
    a + r * aOuter * 4,
    b + r * bOuter * 4,
    y + r * inner * 4,
    hi - lo,
    inner,
    aOuter,
    aInner,
    bOuter,
    bInner,
  );
}

/** `lrn075` on positions [lo, hi) of every plane, its running sums in the thread's workspace. */
export function lrnRange(
  x: usize,
  y: usize,
  N: i32,
  C: i32,
  S: i32,
  before: i32,
  after: i32,
  k: f64,
  bias: f64,
  lo: i32,
  hi: i32,
  ws: usize,
): void {
  lrn075(x, y, N, C, S, lo, hi, before, after, k, bias, ws);
}
