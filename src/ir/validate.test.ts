import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildModel } from '../../test/helpers/build-model.js';
import { loadModelBytes } from '../onnx/load.js';
import { validateGraph } from './validate.js';

const io = {
  inputs: [{ name: 'x', type: 'float32', dims: [2] }],
  outputs: [{ name: 'y', type: 'float32', dims: [2] }],
};

function orderOf(nodes: { op: string; inputs: string[]; outputs: string[] }[]): string[] {
  const m = loadModelBytes(buildModel({ ...io, nodes }));
  validateGraph(m.graph);
  return m.graph.nodes.map((n) => n.outputs[0]);
}

describe('validateGraph ordering', () => {
  it('keeps a graph that is already in topological order as it is', () => {
    const order = orderOf([
      { op: 'Relu', inputs: ['x'], outputs: ['b'] },
      { op: 'Neg', inputs: ['x'], outputs: ['a'] },
      { op: 'Add', inputs: ['a', 'b'], outputs: ['y'] },
    ]);
    assert.deepEqual(order, ['b', 'a', 'y']);
  });

  it('sorts nodes given out of order, keeping the given order among nodes that are ready together', () => {
    const order = orderOf([
      { op: 'Add', inputs: ['c', 'd'], outputs: ['y'] },
      { op: 'Exp', inputs: ['a'], outputs: ['d'] },
      { op: 'Abs', inputs: ['x'], outputs: ['c'] },
      { op: 'Neg', inputs: ['x'], outputs: ['a'] },
    ]);
    assert.deepEqual(order, ['c', 'a', 'd', 'y']);
  });

  it('names the node of a cycle, a self-read and an undefined input', () => {
    const fails = (nodes: { op: string; inputs: string[]; outputs: string[] }[], message: RegExp) =>
      assert.throws(() => orderOf(nodes), message);
    fails(
      [
        { op: 'Add', inputs: ['x', 'b'], outputs: ['a'] },
        { op: 'Relu', inputs: ['a'], outputs: ['b'] },
        { op: 'Identity', inputs: ['b'], outputs: ['y'] },
      ],
      /cycle/,
    );
    fails([{ op: 'Add', inputs: ['x', 'y'], outputs: ['y'] }], /reads its own output/);
    fails([{ op: 'Add', inputs: ['x', 'z'], outputs: ['y'] }], /'z' is not defined/);
  });
});
