import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { ops } from './indexing.js';
import { bindOps, i64, t, vals } from './util/op-test-kit.js';
import { numbersOf } from './util/numeric.js';

const { run: runAll, run1: run } = bindOps(ops, { opset: 24 });

const outOfRange = (e: unknown) =>
  e instanceof OnyxError && e.code === 'INVALID_ARGUMENT' && /out of range/.test(e.message);

describe('Gather', () => {
  it('negative indices, scalar indices, strings', async () => {
    const data = t('string', ['a', 'b', 'c', 'd', 'e', 'f'], [3, 2]);
    const y = await run('Gather', [data, i64([-1, 0])], {}, 13);
    assert.deepEqual(y.dims, [2, 2]);
    assert.deepEqual(vals(y), ['e', 'f', 'a', 'b']);
    const s = await run('Gather', [data, t('int32', [1], [])], { axis: 1 }, 13);
    assert.deepEqual(s.dims, [3]);
    assert.deepEqual(vals(s), ['b', 'd', 'f']);
  });
  it('copies runs of consecutive indices (negative ones too) under every outer index', async () => {
    // data [2, 5, 3] = 0…29; indices on axis 1: a run 1-2-3, a run −1(=4)… broken by 0, repeats.
    const data = t(
      'float32',
      Array.from({ length: 30 }, (_, i) => i),
      [2, 5, 3],
    );
    const y = await run('Gather', [data, i64([1, 2, 3, -1, 0, 0, 4])], { axis: 1 }, 13);
    assert.deepEqual(y.dims, [2, 7, 3]);
    const want = [0, 1].flatMap((o) =>
      [1, 2, 3, 4, 0, 0, 4].flatMap((r) => [0, 1, 2].map((c) => o * 15 + r * 3 + c)),
    );
    assert.deepEqual(vals(y), want);
  });
  it('keeps minifloat bits and complex lanes', async () => {
    const h = new Tensor('float16', new Uint16Array([0x3c00, 0x7e00]));
    assert.deepEqual(vals(await run('Gather', [h, i64([1, 0])], {}, 13)), [0x7e00, 0x3c00]);
    const z = new Tensor('complex64', new Float32Array([1, 2, 3, 4]), [2]);
    assert.deepEqual(vals(await run('Gather', [z, i64([1])], {}, 13)), [3, 4]);
  });
  it('out-of-range index is a clear error', async () => {
    await assert.rejects(run('Gather', [t('float32', [1, 2]), i64([2])], {}, 13), (e: unknown) => {
      return outOfRange(e) && /Gather index 2 .* size 2 \(valid: -2 to 1\)/.test((e as Error).message);
    });
    await assert.rejects(run('Gather', [t('float32', [1, 2]), t('float32', [0])], {}, 13), /int32 or int64/);
  });
  it('empty indices', async () => {
    const y = await run('Gather', [t('float32', [1, 2, 3, 4], [2, 2]), i64([], [0])], { axis: 1 }, 13);
    assert.deepEqual(y.dims, [2, 0]);
  });
});

describe('GatherElements / GatherND', () => {
  it('GatherElements with negative indices on axis 1', async () => {
    const y = await run(
      'GatherElements',
      [t('int64', [1n, 2n, 3n, 4n], [2, 2]), i64([-1, 0, 0, 0], [2, 2])],
      { axis: 1 },
      13,
    );
    assert.deepEqual(vals(y), [2n, 1n, 3n, 3n]);
    await assert.rejects(run('GatherElements', [t('float32', [1, 2]), i64([5])], {}, 13), outOfRange);
  });
  it('GatherND with batch_dims', async () => {
    const data = t('float32', [0, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2]);
    const y = await run('GatherND', [data, i64([1, 0], [2, 1])], { batch_dims: 1 }, 13);
    assert.deepEqual(y.dims, [2, 2]);
    assert.deepEqual(vals(y), [2, 3, 4, 5]);
    const z = await run('GatherND', [data, i64([0, 1, 1, -1], [2, 2])], {}, 13);
    assert.deepEqual(vals(z), [2, 3, 6, 7]);
    await assert.rejects(
      run('GatherND', [data, i64([0, 0, 0, 0], [1, 4])], {}, 13),
      /last dim of indices \(4\)/,
    );
    await assert.rejects(run('GatherND', [data, i64([2, 0], [1, 2])], {}, 13), outOfRange);
  });
});

describe('Scatter family', () => {
  it('Scatter-9 is ScatterElements without reduction', async () => {
    const y = await run('Scatter', [t('float32', [0, 0, 0]), i64([2, 0]), t('float32', [5, 6])], {}, 9);
    assert.deepEqual(vals(y), [6, 0, 5]);
  });
  it('ScatterElements reductions on int64 and float16', async () => {
    const data = t('int64', [1n, 2n, 3n]);
    const idx = i64([0, 0, -1]);
    const upd = t('int64', [10n, 5n, 7n]);
    assert.deepEqual(vals(await run('ScatterElements', [data, idx, upd], { reduction: 'mul' }, 18)), [
      50n,
      2n,
      21n,
    ]);
    assert.deepEqual(vals(await run('ScatterElements', [data, idx, upd], { reduction: 'max' }, 18)), [
      10n,
      2n,
      7n,
    ]);
    const h = new Tensor('float16', new Uint16Array([0x3c00, 0x3c00]));
    const hy = await run(
      'ScatterElements',
      [h, i64([1, 1]), new Tensor('float16', new Uint16Array([0x3c00, 0x4000]))],
      { reduction: 'add' },
      16,
    );
    assert.deepEqual(Array.from(numbersOf(hy)), [1, 4]);
  });
  it('reduction availability follows the version; errors are clear', async () => {
    const args = [t('float32', [1]), i64([0]), t('float32', [2])];
    await assert.rejects(
      run('ScatterElements', args, { reduction: 'max' }, 16),
      /reduction 'max' is not supported \(allowed: none, add, mul\)/,
    );
    await assert.rejects(
      run('ScatterElements', [t('float32', [1]), i64([1]), t('float32', [2])], {}, 18),
      outOfRange,
    );
    await assert.rejects(
      run('ScatterElements', [t('float32', [1]), i64([0]), t('float64', [2])], {}, 18),
      /updates are float64 but data is float32/,
    );
  });
  it('ScatterND add with duplicate indices and slices', async () => {
    const data = t('float32', [1, 2, 3, 4], [2, 2]);
    const y = await run(
      'ScatterND',
      [data, i64([1, 1], [2, 1]), t('float32', [10, 20, 30, 40], [2, 2])],
      { reduction: 'add' },
      18,
    );
    assert.deepEqual(vals(y), [1, 2, 43, 64]);
    const z = await run('ScatterND', [data, i64([0, -1], [1, 2]), t('float32', [9])], {}, 13);
    assert.deepEqual(vals(z), [1, 9, 3, 4]);
    await assert.rejects(
      run('ScatterND', [data, i64([0], [1, 1]), t('float32', [9])], {}, 13),
      /updates dims \[1\] must be \[1, 2\]/,
    );
  });
  it('strings scatter without reduction only', async () => {
    const y = await run('ScatterND', [t('string', ['a', 'b']), i64([1], [1, 1]), t('string', ['z'])], {}, 18);
    assert.deepEqual(vals(y), ['a', 'z']);
    await assert.rejects(
      run('ScatterND', [t('string', ['a']), i64([0], [1, 1]), t('string', ['z'])], { reduction: 'add' }, 18),
      /not defined for string/,
    );
  });
});

describe('TensorScatter', () => {
  const past = t('float32', new Array(2 * 4 * 2).fill(0), [2, 4, 2]);
  const upd = t('float32', [1, 1, 2, 2, 3, 3, 4, 4], [2, 2, 2]);
  it('linear, default write_indices = 0', async () => {
    const y = await run('TensorScatter', [past, upd, undefined]);
    assert.deepEqual(vals(y).slice(0, 8), [1, 1, 2, 2, 0, 0, 0, 0]);
  });
  it('circular wraps; linear overflow is an error', async () => {
    const y = await run('TensorScatter', [past, upd, i64([3, 0])], { mode: 'circular' });
    assert.deepEqual(vals(y), [2, 2, 0, 0, 0, 0, 1, 1, 3, 3, 4, 4, 0, 0, 0, 0]);
    await assert.rejects(
      run('TensorScatter', [past, upd, i64([3, 0])]),
      /exceeds the cache length 4 \(linear mode\)/,
    );
    await assert.rejects(run('TensorScatter', [past, upd, undefined], { axis: 0 }), /axis cannot be 0/);
  });
});

describe('Compress / NonZero / OneHot', () => {
  const x = t('float32', [1, 2, 3, 4, 5, 6], [3, 2]);
  it('Compress: flatten without axis, short condition', async () => {
    assert.deepEqual(vals(await run('Compress', [x, t('bool', [0, 1, 0, 1])], {}, 11)), [2, 4]);
    const y = await run('Compress', [x, t('bool', [0, 1])], { axis: 0 }, 11);
    assert.deepEqual(y.dims, [1, 2]);
    assert.deepEqual(vals(y), [3, 4]);
    await assert.rejects(
      run('Compress', [x, t('bool', [0, 0, 0, 1])], { axis: 0 }, 11),
      /beyond the axis length 3/,
    );
  });
  it('NonZero on a scalar, strings, floats', async () => {
    const s = await run('NonZero', [new Tensor('float32', [5], [])], {}, 13);
    assert.deepEqual(s.dims, [1, 1]);
    const str2 = await run('NonZero', [t('string', ['', 'x', 'y'])], {}, 13);
    assert.deepEqual(vals(str2), [1n, 2n]);
    const f = await run('NonZero', [t('float32', [0, -0, 3, 0], [2, 2])], {}, 13);
    assert.deepEqual(f.dims, [2, 1]);
    assert.deepEqual(vals(f), [1n, 0n]);
  });
  it('OneHot: axis 0, negative and out-of-range indices, float depth', async () => {
    const y = await run(
      'OneHot',
      [i64([1, -1, 7]), t('float32', [3.7], []), t('int32', [0, 9])],
      { axis: 0 },
      11,
    );
    assert.deepEqual(y.dims, [3, 3]);
    assert.deepEqual(vals(y), [0, 0, 0, 9, 0, 0, 0, 9, 0]);
    await assert.rejects(
      run('OneHot', [i64([0]), t('int64', [0n], []), t('int32', [0, 1])], {}, 11),
      /depth must be a positive/,
    );
    await assert.rejects(
      run('OneHot', [i64([0]), t('int64', [2n], []), t('int32', [0])], {}, 11),
      /two elements/,
    );
  });
});

describe('CumSum / CumProd', () => {
  it('exclusive + reverse on axis 1', async () => {
    const x = t('float32', [1, 2, 3, 4, 5, 6], [2, 3]);
    const y = await run('CumSum', [x, t('int32', [1], [])], { exclusive: 1, reverse: 1 }, 14);
    assert.deepEqual(vals(y), [5, 3, 0, 11, 6, 0]);
  });
  it('int64 exact, int32 products wrap like C', async () => {
    const y = await run('CumSum', [t('int64', [2n ** 62n, 2n ** 62n]), i64([0], [])], {}, 14);
    assert.deepEqual(vals(y), [2n ** 62n, -(2n ** 63n)]);
    const p = await run('CumProd', [t('int32', [65536, 65537, 2]), i64([0], [])], {}, 26);
    assert.deepEqual(vals(p), [65536, 65536, 131072]);
  });
  it('float32 accumulates in float32 (like numpy)', async () => {
    const y = await run('CumSum', [t('float32', [16777216, 1, 1]), i64([0], [])], {}, 14);
    assert.deepEqual(vals(y), [16777216, 16777216, 16777216]);
  });
  it('bad axis', async () => {
    await assert.rejects(run('CumSum', [t('float32', [1]), i64([1], [])], {}, 14), /axis 1 is out of range/);
    await assert.rejects(run('CumSum', [t('float32', [1]), i64([0, 0])], {}, 14), /axis must be a scalar/);
  });
});

describe('TopK', () => {
  it('TopK-1 takes k as an attribute; stable ties', async () => {
    const [v, i] = await runAll('TopK', [t('float32', [3, 1, 3, 2])], { k: 3 }, { opset: 1, outputCount: 2 });
    assert.deepEqual(vals(v), [3, 3, 2]);
    assert.deepEqual(vals(i), [0n, 2n, 3n]);
  });
  it('smallest, NaN ordering, k = 0', async () => {
    const x = t('float32', [2, NaN, 1, 2]);
    const [v, i] = await runAll('TopK', [x, i64([2])], { largest: 0 }, { opset: 11, outputCount: 2 });
    assert.deepEqual(vals(v), [1, 2]);
    assert.deepEqual(vals(i), [2n, 0n]);
    const [lv] = await runAll('TopK', [x, i64([1])], {}, { opset: 11, outputCount: 2 });
    assert.ok(Number.isNaN(vals(lv)[0] as number), 'Number.isNaN(vals(lv)[0] as number)');
    const [e] = await runAll('TopK', [x, i64([0])], {}, { opset: 11, outputCount: 2 });
    assert.deepEqual(e.dims, [0]);
  });
  it('k larger than the axis is an error', async () => {
    await assert.rejects(
      runAll('TopK', [t('float32', [1, 2]), i64([3])], {}, { opset: 11, outputCount: 2 }),
      /k = 3 must be in \[0, 2\]/,
    );
  });
});

describe('ArgMax / ArgMin', () => {
  const x = t('float32', [1, 3, 3, 0, 0, 2], [2, 3]);
  it('select_last_index, keepdims, negative axis', async () => {
    assert.deepEqual(vals(await run('ArgMax', [x], { axis: -1 }, 13)), [1n, 2n]);
    assert.deepEqual(vals(await run('ArgMax', [x], { axis: 1, select_last_index: 1 }, 13)), [2n, 2n]);
    const y = await run('ArgMin', [x], { axis: 1, keepdims: 0, select_last_index: 1 }, 13);
    assert.deepEqual(y.dims, [2]);
    assert.deepEqual(vals(y), [0n, 1n]);
  });
  it('NaN wins (numpy); empty axis and strings', async () => {
    assert.deepEqual(vals(await run('ArgMax', [t('float32', [1, NaN, 5])], {}, 13)), [1n]);
    assert.deepEqual(vals(await run('ArgMin', [t('string', ['b', 'a', 'c'])], {}, 13)), [1n]);
    await assert.rejects(run('ArgMax', [t('float32', [], [0])], {}, 13), /empty axis/);
  });
});

describe('Unique', () => {
  it('strings, sorted', async () => {
    const [y, idx, inv, cnt] = await runAll(
      'Unique',
      [t('string', ['b', 'a', 'b', 'c'])],
      {},
      { opset: 11, outputCount: 4 },
    );
    assert.deepEqual(vals(y), ['a', 'b', 'c']);
    assert.deepEqual(vals(idx), [1n, 0n, 3n]);
    assert.deepEqual(vals(inv), [1n, 0n, 1n, 2n]);
    assert.deepEqual(vals(cnt), [1n, 2n, 1n]);
  });
  it('rows along axis 0, unsorted keeps first occurrence order', async () => {
    const x = t('int32', [2, 1, 0, 5, 2, 1], [3, 2]);
    const [y, idx, inv, cnt] = await runAll(
      'Unique',
      [x],
      { axis: 0, sorted: 0 },
      { opset: 11, outputCount: 4 },
    );
    assert.deepEqual(y.dims, [2, 2]);
    assert.deepEqual(vals(y), [2, 1, 0, 5]);
    assert.deepEqual(vals(idx), [0n, 1n]);
    assert.deepEqual(vals(inv), [0n, 1n, 0n]);
    assert.deepEqual(vals(cnt), [2n, 1n]);
  });
  it('int64 and empty input', async () => {
    const [y] = await runAll('Unique', [t('int64', [3n, -1n, 3n])], {}, { opset: 11, outputCount: 4 });
    assert.deepEqual(vals(y), [-1n, 3n]);
    const [e, , , c] = await runAll('Unique', [t('float32', [], [0])], {}, { opset: 11, outputCount: 4 });
    assert.deepEqual(e.dims, [0]);
    assert.deepEqual(c.dims, [0]);
  });
});
