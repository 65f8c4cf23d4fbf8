import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TensorType } from '../core/dtype.js';
import { Tensor } from '../core/tensor.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { heapRunContext, type NodeInfo } from './kernel.js';
import { ops } from './causal-conv.js';
import { numbersOf, tensorFromNumbers } from './util/numeric.js';

const str = (value: string): AttrValue => ({ kind: 'string', value, bytes: new TextEncoder().encode(value) });

async function run(inputs: (Tensor | undefined)[], attrs: Record<string, AttrValue> = {}): Promise<Tensor[]> {
  const node: NodeInfo = {
    name: 'cc',
    opType: 'CausalConvWithState',
    domain: '',
    opset: 27,
    sinceVersion: 27,
    attrs: new Attributes(new Map(Object.entries(attrs)), 'node CausalConvWithState'),
    inputCount: inputs.length,
    outputCount: 2,
    inputPresent: inputs.map((x) => x !== undefined),
    outputPresent: [true, true],
  };
  return (await ops[0].build(node)(inputs, heapRunContext)) as Tensor[];
}

const t = (data: number[], dims: number[], type: TensorType = 'float32') =>
  tensorFromNumbers(type, data, dims);
const values = (x: Tensor) => Array.from(numbersOf(x));

describe('CausalConvWithState', () => {
  // One batch, two channels, length 3, kernel 3.
  const x = t([1, 2, 3, 10, 20, 30], [1, 2, 3]);
  const w = t([1, 0, 0, 0, 1, 2], [2, 1, 3]); // channel 0: oldest tap only; channel 1: x[t-1] + 2·x[t]

  it('without past_state pads with zeros; present_state is the last K-1 steps', async () => {
    const [y, state] = await run([x, w]);
    assert.deepEqual(y.dims, [1, 2, 3]);
    assert.deepEqual(values(y), [0, 0, 1, 20, 50, 80]);
    assert.deepEqual(state.dims, [1, 2, 2]);
    assert.deepEqual(values(state), [2, 3, 20, 30]);
  });

  it('continues from past_state and adds the bias', async () => {
    const past = t([-1, -2, 5, 6], [1, 2, 2]);
    const bias = t([100, 1000], [2]);
    const [y, state] = await run([x, w, bias, past]);
    assert.deepEqual(values(y), [99, 98, 101, 1026, 1050, 1080]);
    assert.deepEqual(values(state), [2, 3, 20, 30]);
  });

  it('a decode step (length 1) with a state longer than the input', async () => {
    const past = t([4, 5, 6, 7], [1, 2, 2]);
    const [y, state] = await run([t([9, 8], [1, 2, 1]), w, undefined, past]);
    assert.deepEqual(values(y), [4, 7 + 16]);
    assert.deepEqual(values(state), [5, 9, 7, 8]);
  });

  it("kernel size 1 gives an empty state; 'silu' and its alias 'swish' apply y·sigmoid(y)", async () => {
    const [y0, s0] = await run([t([1, -2], [1, 1, 2]), t([3], [1, 1, 1])]);
    assert.deepEqual(values(y0), [3, -6]);
    assert.deepEqual(s0.dims, [1, 1, 0]);
    for (const activation of ['silu', 'swish']) {
      const [y] = await run([t([1, -2], [1, 1, 2]), t([3], [1, 1, 1])], { activation: str(activation) });
      const silu = (v: number) => v / (1 + Math.exp(-v));
      values(y).forEach((v, i) =>
        assert.ok(Math.abs(v - silu([3, -6][i])) < 1e-6, 'Math.abs(v - silu([3, -6][i])) < 1e-6'),
      );
    }
  });

  it('keeps float16 and double types', async () => {
    for (const type of ['float16', 'float64'] as const) {
      const [y, s] = await run([t([1, 2], [1, 1, 2], type), t([1, 1], [1, 1, 2], type)]);
      assert.equal(y.type, type);
      assert.equal(s.type, type);
      assert.deepEqual(values(y), [1, 3]);
    }
  });

  it('explains bad shapes, types and attributes', async () => {
    await assert.rejects(
      run([x, t([1, 1, 1, 1], [2, 2, 1])]),
      /weight must have dims \[channels=2, 1, kernel_size>=1\]/,
    );
    await assert.rejects(run([t([1, 2], [2]), w]), /input must have dims \[batch, channels, length\]/);
    await assert.rejects(
      run([x, w, undefined, t([0, 0], [1, 2, 1])]),
      /past_state must have dims \[1, 2, kernel_size-1=2\]/,
    );
    await assert.rejects(run([x, w, t([1, 2, 3], [3])]), /bias must have dims \[2\]/);
    await assert.rejects(run([x, t([1, 0, 0, 0, 1, 2], [2, 1, 3], 'float64')]), /weight must be float32/);
    await assert.rejects(run([t([1], [1, 1, 1], 'int32'), w]), /float input, got int32/);
    await assert.rejects(run([x, w], { activation: str('relu') }), /activation must be one of/);
  });
});
