import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Tensor } from '../index.js';
import { compareValues, DEFAULT_TOLERANCE } from './compare.js';

const f32 = (xs: number[], dims = [xs.length]) => new Tensor('float32', new Float32Array(xs), dims);

it('accepts values within rtol/atol and NaN against NaN', () => {
  assert.equal(compareValues(f32([1, NaN, 1000]), f32([1.0009, NaN, 1000.9]), DEFAULT_TOLERANCE), null);
});

it('reports the first element outside tolerance', () => {
  assert.match(
    compareValues(f32([1, 2, 3]), f32([1, 2.01, 3]), DEFAULT_TOLERANCE) ?? '',
    /element 1 is 2, expected 2\.00999/,
  );
});

it('reports dtype and dims differences', () => {
  assert.match(
    compareValues(f32([1, 2]), new Tensor('float64', new Float64Array([1, 2]), [2]), DEFAULT_TOLERANCE) ?? '',
    /type float32/,
  );
  assert.match(
    compareValues(f32([1, 2], [1, 2]), f32([1, 2], [2, 1]), DEFAULT_TOLERANCE) ?? '',
    /dims \[1, 2\]/,
  );
});

it('compares integers exactly and recurses into sequences, maps and optionals', () => {
  const i = (x: number) => new Tensor('int64', [BigInt(x)], [1]);
  assert.match(
    compareValues([i(1), i(2)], [i(1), i(3)], DEFAULT_TOLERANCE) ?? '',
    /\[1\]: element 0 is 2, expected 3/,
  );
  assert.match(
    compareValues(new Map([['a', i(1)]]), new Map([['a', i(2)]]), DEFAULT_TOLERANCE) ?? '',
    /\{a\}/,
  );
  assert.equal(compareValues(null, null, DEFAULT_TOLERANCE), null);
  assert.match(compareValues(i(1), null, DEFAULT_TOLERANCE) ?? '', /empty optional/);
});
