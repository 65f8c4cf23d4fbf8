import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { concatAxis, ops as sequence, sliceAxis, stackAxis } from './sequence.js';
import { graph, helperOps, node, runGraph, runNode } from './util/graph-harness.js';
import { f32, i64, plain, strs } from './util/op-test-kit.js';

const OPS = [...sequence, ...helperOps];
const run = (opType: string, inputs: (Value | undefined)[], attrs = {}) =>
  runNode(OPS, opType, inputs, attrs);

describe('axis helpers', () => {
  const x = f32([1, 2, 3, 4, 5, 6], [2, 3]);
  it('slice, concat and stack along any axis', () => {
    assert.deepEqual(plain(sliceAxis(x, 1, 1, 2)), { dims: [2, 2], data: [2, 3, 5, 6] });
    assert.deepEqual(plain(sliceAxis(x, 0, 1, 1, true)), { dims: [3], data: [4, 5, 6] });
    assert.deepEqual(plain(concatAxis([x, x], 1)), {
      dims: [2, 6],
      data: [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6],
    });
    assert.deepEqual(plain(stackAxis([f32([1, 2]), f32([3, 4])], 1)), { dims: [2, 2], data: [1, 3, 2, 4] });
  });
  it('move strings, int64 and complex lanes', () => {
    const s = strs(['a', 'b', 'c', 'd'], [2, 2]);
    assert.deepEqual(plain(sliceAxis(s, 1, 1, 1, true)).data, ['b', 'd']);
    assert.deepEqual(plain(concatAxis([i64([1]), i64([2, 3])], 0)).data, [1, 2, 3]);
    const c = new Tensor('complex64', Float32Array.of(1, 2, 3, 4), [2]);
    assert.deepEqual(Array.from(sliceAxis(c, 0, 1, 1).data as Float32Array), [3, 4]);
  });
  it('explain shape mismatches', () => {
    assert.throws(() => concatAxis([x, f32([1, 2])], 0), /cannot concatenate dims \[2\] with \[2, 3\]/);
    assert.throws(() => stackAxis([f32([1]), f32([1, 2])], 0), /same shape/);
  });
});

describe('sequence ops', () => {
  it('SequenceConstruct, SequenceLength, SequenceAt with negative positions', async () => {
    const [seq] = await run('SequenceConstruct', [f32([1]), f32([2]), f32([3])]);
    assert.equal((seq as Value[]).length, 3);
    assert.deepEqual(plain((await run('SequenceLength', [seq]))[0]), { dims: [], data: [3] });
    assert.deepEqual(plain((await run('SequenceAt', [seq, i64([-1], [])]))[0]).data, [3]);
    assert.deepEqual(plain((await run('SequenceAt', [seq, new Tensor('int32', [1], [])]))[0]).data, [2]);
    await assert.rejects(
      run('SequenceAt', [seq, i64([3], [])]),
      /position 3 is out of range for a sequence of 3/,
    );
  });

  it('SequenceConstruct rejects mixed element types', async () => {
    await assert.rejects(run('SequenceConstruct', [f32([1]), i64([1])]), /tensor\(int64\)/);
  });

  it('SequenceEmpty gives an empty sequence; bad dtype is a model error', async () => {
    assert.deepEqual((await run('SequenceEmpty', [], { dtype: 7 }))[0], []);
    await assert.rejects(run('SequenceEmpty', [], { dtype: 999 }), /dtype 999/);
  });

  it('SequenceInsert appends by default, inserts at a position, never mutates its input', async () => {
    const seq: Value[] = [f32([1]), f32([2])];
    const [a] = (await run('SequenceInsert', [seq, f32([9])])) as Value[][];
    assert.deepEqual(
      a.map((t) => plain(t).data[0]),
      [1, 2, 9],
    );
    const [b] = (await run('SequenceInsert', [seq, f32([9]), i64([-2], [])])) as Value[][];
    assert.deepEqual(
      b.map((t) => plain(t).data[0]),
      [9, 1, 2],
    );
    const [c] = (await run('SequenceInsert', [seq, f32([9]), i64([2], [])])) as Value[][];
    assert.deepEqual(
      c.map((t) => plain(t).data[0]),
      [1, 2, 9],
    );
    assert.equal(seq.length, 2);
    await assert.rejects(
      run('SequenceInsert', [seq, i64([1])]),
      /tensor\(int64\) but the sequence holds tensor\(float32\)/,
    );
  });

  it('SequenceErase removes the last element by default or at a position', async () => {
    const seq: Value[] = [f32([1]), f32([2]), f32([3])];
    const [a] = (await run('SequenceErase', [seq])) as Value[][];
    assert.deepEqual(
      a.map((t) => plain(t).data[0]),
      [1, 2],
    );
    const [b] = (await run('SequenceErase', [seq, i64([0], [])])) as Value[][];
    assert.deepEqual(
      b.map((t) => plain(t).data[0]),
      [2, 3],
    );
    await assert.rejects(run('SequenceErase', [[]]), /empty sequence/);
  });

  it('SplitToSequence: omitted, scalar (with a short last chunk) and 1-D split; keepdims', async () => {
    const x = f32([1, 2, 3, 4, 5], [5]);
    const [a] = (await run('SplitToSequence', [x, i64([2], [])])) as Value[][];
    assert.deepEqual(
      a.map((t) => plain(t).data),
      [[1, 2], [3, 4], [5]],
    );
    const [b] = (await run('SplitToSequence', [x, i64([1, 4])])) as Value[][];
    assert.deepEqual(
      b.map((t) => plain(t).dims),
      [[1], [4]],
    );
    const [c] = (await run('SplitToSequence', [f32([1, 2, 3, 4], [2, 2])], {
      axis: -1,
      keepdims: 0,
    })) as Value[][];
    assert.deepEqual(
      c.map((t) => plain(t)),
      [
        { dims: [2], data: [1, 3] },
        { dims: [2], data: [2, 4] },
      ],
    );
    const [d] = (await run('SplitToSequence', [f32([1, 2], [2, 1])], { axis: 1 })) as Value[][];
    assert.deepEqual(plain(d[0]).dims, [2, 1]);
    await assert.rejects(run('SplitToSequence', [x, i64([1, 1])]), /must be non-negative and sum to 5/);
    await assert.rejects(run('SplitToSequence', [x, i64([0], [])]), /positive chunk size/);
  });

  it('ConcatFromSequence: concat, new_axis stacking, negative axis, errors', async () => {
    const seq = [f32([1, 2], [1, 2]), f32([3, 4], [1, 2])];
    assert.deepEqual(plain((await run('ConcatFromSequence', [seq], { axis: -1 }))[0]), {
      dims: [1, 4],
      data: [1, 2, 3, 4],
    });
    assert.deepEqual(plain((await run('ConcatFromSequence', [seq], { axis: -1, new_axis: 1 }))[0]), {
      dims: [1, 2, 2],
      data: [1, 3, 2, 4],
    });
    await assert.rejects(run('ConcatFromSequence', [[]], { axis: 0 }), /empty sequence/);
    await assert.rejects(run('ConcatFromSequence', [seq], { axis: 2 }), /axis 2 is out of range/);
    await assert.rejects(
      run('ConcatFromSequence', [[f32([1]), strs(['a'])]], { axis: 0 }),
      /cannot concatenate/,
    );
  });

  it('SequenceMap runs its body per element with sequence and tensor extras', async () => {
    const body = graph(
      ['a', 'b'],
      ['c', 'shape'],
      [node('Add', ['a', 'b'], ['c']), node('Shape', ['a'], ['shape'])],
    );
    const g = graph(
      ['s', 't'],
      ['out', 'shapes'],
      [node('SequenceMap', ['s', 't'], ['out', 'shapes'], { body })],
    );
    const [out, shapes] = (await runGraph(g, [[f32([1, 2]), f32([3, 4])], f32([10, 10])], OPS, {
      '': 17,
    })) as Value[][];
    assert.deepEqual(
      out.map((t) => plain(t).data),
      [
        [11, 12],
        [13, 14],
      ],
    );
    assert.deepEqual(plain(shapes[0]).data, [2]);
    const g2 = graph(
      ['s', 't'],
      ['out'],
      [
        node('SequenceMap', ['s', 't'], ['out'], {
          body: graph(['a', 'b'], ['c'], [node('Add', ['a', 'b'], ['c'])]),
        }),
      ],
    );
    await assert.rejects(runGraph(g2, [[f32([1])], [f32([1]), f32([2])]], OPS, { '': 17 }), /sequence of 2/);
    const [empty] = await runGraph(g2, [[], f32([1])], OPS, { '': 17 });
    assert.deepEqual(empty, []);
  });
});
