import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../core/tensor.js';
import { ops, reduceTensor } from './reduce.js';
import { bindOps, t, vals } from './util/op-test-kit.js';
import { numbersOf } from './util/numeric.js';

const { run1: run } = bindOps(ops, { opset: 18 });

const axes = (...a: number[]) => t('int64', a.map(BigInt));

describe('axes handling', () => {
  const x = t('float32', [1, 2, 3, 4, 5, 6], [2, 3]);
  it('attribute axes before opset 18 (13 for ReduceSum), input axes after', async () => {
    assert.deepEqual(vals(await run('ReduceMean', [x], { axes: [1] }, 13)), [2, 5]);
    assert.deepEqual(vals(await run('ReduceMean', [x, axes(1)], {}, 18)), [2, 5]);
    assert.deepEqual(vals(await run('ReduceSum', [x], { axes: [0] }, 11)), [5, 7, 9]);
    assert.deepEqual(vals(await run('ReduceSum', [x, axes(0)], {}, 13)), [5, 7, 9]);
  });
  it('negative axes, keepdims=0, reduce-all default', async () => {
    const y = await run('ReduceMax', [x, axes(-1)], { keepdims: 0 });
    assert.deepEqual(y.dims, [2]);
    assert.deepEqual(vals(y), [3, 6]);
    const all = await run('ReduceSum', [x], {}, 18);
    assert.deepEqual(all.dims, [1, 1]);
    assert.deepEqual(vals(all), [21]);
    const scalar = await run('ReduceProd', [x], { keepdims: 0 });
    assert.deepEqual(scalar.dims, []);
    assert.deepEqual(vals(scalar), [720]);
  });
  it('noop_with_empty_axes returns the input unchanged', async () => {
    const y = await run('ReduceL2', [x, axes()], { noop_with_empty_axes: 1 });
    assert.deepEqual(y.dims, [2, 3]);
    assert.deepEqual(vals(y), [1, 2, 3, 4, 5, 6]);
  });
  it('rejects bad axes with clear errors', async () => {
    await assert.rejects(run('ReduceSum', [x, axes(2)], {}, 13), /axes 2 is out of range for rank 2/);
    await assert.rejects(run('ReduceSum', [x, axes(0, -2)], {}, 13), /repeat an axis/);
    await assert.rejects(run('ReduceMin', [x, axes(0)], { axes: [0] }), /takes axes as its second input/);
  });
  it('rank-0 input', async () => {
    const y = await run('ReduceSumSquare', [new Tensor('float32', [3], [])]);
    assert.deepEqual(y.dims, []);
    assert.deepEqual(vals(y), [9]);
  });
});

describe('empty sets give the identity', () => {
  const e = t('float32', [], [2, 0]);
  const cases: [string, number][] = [
    ['ReduceSum', 0],
    ['ReduceProd', 1],
    ['ReduceMax', -Infinity],
    ['ReduceMin', Infinity],
    ['ReduceL1', 0],
    ['ReduceL2', 0],
    ['ReduceSumSquare', 0],
    ['ReduceLogSum', -Infinity],
    ['ReduceLogSumExp', -Infinity],
  ];
  for (const [op, want] of cases) {
    it(op, async () => assert.deepEqual(vals(await run(op, [e, axes(1)], {}, 20)), [want, want]));
  }
  it('ReduceMean is NaN (0/0)', async () => {
    assert.ok(
      vals(await run('ReduceMean', [e, axes(1)])).every((v) => Number.isNaN(v)),
      "vals(await run('ReduceMean', [e, axes(1)])).every((v) => Number.isNaN(v))",
    );
  });
  it('integer and bool bounds', async () => {
    assert.deepEqual(vals(await run('ReduceMax', [t('int8', [], [0]), axes(0)])), [-128]);
    assert.deepEqual(vals(await run('ReduceMin', [t('uint16', [], [0]), axes(0)])), [65535]);
    assert.deepEqual(vals(await run('ReduceMax', [t('int64', [], [0]), axes(0)])), [-(2n ** 63n)]);
    assert.deepEqual(vals(await run('ReduceMin', [t('bool', [], [0]), axes(0)], {}, 20)), [1]);
  });
  it('empty output when a kept axis is 0', () => {
    assert.deepEqual(reduceTensor(t('float32', [], [0, 3]), 'ReduceSum', [1], true).dims, [0, 1]);
  });
});

describe('dtypes', () => {
  it('int64 is exact', async () => {
    const big = 2n ** 60n + 1n;
    assert.deepEqual(vals(await run('ReduceSum', [t('int64', [big, big, -1n]), axes(0)], {}, 13)), [
      2n ** 61n + 1n,
    ]);
    assert.deepEqual(vals(await run('ReduceProd', [t('int64', [2n ** 32n, 2n ** 31n + 1n])])), [
      2n ** 63n + 2n ** 32n - 2n ** 64n,
    ]);
    assert.deepEqual(vals(await run('ReduceMean', [t('int64', [7n, 8n])])), [7n]);
    assert.deepEqual(vals(await run('ReduceL2', [t('int64', [3n, 4n])])), [5n]);
  });
  it('small integers wrap like C and truncate means', async () => {
    assert.deepEqual(vals(await run('ReduceSum', [t('uint8', [200, 100]), axes(0)], {}, 13)), [44]);
    assert.deepEqual(vals(await run('ReduceProd', [t('int32', [65536, 65537])])), [65536]);
    assert.deepEqual(vals(await run('ReduceMean', [t('int32', [1, 2])])), [1]);
    assert.deepEqual(vals(await run('ReduceMean', [t('int32', [-1, -2])])), [-1]);
    assert.deepEqual(vals(await run('ReduceSum', [t('int4', [7, 1]), axes(0)], {}, 13)), [-8]);
  });
  it('float16 / bfloat16 round back to their type', async () => {
    const h = await run(
      'ReduceSum',
      [new Tensor('float16', new Uint16Array([0x3c00, 0x3c00, 0x3c00])), axes(0)],
      {},
      13,
    );
    assert.equal(h.type, 'float16');
    assert.deepEqual(Array.from(numbersOf(h)), [3]);
    const b = await run('ReduceMax', [new Tensor('bfloat16', new Uint16Array([0x3f80, 0xc000]))]);
    assert.deepEqual(Array.from(numbersOf(b)), [1]);
  });
  it('bool only for ReduceMax/ReduceMin from opset 20', async () => {
    const b = t('bool', [1, 0, 0, 0], [2, 2]);
    assert.deepEqual(vals(await run('ReduceMax', [b, axes(1)], {}, 20)), [1, 0]);
    assert.deepEqual(vals(await run('ReduceMin', [b, axes(1)], {}, 20)), [0, 0]);
    await assert.rejects(
      run('ReduceMax', [b, axes(1)], {}, 18),
      /does not take bool input \(it does from opset 20\)/,
    );
    await assert.rejects(run('ReduceSum', [b, axes(1)], {}, 13), /does not take bool input/);
  });
  it('strings are rejected', async () => {
    await assert.rejects(run('ReduceMax', [t('string', ['a'])], {}, 20), /does not support string tensors/);
  });
});

describe('numerics', () => {
  it('LogSumExp is stable for large inputs', async () => {
    const y = vals(await run('ReduceLogSumExp', [t('float64', [1000, 1000])])) as number[];
    assert.ok(Math.abs(y[0] - (1000 + Math.LN2)) < 1e-9, 'Math.abs(y[0] - (1000 + Math.LN2)) < 1e-9');
  });
  it('Max/Min propagate NaN', async () => {
    assert.ok(
      Number.isNaN(vals(await run('ReduceMax', [t('float32', [1, NaN, 2])]))[0] as number),
      "Number.isNaN(vals(await run('ReduceMax', [t('float32', [1, NaN, 2])]))[0] as number)",
    );
    assert.ok(
      Number.isNaN(vals(await run('ReduceMin', [t('float32', [NaN, 1])]))[0] as number),
      "Number.isNaN(vals(await run('ReduceMin', [t('float32', [NaN, 1])]))[0] as number)",
    );
  });
  it('L1, LogSum, multi-axis', async () => {
    const x = t('float32', [-1, 2, -3, 4, 5, -6, 7, 8], [2, 2, 2]);
    assert.deepEqual(vals(await run('ReduceL1', [x, axes(0, 2)])), [14, 22]);
    const ls = vals(await run('ReduceLogSum', [t('float32', [1, 2, 3, 4]), axes(0)])) as number[];
    assert.ok(Math.abs(ls[0] - Math.log(10)) < 1e-6, 'Math.abs(ls[0] - Math.log(10)) < 1e-6');
  });
});
