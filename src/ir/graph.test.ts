import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph, type ValueInfo } from './graph.js';

const info = (name: string): ValueInfo => ({ name, type: null });

describe('Graph.input', () => {
  it('finds inputs by name, the first of a repeated name, and follows changes to the list', () => {
    const g = new Graph('g', [], [info('x'), info('w'), info('x')], [], new Map(), new Map());
    assert.equal(g.input('w'), g.inputs[1]);
    assert.equal(g.input('x'), g.inputs[0], 'the first input of that name');
    assert.equal(g.input('y'), undefined);
    g.inputs.push(info('y'));
    assert.equal(g.input('y'), g.inputs[3], 'an input pushed after a lookup');
    g.inputs = [info('z')];
    assert.equal(g.input('w'), undefined, 'a list replaced after a lookup');
    assert.equal(g.input('z'), g.inputs[0]);
  });
});
