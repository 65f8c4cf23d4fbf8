import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { eliminateCommonSubexpressions } from './cse.js';
import { eliminateDeadCode } from './dead-code.js';

const io = {
  inputs: [{ name: 'x', type: 'float32', dims: [2, 3] }],
  outputs: [{ name: 'y', type: 'float32', dims: [2, 3] }],
};

describe('common subexpression elimination', () => {
  it('merges nodes with the same op, inputs and attributes, transitively', async () => {
    const m = await checkRewrite(
      {
        ...io,
        nodes: [
          { op: 'LeakyRelu', inputs: ['x'], outputs: ['a'], attrs: { alpha: 0.1 } },
          { op: 'LeakyRelu', inputs: ['x'], outputs: ['b'], attrs: { alpha: 0.1 } },
          { op: 'Exp', inputs: ['a'], outputs: ['ea'] },
          { op: 'Exp', inputs: ['b'], outputs: ['eb'] },
          { op: 'Add', inputs: ['ea', 'eb'], outputs: ['y'] },
        ],
      },
      (m) => eliminateCommonSubexpressions(m.graph),
      { x: randomTensor([2, 3]) },
    );
    assert.deepEqual(opTypes(m), ['LeakyRelu', 'Exp', 'Add']);
    assert.deepEqual(m.graph.nodes[2].inputs, ['ea', 'ea']);
    assert.equal(eliminateCommonSubexpressions(m.graph), false, 'a second run changes nothing');
  });

  it('merges a node into the earlier one with its attributes among several of one op and inputs', async () => {
    const m = await checkRewrite(
      {
        ...io,
        nodes: [
          { op: 'LeakyRelu', inputs: ['x'], outputs: ['a'], attrs: { alpha: 0.1 } },
          { op: 'LeakyRelu', inputs: ['x'], outputs: ['b'], attrs: { alpha: 0.2 } },
          { op: 'LeakyRelu', inputs: ['x'], outputs: ['c'], attrs: { alpha: 0.2 } },
          { op: 'LeakyRelu', inputs: ['x'], outputs: ['d'], attrs: { alpha: 0.1 } },
          { op: 'Sum', inputs: ['a', 'b', 'c', 'd'], outputs: ['y'] },
        ],
      },
      (m) => eliminateCommonSubexpressions(m.graph),
      { x: randomTensor([2, 3]) },
    );
    assert.deepEqual(opTypes(m), ['LeakyRelu', 'LeakyRelu', 'Sum']);
    assert.deepEqual(m.graph.nodes[2].inputs, ['a', 'b', 'b', 'a']);
  });

  it('keeps nodes whose attributes differ, random ops, and graph outputs', () => {
    const m = load({
      inputs: io.inputs,
      outputs: [
        { name: 'y', type: 'float32', dims: [2, 3] },
        { name: 'y2', type: 'float32', dims: [2, 3] },
        { name: 'r', type: 'float32', dims: [2, 3] },
      ],
      nodes: [
        { op: 'LeakyRelu', inputs: ['x'], outputs: ['a'], attrs: { alpha: 0.1 } },
        { op: 'LeakyRelu', inputs: ['x'], outputs: ['b'], attrs: { alpha: 0.2 } },
        { op: 'Add', inputs: ['a', 'b'], outputs: ['y'] },
        { op: 'Add', inputs: ['a', 'b'], outputs: ['y2'] },
        { op: 'RandomUniformLike', inputs: ['x'], outputs: ['r1'] },
        { op: 'RandomUniformLike', inputs: ['x'], outputs: ['r2'] },
        { op: 'Add', inputs: ['r1', 'r2'], outputs: ['r'] },
      ],
    });
    assert.equal(eliminateCommonSubexpressions(m.graph), false);
    eliminateDeadCode(m.graph);
    assert.equal(m.graph.nodes.length, 7);
  });
});
