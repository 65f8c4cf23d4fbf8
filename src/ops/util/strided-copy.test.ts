import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stridesOf } from './broadcast.js';
import { axisGather, copyElements, fillElements, stridedCopy } from './strided-copy.js';

test('stridedCopy transposes a 2-D array (merging nothing) and copies contiguous blocks with set()', () => {
  const src = Float32Array.from([1, 2, 3, 4, 5, 6]); // [2, 3]
  const dst = new Float32Array(6); // [3, 2]
  stridedCopy(dst, 0, [2, 1], src, 0, [1, 3], [3, 2]);
  assert.deepEqual([...dst], [1, 4, 2, 5, 3, 6]);
  const whole = new Float32Array(6);
  stridedCopy(whole, 0, stridesOf([2, 3]), src, 0, stridesOf([2, 3]), [2, 3]);
  assert.deepEqual([...whole], [...src]);
});

test('stridedCopy handles broadcast (0) and negative strides, strings, bigints and lanes', () => {
  const s = ['a', 'b', 'c'];
  const d = new Array<string>(6).fill('');
  stridedCopy(d, 0, [3, 1], s, 0, [0, 1], [2, 3]);
  assert.deepEqual(d, ['a', 'b', 'c', 'a', 'b', 'c']);
  const rev = new BigInt64Array(3);
  stridedCopy(rev, 0, [1], BigInt64Array.from([1n, 2n, 3n]), 2, [-1], [3]);
  assert.deepEqual([...rev], [3n, 2n, 1n]);
  // complex: two lanes per element, reversed element order keeps (re, im) pairs together
  const c = Float32Array.from([1, -1, 2, -2, 3, -3]);
  const cd = new Float32Array(6);
  stridedCopy(cd, 0, [1], c, 2, [-1], [3], 2);
  assert.deepEqual([...cd], [3, -3, 2, -2, 1, -1]);
  // fill path: inner stride 0 into contiguous destination
  const f = new Uint16Array(4);
  stridedCopy(f, 0, [2, 1], Uint16Array.of(7, 9), 0, [1, 0], [2, 2]);
  assert.deepEqual([...f], [7, 7, 9, 9]);
});

test('stridedCopy: rank 0, size-1 dims and empty dims', () => {
  const d = new Int32Array(1);
  stridedCopy(d, 0, [], Int32Array.of(5), 0, [], []);
  assert.equal(d[0], 5);
  const e = new Int32Array(2);
  stridedCopy(e, 0, [1, 1], Int32Array.of(1, 2), 0, [1, 1], [0, 2]);
  assert.deepEqual([...e], [0, 0]);
  const g = new Int32Array(2);
  stridedCopy(g, 0, [2, 1, 1], Int32Array.of(1, 2), 0, [2, 1, 1], [1, 1, 2]);
  assert.deepEqual([...g], [1, 2]);
});

test('axisGather reads through per-axis tables', () => {
  const src = Int8Array.from([1, 2, 3, 4]); // [2, 2]
  const dst = new Int8Array(6); // [2, 3]
  axisGather(dst, src, [2, 3], [Int32Array.of(2, 0), Int32Array.of(0, 1, 1)]);
  assert.deepEqual([...dst], [3, 4, 4, 1, 2, 2]);
  const cd = new Float64Array(4);
  axisGather(cd, Float64Array.from([5, 6]), [2], [Int32Array.of(0, 0)], 2);
  assert.deepEqual([...cd], [5, 6, 5, 6]);
});

test('fillElements and copyElements work on typed arrays, arrays and lanes', () => {
  const s = new Array<string>(3).fill('');
  fillElements(s, 1, 2, ['x']);
  assert.deepEqual(s, ['', 'x', 'x']);
  const c = new Float32Array(6);
  fillElements(c, 1, 2, Float32Array.of(1, 2), 0, 2);
  assert.deepEqual([...c], [0, 0, 1, 2, 1, 2]);
  const d = new Array<string>(2).fill('');
  copyElements(d, 1, ['p', 'q'], 1, 1);
  assert.deepEqual(d, ['', 'q']);
  const b = new BigInt64Array(3);
  copyElements(b, 0, BigInt64Array.of(4n, 5n, 6n), 1, 2);
  assert.deepEqual([...b], [5n, 6n, 0n]);
});

test('8-byte and float elements move bit-exactly (int64 extremes, NaN payloads)', () => {
  const big = BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, -1n);
  const out = new BigInt64Array(3);
  stridedCopy(out, 0, [1], big, 2, [-1], [3]);
  assert.deepEqual([...out], [-1n, 2n ** 63n - 1n, -(2n ** 63n)]);
  const g = new BigInt64Array(4);
  axisGather(g, big, [2, 2], [Int32Array.of(0, 1), Int32Array.of(1, 0)]);
  assert.deepEqual([...g], [2n ** 63n - 1n, -(2n ** 63n), -1n, 2n ** 63n - 1n]);
  const nan = new Float32Array(new Uint32Array([0x7fc01234, 0xffa00001]).buffer);
  const f = new Float32Array(2);
  stridedCopy(f, 0, [1], nan, 1, [-1], [2]);
  assert.deepEqual([...new Uint32Array(f.buffer)], [0xffa00001, 0x7fc01234]);
  const d = new Float64Array(2);
  stridedCopy(d, 0, [1], Float64Array.of(1.5, -2.25), 0, [0], [2]);
  assert.deepEqual([...d], [1.5, 1.5]);
});
