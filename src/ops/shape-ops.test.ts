import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { ops } from './shape-ops.js';
import { bindOps, i64, throwsOnyx } from './util/op-test-kit.js';

const { runSync: run, run1Sync: one } = bindOps(ops, { exact: true });

test('Identity passes tensors, sequences and empty optionals through', () => {
  const x = new Tensor('string', ['a'], [1]);
  assert.equal(run('Identity', [x], {}, 1)[0], x);
  const seq = [x, x];
  assert.equal(run('Identity', [seq], {}, 16)[0], seq);
  assert.equal(run('Identity', [null], {}, 16)[0], null);
});

test('Reshape: 0 copies, -1 infers, allowzero, scalars, shares storage', () => {
  const x = new Tensor('float32', new Float32Array(24), [2, 3, 4]);
  const y = one('Reshape', [x, i64([0, -1])], {}, 5);
  assert.deepEqual(y.dims, [2, 12]);
  assert.equal(y.data, x.data);
  assert.deepEqual(one('Reshape', [x, i64([4, 0, -1])], {}, 14).dims, [4, 3, 2]);
  const s = one('Reshape', [new Tensor('int64', [5n], [1, 1]), i64([])], {}, 13);
  assert.deepEqual(s.dims, []);
  const empty = new Tensor('float32', new Float32Array(0), [0, 3]);
  assert.deepEqual(one('Reshape', [empty, i64([3, 0])], { allowzero: 1 }, 14).dims, [3, 0]);
  assert.deepEqual(one('Reshape', [empty, i64([-1, 3])], {}, 14).dims, [0, 3]);
  assert.deepEqual(one('Reshape', [x], { shape: [6, -1] }, 1).dims, [6, 4]);
});

test('Reshape errors name the shapes', () => {
  const x = new Tensor('float32', new Float32Array(6), [2, 3]);
  throwsOnyx(() => one('Reshape', [x, i64([-1, -1])], {}, 14), 'INVALID_MODEL', /more than one -1/);
  throwsOnyx(() => one('Reshape', [x, i64([4, 2])], {}, 14), 'SHAPE_MISMATCH', /\[2, 3\].*\[4, 2\]/);
  throwsOnyx(() => one('Reshape', [x, i64([4, -1])], {}, 14), 'SHAPE_MISMATCH', /cannot be inferred/);
  throwsOnyx(() => one('Reshape', [x, i64([0, -1])], { allowzero: 1 }, 14), 'INVALID_MODEL', /allowzero/);
  throwsOnyx(() => one('Reshape', [x, i64([6, 1, 0])], {}, 14), 'SHAPE_MISMATCH', /rank 2/);
});

test('Shape with start/end (clamped), Size', () => {
  const x = new Tensor('bool', new Uint8Array(24), [2, 3, 4]);
  assert.deepEqual([...(one('Shape', [x], {}, 1).data as BigInt64Array)], [2n, 3n, 4n]);
  assert.deepEqual([...(one('Shape', [x], { start: -2 }, 15).data as BigInt64Array)], [3n, 4n]);
  assert.deepEqual([...(one('Shape', [x], { start: -10, end: 1 }, 15).data as BigInt64Array)], [2n]);
  assert.deepEqual(one('Shape', [x], { start: 2, end: 1 }, 15).dims, [0]);
  const sz = one('Size', [x], {}, 13);
  assert.deepEqual([sz.type, sz.dims, sz.data[0]], ['int64', [], 24n]);
});

test('Flatten: axis 0, negative axis, rank 0, out of range', () => {
  const x = new Tensor('int8', new Int8Array(24), [2, 3, 4]);
  assert.deepEqual(one('Flatten', [x], { axis: 0 }, 1).dims, [1, 24]);
  assert.deepEqual(one('Flatten', [x], { axis: -1 }, 11).dims, [6, 4]);
  assert.deepEqual(one('Flatten', [x], { axis: 3 }, 13).dims, [24, 1]);
  assert.deepEqual(one('Flatten', [new Tensor('float32', [1], [])], { axis: 0 }, 13).dims, [1, 1]);
  throwsOnyx(() => one('Flatten', [x], { axis: 4 }, 13), 'INVALID_MODEL', /out of range/);
});

test('Squeeze and Unsqueeze: attribute axes before 13, input axes after', () => {
  const x = new Tensor('float32', new Float32Array(3), [1, 3, 1]);
  assert.deepEqual(one('Squeeze', [x], {}, 1).dims, [3]);
  assert.deepEqual(one('Squeeze', [x], { axes: [-1] }, 11).dims, [1, 3]);
  assert.deepEqual(one('Squeeze', [x, i64([0])], {}, 13).dims, [3, 1]);
  assert.deepEqual(one('Squeeze', [x, undefined], {}, 13).dims, [3]);
  assert.deepEqual(one('Squeeze', [x, i64([])], {}, 13).dims, [3]);
  throwsOnyx(() => one('Squeeze', [x, i64([1])], {}, 13), 'SHAPE_MISMATCH', /dim 3, not 1/);
  assert.deepEqual(one('Unsqueeze', [x], { axes: [0, 4] }, 1).dims, [1, 1, 3, 1, 1]);
  assert.deepEqual(one('Unsqueeze', [x, i64([-1, 1])], {}, 13).dims, [1, 1, 3, 1, 1]);
  const s = one('Unsqueeze', [new Tensor('float32', [7], []), i64([0])], {}, 21);
  assert.deepEqual(s.dims, [1]);
  throwsOnyx(() => one('Unsqueeze', [x, i64([0, 0])], {}, 13), 'INVALID_MODEL', /repeat/);
  throwsOnyx(() => one('Unsqueeze', [x, i64([9])], {}, 13), 'INVALID_MODEL', /out of range/);
});

test('Expand broadcasts both ways for every storage kind', () => {
  const s = one('Expand', [new Tensor('string', ['a', 'b'], [2, 1]), i64([3])], {}, 13);
  assert.deepEqual(s.dims, [2, 3]);
  assert.deepEqual(s.data, ['a', 'a', 'a', 'b', 'b', 'b']);
  // shape of lower rank and with 1s keeps input dims
  const b = one('Expand', [new Tensor('int64', [1n, 2n], [1, 2]), i64([2, 1, 1])], {}, 8);
  assert.deepEqual(b.dims, [2, 1, 2]);
  assert.deepEqual([...(b.data as BigInt64Array)], [1n, 2n, 1n, 2n]);
  const c = one('Expand', [new Tensor('complex64', Float32Array.of(1, 2), [1]), i64([2])], {}, 13);
  assert.deepEqual([...(c.data as Float32Array)], [1, 2, 1, 2]);
  const f16 = one('Expand', [new Tensor('float16', Uint16Array.of(0x3c00), []), i64([2, 2])], {}, 13);
  assert.deepEqual([...(f16.data as Uint16Array)], [0x3c00, 0x3c00, 0x3c00, 0x3c00]);
  const z = one('Expand', [new Tensor('float32', [1], [1]), i64([0, 1])], {}, 13);
  assert.deepEqual(z.dims, [0, 1]);
  throwsOnyx(
    () => one('Expand', [new Tensor('float32', [1, 2, 3], [3]), i64([2])], {}, 13),
    'SHAPE_MISMATCH',
    /Expand cannot broadcast input \[3\] to shape \[2\]/,
  );
});
