import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { load, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { lengthOf, producerMap, rankOf } from './graph-utils.js';

const i64 = (values: number[], dims = [values.length]) =>
  new Tensor('int64', BigInt64Array.from(values, BigInt), dims);

describe('static ranks and shape lengths', () => {
  // x: [b, s, 8] with no value_info past the inputs. The target shape of the Reshape is computed
  // from x's dims as exporters do: Concat(Unsqueeze(Gather(Shape(x), 0)), Unsqueeze(…1), [2, 4]).
  const model = load({
    opset: 17,
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['shape'] },
      { op: 'Gather', inputs: ['shape', 'zero'], outputs: ['b'] },
      { op: 'Gather', inputs: ['shape', 'one'], outputs: ['s'] },
      { op: 'Unsqueeze', inputs: ['b', 'axes0'], outputs: ['b1'] },
      { op: 'Unsqueeze', inputs: ['s', 'axes0'], outputs: ['s1'] },
      { op: 'Concat', inputs: ['b1', 's1', 'heads'], outputs: ['target'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'target'], outputs: ['r'] },
      { op: 'Transpose', inputs: ['r'], outputs: ['t'], attrs: { perm: [0, 2, 1, 3] } },
      { op: 'Squeeze', inputs: ['t', 'axes0'], outputs: ['q'] },
      { op: 'Gather', inputs: ['emb', 'ids'], outputs: ['e'] },
      // Positions as BERT exports them: Gather(table, Unsqueeze(Range(0, s, 1), [0])).
      { op: 'Range', inputs: ['zero', 's', 'one'], outputs: ['positions'] },
      { op: 'Unsqueeze', inputs: ['positions', 'axes0'], outputs: ['positions1'] },
      { op: 'Gather', inputs: ['emb', 'positions1'], outputs: ['p'] },
      { op: 'FastGelu', domain: 'com.microsoft', inputs: ['x'], outputs: ['g'] },
      // A causal mask as GPT exports compute it: Not(Trilu(ConstantOfShape([s, s]))).
      { op: 'Concat', inputs: ['s1', 's1'], outputs: ['square'], attrs: { axis: 0 } },
      { op: 'ConstantOfShape', inputs: ['square'], outputs: ['ones'] },
      { op: 'Trilu', inputs: ['ones'], outputs: ['lower'], attrs: { upper: 0 } },
      { op: 'Not', inputs: ['lower'], outputs: ['hidden'] },
      {
        op: 'SkipLayerNormalization',
        domain: 'com.microsoft',
        inputs: ['x', 'e', 'gamma'],
        outputs: ['y', '', '', 'sum'],
      },
    ],
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
    inputs: [
      { name: 'x', type: 'float32', dims: ['b', 's', 8] },
      { name: 'ids', type: 'int64', dims: ['b', 's'] },
    ],
    outputs: [
      ...['r', 't', 'q', 'p', 'g', 'y', 'sum'].map((name) => ({ name, type: 'float32' })),
      { name: 'hidden', type: 'bool' },
    ],
    initializers: [
      { name: 'zero', tensor: i64([0], []) },
      { name: 'one', tensor: i64([1], []) },
      { name: 'axes0', tensor: i64([0]) },
      { name: 'heads', tensor: i64([2, 4]) },
      { name: 'emb', tensor: randomTensor([10, 8], 1) },
      { name: 'gamma', tensor: randomTensor([8], 2) },
    ],
  });
  const g = model.graph;
  const producers = producerMap(g);
  const rank = (v: string) => rankOf(g, v, producers);

  it('follows Shape, Gather, Unsqueeze, Squeeze, Transpose, Range and a computed Reshape', () => {
    assert.deepEqual(['shape', 'b', 'b1', 'r', 't', 'q', 'e'].map(rank), [1, 0, 1, 4, 4, 3, 3]);
    assert.deepEqual(['positions', 'positions1', 'p'].map(rank), [1, 2, 3]);
    assert.equal(lengthOf(g, 'target', producers), 4);
    assert.equal(lengthOf(g, 'shape', producers), 3);
  });

  it("follows ConstantOfShape (its shape operand's length), Trilu and Not", () => {
    assert.deepEqual(['ones', 'lower', 'hidden'].map(rank), [2, 2, 2]);
  });

  it("gives the fused contrib ops their first input's rank, in every output", () => {
    assert.deepEqual(['g', 'y', 'sum'].map(rank), [3, 3, 3]);
  });
});

describe('rankOf on a residual chain', () => {
  it('visits each value a bounded number of times (x + relu(x·W), 20 blocks)', () => {
    // Each block's Add reads x twice (directly and through the MatMul): walked without memory, the
    // ranks are found along every path, 2^20 of them.
    const blocks = 20;
    const nodes = [];
    for (let i = 0; i < blocks; i++) {
      nodes.push(
        { op: 'MatMul', inputs: [`x${i}`, 'w'], outputs: [`m${i}`] },
        { op: 'Relu', inputs: [`m${i}`], outputs: [`r${i}`] },
        { op: 'Add', inputs: [`x${i}`, `r${i}`], outputs: [`x${i + 1}`] },
      );
    }
    const g = load({
      opset: 17,
      nodes,
      inputs: [{ name: 'x0', type: 'float32', dims: ['n', 4] }],
      outputs: [{ name: `x${blocks}`, type: 'float32' }],
      initializers: [{ name: 'w', tensor: randomTensor([4, 4], 3) }],
    }).graph;
    let lookups = 0;
    const producers = new (class extends Map<string, (typeof g.nodes)[number]> {
      override get(key: string) {
        lookups++;
        return super.get(key);
      }
    })(producerMap(g));
    assert.equal(rankOf(g, `x${blocks}`, producers), 2);
    assert.ok(lookups <= 4 * g.nodes.length, `${lookups} producer lookups for ${g.nodes.length} nodes`);
  });
});
