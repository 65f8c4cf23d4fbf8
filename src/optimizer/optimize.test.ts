import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import type { Model } from '../ir/graph.js';
import { optimizeModel, PASSES } from './optimize.js';

const noFolding = { foldKernel: () => undefined };

/** Optimizes `m` at 'all', returning each pass run in order and whether it changed the graph. */
async function optimizeRecordingCalls(m: Model): Promise<[string, boolean][]> {
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
  return calls;
}

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
    const calls = await optimizeRecordingCalls(m);
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

  it('runs the last passes once the others are done: skip-LayerNorm takes a bias before Gemm would', async () => {
    // Linear → residual → LayerNormalization → Linear, on [batch, seq, 4]: the first bias belongs in
    // SkipLayerNormalization, the second (nothing else takes it) goes into a Gemm between Reshapes.
    const m = load({
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['p'] },
        { op: 'Add', inputs: ['B', 'p'], outputs: ['h'] },
        { op: 'Add', inputs: ['x', 'h'], outputs: ['r'] },
        { op: 'LayerNormalization', inputs: ['r', 'gamma', 'beta'], outputs: ['n'], attrs: { axis: -1 } },
        { op: 'MatMul', inputs: ['n', 'W'], outputs: ['q'] },
        { op: 'Add', inputs: ['q', 'B'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: ['batch', 'seq', 4] }],
      outputs: [{ name: 'y', type: 'float32' }],
      initializers: [
        { name: 'W', tensor: randomTensor([4, 4], 2) },
        { name: 'B', tensor: randomTensor([4], 3) },
        { name: 'gamma', tensor: randomTensor([4], 4) },
        { name: 'beta', tensor: randomTensor([4], 5) },
      ],
    });
    const calls = await optimizeRecordingCalls(m);
    assert.deepEqual(opTypes(m), [
      'MatMul',
      'com.microsoft.SkipLayerNormalization',
      'Reshape',
      'Gemm',
      'Shape',
      'Slice',
      'Concat',
      'Reshape',
    ]);
    assert.equal(m.graph.nodes[1].inputs[4], 'B');
    // Before each run of the last pass, a whole cycle without a change: the passes that run in
    // every cycle (no anchors) each ran since the last change.
    const everyCycle = PASSES.filter((p) => !p.anchors && !p.last).map((p) => p.name);
    const runs = calls.flatMap(([name], i) => (name === 'folded-matmul-add-to-gemm' ? [i] : []));
    assert.ok(runs.length > 0, 'folded-matmul-add-to-gemm never ran');
    for (const i of runs) {
      const since = calls.slice(0, i);
      const quiet = since.slice(since.map(([, changed]) => changed).lastIndexOf(true) + 1);
      for (const name of everyCycle)
        assert.ok(
          quiet.some(([n]) => n === name),
          `${name} before call ${i}`,
        );
    }
  });

  it('runs only the passes that may start at any node without anchor ops', () => {
    const free = PASSES.filter((p) => !p.anchors).map((p) => p.name);
    assert.deepEqual(free, ['constant-folding', 'common-subexpression-elimination', 'dead-code-elimination']);
  });
});
