import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OnyxError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { ops as attentionOps } from './attention.js';
import { ops as mhaOps } from './multihead-attention.js';
import { setKernelMode } from './util/dispatch.js';
import { assertNear, f32, nums, randomArray, runOp, type AttrInit } from './util/op-test-kit.js';

const rand = (dims: number[], seed: number) =>
  f32(
    randomArray(
      dims.reduce((a, b) => a * b, 1),
      seed,
      -1,
      1,
    ),
    dims,
  );

/** x [.., D] plus bias[off .. off + D] on every row (what MultiHeadAttention adds inside). */
function plus(x: Tensor, bias: Tensor, off: number): Tensor {
  const d = x.dims[x.dims.length - 1];
  const a = nums(x);
  const b = nums(bias);
  return f32(
    a.map((v, i) => v + b[off + (i % d)]),
    [...x.dims],
  );
}

interface Case {
  B: number;
  S: number;
  L: number;
  P: number;
  N: number;
  H: number;
  Hv: number;
  bias?: boolean;
  /** [S, T]; [B, 1, S, T]; or per head, [B, N, S, T]. */
  attnBias?: 'none' | '2d' | '4d' | 'heads';
  causal?: boolean;
  scale?: number;
}

/** MultiHeadAttention and Onyx's float64 ai.onnx Attention-23 on the same inputs. */
async function compare(c: Case, seed: number): Promise<void> {
  const { B, S, L, P, N, H, Hv } = c;
  const D = N * H;
  const Dv = N * Hv;
  const T = P + L;
  const q = rand([B, S, D], seed);
  const k = rand([B, L, D], seed + 1);
  const v = rand([B, L, Dv], seed + 2);
  const bias = c.bias ? rand([2 * D + Dv], seed + 3) : undefined;
  const pastK = P > 0 ? rand([B, N, P, H], seed + 4) : undefined;
  const pastV = P > 0 ? rand([B, N, P, Hv], seed + 5) : undefined;
  const abDims = c.attnBias === '4d' ? [B, 1, S, T] : c.attnBias === 'heads' ? [B, N, S, T] : [S, T];
  const ab = c.attnBias && c.attnBias !== 'none' ? rand(abDims, seed + 6) : undefined;
  const attrs: Record<string, AttrInit> = { num_heads: N, unidirectional: c.causal ? 1 : 0 };
  if (c.scale !== undefined) attrs.scale = { float: c.scale };
  const got = await runOp(mhaOps, 'MultiHeadAttention', [q, k, v, bias, undefined, ab, pastK, pastV], attrs, {
    domain: 'com.microsoft',
    opset: 1,
    outputCount: 3,
  });
  const ref = await runOp(
    attentionOps,
    'Attention',
    [
      bias ? plus(q, bias, 0) : q,
      bias ? plus(k, bias, D) : k,
      bias ? plus(v, bias, 2 * D) : v,
      ab,
      pastK,
      pastV,
    ],
    {
      q_num_heads: N,
      kv_num_heads: N,
      is_causal: c.causal ? 1 : 0,
      ...(c.scale !== undefined ? { scale: { float: c.scale } } : {}),
    },
    { opset: 23, outputCount: 3 },
  );
  const what = JSON.stringify(c);
  assert.deepEqual(got[0].dims, [B, S, Dv], what);
  assert.deepEqual(got[1].dims, [B, N, T, H], what);
  assert.deepEqual(got[2].dims, [B, N, T, Hv], what);
  for (let i = 0; i < 3; i++) assertNear(nums(got[i]), nums(ref[i]), 1e-5, `${what} output ${i}`);
}

const CASES: Case[] = [
  // A decoder step: one query, a cache of past keys, bias, the exporter's [S, T] mask as a bias.
  { B: 1, S: 1, L: 1, P: 127, N: 4, H: 64, Hv: 64, bias: true, attnBias: '2d', scale: 0.125 },
  // A prompt with no past, causal; odd sizes everywhere.
  { B: 2, S: 5, L: 5, P: 0, N: 3, H: 7, Hv: 5, bias: true, causal: true },
  // Several new tokens after a past (bottom-right causal alignment), 4-D bias per batch.
  { B: 2, S: 3, L: 3, P: 4, N: 2, H: 9, Hv: 9, causal: true, attnBias: '4d' },
  // Cross-attention shapes: more keys than queries, one head, edge sizes of 1.
  { B: 1, S: 2, L: 11, P: 0, N: 1, H: 1, Hv: 3 },
  { B: 3, S: 1, L: 1, P: 1, N: 5, H: 16, Hv: 8, bias: true },
  // One query row without an attention bias: the fused decoder-step kernel in fast mode. Head sizes
  // around its 8- and 4-wide dot products and 16- and 4-wide output blocks (tails of 1–3), one key
  // and many (softmax tails), several new keys, causal (no key hidden from a single query).
  { B: 2, S: 1, L: 1, P: 0, N: 2, H: 13, Hv: 23, causal: true },
  { B: 1, S: 1, L: 3, P: 130, N: 3, H: 12, Hv: 37, bias: true, scale: 0.3 },
  { B: 2, S: 1, L: 1, P: 6, N: 1, H: 3, Hv: 4, causal: true },
  { B: 1, S: 1, L: 2, P: 5, N: 2, H: 1, Hv: 1 },
  { B: 1, S: 1, L: 1, P: 127, N: 4, H: 64, Hv: 64, bias: true, causal: true },
  // The same kernel with an attention bias broadcast over batches and heads (the first case), over
  // heads only, and per batch and head.
  { B: 2, S: 1, L: 1, P: 6, N: 2, H: 5, Hv: 6, causal: true, attnBias: '4d' },
  { B: 2, S: 1, L: 1, P: 9, N: 3, H: 8, Hv: 5, bias: true, attnBias: 'heads' },
];

describe('MultiHeadAttention (com.microsoft)', () => {
  for (const mode of ['fast', 'reference'] as const) {
    it(`equals ai.onnx Attention on the same inputs (${mode} GEMM)`, async () => {
      const saved = setKernelMode(mode);
      try {
        for (let i = 0; i < CASES.length; i++) await compare(CASES[i], 10 * i + 1);
      } finally {
        setKernelMode(saved);
      }
    });
  }

  it('masks every key of a row to zero probabilities, not NaN', async () => {
    const q = rand([1, 1, 4], 1);
    const k = rand([1, 2, 4], 2);
    const v = rand([1, 2, 4], 3);
    const ab = f32([-Infinity, -Infinity], [1, 1, 1, 2]);
    const [y] = await runOp(
      mhaOps,
      'MultiHeadAttention',
      [q, k, v, undefined, undefined, ab],
      { num_heads: 2 },
      {
        domain: 'com.microsoft',
        opset: 1,
        outputCount: 3,
      },
    );
    assert.deepEqual(nums(y), [0, 0, 0, 0]);
  });

  it('hides keys a -∞ bias masks in a decoder step, a head with none visible giving zeros', async () => {
    // Batch 0: head 0 sees no key, head 1 keys 0 and 2; batch 1: every key (the bias is [B, N, 1, T]).
    const [B, N, H, P] = [2, 2, 3, 2];
    const q = rand([B, 1, N * H], 1);
    const k = rand([B, 1, N * H], 2);
    const v = rand([B, 1, N * H], 3);
    const [pastK, pastV] = [rand([B, N, P, H], 4), rand([B, N, P, H], 5)];
    const m = -Infinity;
    const ab = f32([m, m, m, 0.5, m, -0.25, 0.1, 0.2, 0.3, 0, 0, 0], [B, N, 1, P + 1]);
    const run = async (mode: 'fast' | 'reference') => {
      const saved = setKernelMode(mode);
      try {
        const inputs = [q, k, v, undefined, undefined, ab, pastK, pastV];
        const opts = { domain: 'com.microsoft', opset: 1, outputCount: 3 };
        return nums((await runOp(mhaOps, 'MultiHeadAttention', inputs, { num_heads: N }, opts))[0]);
      } finally {
        setKernelMode(saved);
      }
    };
    const [fast, reference] = [await run('fast'), await run('reference')];
    assert.deepEqual(fast.slice(0, H), [0, 0, 0]);
    assert.ok(fast.every(Number.isFinite), 'no NaN from a head with no visible key');
    assertNear(fast, reference, 1e-6, 'fused decoder step against the general path');
    // Head 1 of batch 0 weighs the values of keys 0 (past) and 2 (new) only.
    const [qs, pk, pv, kNew, vNew] = [q, pastK, pastV, k, v].map(nums);
    const score = (key: number[], bias: number) =>
      key.reduce((a, x, e) => a + x * qs[H + e], 0) / Math.sqrt(H) + bias;
    const [e0, e2] = [score(pk.slice(P * H, P * H + H), 0.5), score(kNew.slice(H, 2 * H), -0.25)].map(
      Math.exp,
    );
    const [w0, w2] = [e0 / (e0 + e2), e2 / (e0 + e2)];
    const expected = [0, 1, 2].map((e) => w0 * pv[P * H + e] + w2 * vNew[H + e]);
    assertNear(fast.slice(H, 2 * H), expected, 1e-6, 'head 1 of batch 0');
  });

  it('names what it does not support, and rejects shapes that do not fit', async () => {
    const q = rand([1, 2, 4], 1);
    const run = (inputs: (Tensor | undefined)[], attrs: Record<string, number> = { num_heads: 2 }) =>
      runOp(mhaOps, 'MultiHeadAttention', inputs, attrs, {
        domain: 'com.microsoft',
        opset: 1,
        outputCount: 3,
      });
    const rejects = (p: Promise<unknown>, code: string, re: RegExp) =>
      assert.rejects(p, (e: unknown) => e instanceof OnyxError && e.code === code && re.test(e.message));
    await rejects(run([q, q, q, undefined, f32([1, 1], [1, 2])]), 'NOT_IMPLEMENTED', /key_padding_mask/);
    await rejects(run([q]), 'NOT_IMPLEMENTED', /packed QKV/);
    await rejects(run([q, q, q], { num_heads: 3 }), 'SHAPE_MISMATCH', /divide by num_heads 3/);
    await rejects(run([q, rand([1, 2, 6], 2), q]), 'SHAPE_MISMATCH', /do not match query/);
    await rejects(run([q, q, q, rand([5], 3)]), 'SHAPE_MISMATCH', /bias must be \[12\]/);
    await rejects(
      run([q, q, q, undefined, undefined, rand([3, 2], 4)]),
      'SHAPE_MISMATCH',
      /does not broadcast/,
    );
    await rejects(
      run([q, q, q, undefined, undefined, undefined, rand([1, 2, 3, 2], 5)]),
      'INVALID_MODEL',
      /come together/,
    );
  });
});
