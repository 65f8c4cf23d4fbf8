import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import type { Model } from '../ir/graph.js';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { eliminateDeadCode } from './dead-code.js';
import { collapseReshapeChains } from './reshape-chain.js';

const i64 = (xs: number[]) => new Tensor('int64', BigInt64Array.from(xs, BigInt), [xs.length]);
const pass = (m: Model) => {
  const changed = collapseReshapeChains(m.graph);
  eliminateDeadCode(m.graph);
  return changed;
};
const x = { x: randomTensor([2, 3, 4]) };

describe('reshape chain collapsing', () => {
  it('a Reshape to a constant shape reads through earlier Reshape/Flatten/Squeeze nodes', async () => {
    const m = await checkRewrite(
      {
        nodes: [
          { op: 'Flatten', inputs: ['x'], outputs: ['f'], attrs: { axis: 1 } },
          { op: 'Reshape', inputs: ['f', 's1'], outputs: ['r1'] },
          { op: 'Reshape', inputs: ['r1', 's2'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', type: 'float32', dims: [2, 3, 4] }],
        outputs: [{ name: 'y', type: 'float32', dims: [4, 6] }],
        initializers: [
          { name: 's1', tensor: i64([24]) },
          { name: 's2', tensor: i64([4, -1]) },
        ],
      },
      pass,
      x,
    );
    assert.deepEqual(opTypes(m), ['Reshape']);
    assert.deepEqual(m.graph.nodes[0].inputs, ['x', 's2']);
  });

  it('an Unsqueeze or Squeeze after a Reshape becomes one Reshape', async () => {
    const m = await checkRewrite(
      {
        nodes: [
          { op: 'Reshape', inputs: ['x', 's'], outputs: ['r'] },
          { op: 'Unsqueeze', inputs: ['r', 'a'], outputs: ['u'] },
          { op: 'Squeeze', inputs: ['u', 'b'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', type: 'float32', dims: [2, 3, 4] }],
        outputs: [{ name: 'y', type: 'float32', dims: [6, 1, 4] }],
        initializers: [
          { name: 's', tensor: i64([1, 6, -1]) },
          { name: 'a', tensor: i64([-1]) },
          { name: 'b', tensor: i64([0]) },
        ],
      },
      pass,
      x,
    );
    assert.deepEqual(opTypes(m), ['Reshape']);
    assert.deepEqual(m.graph.nodes[0].inputs[0], 'x');
  });

  it('keeps a Reshape whose shape copies input dims (0) or is not constant', () => {
    const m = load({
      nodes: [
        { op: 'Reshape', inputs: ['x', 's1'], outputs: ['r1'] },
        { op: 'Reshape', inputs: ['r1', 's2'], outputs: ['r2'] },
        { op: 'Reshape', inputs: ['r2', 'dyn'], outputs: ['y'] },
      ],
      inputs: [
        { name: 'x', type: 'float32', dims: [2, 3, 4] },
        { name: 'dyn', type: 'int64', dims: [2] },
      ],
      outputs: [{ name: 'y', type: 'float32', dims: [6, 4] }],
      initializers: [
        { name: 's1', tensor: i64([6, 4]) },
        { name: 's2', tensor: i64([0, 4]) },
      ],
    });
    assert.equal(collapseReshapeChains(m.graph), false);
  });
});
