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

  it('stops once every pass has run without a change since the last change', async () => {
    // MatMul + Add → Gemm by matmul-add-to-gemm, mid-list; after that each pass due (no anchors, or
    // anchored on Gemm) runs exactly once, wrapping around the list, and the optimizer stops. (Whole
    // rounds ran the passes after matmul-add-to-gemm twice: the rest of the round, then a full one.)
    const m = load({
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['p'] },
        { op: 'Add', inputs: ['p', 'B'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: [2, 3] }],
      outputs: [{ name: 'y', type: 'float32', dims: [2, 4] }],
      initializers: [
        { name: 'W', tensor: randomTensor([3, 4], 2) },
        { name: 'B', tensor: randomTensor([4], 3) },
      ],
    });
    const calls: [string, boolean][] = [];
    const saved = PASSES.map((p) => p.run);
    PASSES.forEach((p, i) => {
      p.run = async (model, ctx) => {
        const changed = await saved[i](model, ctx);
        calls.push([p.name, changed]);
        return changed;
      };
    });
    try {
      await optimizeModel(m, 'all', noFolding);
    } finally {
      PASSES.forEach((p, i) => (p.run = saved[i]));
    }
    assert.deepEqual(opTypes(m), ['Gemm']);
    const last = calls.map(([, c]) => c).lastIndexOf(true);
    assert.equal(calls[last][0], 'matmul-add-to-gemm');
    const at = PASSES.findIndex((p) => p.name === 'matmul-add-to-gemm');
    const due = [...PASSES.slice(at + 1), ...PASSES.slice(0, at + 1)]
      .filter((p) => !p.anchors || p.anchors.includes('Gemm'))
      .map((p) => p.name);
    assert.deepEqual(
      calls.slice(last + 1).map(([name, changed]) => `${name}${changed ? ' (changed)' : ''}`),
      due,
    );
  });

  it('runs only the passes that may start at any node without anchor ops', () => {
    const free = PASSES.filter((p) => !p.anchors).map((p) => p.name);
    assert.deepEqual(free, ['constant-folding', 'common-subexpression-elimination', 'dead-code-elimination']);
  });
});
