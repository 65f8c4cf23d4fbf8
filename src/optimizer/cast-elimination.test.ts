import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { eliminateCasts } from './cast-elimination.js';

const FLOAT = 1;
const DOUBLE = 11;

describe('cast elimination', () => {
  it('removes a Cast to the type its input already has, through type-preserving ops', async () => {
    const m = await checkRewrite(
      {
        nodes: [
          { op: 'Relu', inputs: ['x'], outputs: ['r'] },
          { op: 'Cast', inputs: ['r'], outputs: ['c'], attrs: { to: FLOAT } },
          { op: 'Neg', inputs: ['c'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', type: 'float32', dims: [4] }],
        outputs: [{ name: 'y', type: 'float32', dims: [4] }],
      },
      (m) => eliminateCasts(m.graph),
      { x: randomTensor([4]) },
    );
    assert.deepEqual(opTypes(m), ['Relu', 'Neg']);
    assert.deepEqual(m.graph.nodes[1].inputs, ['r']);
  });

  it('keeps casts that change the type, casts of unknown input type, and graph outputs', () => {
    const m = load({
      nodes: [
        { op: 'Cast', inputs: ['x'], outputs: ['d'], attrs: { to: DOUBLE } },
        { op: 'Cast', inputs: ['d'], outputs: ['y'], attrs: { to: DOUBLE } },
        { op: 'Cast', inputs: ['x'], outputs: ['z'], attrs: { to: FLOAT } },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: [4] }],
      outputs: [
        { name: 'y', type: 'float64', dims: [4] },
        { name: 'z', type: 'float32', dims: [4] },
      ],
    });
    assert.equal(eliminateCasts(m.graph), false);
    assert.equal(m.graph.nodes.length, 3);
  });
});
