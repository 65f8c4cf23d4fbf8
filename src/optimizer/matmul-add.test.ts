import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { fuseFoldedMatMulAdd, fuseMatMulAdd } from './matmul-add.js';

const spec = (xDims: (number | string)[], biasDims: number[], opset = 17) => ({
  opset,
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

  it('fuses a product of a 3-D or 4-D A through Reshapes around the Gemm (a pass of its own)', async () => {
    const cases: [(number | string)[], number[]][] = [
      [
        ['batch', 'seq', 4],
        [2, 3, 4],
      ],
      [
        [2, 'h', 3, 4],
        [2, 2, 3, 4],
      ],
      // An empty leading dim stays empty (allowzero), where a plain 0 would copy the Gemm's N.
      [
        ['batch', 'seq', 4],
        [2, 0, 4],
      ],
    ];
    for (const [dims, feed] of cases) {
      assert.equal(fuseMatMulAdd(load(spec(dims, [5])).graph), false);
      const m = await checkRewrite(spec(dims, [5]), (m) => fuseFoldedMatMulAdd(m.graph), {
        x: randomTensor(feed),
      });
      assert.deepEqual(opTypes(m), ['Reshape', 'Gemm', 'Shape', 'Slice', 'Concat', 'Reshape']);
      assert.deepEqual(m.graph.nodes[1].inputs.slice(1), ['w', 'b']);
      assert.equal(m.graph.nodes[5].outputs[0], 'y');
    }
  });

  it('leaves batched B, inputs of unknown rank, N-D A before opset 14 and biases Gemm cannot broadcast', () => {
    assert.equal(fuseFoldedMatMulAdd(load(spec([2, 3, 4], [5], 13)).graph), false);
    assert.equal(fuseFoldedMatMulAdd(load(spec([3, 4], [5])).graph), false);
    const unknownRank = spec([3, 4], [5]);
    unknownRank.inputs = [{ name: 'x', type: 'float32', dims: undefined as unknown as number[] }];
    assert.equal(fuseMatMulAdd(load(unknownRank).graph), false);
    assert.equal(fuseMatMulAdd(load(spec([3, 4], [3, 5])).graph), false);
    const batchedB = spec([2, 3, 4], [5]);
    batchedB.initializers[0] = { name: 'w', tensor: randomTensor([2, 4, 5], 3) };
    assert.equal(fuseFoldedMatMulAdd(load(batchedB).graph), false);
  });
});
