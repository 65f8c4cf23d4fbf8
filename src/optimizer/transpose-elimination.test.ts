import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Model } from '../ir/graph.js';
import { checkRewrite, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { eliminateDeadCode } from './dead-code.js';
import { eliminateTransposes } from './transpose-elimination.js';

const io = (outDims: number[]) => ({
  inputs: [{ name: 'x', type: 'float32', dims: [2, 3, 4] }],
  outputs: [{ name: 'y', type: 'float32', dims: outDims }],
});
const pass = (m: Model) => {
  const changed = eliminateTransposes(m.graph);
  eliminateDeadCode(m.graph);
  return changed;
};

describe('transpose elimination', () => {
  it('removes two transposes that cancel', async () => {
    const m = await checkRewrite(
      {
        ...io([2, 3, 4]),
        nodes: [
          { op: 'Transpose', inputs: ['x'], outputs: ['t1'], attrs: { perm: [2, 0, 1] } },
          { op: 'Transpose', inputs: ['t1'], outputs: ['t2'], attrs: { perm: [1, 2, 0] } },
          { op: 'Relu', inputs: ['t2'], outputs: ['y'] },
        ],
      },
      pass,
      { x: randomTensor([2, 3, 4]) },
    );
    assert.deepEqual(opTypes(m), ['Relu']);
    assert.deepEqual(m.graph.nodes[0].inputs, ['x']);
  });

  it('composes two transposes into one, and drops an identity transpose', async () => {
    const m = await checkRewrite(
      {
        ...io([3, 4, 2]),
        nodes: [
          { op: 'Transpose', inputs: ['x'], outputs: ['i'], attrs: { perm: [0, 1, 2] } },
          { op: 'Transpose', inputs: ['i'], outputs: ['t1'], attrs: { perm: [0, 2, 1] } },
          { op: 'Transpose', inputs: ['t1'], outputs: ['y'], attrs: { perm: [2, 1, 0] } },
        ],
      },
      pass,
      { x: randomTensor([2, 3, 4]) },
    );
    assert.deepEqual(opTypes(m), ['Transpose']);
    assert.deepEqual(m.graph.nodes[0].attrs.ints('perm'), [1, 2, 0]);
  });
});
