/**
 * onnxruntime's com.microsoft MultiHeadAttention, the form Onyx's attention fusion emits for a
 * decoder's self-attention with a key/value cache (optimizer/attention-fusion.ts), so that a written
 * optimized model runs in onnxruntime too. Per batch b and head h (head size H = D / num_heads):
 *
 *   K = past_key[b, h] followed by the new keys (+ their bias), V likewise → present_key/value
 *   S = scale · (Q + bias_q)·Kᵀ + attention_bias  (keys after P + i hidden from query i when
 *   unidirectional, P = the past length)  →  softmax over the keys  →  · V
 *
 * Supported: 3-D query, key and value [batch, sequence, hidden] (separate, not packed), the optional
 * bias [D + D + Dv], an attention_bias that broadcasts to [batch, heads, sequence, total] (onnxruntime
 * asks for 4-D [batch or 1, heads or 1, sequence, total]), past_key/past_value [batch, heads, past,
 * head size], float32. key_padding_mask, packed QKV/KV, 4-D keys and the decoding-buffer inputs are
 * NOT_IMPLEMENTED. A row with every key masked gives zero probabilities, as Onyx's ai.onnx Attention
 * does (its float64 kernel is the reference the tests hold this one to).
 *
 * The two products run as batched GEMMs over the heads (WASM SIMD kernels, split over the session's
 * threads): scores straight from the strided query and the present keys, each head's output back to
 * back, then copied into its columns of [batch, sequence, heads·Hv]. Query, scores and head outputs
 * live in the kernels' scratch (`operandScratch`), so neither product copies them in or out. One query
 * row per batch (a decoder step), with or without an attention_bias, takes one fused WASM call
 * instead (assembly/attention.ts).
 */
import { OnyxError } from '../core/errors.js';
import { sameDims, type Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { softmaxRow } from './attention.js';
import type { OpDef } from './kernel.js';
import { fastFloat32, operandScratch, sattentionDecode, sgemmBatch, ssoftmax } from './util/dispatch.js';
import { fmt, tensorInput } from './util/numeric.js';

const MS = 'com.microsoft';

function optional(v: Value | undefined, what: string): Tensor | undefined {
  return v === undefined || v === null ? undefined : tensorInput(v, what);
}

function float32(t: Tensor, what: string): Float32Array {
  if (t.type !== 'float32') {
    throw new OnyxError(
      t.type === 'float16' ? 'NOT_IMPLEMENTED' : 'TYPE_MISMATCH',
      `MultiHeadAttention ${what} must be float32 here, got ${t.type}`,
    );
  }
  return t.data as Float32Array;
}

/** Element strides of `bias` broadcast to [B, N, S, T] (0 along its size-1 or missing dims). */
function biasStrides(bias: Tensor, full: readonly number[]): number[] {
  const d = bias.dims;
  if (d.length > 4) {
    throw new OnyxError('SHAPE_MISMATCH', `attention_bias must have at most 4 dims, got ${fmt(d)}`);
  }
  const dims = [...new Array<number>(4 - d.length).fill(1), ...d];
  const strides = new Array<number>(4).fill(0);
  let step = 1;
  for (let i = 3; i >= 0; i--) {
    if (dims[i] !== 1 && dims[i] !== full[i]) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `attention_bias ${fmt(d)} does not broadcast to [batch, heads, sequence, total] ${fmt(full)}`,
      );
    }
    strides[i] = dims[i] === 1 ? 0 : step;
    step *= dims[i];
  }
  return strides;
}

/** The largest of n floats at off (-∞ for none). */
function rowMax(a: Float32Array, off: number, n: number): number {
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (a[off + j] > max) max = a[off + j];
  return max;
}

/** Softmax of every row of `len` floats of `x`, in place: on the WASM kernels when they run. */
function softmaxRows(x: Float32Array, len: number): void {
  if (fastFloat32()) {
    ssoftmax(x, x, len);
    return;
  }
  for (let row = 0; row < x.length; row += len) softmaxRow(x, row, len);
}

/**
 * present[b, h] = past[b, h] (P rows) then the new rows of x [B, L, N·H] (+ bias[h·H…], when given),
 * for every b and h.
 */
function fillPresent(
  present: Float32Array,
  past: Float32Array | undefined,
  x: Float32Array,
  bias: Float32Array | undefined,
  biasOff: number,
  B: number,
  N: number,
  P: number,
  L: number,
  H: number,
): void {
  const T = P + L;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < N; h++) {
      const dst = (b * N + h) * T * H;
      if (past) present.set(past.subarray((b * N + h) * P * H, (b * N + h + 1) * P * H), dst);
      for (let l = 0; l < L; l++) {
        const src = (b * L + l) * N * H + h * H;
        const row = dst + (P + l) * H;
        if (bias) {
          const bo = biasOff + h * H;
          for (let e = 0; e < H; e++) present[row + e] = x[src + e] + bias[bo + e];
        } else {
          present.set(x.subarray(src, src + H), row);
        }
      }
    }
  }
}

const multiHeadAttention: OpDef = {
  domain: MS,
  opType: 'MultiHeadAttention',
  versions: [1],
  build(node) {
    const where = `MultiHeadAttention node '${node.name}'`;
    const N = node.attrs.int('num_heads');
    if (N <= 0) throw new OnyxError('INVALID_MODEL', `${where}: num_heads must be positive, got ${N}`);
    const scaleAttr = node.attrs.float('scale', 0);
    const causal = node.attrs.int('unidirectional', 0) !== 0;
    return (inputs, ctx) => {
      const q = tensorInput(inputs[0], 'MultiHeadAttention query');
      const kT = optional(inputs[1], 'MultiHeadAttention key');
      const vT = optional(inputs[2], 'MultiHeadAttention value');
      const biasT = optional(inputs[3], 'MultiHeadAttention bias');
      const abT = optional(inputs[5], 'MultiHeadAttention attention_bias');
      const pastKT = optional(inputs[6], 'MultiHeadAttention past_key');
      const pastVT = optional(inputs[7], 'MultiHeadAttention past_value');
      const unsupported = optional(inputs[4], 'key_padding_mask')
        ? 'key_padding_mask'
        : inputs.slice(8).some((x) => x !== undefined && x !== null)
          ? 'past_sequence_length / cache_indirection'
          : !kT || !vT
            ? 'packed QKV (no separate key and value)'
            : q.dims.length !== 3 || kT.dims.length !== 3 || vT.dims.length !== 3
              ? `query/key/value of ${q.dims.length}/${kT.dims.length}/${vT.dims.length} dims (packed or BNSH forms)`
              : undefined;
      if (unsupported) throw new OnyxError('NOT_IMPLEMENTED', `${where}: ${unsupported} is not supported`);
      const k = kT!;
      const v = vT!;
      const [B, S, D] = q.dims;
      const L = k.dims[1];
      const Dv = v.dims[2];
      if (D % N !== 0 || Dv % N !== 0) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `${where}: hidden sizes ${D} and ${Dv} must divide by num_heads ${N}`,
        );
      }
      const H = D / N;
      const Hv = Dv / N;
      if (k.dims[0] !== B || v.dims[0] !== B || k.dims[2] !== D || v.dims[1] !== L) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `${where}: key ${fmt(k.dims)} and value ${fmt(v.dims)} do not match query ${fmt(q.dims)}`,
        );
      }
      if (!pastKT !== !pastVT) {
        throw new OnyxError('INVALID_MODEL', `${where}: past_key and past_value come together`);
      }
      const P = pastKT ? pastKT.dims[2] : 0;
      if (pastKT && (!sameDims(pastKT.dims, [B, N, P, H]) || !sameDims(pastVT!.dims, [B, N, P, Hv]))) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `${where}: past_key ${fmt(pastKT.dims)} / past_value ${fmt(pastVT!.dims)} must be [${B}, ${N}, past, ${H}] / [${B}, ${N}, past, ${Hv}]`,
        );
      }
      if (biasT && (biasT.dims.length !== 1 || biasT.dims[0] !== 2 * D + Dv)) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `${where}: bias must be [${2 * D + Dv}], got ${fmt(biasT.dims)}`,
        );
      }
      const T = P + L;
      const Q = float32(q, 'query');
      const Kx = float32(k, 'key');
      const Vx = float32(v, 'value');
      const bias = biasT ? float32(biasT, 'bias') : undefined;
      // The caches are the model's outputs in a decoder (y feeds the next nodes): their own storage.
      const presentK = ctx.allocOutput(1, 'float32', [B, N, T, H], false);
      const presentV = ctx.allocOutput(2, 'float32', [B, N, T, Hv], false);
      const PK = presentK.data as Float32Array;
      const PV = presentV.data as Float32Array;
      const pastK = pastKT ? float32(pastKT, 'past_key') : undefined;
      const pastV = pastVT ? float32(pastVT, 'past_value') : undefined;
      fillPresent(PK, pastK, Kx, bias, D, B, N, P, L, H);
      fillPresent(PV, pastV, Vx, bias, 2 * D, B, N, P, L, Hv);
      const scale = scaleAttr !== 0 ? scaleAttr : 1 / Math.sqrt(H);
      const y = ctx.allocOutput(0, 'float32', [B, S, Dv], false);
      const Y = y.data as Float32Array;
      // The query (+ bias), the scores and one batch's head outputs side by side in the WASM
      // kernels' scratch, where both products read and write them in place (off the kernels: run
      // storage).
      // One query row per batch (a decoder step) sees every key but those its attention bias hides
      // (causal alignment hides none): one fused kernel call on the query, which needs no scores or
      // head outputs here.
      const decode = S === 1 && T > 0 && fastFloat32();
      const [qN, sN, hN] = [B * S * D, B * N * S * T, N * S * Hv];
      const ws = operandScratch(decode ? qN : qN + sN + hN);
      const area = (off: number, n: number, dims: number[]) =>
        ws ? ws.subarray(off, off + n) : (ctx.alloc('float32', dims, false).data as Float32Array);
      const query = area(0, qN, [B, S, D]);
      query.set(Q.subarray(0, qN));
      if (bias) for (let r = 0; r < B * S; r++) for (let e = 0; e < D; e++) query[r * D + e] += bias[e];
      const ab = abT ? float32(abT, 'attention_bias') : undefined;
      const [s0, s1, s2, s3] = abT ? biasStrides(abT, [B, N, S, T]) : [0, 0, 0, 0];
      if (decode) {
        const attnBias = ab && { data: ab, strides: [s0, s1, s3] as const };
        sattentionDecode(query, PK, PV, Y, { B, N, T, H, Hv }, scale, attnBias);
        return [y, presentK, presentV];
      }
      const scores = area(qN, sN, [B, N, S, T]);
      const heads = area(qN + sN, hN, [N, S, Hv]);
      const masked: number[] = [];
      for (let b = 0; b < B; b++) {
        // Scores of every head: Q rows read D apart from column h·H, keys from the present cache.
        sgemmBatch(
          {
            transA: false,
            transB: true,
            M: S,
            N: T,
            K: H,
            alpha: scale,
            A: query,
            aOff: b * S * D,
            lda: D,
            strideA: H,
            B: PK,
            bOff: b * N * T * H,
            ldb: H,
            strideB: T * H,
            C: scores,
            cOff: b * N * S * T,
            ldc: T,
            strideC: S * T,
            count: N,
          },
          ctx.threads,
        );
        masked.length = 0;
        for (let h = 0; h < N; h++) {
          for (let i = 0; i < S; i++) {
            const row = ((b * N + h) * S + i) * T;
            if (ab) {
              const base = b * s0 + h * s1 + i * s2;
              for (let t = 0; t < T; t++) scores[row + t] += ab[base + t * s3];
            }
            // Bottom-right aligned: query i sees keys up to P + i (S = L for self-attention).
            if (causal) scores.fill(-Infinity, row + Math.max(0, Math.min(T, T - S + i + 1)), row + T);
            if ((ab || causal) && rowMax(scores, row, T) === -Infinity) masked.push(row);
          }
        }
        softmaxRows(scores.subarray(b * N * S * T, (b + 1) * N * S * T), T);
        for (const row of masked) scores.fill(0, row, row + T);
        // Each head's [S, Hv] output back to back (as a batched product writes them), then into
        // its columns of [S, heads·Hv].
        sgemmBatch(
          {
            transA: false,
            transB: false,
            M: S,
            N: Hv,
            K: T,
            alpha: 1,
            A: scores,
            aOff: b * N * S * T,
            lda: T,
            strideA: S * T,
            B: PV,
            bOff: b * N * T * Hv,
            ldb: Hv,
            strideB: T * Hv,
            C: heads,
            cOff: 0,
            ldc: Hv,
            strideC: S * Hv,
            count: N,
          },
          ctx.threads,
        );
        for (let h = 0; h < N; h++) {
          for (let i = 0; i < S; i++) {
            Y.set(heads.subarray((h * S + i) * Hv, (h * S + i + 1) * Hv), (b * S + i) * Dv + h * Hv);
          }
        }
      }
      return [y, presentK, presentV];
    };
  },
};

export const ops: OpDef[] = [multiHeadAttention];
