import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { fuseMatMulAdd } from './matmul-add.js';

const spec = (xDims: number[], biasDims: number[]) => ({
  nodes: [
    { op: 'MatMul', inputs: ['x', 'w'], outputs: ['p'] },
    { op: 'Add', inputs: ['p', 'b'], outputs: ['y'] },
  ],
  inputs: [{ name: 'x', type: 'float32', dims: xDims }],
  outputs: [{ name: 'y', type: 'float32' }],
  initializers: [
    { name: 'w', tensor: randomTensor([4, 5], 3) },
    { name: 'b', tensor: randomTensor(biasDims, 4) },
  ],
});

describe('MatMul + Add → Gemm', () => {
  it('fuses a 2-D product and a row bias', async () => {
    for (const bias of [[5], [1, 5], [1]]) {
      const m = await checkRewrite(spec([3, 4], bias), (m) => fuseMatMulAdd(m.graph), {
        x: randomTensor([3, 4]),
      });
      assert.deepEqual(opTypes(m), ['Gemm']);
      assert.deepEqual(m.graph.nodes[0].inputs, ['x', 'w', 'b']);
    }
  });

  it('leaves batched products, inputs of unknown rank and biases Gemm cannot broadcast', () => {
    assert.equal(fuseMatMulAdd(load(spec([2, 3, 4], [5])).graph), false);
    const unknownRank = spec([3, 4], [5]);
    unknownRank.inputs = [{ name: 'x', type: 'float32', dims: undefined as unknown as number[] }];
    assert.equal(fuseMatMulAdd(load(unknownRank).graph), false);
    assert.equal(fuseMatMulAdd(load(spec([3, 4], [3, 5])).graph), false);
  });
});
