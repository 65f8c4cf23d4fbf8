/**
 * Attention of one new query row per batch over a key/value cache (a decoder step): per batch b and
 * head h, scores[t] = scale·(q·K[t]) over the T cached keys, their softmax p, and the head's output
 * Σ_t p[t]·V[t]. One call for what the general path does in two batched products, a softmax and a
 * gather (ops/multihead-attention.ts), whose calls cost more than their ~65 K multiply-adds at the
 * GPT step's shape (4 heads, 128 keys of 64): this kernel takes ~9 µs there, on operands already in
 * memory; the MultiHeadAttention node went 84–85 → 75–80 µs (old and new builds alternating in one
 * process), the rest being the caches' copies. An attention bias (the benchmark GPT's causal mask
 * arrives as one) is added to the scores here too: without it the step took the general path.
 */
import { softmaxRows } from './activations';
import { madd } from './simd';

/**
 * q: [B, N·H] (query rows, bias added), k: [B, N, T, H], v: [B, N, T, Hv], y: [B, N·Hv]; `scores`
 * holds T floats. `bias` (0 for none): an attention bias added to the scaled scores, element
 * b·biasB + h·biasH + t·biasT for batch b, head h and key t (a stride is 0 along a broadcast dim). A
 * head whose keys the bias hides all (every score -∞) outputs zeros, as the general path does.
 */
export function attentionDecode(
  q: usize,
  k: usize,
  v: usize,
  y: usize,
  B: i32,
  N: i32,
  T: i32,
  H: i32,
  Hv: i32,
  scale: f32,
  scores: usize,
  bias: usize,
  biasB: i32,
  biasH: i32,
  biasT: i32,
): void {
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < N; h++) {
      const bh = <usize>b * N + h;
      const qh = q + (<usize>b * N * H + <usize>h * H) * 4;
      const kh = k + bh * T * H * 4;
      const yh = y + (<usize>b * N * Hv + <usize>h * Hv) * 4;
      for (let t = 0; t < T; t++)
        store<f32>(scores + <usize>t * 4, dot(qh, kh + <usize>t * H * 4, H) * scale);
      if (bias && !addBias(scores, T, bias + (<usize>b * biasB + <usize>h * biasH) * 4, biasT)) {
        memory.fill(yh, 0, <usize>Hv * 4);
        continue;
      }
      softmaxRows(scores, scores, 1, T);
      weightedRows(scores, v + bh * T * Hv * 4, T, Hv, yh);
    }
  }
}

/** scores[t] += row[t·stride] for T scores; false when every score is then -∞ (no key visible). */
function addBias(scores: usize, T: i32, row: usize, stride: i32): bool {
  let visible = false;
  for (let t = 0; t < T; t++) {
    const p = scores + <usize>t * 4;
    const s = load<f32>(p) + load<f32>(row + <usize>t * stride * 4);
    store<f32>(p, s);
    visible = visible || s > -Infinity;
  }
  return visible;
}

/** Σ a[j]·b[j] over n floats: two running vectors (two multiply-adds in flight), then the tail. */
function dot(a: usize, b: usize, n: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const o = <usize>j * 4;
    s0 = madd(v128.load(a + o), v128.load(b + o), s0);
    s1 = madd(v128.load(a + o + 16), v128.load(b + o + 16), s1);
  }
  if (j + 4 <= n) {
    s0 = madd(v128.load(a + <usize>j * 4), v128.load(b + <usize>j * 4), s0);
    j += 4;
  }
  const s = f32x4.add(s0, s1);
  let r =
    f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; j < n; j++) r += load<f32>(a + <usize>j * 4) * load<f32>(b + <usize>j * 4);
  return r;
}

/**
 * out[j] = Σ_t p[t]·rows[t][j] over T rows of n floats: 16 columns at a time in four running
 * vectors, each row's weight splat once, then 4 columns, then single ones.
 */
function weightedRows(p: usize, rows: usize, T: i32, n: i32, out: usize): void {
  const stride = <usize>n * 4;
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let r = rows + <usize>j * 4;
    for (let t = 0; t < T; t++, r += stride) {
      const w = v128.load32_splat(p + <usize>t * 4);
      a0 = madd(w, v128.load(r), a0);
      a1 = madd(w, v128.load(r + 16), a1);
      a2 = madd(w, v128.load(r + 32), a2);
      a3 = madd(w, v128.load(r + 48), a3);
    }
    const o = out + <usize>j * 4;
    v128.store(o, a0);
    v128.store(o + 16, a1);
    v128.store(o + 32, a2);
    v128.store(o + 48, a3);
  }
  for (; j + 4 <= n; j += 4) {
    let a = f32x4.splat(0);
    let r = rows + <usize>j * 4;
    for (let t = 0; t < T; t++, r += stride) a = madd(v128.load32_splat(p + <usize>t * 4), v128.load(r), a);
    v128.store(out + <usize>j * 4, a);
  }
  for (; j < n; j++) {
    let a: f32 = 0;
    let r = rows + <usize>j * 4;
    for (let t = 0; t < T; t++, r += stride) a += load<f32>(p + <usize>t * 4) * load<f32>(r);
    store<f32>(out + <usize>j * 4, a);
  }
}
