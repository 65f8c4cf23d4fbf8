import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { fuseMatMulTranspose } from './matmul-transpose.js';

/** Attention's scores: (Q · Kᵀ) / √d, Kᵀ a Transpose of K's last two dims. */
const attention = (perm: number[], scaleOp = 'Div', scaleDims: number[] = []) => ({
  nodes: [
    { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: { perm } },
    { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s'] },
    { op: scaleOp, inputs: ['s', 'd'], outputs: ['y'] },
  ],
  inputs: [
    { name: 'q', type: 'float32', dims: [2, 3, 5, 4] },
    { name: 'k', type: 'float32', dims: [2, 3, 6, 4] },
  ],
  outputs: [{ name: 'y', type: 'float32' }],
  initializers: [{ name: 'd', tensor: randomTensor(scaleDims, 7) }],
});
const feeds = { q: randomTensor([2, 3, 5, 4], 1), k: randomTensor([2, 3, 6, 4], 2) };

describe('MatMul + Transpose / scale → FusedMatMul', () => {
  it('reads a transposed B in the product and folds the scale into alpha', async () => {
    for (const [op, dims] of [
      ['Div', []],
      ['Mul', [1]],
    ] as const) {
      const m = await checkRewrite(attention([0, 1, 3, 2], op, [...dims]), fuseMatMulTranspose, feeds);
      assert.deepEqual(opTypes(m), ['com.microsoft.FusedMatMul']);
      const n = m.graph.nodes[0];
      assert.deepEqual(n.inputs, ['q', 'k']);
      assert.deepEqual(n.outputs, ['y']);
      assert.equal(n.attrs.int('transB', 0), 1);
      assert.equal(n.attrs.int('transA', 0), 0);
    }
  });

  it('transposes A too', async () => {
    const spec = {
      nodes: [
        { op: 'Transpose', inputs: ['a'], outputs: ['at'], attrs: { perm: [1, 0] } },
        { op: 'Transpose', inputs: ['b'], outputs: ['bt'], attrs: { perm: [1, 0] } },
        { op: 'MatMul', inputs: ['at', 'bt'], outputs: ['y'] },
      ],
      inputs: [
        { name: 'a', type: 'float32', dims: [4, 3] },
        { name: 'b', type: 'float32', dims: [5, 4] },
      ],
      outputs: [{ name: 'y', type: 'float32' }],
    };
    const m = await checkRewrite(spec, fuseMatMulTranspose, {
      a: randomTensor([4, 3], 3),
      b: randomTensor([5, 4], 4),
    });
    assert.deepEqual(opTypes(m), ['com.microsoft.FusedMatMul']);
    assert.equal(m.graph.nodes[0].attrs.int('transA', 0), 1);
    assert.equal(m.graph.nodes[0].attrs.int('transB', 0), 1);
  });

  it('leaves other permutations, shared transposes and scales that would broadcast', () => {
    assert.equal(fuseMatMulTranspose(load(attention([1, 0, 3, 2], 'Add'))), false);
    const shared = attention([0, 1, 3, 2], 'Add');
    shared.outputs.push({ name: 'kt', type: 'float32' });
    assert.equal(fuseMatMulTranspose(load(shared)), false);
    // A [1, 1] divisor broadcasts a 4-D product unchanged but is not taken: only rank ≤ 1 scalars.
    const m = load(attention([0, 1, 3, 2], 'Div', [1, 1]));
    assert.equal(fuseMatMulTranspose(m), true);
    assert.deepEqual(opTypes(m), ['com.microsoft.FusedMatMul', 'Div']);
  });
});
