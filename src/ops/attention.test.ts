import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ops } from './attention.js';
import { assertNear as close, bindOps, f32, i64, nums, randomArray, t } from './util/op-test-kit.js';

const { run: runAll, run1: run } = bindOps(ops, { opset: 22 });
const rand = (n: number, seed: number) => randomArray(n, seed, -0.5, 0.5);

describe('Attention', () => {
  it('a single key returns its value whatever the query', async () => {
    const y = await run(
      'Attention',
      [f32([1, 2], [1, 1, 1, 2]), f32([3, 4], [1, 1, 1, 2]), f32([7, 8, 9], [1, 1, 1, 3])],
      {},
      23,
    );
    assert.deepEqual(y.dims, [1, 1, 1, 3]);
    close(nums(y), [7, 8, 9]);
  });

  it('GQA equals MHA with the KV heads repeated', async () => {
    const q = f32(rand(2 * 4 * 3, 1), [1, 4, 3, 2]);
    const k = rand(2 * 2 * 3, 2);
    const v = rand(2 * 2 * 3, 3);
    const rep = (a: number[]) => [0, 0, 1, 1].flatMap((h) => a.slice(h * 6, (h + 1) * 6));
    const g = await run('Attention', [q, f32(k, [1, 2, 3, 2]), f32(v, [1, 2, 3, 2])], {}, 23);
    const m = await run('Attention', [q, f32(rep(k), [1, 4, 3, 2]), f32(rep(v), [1, 4, 3, 2])], {}, 23);
    close(nums(g), nums(m));
  });

  it('bool and additive masks agree; a fully masked row gives zeros, not NaN', async () => {
    const q = f32(rand(2 * 4, 4), [1, 1, 2, 4]);
    const k = f32(rand(3 * 4, 5), [1, 1, 3, 4]);
    const v = f32(rand(3 * 4, 6), [1, 1, 3, 4]);
    const b = await run('Attention', [q, k, v, t('bool', [1, 0, 1, 0, 0, 0], [2, 3])], {}, 23);
    const f = await run(
      'Attention',
      [q, k, v, f32([0, -Infinity, 0, -Infinity, -Infinity, -Infinity], [2, 3])],
      {},
      23,
    );
    close(nums(b), nums(f));
    assert.deepEqual(nums(b).slice(4), [0, 0, 0, 0]);
  });

  it('a mask shorter than the keys masks the tail; causal is bottom-right aligned with a past', async () => {
    const q = f32(rand(4, 7), [1, 1, 1, 4]);
    const k = f32(rand(8, 8), [1, 1, 2, 4]);
    const v = f32([1, 1, 1, 1, 5, 5, 5, 5], [1, 1, 2, 4]);
    const short = await run('Attention', [q, k, v, f32([0], [1, 1])], {}, 23);
    close(nums(short), [1, 1, 1, 1]);
    // With a past of 1, the one new query (position 1) sees both keys: causal changes nothing.
    const pk = f32(rand(4, 9), [1, 1, 1, 4]);
    const pv = f32([3, 3, 3, 3], [1, 1, 1, 4]);
    const args = [q, f32(rand(4, 10), [1, 1, 1, 4]), f32([1, 1, 1, 1], [1, 1, 1, 4]), undefined, pk, pv];
    const [c, presentK, presentV] = await runAll(
      'Attention',
      args,
      { is_causal: 1 },
      { opset: 23, outputCount: 3 },
    );
    const [n] = await runAll('Attention', args, {}, { opset: 23, outputCount: 3 });
    close(nums(c), nums(n));
    assert.deepEqual(presentK.dims, [1, 1, 2, 4]);
    close(nums(presentV), [3, 3, 3, 3, 1, 1, 1, 1]);
  });

  it('3-D inputs split heads; qk_matmul_output modes', async () => {
    const q = f32(rand(2 * 4, 11), [1, 2, 4]);
    const k = f32(rand(2 * 4, 12), [1, 2, 4]);
    const v = f32(rand(2 * 4, 13), [1, 2, 4]);
    const heads = { q_num_heads: 2, kv_num_heads: 2 };
    const [y3] = await runAll('Attention', [q, k, v], heads, 23);
    assert.deepEqual(y3.dims, [1, 2, 4]);
    const raw = await runAll(
      'Attention',
      [q, k, v],
      { ...heads, scale: { float: 1 }, softcap: { float: 0.1 } },
      { opset: 23, outputCount: 4 },
    );
    const capped = await runAll(
      'Attention',
      [q, k, v],
      { ...heads, scale: { float: 1 }, softcap: { float: 0.1 }, qk_matmul_output_mode: 1 },
      { opset: 23, outputCount: 4 },
    );
    const probs = await runAll(
      'Attention',
      [q, k, v],
      { ...heads, qk_matmul_output_mode: 3 },
      { opset: 23, outputCount: 4 },
    );
    assert.deepEqual(raw[3].dims, [1, 2, 2, 2]);
    close(
      nums(capped[3]),
      nums(raw[3]).map((s) => 0.1 * Math.tanh(s / 0.1)),
    );
    const p = nums(probs[3]);
    for (let r = 0; r < 4; r++) close([p[2 * r] + p[2 * r + 1]], [1]);
    await assert.rejects(
      run('Attention', [q, k, v], {}, 23),
      /3-D Q, K, V need the q_num_heads and kv_num_heads/,
    );
  });

  it('nonpad_kv_seqlen (opset 24) hides padded keys', async () => {
    const q = f32(rand(4, 14), [1, 1, 1, 4]);
    const k = f32(rand(12, 15), [1, 1, 3, 4]);
    const v = f32([2, 2, 2, 2, 9, 9, 9, 9, 9, 9, 9, 9], [1, 1, 3, 4]);
    const y = await run('Attention', [q, k, v, undefined, undefined, undefined, i64([1])], {}, 24);
    close(nums(y), [2, 2, 2, 2]);
  });

  it('rejects inconsistent inputs', async () => {
    const x = f32(rand(8, 16), [1, 1, 2, 4]);
    await assert.rejects(
      run('Attention', [x, x, x, undefined, x], {}, 23),
      /past_key and past_value must be given together/,
    );
    await assert.rejects(
      run(
        'Attention',
        [f32(rand(24, 1), [1, 3, 2, 4]), f32(rand(16, 1), [1, 2, 2, 4]), f32(rand(16, 1), [1, 2, 2, 4])],
        {},
        23,
      ),
      /q heads \(3\) must be a multiple of kv heads \(2\)/,
    );
    await assert.rejects(
      run('Attention', [x, x, x, f32([0, 0, 0], [3, 1])], {}, 23),
      /attn_mask \[3,1\] does not broadcast/,
    );
    await assert.rejects(
      run('Attention', [x, x, x], { qk_matmul_output_mode: 5 }, 23),
      /qk_matmul_output_mode must be 0, 1, 2 or 3/,
    );
  });
});

describe('RotaryEmbedding', () => {
  it('zero angles are the identity; a quarter turn rotates pairs', async () => {
    const x = f32([1, 2, 3, 4], [1, 1, 1, 4]);
    const id = await run('RotaryEmbedding', [x, f32([1, 1], [1, 1, 2]), f32([0, 0], [1, 1, 2])], {}, 23);
    close(nums(id), [1, 2, 3, 4]);
    const q = await run('RotaryEmbedding', [x, f32([0, 0], [1, 1, 2]), f32([1, 1], [1, 1, 2])], {}, 23);
    close(nums(q), [-3, -4, 1, 2]); // halves: (x1, x2) → (-x2, x1)
    const qi = await run(
      'RotaryEmbedding',
      [x, f32([0, 0], [1, 1, 2]), f32([1, 1], [1, 1, 2])],
      { interleaved: 1 },
      23,
    );
    close(nums(qi), [-2, 1, -4, 3]);
  });
  it('3-D input with num_heads, partial rotary dim and position ids', async () => {
    const x = f32([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 8]);
    const cos = f32([1, 0], [2, 1]);
    const sin = f32([0, 1], [2, 1]);
    const y = await run(
      'RotaryEmbedding',
      [x, cos, sin, i64([1]).reshape([1, 1])],
      { num_heads: 2, rotary_embedding_dim: 2 },
      23,
    );
    close(nums(y), [-2, 1, 3, 4, -6, 5, 7, 8]);
  });
  it('rejects out-of-range positions and bad caches', async () => {
    const x = f32([1, 2, 3, 4], [1, 1, 1, 4]);
    await assert.rejects(
      run('RotaryEmbedding', [x, f32([1, 1], [1, 2]), f32([0, 0], [1, 2]), i64([3]).reshape([1, 1])], {}, 23),
      /position id 3 is outside the cache of 1 positions/,
    );
    await assert.rejects(
      run('RotaryEmbedding', [x, f32([1], [1, 1, 1]), f32([0], [1, 1, 1])], {}, 23),
      /must have equal dims ending in 2/,
    );
    await assert.rejects(
      run(
        'RotaryEmbedding',
        [f32([1, 2, 3, 4], [1, 1, 4]), f32([1], [1, 1, 1]), f32([0], [1, 1, 1])],
        {},
        23,
      ),
      /3-D input needs num_heads/,
    );
  });
});

describe('LinearAttention', () => {
  it("'linear' accumulates k⊗v and reads it with the scaled query", async () => {
    // One head, d_k = d_v = 1, two steps: S1 = k1·v1, S2 = S1 + k2·v2; y_t = q_t·S_t / sqrt(1).
    const [y, state] = await runAll(
      'LinearAttention',
      [f32([1, 2], [1, 2, 1]), f32([3, 4], [1, 2, 1]), f32([5, 6], [1, 2, 1])],
      { q_num_heads: 1, kv_num_heads: 1, update_rule: 'linear' },
      { opset: 27, outputCount: 2 },
    );
    close(nums(y), [15, 2 * (15 + 24)]);
    close(nums(state), [39]);
  });
  it("'gated_delta' decays, then writes β·(v − Sᵀk)", async () => {
    const past = f32([2], [1, 1, 1, 1]);
    const [y, state] = await runAll(
      'LinearAttention',
      [
        f32([1], [1, 1, 1]),
        f32([1], [1, 1, 1]),
        f32([10], [1, 1, 1]),
        past,
        f32([Math.log(0.5)], [1, 1, 1]),
        f32([0.5], [1, 1, 1]),
      ],
      { q_num_heads: 1, kv_num_heads: 1 },
      { opset: 27, outputCount: 2 },
    );
    const s = 0.5 * 2 + 0.5 * (10 - 0.5 * 2);
    close(nums(state), [s]);
    close(nums(y), [s]);
  });
  it('requires the inputs its update rule uses', async () => {
    const x = f32([1], [1, 1, 1]);
    await assert.rejects(
      run('LinearAttention', [x, x, x], { q_num_heads: 1, kv_num_heads: 1 }, 27),
      /needs the decay input/,
    );
    await assert.rejects(
      run('LinearAttention', [x, x, x], { q_num_heads: 3, kv_num_heads: 2 }, 27),
      /q_num_heads \(3\) must be a positive multiple/,
    );
  });
});

describe('FlexAttention', () => {
  it('without modifiers equals Attention (including GQA)', async () => {
    const q = f32(rand(2 * 2 * 3, 21), [1, 2, 2, 3]);
    const k = f32(rand(3 * 3, 22), [1, 1, 3, 3]);
    const v = f32(rand(3 * 2, 23), [1, 1, 3, 2]);
    const flex = await run(
      'FlexAttention',
      [q, k, v],
      {},
      { opset: 1, outputCount: 1, domain: 'ai.onnx.preview' },
    );
    const ref = await run('Attention', [q, k, v], {}, 23);
    close(nums(flex), nums(ref));
    const scaled = await run(
      'FlexAttention',
      [q, k, v],
      { scale: { float: 0.5 } },
      { opset: 1, outputCount: 1, domain: 'ai.onnx.preview' },
    );
    const refScaled = await run('Attention', [q, k, v], { scale: { float: 0.5 } }, 23);
    close(nums(scaled), nums(refScaled));
  });
});
