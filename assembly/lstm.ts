/**
 * One direction of an LSTM over a whole sequence, for the default activations (sigmoid, tanh, tanh)
 * without clipping: per step, the recurrent product hr = h · Rᵀ + Rb (sgemm with R pre-packed), then
 * the cell over all batch rows, four hidden units per f32x4 — no return to JavaScript between
 * steps. Gate order is ONNX's i, o, f, c; peepholes P = [p_i, p_o, p_f].
 *
 *   i = σ(xi + hri + p_i⊙c),  f = σ(xf + hrf + p_f⊙c),  g = tanh(xc + hrc),
 *   c' = f⊙c + i⊙g,  o = σ(xo + hro + p_o⊙c'),  h' = o⊙tanh(c')
 *
 * `xw` holds x·Wᵀ + Wb for every (t, b) at row t·xStep + b·xBatch (4H floats a row); Y's row for
 * (t, b) is at y + (t·yStep + b·yBatch)·4 bytes. c (Bt × H) is read as the initial state and left
 * as the final one; h likewise when `hNext` is h, else step s reads h and writes hNext for even s
 * and the other way round for odd s (the final state is in hNext when S is odd). `hr` is scratch
 * for Bt × 4H floats, `ws` the GEMM's workspace.
 *
 * Threads: `parties` threads run this at once, each for its own hidden units [u0, u1) (multiples of
 * the GEMM's NR, as H must be): the gate columns of those units in the product, then their cells.
 * Every step's product reads all of h, so the threads meet at a barrier (`sync`, four zeroed i32:
 * arrivals, generation, abort, sleepers) after each step and write h double-buffered. One thread
 * has R's rows of its units alone in its cache (half of a 1 MB R per core at two threads), and a
 * step costs one barrier instead of a job dispatch. A barrier that waits ~10 s for a thread gives
 * up: it sets abort, every thread leaves at its next barrier, and the caller reports the failure.
 */
import { sigmoidV, tanhV } from './activations';
import { BIAS_COL, BIAS_NONE, sgemm } from './gemm';
import { madd } from './simd';

export function lstmSequence(
  S: i32,
  Bt: i32,
  H: i32,
  xw: usize,
  xStep: i32,
  xBatch: i32,
  packedR: usize,
  rBias: usize,
  peep: usize,
  h: usize,
  hNext: usize,
  c: usize,
  y: usize,
  yStep: i32,
  yBatch: i32,
  reverse: bool,
  hr: usize,
  sync: usize,
  parties: i32,
  u0: i32,
  u1: i32,
  ws: usize,
): void {
  const G = 4 * H;
  let hIn = h;
  let hOut = hNext;
  for (let s = 0; s < S; s++) {
    const t = reverse ? S - 1 - s : s;
    if (u1 - u0 == H) {
      recurrent(Bt, H, hIn, hr, packedR, rBias, 0, G, ws);
    } else {
      for (let g = 0; g < 4; g++) recurrent(Bt, H, hIn, hr, packedR, rBias, g * H + u0, g * H + u1, ws);
    }
    for (let b = 0; b < Bt; b++) {
      const x = xw + <usize>(t * xStep + b * xBatch) * G * 4;
      const r = hr + <usize>b * G * 4;
      const hb = hOut + <usize>b * H * 4;
      const cb = c + <usize>b * H * 4;
      const yb = y + <usize>(t * yStep + b * yBatch) * 4;
      let k = u0;
      for (; k + 4 <= u1; k += 4) cell(x, r, hb, cb, yb, peep, H, k, false);
      for (; k < u1; k++) cell(x, r, hb, cb, yb, peep, H, k, true);
    }
    if (parties > 1 && !barrier(sync, parties)) return;
    if (hNext != h) {
      const swap = hIn;
      hIn = hOut;
      hOut = swap;
    }
  }
}

/** hr's columns [j0, j1) (all Bt rows) = h · Rᵀ + Rb. */
function recurrent(
  Bt: i32,
  H: i32,
  h: usize,
  hr: usize,
  packedR: usize,
  rBias: usize,
  j0: i32,
  j1: i32,
  ws: usize,
): void {
  const G = 4 * H;
  const biasMode = rBias != 0 ? BIAS_COL : BIAS_NONE;
  sgemm(
    false,
    false,
    Bt,
    G,
    H,
    1,
    h,
    H,
    0,
    0,
    0,
    hr,
    G,
    0,
    packedR,
    0,
    Bt,
    j0,
    j1,
    rBias,
    biasMode,
    false,
    0,
    0,
    ws,
    0,
    0,
  );
}

/**
 * Spins before sleeping at a barrier, ~1 ms (as the pool's workers spin between jobs): a thread
 * woken from a wait starts 60–250 µs later here, and with 20 000 spins (~50 µs) the benchmark
 * LSTM's threads still slept ~6 times a run.
 */
const SPINS = 500000;
/** Sleeps of 1 ms before a barrier gives up (the other threads are gone or stuck). */
const NAPS = 10000;

/**
 * Waits until `parties` threads have arrived (sense by generation); false when the run was
 * aborted (by this thread giving up, or another).
 */
function barrier(sync: usize, parties: i32): bool {
  const gen = atomic.load<i32>(sync, 4);
  if (atomic.add<i32>(sync, 1) == parties - 1) {
    atomic.store<i32>(sync, 0);
    atomic.store<i32>(sync, gen + 1, 4);
    if (atomic.load<i32>(sync, 12) > 0) atomic.notify(sync + 4, parties);
  } else {
    for (let i = 0; atomic.load<i32>(sync, 4) == gen; i++) {
      if (atomic.load<i32>(sync, 8) != 0) return false;
      if (i < SPINS) continue;
      if (i - SPINS >= NAPS) {
        atomic.store<i32>(sync, 1, 8);
        return false;
      }
      atomic.add<i32>(sync, 1, 12);
      atomic.wait<i32>(sync + 4, gen, 1_000_000);
      atomic.sub<i32>(sync, 1, 12);
    }
  }
  return atomic.load<i32>(sync, 8) == 0;
}

/** Four floats at p, or (`one`) the float at p in every lane. */
function ld(p: usize, one: bool): v128 {
  return one ? f32x4.splat(load<f32>(p)) : v128.load(p);
}

/** Stores four floats at p, or (`one`) lane 0 only. */
function st(p: usize, v: v128, one: bool): void {
  if (one) store<f32>(p, f32x4.extract_lane(v, 0));
  else v128.store(p, v);
}

/** Hidden units k..k+3 of one batch row, or (`one`: the last H mod 4) unit k alone. */
function cell(
  x: usize,
  r: usize,
  hb: usize,
  cb: usize,
  yb: usize,
  peep: usize,
  H: i32,
  k: i32,
  one: bool,
): void {
  const o = <usize>k * 4;
  const hs = <usize>H * 4;
  const cp = ld(cb + o, one);
  let zi = f32x4.add(ld(x + o, one), ld(r + o, one));
  let zo = f32x4.add(ld(x + hs + o, one), ld(r + hs + o, one));
  let zf = f32x4.add(ld(x + 2 * hs + o, one), ld(r + 2 * hs + o, one));
  const zc = f32x4.add(ld(x + 3 * hs + o, one), ld(r + 3 * hs + o, one));
  if (peep != 0) {
    zi = madd(ld(peep + o, one), cp, zi);
    zf = madd(ld(peep + 2 * hs + o, one), cp, zf);
  }
  const c2 = madd(sigmoidV(zf), cp, f32x4.mul(sigmoidV(zi), tanhV(zc)));
  if (peep != 0) zo = madd(ld(peep + hs + o, one), c2, zo);
  const h2 = f32x4.mul(sigmoidV(zo), tanhV(c2));
  st(cb + o, c2, one);
  st(hb + o, h2, one);
  st(yb + o, h2, one);
}
