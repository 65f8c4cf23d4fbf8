import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { ops as controlFlow } from './control-flow.js';
import { ops as optional } from './optional.js';
import { ops as sequence } from './sequence.js';
import { graph, helperOps, node, runGraph } from './util/graph-harness.js';
import { bool, f32, i64, plain } from './util/op-test-kit.js';

const OPS = [...controlFlow, ...sequence, ...optional, ...helperOps];

const isCode = (code: string) => (e: unknown) => e instanceof OnyxError && e.code === code;

describe('If', () => {
  const thenG = graph([], ['t'], [node('Identity', ['x'], ['t'])]);
  const elseG = graph([], ['e'], [node('Add', ['x', 'x'], ['e'])]);
  const model = () =>
    graph(['c', 'x'], ['y'], [node('If', ['c'], ['y'], { then_branch: thenG, else_branch: elseG })]);

  it('runs the branch the condition picks, reading outer-scope values', async () => {
    const x = f32([1, 2]);
    assert.deepEqual(plain((await runGraph(model(), [bool(true), x], OPS))[0]).data, [1, 2]);
    assert.deepEqual(plain((await runGraph(model(), [bool(false), x], OPS))[0]).data, [2, 4]);
  });

  it('accepts a one-element non-scalar condition and rejects a longer one', async () => {
    const c1 = new Tensor('bool', Uint8Array.of(0), [1, 1]);
    assert.deepEqual(plain((await runGraph(model(), [c1, f32([3])], OPS))[0]).data, [6]);
    const c2 = new Tensor('bool', Uint8Array.of(1, 0), [2]);
    await assert.rejects(runGraph(model(), [c2, f32([3])], OPS), /single element/);
  });

  it('passes sequences and empty optionals through', async () => {
    const seqThen = graph([], ['s'], [node('SequenceConstruct', ['x', 'x'], ['s'])]);
    const noneElse = graph([], ['n'], [node('Optional', [], ['n'], { type: { kind: 'type', value: null } })]);
    const g = () =>
      graph(['c', 'x'], ['y'], [node('If', ['c'], ['y'], { then_branch: seqThen, else_branch: noneElse })]);
    const [s] = await runGraph(g(), [bool(true), f32([1])], OPS);
    assert.ok(Array.isArray(s) && s.length === 2, 'Array.isArray(s) && s.length === 2');
    const [n] = await runGraph(g(), [bool(false), f32([1])], OPS);
    assert.equal(n, null);
  });

  it('rejects branches whose output count differs from the node', async () => {
    const two = graph([], ['a', 'b'], [node('Identity', ['x'], ['a']), node('Identity', ['x'], ['b'])]);
    const g = graph(['c', 'x'], ['y'], [node('If', ['c'], ['y'], { then_branch: two, else_branch: elseG })]);
    await assert.rejects(runGraph(g, [bool(true), f32([1])], OPS), /then_branch has 2 outputs/);
  });
});

describe('Loop', () => {
  // body(i, cond, acc) -> (cond, acc + x, acc + x as scan output)
  const body = () =>
    graph(
      ['i', 'cin', 'acc'],
      ['cout', 'acc2', 'scan'],
      [
        node('Identity', ['cin'], ['cout']),
        node('Add', ['acc', 'x'], ['acc2']),
        node('Identity', ['acc2'], ['scan']),
      ],
    );
  const loop = (inputs: string[]) =>
    graph(
      ['M', 'cond', 'x', 'acc0'].filter((n) => inputs.includes(n) || n === 'x' || n === 'acc0'),
      ['acc', 'scans'],
      [node('Loop', inputs, ['acc', 'scans'], { body: body() })],
    );

  it('runs M iterations, carries values and stacks scan outputs on a new axis 0', async () => {
    const g = loop(['M', '', 'acc0']);
    const [acc, scans] = await runGraph(g, [i64([3], []), f32([1, 2]), f32([0, 0])], OPS);
    assert.deepEqual(plain(acc), { dims: [2], data: [3, 6] });
    assert.deepEqual(plain(scans), { dims: [3, 2], data: [1, 2, 2, 4, 3, 6] });
  });

  it('with M = 0 returns the initial values and an empty scan output', async () => {
    const [acc, scans] = await runGraph(loop(['M', '', 'acc0']), [i64([0], []), f32([1]), f32([5])], OPS);
    assert.deepEqual(plain(acc).data, [5]);
    assert.equal((scans as Tensor).dims[0], 0);
  });

  it('stops when the body condition turns false (M = INT64_MAX is fine)', async () => {
    // cond_out = i + 1 < 4 → 4 iterations.
    const b = graph(
      ['i', 'cin', 'acc'],
      ['cout', 'acc2', 'scan'],
      [
        node('Add', ['i', 'one'], ['next']),
        node('Less', ['next', 'four'], ['cout']),
        node('Add', ['acc', 'x'], ['acc2']),
        node('Identity', ['i'], ['scan']),
      ],
      { one: i64([1], []), four: i64([4], []) },
    );
    const g = graph(
      ['M', 'cond', 'x', 'acc0'],
      ['acc', 'iters'],
      [node('Loop', ['M', 'cond', 'acc0'], ['acc', 'iters'], { body: b })],
    );
    const big = new Tensor('int64', BigInt64Array.of(2n ** 63n - 1n), []);
    const [acc, iters] = await runGraph(g, [big, bool(true), f32([1]), f32([0])], OPS);
    assert.deepEqual(plain(acc).data, [4]);
    assert.deepEqual(plain(iters), { dims: [4], data: [0, 1, 2, 3] });
    // A false initial condition runs no iteration.
    const [acc0] = await runGraph(g, [big, bool(false), f32([1]), f32([7])], OPS);
    assert.deepEqual(plain(acc0).data, [7]);
  });

  it('carries sequences (opset 13+)', async () => {
    const b = graph(
      ['i', 'cin', 's'],
      ['cout', 's2'],
      [node('Identity', ['cin'], ['cout']), node('SequenceInsert', ['s', 'i'], ['s2'])],
    );
    const g = graph(['M', 's0'], ['s'], [node('Loop', ['M', '', 's0'], ['s'], { body: b })]);
    const [s] = await runGraph(g, [i64([3], []), []], OPS);
    assert.ok(Array.isArray(s), 'Array.isArray(s)');
    assert.deepEqual(
      (s as Value[]).map((t) => plain(t).data[0]),
      [0, 1, 2],
    );
  });

  it('rejects a scan output whose shape changes between iterations', async () => {
    const b = graph(
      ['i', 'cin', 's'],
      ['cout', 's2', 'scan'],
      [
        node('Identity', ['cin'], ['cout']),
        node('SequenceInsert', ['s', 'i'], ['s2']),
        node('ConcatFromSequence', ['s2'], ['scan'], { axis: 0, new_axis: 1 }),
      ],
    );
    const g = graph(['M', 's0'], ['s', 'scan'], [node('Loop', ['M', '', 's0'], ['s', 'scan'], { body: b })]);
    await assert.rejects(runGraph(g, [i64([2], []), []], OPS), /changes shape between iterations/);
  });

  it('rejects a body with the wrong number of inputs', async () => {
    const b = graph(['i', 'cin'], ['cout'], [node('Identity', ['cin'], ['cout'])]);
    const g = graph(['M', 'v'], ['out'], [node('Loop', ['M', '', 'v'], ['out'], { body: b })]);
    await assert.rejects(runGraph(g, [i64([1], []), f32([1])], OPS), isCode('INVALID_MODEL'));
  });
});

describe('Scan', () => {
  const sumBody = () =>
    graph(['s', 'x'], ['s2', 'y'], [node('Add', ['s', 'x'], ['s2']), node('Identity', ['s2'], ['y'])]);

  it('opset 9+: running sum over axis 0', async () => {
    const g = graph(
      ['init', 'xs'],
      ['final', 'ys'],
      [node('Scan', ['init', 'xs'], ['final', 'ys'], { body: sumBody(), num_scan_inputs: 1 })],
    );
    const [final, ys] = await runGraph(g, [f32([0, 0]), f32([1, 2, 3, 4, 5, 6], [3, 2])], OPS);
    assert.deepEqual(plain(final).data, [9, 12]);
    assert.deepEqual(plain(ys), { dims: [3, 2], data: [1, 2, 4, 6, 9, 12] });
  });

  it('honours scan input/output axes and directions (negative axes too)', async () => {
    const g = graph(
      ['init', 'xs'],
      ['final', 'ys'],
      [
        node('Scan', ['init', 'xs'], ['final', 'ys'], {
          body: sumBody(),
          num_scan_inputs: 1,
          scan_input_axes: [-1],
          scan_input_directions: [1],
          scan_output_axes: [-1],
          scan_output_directions: [1],
        }),
      ],
    );
    // xs [2, 3]: scanning axis 1 backwards feeds columns [3,6], [2,5], [1,4].
    const [final, ys] = await runGraph(g, [f32([0, 0]), f32([1, 2, 3, 4, 5, 6], [2, 3])], OPS);
    assert.deepEqual(plain(final).data, [6, 15]);
    // Outputs stored in reverse along axis 1: iteration 0 ([3,6]) lands in the last column.
    assert.deepEqual(plain(ys), { dims: [2, 3], data: [6, 5, 3, 15, 11, 6] });
  });

  it('opset 8: batch axis and sequence_lens pad short sequences with zeros', async () => {
    const g = graph(
      ['lens', 'init', 'xs'],
      ['final', 'ys'],
      [node('Scan', ['lens', 'init', 'xs'], ['final', 'ys'], { body: sumBody(), num_scan_inputs: 1 })],
    );
    const xs = f32([1, 2, 3, 10, 20, 30], [2, 3, 1]);
    const [final, ys] = await runGraph(g, [i64([3, 2]), f32([0, 0], [2, 1]), xs], OPS, { '': 8 });
    assert.deepEqual(plain(final), { dims: [2, 1], data: [6, 30] });
    assert.deepEqual(plain(ys), { dims: [2, 3, 1], data: [1, 3, 6, 10, 30, 0] });
  });

  it('opset 8: directions reverse a scan input within each sequence length', async () => {
    const g = graph(
      ['init', 'xs'],
      ['final', 'ys'],
      [
        node('Scan', ['', 'init', 'xs'], ['final', 'ys'], {
          body: sumBody(),
          num_scan_inputs: 1,
          directions: [1],
        }),
      ],
    );
    const [, ys] = await runGraph(g, [f32([0], [1, 1]), f32([1, 2, 3], [1, 3, 1])], OPS, { '': 8 });
    assert.deepEqual(plain(ys).data, [3, 5, 6]);
  });

  it('rejects scan inputs of different lengths', async () => {
    const body = graph(['s', 'a', 'b'], ['s2'], [node('Add', ['s', 'a'], ['s2'])]);
    const g = graph(
      ['init', 'a', 'b'],
      ['final'],
      [node('Scan', ['init', 'a', 'b'], ['final'], { body, num_scan_inputs: 2 })],
    );
    await assert.rejects(
      runGraph(g, [f32([0]), f32([1, 2], [2, 1]), f32([1, 2, 3], [3, 1])], OPS),
      /scan input 1 has 3 entries/,
    );
  });
});
