/**
 * Attention family: Attention (23, 24), RotaryEmbedding (23), LinearAttention (27) and FlexAttention
 * (ai.onnx.preview 1).
 *
 * Attention computes, per batch and query head (a query head reads KV head ⌊h·kv_heads/q_heads⌋,
 * which covers MHA, GQA and MQA):
 *
 *   S = scale · Q·Kᵀ  →  softcap (cap·tanh(S/cap))  →  + bias  →  softmax  →  ·V
 *
 * where K and V are the past cache followed by the new keys/values (also returned as
 * present_key/present_value), and the bias combines the attention mask (bool: false → -inf; float:
 * added; shorter than the total sequence: the missing tail is masked), the causal mask (bottom-right
 * aligned: key j is visible from query i when j ≤ i + offset, offset = past length, or
 * nonpad_kv_seqlen[b] - q_len for an external cache, else 0) and the padding mask of
 * nonpad_kv_seqlen. A fully masked row yields zero probabilities (so a zero output), never NaN.
 * qk_matmul_output returns the scores before softcap (mode 0), after softcap (1), after the bias (2)
 * or after softmax (3). Softmax runs in float64 whatever `softmax_precision` asks (at least as
 * precise as any requested type).
 *
 * 3-D inputs [batch, seq, heads·head_size] are split into heads by q_num_heads / kv_num_heads, and
 * the output is merged back the same way.
 */
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { OpDef, RunContext } from './kernel.js';
import type { Graph } from '../ir/graph.js';
import { floatsOf, isFloatingType, tensorFromFloats, type FloatArray } from './util/float-io.js';
import { int64Tensor, intsOf, tensorInput } from './util/numeric.js';
// Batched matrix products are plain GEMMs; swap for the shared blocked GEMM when ready.
import { sgemm as gemm } from './util/dispatch.js';

function optionalTensor(v: Value | undefined, what: string): Tensor | undefined {
  if (v === undefined || v === null) return undefined;
  return tensorInput(v, what);
}

/** [B, S, heads·hs] → [B, heads, S, hs] (float64 copy); 4-D inputs are copied as they are. */
function toHeads(x: FloatArray, dims: readonly number[], heads: number): Float64Array {
  if (dims.length === 4) return Float64Array.from(x);
  const [B, S, hidden] = dims;
  const hs = hidden / heads;
  const out = new Float64Array(x.length);
  for (let b = 0; b < B; b++)
    for (let s = 0; s < S; s++)
      for (let h = 0; h < heads; h++) {
        const src = (b * S + s) * hidden + h * hs;
        const dst = ((b * heads + h) * S + s) * hs;
        for (let e = 0; e < hs; e++) out[dst + e] = x[src + e];
      }
  return out;
}

/** In-place row softmax over `n` values at `off`; a row of -inf (or empty) becomes zeros. */
export function softmaxRow(a: Float32Array | Float64Array, off: number, n: number): void {
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (a[off + j] > max) max = a[off + j];
  if (max === -Infinity) {
    // Fully masked: zero probabilities (NaN inputs still propagate).
    a.fill(a.subarray(off, off + n).some(Number.isNaN) ? NaN : 0, off, off + n);
    return;
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(a[off + j] - max);
    a[off + j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) a[off + j] /= sum;
}

// ------------------------------------------------------------------------------------------------
// Attention

const attention: OpDef = {
  opType: 'Attention',
  versions: [23, 24],
  build(node) {
    const a = node.attrs;
    const isCausal = a.int('is_causal', 0) !== 0;
    const qHeadsAttr = a.has('q_num_heads') ? a.int('q_num_heads') : undefined;
    const kvHeadsAttr = a.has('kv_num_heads') ? a.int('kv_num_heads') : undefined;
    const mode = a.int('qk_matmul_output_mode', 0);
    if (mode < 0 || mode > 3)
      throw new OnyxError('INVALID_MODEL', `qk_matmul_output_mode must be 0, 1, 2 or 3, got ${mode}`);
    const scaleAttr = a.has('scale') ? a.float('scale') : undefined;
    const softcap = a.float('softcap', 0);
    const hasNonpad = node.sinceVersion >= 24;
    return (inputs) => {
      const q = tensorInput(inputs[0], 'Q');
      const k = tensorInput(inputs[1], 'K');
      const v = tensorInput(inputs[2], 'V');
      const maskT = optionalTensor(inputs[3], 'attn_mask');
      const pastK = optionalTensor(inputs[4], 'past_key');
      const pastV = optionalTensor(inputs[5], 'past_value');
      const nonpadT = hasNonpad ? optionalTensor(inputs[6], 'nonpad_kv_seqlen') : undefined;
      if (!isFloatingType(q.type))
        throw new OnyxError('TYPE_MISMATCH', `Q must be a floating-point tensor, got ${q.type}`);
      const rank = q.dims.length;
      if ((rank !== 3 && rank !== 4) || k.dims.length !== rank || v.dims.length !== rank)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `Q, K and V must all be 3-D or all 4-D, got [${q.dims}], [${k.dims}], [${v.dims}]`,
        );
      const B = q.dims[0];
      let qH: number, kvH: number, Sq: number, Skv: number, hs: number, vhs: number;
      if (rank === 3) {
        if (qHeadsAttr === undefined || kvHeadsAttr === undefined)
          throw new OnyxError(
            'INVALID_MODEL',
            '3-D Q, K, V need the q_num_heads and kv_num_heads attributes',
          );
        qH = qHeadsAttr;
        kvH = kvHeadsAttr;
        if (q.dims[2] % qH !== 0 || k.dims[2] % kvH !== 0 || v.dims[2] % kvH !== 0)
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `hidden sizes Q ${q.dims[2]}, K ${k.dims[2]}, V ${v.dims[2]} must divide by q_num_heads ${qH} / kv_num_heads ${kvH}`,
          );
        [Sq, hs] = [q.dims[1], q.dims[2] / qH];
        Skv = k.dims[1];
        vhs = v.dims[2] / kvH;
        if (k.dims[2] / kvH !== hs)
          throw new OnyxError('SHAPE_MISMATCH', `Q and K head sizes differ: ${hs} vs ${k.dims[2] / kvH}`);
      } else {
        [qH, Sq, hs] = [q.dims[1], q.dims[2], q.dims[3]];
        [kvH, Skv] = [k.dims[1], k.dims[2]];
        vhs = v.dims[3];
        if (k.dims[3] !== hs)
          throw new OnyxError('SHAPE_MISMATCH', `Q and K head sizes differ: [${q.dims}] vs [${k.dims}]`);
      }
      if (
        k.dims[0] !== B ||
        v.dims[0] !== B ||
        v.dims[rank === 3 ? 1 : 2] !== Skv ||
        (rank === 4 && v.dims[1] !== kvH)
      )
        throw new OnyxError('SHAPE_MISMATCH', `K [${k.dims}] and V [${v.dims}] do not match Q [${q.dims}]`);
      if (kvH <= 0 || qH % kvH !== 0)
        throw new OnyxError('SHAPE_MISMATCH', `q heads (${qH}) must be a multiple of kv heads (${kvH})`);
      if ((pastK === undefined) !== (pastV === undefined))
        throw new OnyxError('INVALID_MODEL', 'past_key and past_value must be given together');
      const P = pastK ? pastK.dims[2] : 0;
      if (
        pastK &&
        (pastK.dims.length !== 4 || pastK.dims[0] !== B || pastK.dims[1] !== kvH || pastK.dims[3] !== hs)
      )
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `past_key must have dims [${B}, ${kvH}, past, ${hs}], got [${pastK.dims}]`,
        );
      if (
        pastV &&
        (pastV.dims.length !== 4 ||
          pastV.dims[0] !== B ||
          pastV.dims[1] !== kvH ||
          pastV.dims[2] !== P ||
          pastV.dims[3] !== vhs)
      )
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `past_value must have dims [${B}, ${kvH}, ${P}, ${vhs}], got [${pastV.dims}]`,
        );
      const T = P + Skv;

      // Q, and present K/V = past ++ new, all as [B, heads, seq, size] float64.
      const Q = toHeads(floatsOf(q, 'Q'), q.dims, qH);
      const kNew = toHeads(floatsOf(k, 'K'), k.dims, kvH);
      const vNew = toHeads(floatsOf(v, 'V'), v.dims, kvH);
      const concat = (past: FloatArray | undefined, cur: Float64Array, size: number): Float64Array => {
        if (!past) return cur;
        const out = new Float64Array(B * kvH * T * size);
        for (let bh = 0; bh < B * kvH; bh++) {
          out.set(past.subarray(bh * P * size, (bh + 1) * P * size), bh * T * size);
          out.set(cur.subarray(bh * Skv * size, (bh + 1) * Skv * size), (bh * T + P) * size);
        }
        return out;
      };
      const K = concat(pastK && floatsOf(pastK, 'past_key'), kNew, hs);
      const V = concat(pastV && floatsOf(pastV, 'past_value'), vNew, vhs);

      // Mask: broadcast [.., Sq, maskLen] right-aligned onto [B, qH, Sq, maskLen].
      let mask: FloatArray | Uint8Array | undefined;
      let maskStr = [0, 0, 0, 0];
      let maskLen = T;
      const maskBool = maskT?.type === 'bool';
      if (maskT) {
        const md = maskT.dims;
        if (md.length < 2 || md.length > 4)
          throw new OnyxError('SHAPE_MISMATCH', `attn_mask must have rank 2 to 4, got [${md}]`);
        const full = [1, 1, 1, 1].map((one, i) => (i < 4 - md.length ? one : md[i - (4 - md.length)]));
        maskLen = full[3];
        const want = [B, qH, Sq];
        for (let i = 0; i < 3; i++)
          if (full[i] !== 1 && full[i] !== want[i])
            throw new OnyxError(
              'SHAPE_MISMATCH',
              `attn_mask [${md}] does not broadcast to [${B}, ${qH}, ${Sq}, ${T}]`,
            );
        if (maskLen > T)
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `attn_mask's last dim ${maskLen} exceeds the total sequence ${T}`,
          );
        maskStr = [full[1] * full[2] * full[3], full[2] * full[3], full[3], 1].map((s, i) =>
          full[i] === 1 ? 0 : s,
        );
        mask = maskBool ? (maskT.data as Uint8Array) : floatsOf(maskT, 'attn_mask');
      }
      let nonpad: number[] | undefined;
      if (nonpadT) {
        nonpad = intsOf(nonpadT, 'nonpad_kv_seqlen');
        if (nonpad.length !== B)
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `nonpad_kv_seqlen must hold ${B} values, got [${nonpadT.dims}]`,
          );
      }

      const scale = scaleAttr ?? 1 / Math.sqrt(hs);
      const group = qH / kvH;
      const Y = new Float64Array(B * qH * Sq * vhs);
      const wantQk = node.outputCount > 3 && node.outputPresent[3];
      const qkOut = wantQk ? new Float64Array(B * qH * Sq * T) : undefined;
      const S = new Float64Array(Sq * T);
      for (let b = 0; b < B; b++) {
        const offset = pastK ? P : nonpad ? nonpad[b] - Sq : 0;
        const valid = nonpad ? nonpad[b] : T;
        for (let h = 0; h < qH; h++) {
          const kh = Math.floor(h / group);
          const qOff = (b * qH + h) * Sq * hs;
          const kOff = (b * kvH + kh) * T * hs;
          const vOff = (b * kvH + kh) * T * vhs;
          const oOff = (b * qH + h) * Sq * T;
          gemm(false, true, Sq, T, hs, scale, Q, qOff, hs, K, kOff, hs, 0, S, 0, T);
          if (qkOut && mode === 0) qkOut.set(S, oOff);
          if (softcap > 0) for (let i = 0; i < S.length; i++) S[i] = softcap * Math.tanh(S[i] / softcap);
          if (qkOut && mode === 1) qkOut.set(S, oOff);
          for (let i = 0; i < Sq; i++) {
            const row = i * T;
            const mBase = b * maskStr[0] + h * maskStr[1] + i * maskStr[2];
            for (let j = 0; j < T; j++) {
              let bias = 0;
              if (mask) {
                if (j >= maskLen) bias = -Infinity;
                else if (maskBool) bias = mask[mBase + j] ? 0 : -Infinity;
                else bias = mask[mBase + j];
              }
              if (isCausal && j > i + offset) bias = -Infinity;
              if (j >= valid) bias = -Infinity;
              S[row + j] += bias;
            }
          }
          if (qkOut && mode === 2) qkOut.set(S, oOff);
          for (let i = 0; i < Sq; i++) softmaxRow(S, i * T, T);
          if (qkOut && mode === 3) qkOut.set(S, oOff);
          gemm(false, false, Sq, vhs, T, 1, S, 0, T, V, vOff, vhs, 0, Y, (b * qH + h) * Sq * vhs, vhs);
        }
      }
      let yOut: Float64Array = Y;
      let yDims = [B, qH, Sq, vhs];
      if (rank === 3) {
        // [B, qH, Sq, vhs] → [B, Sq, qH·vhs]
        yOut = new Float64Array(Y.length);
        for (let b = 0; b < B; b++)
          for (let h = 0; h < qH; h++)
            for (let i = 0; i < Sq; i++) {
              const src = ((b * qH + h) * Sq + i) * vhs;
              const dst = (b * Sq + i) * qH * vhs + h * vhs;
              for (let e = 0; e < vhs; e++) yOut[dst + e] = Y[src + e];
            }
        yDims = [B, Sq, qH * vhs];
      }
      const outs: Tensor[] = [tensorFromFloats(q.type, yOut, yDims)];
      const want = (i: number) => node.outputCount > i && node.outputPresent[i];
      outs.push(want(1) ? tensorFromFloats(k.type, K, [B, kvH, T, hs]) : Tensor.zeros(k.type, [0]));
      outs.push(want(2) ? tensorFromFloats(v.type, V, [B, kvH, T, vhs]) : Tensor.zeros(v.type, [0]));
      outs.push(qkOut ? tensorFromFloats(q.type, qkOut, [B, qH, Sq, T]) : Tensor.zeros(q.type, [0]));
      return outs.slice(0, Math.max(1, node.outputCount));
    };
  },
};

// ------------------------------------------------------------------------------------------------
// RotaryEmbedding

const rotaryEmbedding: OpDef = {
  opType: 'RotaryEmbedding',
  versions: [23],
  build(node) {
    const interleaved = node.attrs.int('interleaved', 0) !== 0;
    const rotDimAttr = node.attrs.int('rotary_embedding_dim', 0);
    const numHeadsAttr = node.attrs.int('num_heads', 0);
    return (inputs) => {
      const x = tensorInput(inputs[0], 'input');
      const cosT = tensorInput(inputs[1], 'cos_cache');
      const sinT = tensorInput(inputs[2], 'sin_cache');
      const posT = optionalTensor(inputs[3], 'position_ids');
      const rank = x.dims.length;
      if (rank !== 3 && rank !== 4)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `input must be [batch, heads, seq, head_size] or [batch, seq, hidden], got [${x.dims}]`,
        );
      const B = x.dims[0];
      let Hn: number, S: number, hs: number;
      if (rank === 4) [Hn, S, hs] = [x.dims[1], x.dims[2], x.dims[3]];
      else {
        if (numHeadsAttr <= 0 || x.dims[2] % numHeadsAttr !== 0)
          throw new OnyxError(
            'INVALID_MODEL',
            `3-D input needs num_heads dividing the hidden size ${x.dims[2]}, got num_heads = ${numHeadsAttr}`,
          );
        [Hn, S, hs] = [numHeadsAttr, x.dims[1], x.dims[2] / numHeadsAttr];
      }
      const rd = rotDimAttr > 0 ? rotDimAttr : hs;
      if (rd > hs || rd % 2 !== 0)
        throw new OnyxError(
          'INVALID_MODEL',
          `rotary_embedding_dim ${rd} must be even and <= head size ${hs}`,
        );
      const half = rd / 2;
      if (cosT.dims[cosT.dims.length - 1] !== half || sinT.dims.join() !== cosT.dims.join())
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `cos_cache and sin_cache must have equal dims ending in ${half} (rotary dim / 2), got [${cosT.dims}] and [${sinT.dims}]`,
        );
      let pos: number[] | undefined;
      if (posT) {
        if (posT.dims.length !== 2 || posT.dims[0] !== B || posT.dims[1] !== S)
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `position_ids must have dims [${B}, ${S}], got [${posT.dims}]`,
          );
        if (cosT.dims.length !== 2)
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `with position_ids the caches must be [max_pos, ${half}], got [${cosT.dims}]`,
          );
        pos = intsOf(posT, 'position_ids');
        for (const p of pos)
          if (p < 0 || p >= cosT.dims[0])
            throw new OnyxError(
              'INVALID_ARGUMENT',
              `position id ${p} is outside the cache of ${cosT.dims[0]} positions`,
            );
      } else if (cosT.dims.length !== 3 || cosT.dims[0] !== B || cosT.dims[1] !== S)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `without position_ids the caches must be [${B}, ${S}, ${half}], got [${cosT.dims}]`,
        );
      const X = floatsOf(x, 'input');
      const cos = floatsOf(cosT, 'cos_cache');
      const sin = floatsOf(sinT, 'sin_cache');
      const out = Float64Array.from(X);
      for (let b = 0; b < B; b++)
        for (let s = 0; s < S; s++) {
          const c0 = (pos ? pos[b * S + s] : b * S + s) * half;
          for (let h = 0; h < Hn; h++) {
            const base = rank === 4 ? ((b * Hn + h) * S + s) * hs : (b * S + s) * Hn * hs + h * hs;
            for (let i = 0; i < half; i++) {
              const i1 = interleaved ? base + 2 * i : base + i;
              const i2 = interleaved ? i1 + 1 : i1 + half;
              const x1 = X[i1];
              const x2 = X[i2];
              const c = cos[c0 + i];
              const sn = sin[c0 + i];
              out[i1] = c * x1 - sn * x2;
              out[i2] = sn * x1 + c * x2;
            }
          }
        }
      return [tensorFromFloats(x.type, out, x.dims)];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// FlexAttention (ai.onnx.preview)

/**
 * Runs a score/mask/prob modifier subgraph. One graph input: the whole [B, H, L, S] tensor. More
 * inputs follow PyTorch's signature — (value, batch, head, q_idx, kv_idx), or (batch, head, q_idx,
 * kv_idx) for a mask — given as broadcastable int64 index tensors, so elementwise bodies apply as is.
 */
function formalInputs(g: Graph): number {
  return g.inputs.filter((i) => !g.initializers.has(i.name)).length;
}

async function runModifier(
  ctx: RunContext,
  g: Graph,
  value: Tensor | undefined,
  dims: readonly number[],
): Promise<Tensor> {
  const [B, H, L, S] = dims;
  const idx = (n: number, axis: number) =>
    int64Tensor(
      Array.from({ length: n }, (_, i) => i),
      [0, 1, 2, 3].map((a) => (a === axis ? n : 1)),
    );
  const formal = formalInputs(g);
  const indices = [idx(B, 0), idx(H, 1), idx(L, 2), idx(S, 3)];
  const args: Value[] = value ? (formal <= 1 ? [value] : [value, ...indices]) : indices;
  const res = await ctx.runSubgraph(g, args.slice(0, Math.max(formal, 1)));
  return tensorInput(res[0], 'modifier subgraph output');
}

const flexAttention: OpDef = {
  domain: 'ai.onnx.preview',
  opType: 'FlexAttention',
  versions: [1],
  build(node) {
    const a = node.attrs;
    const scaleAttr = a.has('scale') ? a.float('scale') : undefined;
    const scoreMod = a.graph('score_mod', true);
    const maskMod = a.graph('mask_mod', true);
    const probMod = a.graph('prob_mod', true);
    return async (inputs, ctx) => {
      const q = tensorInput(inputs[0], 'Q');
      const k = tensorInput(inputs[1], 'K');
      const v = tensorInput(inputs[2], 'V');
      if (q.dims.length !== 4 || k.dims.length !== 4 || v.dims.length !== 4)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `Q, K and V must be 4-D, got [${q.dims}], [${k.dims}], [${v.dims}]`,
        );
      const [B, qH, L, E] = q.dims;
      const [, kvH, S] = k.dims;
      const Ev = v.dims[3];
      if (k.dims[0] !== B || v.dims[0] !== B || k.dims[3] !== E || v.dims[1] !== kvH || v.dims[2] !== S)
        throw new OnyxError('SHAPE_MISMATCH', `K [${k.dims}] and V [${v.dims}] do not match Q [${q.dims}]`);
      if (kvH <= 0 || qH % kvH !== 0)
        throw new OnyxError('SHAPE_MISMATCH', `Q heads (${qH}) must be a multiple of K/V heads (${kvH})`);
      const group = qH / kvH;
      const scale = scaleAttr ?? 1 / Math.sqrt(E);
      const Q = floatsOf(q, 'Q');
      const K = floatsOf(k, 'K');
      const V = floatsOf(v, 'V');
      const sDims = [B, qH, L, S];
      let scores = new Float64Array(B * qH * L * S);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < qH; h++) {
          const kh = Math.floor(h / group);
          gemm(
            false,
            true,
            L,
            S,
            E,
            scale,
            Q,
            (b * qH + h) * L * E,
            E,
            K,
            (b * kvH + kh) * S * E,
            E,
            0,
            scores,
            (b * qH + h) * L * S,
            S,
          );
        }
      if (scoreMod) {
        const r = await runModifier(ctx, scoreMod, tensorFromFloats(q.type, scores, sDims), sDims);
        scores = Float64Array.from(floatsOf(r, 'score_mod output'));
      }
      if (maskMod) {
        const m = await runModifier(
          ctx,
          maskMod,
          formalInputs(maskMod) === 1 ? tensorFromFloats(q.type, scores, sDims) : undefined,
          sDims,
        );
        if (m.type === 'bool') {
          // A boolean mask (broadcastable): false → -inf.
          const md = m.dims;
          const full = [1, 1, 1, 1].map((one, i) => (i < 4 - md.length ? one : md[i - (4 - md.length)]));
          const str = [full[1] * full[2] * full[3], full[2] * full[3], full[3], 1].map((s, i) =>
            full[i] === 1 ? 0 : s,
          );
          const mv = m.data as Uint8Array;
          let o = 0;
          for (let b = 0; b < B; b++)
            for (let h = 0; h < qH; h++)
              for (let i = 0; i < L; i++)
                for (let j = 0; j < S; j++, o++)
                  if (!mv[b * str[0] + h * str[1] + i * str[2] + j * str[3]]) scores[o] = -Infinity;
        } else scores = Float64Array.from(floatsOf(m, 'mask_mod output'));
      }
      if (scores.length !== B * qH * L * S)
        throw new OnyxError('SHAPE_MISMATCH', `modifier subgraphs must keep the score shape [${sDims}]`);
      for (let r = 0; r < B * qH * L; r++) softmaxRow(scores, r * S, S);
      let probs: FloatArray = scores;
      if (probMod) {
        const r = await runModifier(ctx, probMod, tensorFromFloats(q.type, scores, sDims), sDims);
        probs = floatsOf(r, 'prob_mod output');
        if (probs.length !== scores.length)
          throw new OnyxError('SHAPE_MISMATCH', `prob_mod must keep the probability shape [${sDims}]`);
      }
      const Y = new Float64Array(B * qH * L * Ev);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < qH; h++) {
          const kh = Math.floor(h / group);
          gemm(
            false,
            false,
            L,
            Ev,
            S,
            1,
            probs,
            (b * qH + h) * L * S,
            S,
            V,
            (b * kvH + kh) * S * Ev,
            Ev,
            0,
            Y,
            (b * qH + h) * L * Ev,
            Ev,
          );
        }
      return [tensorFromFloats(v.type, Y, [B, qH, L, Ev])];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// LinearAttention (opset 27): recurrent state-space attention with a [d_k × d_v] state per KV head.

type UpdateRule = 'linear' | 'gated' | 'delta' | 'gated_delta';

const linearAttention: OpDef = {
  opType: 'LinearAttention',
  versions: [27],
  build(node) {
    const a = node.attrs;
    const rule = a.string('update_rule', 'gated_delta') as UpdateRule;
    if (!['linear', 'gated', 'delta', 'gated_delta'].includes(rule))
      throw new OnyxError(
        'INVALID_MODEL',
        `update_rule must be 'linear', 'gated', 'delta' or 'gated_delta', got '${rule}'`,
      );
    const qHeads = a.int('q_num_heads');
    const kvHeads = a.int('kv_num_heads');
    if (qHeads <= 0 || kvHeads <= 0 || qHeads % kvHeads !== 0)
      throw new OnyxError(
        'INVALID_MODEL',
        `q_num_heads (${qHeads}) must be a positive multiple of kv_num_heads (${kvHeads})`,
      );
    const scaleAttr = a.has('scale') ? a.float('scale') : undefined;
    const gated = rule === 'gated' || rule === 'gated_delta';
    const delta = rule === 'delta' || rule === 'gated_delta';
    return (inputs) => {
      const q = tensorInput(inputs[0], 'query');
      const k = tensorInput(inputs[1], 'key');
      const v = tensorInput(inputs[2], 'value');
      const pastT = optionalTensor(inputs[3], 'past_state');
      const decayT = optionalTensor(inputs[4], 'decay');
      const betaT = optionalTensor(inputs[5], 'beta');
      if (q.dims.length !== 3 || k.dims.length !== 3 || v.dims.length !== 3)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `query, key and value must be 3-D [batch, seq, hidden], got [${q.dims}], [${k.dims}], [${v.dims}]`,
        );
      const [B, T] = q.dims;
      if (k.dims[0] !== B || v.dims[0] !== B || k.dims[1] !== T || v.dims[1] !== T)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `key [${k.dims}] and value [${v.dims}] do not match query [${q.dims}]`,
        );
      const Hq = qHeads;
      const Hkv = kvHeads;
      if (q.dims[2] % Hq !== 0 || k.dims[2] % Hkv !== 0 || v.dims[2] % Hkv !== 0)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `hidden sizes (query ${q.dims[2]}, key ${k.dims[2]}, value ${v.dims[2]}) must divide by the head counts ${Hq} / ${Hkv}`,
        );
      const dk = q.dims[2] / Hq;
      const dv = v.dims[2] / Hkv;
      if (k.dims[2] / Hkv !== dk)
        throw new OnyxError('SHAPE_MISMATCH', `query and key head sizes differ: ${dk} vs ${k.dims[2] / Hkv}`);
      if (gated && !decayT)
        throw new OnyxError('INVALID_MODEL', `update_rule '${rule}' needs the decay input`);
      if (delta && !betaT) throw new OnyxError('INVALID_MODEL', `update_rule '${rule}' needs the beta input`);
      // decay: [B, T, Hkv·dk] (per key channel) or [B, T, Hkv] (per head).
      const decayPer = decayT ? decayT.dims[2] / Hkv : 0;
      if (
        decayT &&
        (decayT.dims.length !== 3 ||
          decayT.dims[0] !== B ||
          decayT.dims[1] !== T ||
          (decayPer !== dk && decayPer !== 1))
      )
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `decay must have dims [${B}, ${T}, ${Hkv * dk}] or [${B}, ${T}, ${Hkv}], got [${decayT.dims}]`,
        );
      // beta: [B, T, Hkv] or [B, T, 1].
      const betaHeads = betaT ? betaT.dims[2] : 0;
      if (
        betaT &&
        (betaT.dims.length !== 3 ||
          betaT.dims[0] !== B ||
          betaT.dims[1] !== T ||
          (betaHeads !== Hkv && betaHeads !== 1))
      )
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `beta must have dims [${B}, ${T}, ${Hkv}] or [${B}, ${T}, 1], got [${betaT.dims}]`,
        );
      const stateDims = [B, Hkv, dk, dv];
      if (pastT && pastT.dims.join() !== stateDims.join())
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `past_state must have dims [${stateDims}], got [${pastT.dims}]`,
        );
      const Q = floatsOf(q, 'query');
      const K = floatsOf(k, 'key');
      const V = floatsOf(v, 'value');
      const Dc = decayT ? floatsOf(decayT, 'decay') : undefined;
      const Bt = betaT ? floatsOf(betaT, 'beta') : undefined;
      const state = pastT
        ? Float64Array.from(floatsOf(pastT, 'past_state'))
        : new Float64Array(B * Hkv * dk * dv);
      const scale = scaleAttr ?? 1 / Math.sqrt(dk);
      const group = Hq / Hkv;
      const Y = new Float64Array(B * T * Hq * dv);
      const retrieved = new Float64Array(dv);
      for (let b = 0; b < B; b++)
        for (let t = 0; t < T; t++) {
          const row = b * T + t;
          for (let h = 0; h < Hkv; h++) {
            const s0 = (b * Hkv + h) * dk * dv;
            const k0 = row * Hkv * dk + h * dk;
            const v0 = row * Hkv * dv + h * dv;
            if (Dc) {
              for (let i = 0; i < dk; i++) {
                const g = Math.exp(Dc[row * Hkv * decayPer + h * decayPer + (decayPer === 1 ? 0 : i)]);
                for (let j = 0; j < dv; j++) state[s0 + i * dv + j] *= g;
              }
            }
            if (delta) {
              // Write β·(v − Sᵀk) instead of v: the delta rule.
              const beta = Bt![row * betaHeads + (betaHeads === 1 ? 0 : h)];
              retrieved.fill(0);
              for (let i = 0; i < dk; i++) {
                const ki = K[k0 + i];
                for (let j = 0; j < dv; j++) retrieved[j] += state[s0 + i * dv + j] * ki;
              }
              for (let j = 0; j < dv; j++) retrieved[j] = beta * (V[v0 + j] - retrieved[j]);
            } else for (let j = 0; j < dv; j++) retrieved[j] = V[v0 + j];
            for (let i = 0; i < dk; i++) {
              const ki = K[k0 + i];
              for (let j = 0; j < dv; j++) state[s0 + i * dv + j] += ki * retrieved[j];
            }
            // Every query head of this group reads the updated state.
            for (let g = 0; g < group; g++) {
              const hq = h * group + g;
              const q0 = row * Hq * dk + hq * dk;
              const y0 = row * Hq * dv + hq * dv;
              for (let i = 0; i < dk; i++) {
                const qi = Q[q0 + i] * scale;
                for (let j = 0; j < dv; j++) Y[y0 + j] += qi * state[s0 + i * dv + j];
              }
            }
          }
        }
      return [tensorFromFloats(q.type, Y, [B, T, Hq * dv]), tensorFromFloats(q.type, state, stateDims)];
    };
  },
};

export const ops: OpDef[] = [attention, rotaryEmbedding, flexAttention, linearAttention];
