/**
 * Load-time weight folding (optimizer/conv-folding.ts). A model's load runs it once per folded node,
 * in JavaScript that V8 has not compiled yet: its per-channel loop cost ~300 ns per channel there
 * (ShuffleNet's 49 BatchNormalizations, 13 K channels: 3.5–5 ms of a ~50 ms load, measured).
 */

/**
 * An inference BatchNormalization folded into the Conv before it, per output channel c of M: scale =
 * γ/√(var + ε) and shift = (bias − mean)·scale + β in float64, shift rounded once to float32, and
 * the channel's `per` weights w·f32(scale) in float32 — the TypeScript fold's floats, bit for bit.
 * `bias` is 0 when the Conv has none; y may be w.
 */
export function batchNormFold(
  w: usize,
  y: usize,
  M: i32,
  per: i32,
  gamma: usize,
  beta: usize,
  mean: usize,
  variance: usize,
  bias: usize,
  eps: f64,
  shift: usize,
): void {
  for (let c = 0; c < M; c++) {
    const p = <usize>c * 4;
    const s = <f64>load<f32>(gamma + p) / Math.sqrt(<f64>load<f32>(variance + p) + eps);
    const b: f64 = bias ? <f64>load<f32>(bias + p) : 0;
    store<f32>(shift + p, <f32>((b - <f64>load<f32>(mean + p)) * s + <f64>load<f32>(beta + p)));
    const sf = <f32>s;
    const sv = f32x4.splat(sf);
    const src = w + <usize>c * per * 4;
    const dst = y + <usize>c * per * 4;
    let i = 0;
    for (; i + 4 <= per; i += 4) v128.store(dst + <usize>i * 4, f32x4.mul(v128.load(src + <usize>i * 4), sv));
    for (; i < per; i++) store<f32>(dst + <usize>i * 4, load<f32>(src + <usize>i * 4) * sf);
  }
}
