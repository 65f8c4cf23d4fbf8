import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { optimizeModel, PASSES } from './optimize.js';

const noFolding = { foldKernel: () => undefined };

describe('optimizeModel', () => {
  it('runs a pass whose anchor op an earlier pass made, and counts what each pass removed', async () => {
    // MatMul + Add → Gemm (matmul-add-to-gemm); only then is there a Gemm for the Relu to fuse into
    // (gemm-activation-fusion, anchored on Gemm, which the model did not hold when it was loaded).
    const m = load({
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['p'] },
        { op: 'Add', inputs: ['p', 'B'], outputs: ['s'] },
        { op: 'Relu', inputs: ['s'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: [2, 3] }],
      outputs: [{ name: 'y', type: 'float32', dims: [2, 4] }],
      initializers: [
        { name: 'W', tensor: randomTensor([3, 4], 2) },
        { name: 'B', tensor: randomTensor([4], 3) },
      ],
    });
    const records = await optimizeModel(m, 'all', noFolding);
    assert.deepEqual(opTypes(m), ['com.microsoft.FusedGemm']);
    const removed = Object.fromEntries(records.map((r) => [r.name, r.nodesRemoved]));
    assert.deepEqual(removed, { 'matmul-add-to-gemm': 1, 'gemm-activation-fusion': 1 });
  });

  it("counts a bare FusedGemm among gemm-activation-fusion's anchors (it takes an activation too)", async () => {
    const m = load({
      nodes: [
        { op: 'FusedGemm', domain: 'com.microsoft', inputs: ['x', 'W', 'B'], outputs: ['g'] },
        { op: 'Relu', inputs: ['g'], outputs: ['y'] },
      ],
      extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
      inputs: [{ name: 'x', type: 'float32', dims: [2, 3] }],
      outputs: [{ name: 'y', type: 'float32', dims: [2, 4] }],
      initializers: [
        { name: 'W', tensor: randomTensor([3, 4], 2) },
        { name: 'B', tensor: randomTensor([4], 3) },
      ],
    });
    await optimizeModel(m, 'all', noFolding);
    assert.deepEqual(opTypes(m), ['com.microsoft.FusedGemm']);
    assert.equal(m.graph.nodes[0].attrs.string('activation'), 'Relu');
  });

  it('runs only the passes that may start at any node without anchor ops', () => {
    const free = PASSES.filter((p) => !p.anchors).map((p) => p.name);
    assert.deepEqual(free, ['constant-folding', 'common-subexpression-elimination', 'dead-code-elimination']);
  });
});
