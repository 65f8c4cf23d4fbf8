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
 * (t, b) is at y + (t·yStep + b·yBatch)·4 bytes. h and c (Bt × H) are read as the initial state and
 * left as the final one; `hr` is scratch for Bt × 4H floats, `ws` the GEMM's workspace.
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
  c: usize,
  y: usize,
  yStep: i32,
  yBatch: i32,
  reverse: bool,
  hr: usize,
  ws: usize,
): void {
  const G = 4 * H;
  for (let s = 0; s < S; s++) {
    const t = reverse ? S - 1 - s : s;
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
      0,
      G,
      rBias,
      rBias != 0 ? BIAS_COL : BIAS_NONE,
      false,
      0,
      0,
      ws,
      0,
    );
    for (let b = 0; b < Bt; b++) {
      const x = xw + <usize>(t * xStep + b * xBatch) * G * 4;
      const r = hr + <usize>b * G * 4;
      const hb = h + <usize>b * H * 4;
      const cb = c + <usize>b * H * 4;
      const yb = y + <usize>(t * yStep + b * yBatch) * 4;
      let k = 0;
      for (; k + 4 <= H; k += 4) cell(x, r, hb, cb, yb, peep, H, k, false);
      for (; k < H; k++) cell(x, r, hb, cb, yb, peep, H, k, true);
    }
  }
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
