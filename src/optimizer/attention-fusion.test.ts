import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelSpec, NodeSpec } from '../../test/helpers/build-model.js';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { Tensor } from '../core/tensor.js';
import type { Model } from '../ir/graph.js';
import { fuseDecoderAttention } from './attention-fusion.js';
import { optimizeModel } from './optimize.js';

const [E, N, H] = [8, 2, 4];
const D = N * H;
const i64 = (xs: number[], dims = [xs.length]) =>
  new Tensor('int64', BigInt64Array.from(xs.map(BigInt)), dims);

interface Options {
  /** Concat a key/value cache (graph inputs past_key/past_value; present_* are graph outputs). */
  past?: boolean;
  /** Where(mask, fill, scores) before the Softmax, mask a bool graph input [S, T]. */
  fill?: number;
  /** Also make the scores a graph output (a second reader: no fusion). */
  leakScores?: boolean;
}

/**
 * A GPT-2 block's attention as torch.onnx exports it (opset 17): one projection to 3·D, a computed
 * 5-D Reshape, Transpose, Split, Squeeze, the cache Concat, Q·Kᵀ / √H, the mask, Softmax, ·V and
 * back to [B, S, D].
 */
function spec(o: Options): ModelSpec {
  const nodes: NodeSpec[] = [
    { op: 'MatMul', inputs: ['h', 'Wqkv'], outputs: ['X'] },
    { op: 'Add', inputs: ['bqkv', 'X'], outputs: ['Xb'] },
    { op: 'Shape', inputs: ['h'], outputs: ['sh'] },
    { op: 'Gather', inputs: ['sh', 'zero'], outputs: ['g0'], attrs: { axis: 0 } },
    { op: 'Gather', inputs: ['sh', 'one'], outputs: ['g1'], attrs: { axis: 0 } },
    { op: 'Unsqueeze', inputs: ['g0', 'axes0'], outputs: ['u0'] },
    { op: 'Unsqueeze', inputs: ['g1', 'axes0'], outputs: ['u1'] },
    { op: 'Concat', inputs: ['u0', 'u1', 'c3', 'cN', 'cH'], outputs: ['shape5'], attrs: { axis: 0 } },
    { op: 'Reshape', inputs: ['Xb', 'shape5'], outputs: ['R'] },
    { op: 'Transpose', inputs: ['R'], outputs: ['Tr'], attrs: { perm: [2, 0, 3, 1, 4] } },
    { op: 'Split', inputs: ['Tr', 'ones3'], outputs: ['s0', 's1', 's2'], attrs: { axis: 0 } },
    { op: 'Squeeze', inputs: ['s0', 'axes0'], outputs: ['q'] },
    { op: 'Squeeze', inputs: ['s1', 'axes0'], outputs: ['k'] },
    { op: 'Squeeze', inputs: ['s2', 'axes0'], outputs: ['v'] },
    ...(o.past
      ? [
          { op: 'Concat', inputs: ['past_key', 'k'], outputs: ['present_key'], attrs: { axis: 2 } },
          { op: 'Concat', inputs: ['past_value', 'v'], outputs: ['present_value'], attrs: { axis: 2 } },
        ]
      : []),
    {
      op: 'Transpose',
      inputs: [o.past ? 'present_key' : 'k'],
      outputs: ['kT'],
      attrs: { perm: [0, 1, 3, 2] },
    },
    { op: 'MatMul', inputs: ['q', 'kT'], outputs: ['qk'] },
    { op: 'Div', inputs: ['qk', 'sqrtH'], outputs: ['scores'] },
    ...(o.fill !== undefined
      ? [{ op: 'Where', inputs: ['mask', 'fill', 'scores'], outputs: ['masked'] }]
      : []),
    {
      op: 'Softmax',
      inputs: [o.fill !== undefined ? 'masked' : 'scores'],
      outputs: ['p'],
      attrs: { axis: -1 },
    },
    { op: 'MatMul', inputs: ['p', o.past ? 'present_value' : 'v'], outputs: ['o'] },
    { op: 'Transpose', inputs: ['o'], outputs: ['ot'], attrs: { perm: [0, 2, 1, 3] } },
    { op: 'Concat', inputs: ['u0', 'u1', 'cD'], outputs: ['shape3'], attrs: { axis: 0 } },
    { op: 'Reshape', inputs: ['ot', 'shape3'], outputs: ['y'] },
  ];
  return {
    opset: 17,
    nodes,
    inputs: [
      { name: 'h', type: 'float32', dims: [1, 'S', E] },
      ...(o.past
        ? [
            { name: 'past_key', type: 'float32', dims: [1, N, 'P', H] },
            { name: 'past_value', type: 'float32', dims: [1, N, 'P', H] },
          ]
        : []),
      ...(o.fill !== undefined ? [{ name: 'mask', type: 'bool', dims: ['S', 'T'] }] : []),
    ],
    outputs: [
      { name: 'y', type: 'float32', dims: [1, 'S', D] },
      ...(o.past
        ? [
            { name: 'present_key', type: 'float32', dims: [1, N, 'T', H] },
            { name: 'present_value', type: 'float32', dims: [1, N, 'T', H] },
          ]
        : []),
      ...(o.leakScores ? [{ name: 'scores', type: 'float32' }] : []),
    ],
    initializers: [
      { name: 'Wqkv', tensor: randomTensor([E, 3 * D], 3) },
      { name: 'bqkv', tensor: randomTensor([3 * D], 4) },
      { name: 'zero', tensor: i64([0], []) },
      { name: 'one', tensor: i64([1], []) },
      { name: 'axes0', tensor: i64([0]) },
      { name: 'c3', tensor: i64([3]) },
      { name: 'cN', tensor: i64([N]) },
      { name: 'cH', tensor: i64([H]) },
      { name: 'cD', tensor: i64([D]) },
      { name: 'ones3', tensor: i64([1, 1, 1]) },
      { name: 'sqrtH', tensor: new Tensor('float32', Float32Array.of(Math.sqrt(H)), []) },
      ...(o.fill !== undefined
        ? [{ name: 'fill', tensor: new Tensor('float32', Float32Array.of(o.fill), []) }]
        : []),
    ],
  };
}

function feeds(S: number, P: number, withPast: boolean, masked: boolean): Record<string, Tensor> {
  const T = S + P;
  const f: Record<string, Tensor> = { h: randomTensor([1, S, E], 7) };
  if (withPast) {
    f.past_key = randomTensor([1, N, P, H], 8);
    f.past_value = randomTensor([1, N, P, H], 9);
  }
  if (masked) {
    // Causal: query i hides keys after P + i.
    const m = Array.from({ length: S * T }, (_, j) => (j % T > P + Math.floor(j / T) ? 1 : 0));
    f.mask = new Tensor('bool', Uint8Array.from(m), [S, T]);
  }
  return f;
}

/** The extended passes up to this one (FusedMatMul appears), then this pass. */
async function prepareAndFuse(m: Model): Promise<boolean> {
  await optimizeModel(m, 'all', {
    foldKernel: () => undefined,
    disabled: new Set(['decoder-attention-fusion']),
  });
  return fuseDecoderAttention(m);
}

describe('decoder attention fusion', () => {
  for (const [S, P] of [
    [1, 5],
    [3, 2],
  ]) {
    it(`fuses a cached, masked block into MultiHeadAttention (${S} new tokens after ${P})`, async () => {
      const s = spec({ past: true, fill: -3.4028234663852886e38 });
      const m = await checkRewrite(s, prepareAndFuse, feeds(S, P, true, true), 1e-5);
      const ops = opTypes(m);
      assert.ok(
        ops.includes('com.microsoft.MultiHeadAttention'),
        "ops.includes('com.microsoft.MultiHeadAttention')",
      );
      for (const gone of ['Softmax', 'com.microsoft.FusedMatMul', 'Transpose', 'Squeeze']) {
        assert.ok(!ops.includes(gone), `${gone} is gone`);
      }
      const mha = m.graph.nodes.find((n) => n.opType === 'MultiHeadAttention')!;
      assert.deepEqual(mha.outputs.slice(1), ['present_key', 'present_value']);
      assert.equal(mha.attrs.int('num_heads'), N);
      assert.ok(
        Math.abs(mha.attrs.float('scale') - 1 / Math.sqrt(H)) < 1e-7,
        "Math.abs(mha.attrs.float('scale') - 1 / Math.sqrt(H)) < 1e-7",
      );
    });
  }

  it('fuses a block without cache or mask', async () => {
    const m = await checkRewrite(spec({}), prepareAndFuse, feeds(4, 0, false, false), 1e-5);
    assert.ok(
      opTypes(m).includes('com.microsoft.MultiHeadAttention'),
      "opTypes(m).includes('com.microsoft.MultiHeadAttention')",
    );
  });

  it('leaves a mask whose fill could differ once added (-1e4), and scores another node reads', async () => {
    for (const o of [
      { past: true, fill: -1e4 },
      { past: true, leakScores: true },
    ]) {
      const m = load(spec(o));
      assert.equal(await prepareAndFuse(m), false, JSON.stringify(o));
    }
  });
});
