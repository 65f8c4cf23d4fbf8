import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ops as optional } from './optional.js';
import { graph, node, runGraph, runNode } from './util/graph-harness.js';
import { f32, plain } from './util/op-test-kit.js';

const run = (opType: string, inputs: Parameters<typeof runNode>[2], attrs = {}, opset = 18) =>
  runNode(optional, opType, inputs, attrs, { opset });

describe('optional ops', () => {
  it('Optional wraps a value or makes an empty optional', async () => {
    const x = f32([1]);
    assert.equal((await run('Optional', [x]))[0], x);
    assert.equal((await run('Optional', [], { type: { kind: 'type', value: null } }))[0], null);
    await assert.rejects(run('Optional', []), /needs the 'type' attribute/);
    await assert.rejects(run('Optional', [new Map()]), /got a map/);
  });

  it('OptionalHasElement: empty optional, missing input (18), tensors and sequences', async () => {
    assert.deepEqual(plain((await run('OptionalHasElement', [null]))[0]), { dims: [], data: [0] });
    assert.deepEqual(plain((await run('OptionalHasElement', []))[0]).data, [0]);
    assert.deepEqual(plain((await run('OptionalHasElement', [f32([1])]))[0]).data, [1]);
    assert.deepEqual(plain((await run('OptionalHasElement', [[]]))[0]).data, [1]);
    await assert.rejects(run('OptionalHasElement', [], {}, 15), /requires its input/);
  });

  it('OptionalGetElement returns the element and explains an empty optional', async () => {
    const seq = [f32([1])];
    assert.equal((await run('OptionalGetElement', [seq]))[0], seq);
    assert.equal((await run('OptionalGetElement', [seq], {}, 15))[0], seq);
    await assert.rejects(run('OptionalGetElement', [null]), /empty optional/);
  });

  it('an empty optional flows through a graph as null', async () => {
    const g = graph(
      ['x'],
      ['h'],
      [
        node('Optional', [], ['o'], { type: { kind: 'type', value: null } }),
        node('OptionalHasElement', ['o'], ['h']),
      ],
    );
    assert.deepEqual(plain((await runGraph(g, [f32([1])], optional, { '': 18 }))[0]).data, [0]);
  });
});
