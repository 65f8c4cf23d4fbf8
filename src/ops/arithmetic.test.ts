import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMinifloats, encodeMinifloats } from '../core/float-formats.js';
import { Tensor } from '../core/tensor.js';
import { ops } from './arithmetic.js';
import { broadcastOffsets, broadcastShapes } from './util/broadcast.js';
import { assertVersionsSorted, bindOps, t, throwsOnyx, vals as values } from './util/op-test-kit.js';
import { bigPow, erf, intPow, roundHalfEven } from './util/special-functions.js';

const { run1Sync: one } = bindOps(ops);

const f16 = (values: number[], dims?: number[]) =>
  new Tensor('float16', encodeMinifloats('float16', values), dims ?? [values.length]);

test('every op lists sorted, unique since-versions', () => assertVersionsSorted(ops));

test('Add/Sub/Mul/Div broadcast numpy-style from opset 7 and keep the element type', () => {
  const a = t('float32', [1, 2, 3, 4, 5, 6], [2, 3]);
  const b = t('float32', [10, 20, 30], [3]);
  const y = one('Add', [a, b], {}, 14);
  assert.deepEqual(y.dims, [2, 3]);
  assert.deepEqual(values(y), [11, 22, 33, 14, 25, 36]);
  assert.deepEqual(values(one('Sub', [b, t('float32', [1], [])], {}, 14)), [9, 19, 29]);
  // rank 0 with rank 0, and empty tensors
  assert.deepEqual(one('Mul', [t('float64', [3], []), t('float64', [4], [])], {}, 14).dims, []);
  const e = one('Add', [t('float32', [], [0, 3]), b], {}, 14);
  assert.deepEqual(e.dims, [0, 3]);
  throwsOnyx(
    () => one('Add', [a, t('float32', [1, 2], [2])], {}, 14),
    'SHAPE_MISMATCH',
    /cannot be broadcast/,
  );
  throwsOnyx(() => one('Add', [a, t('float64', [1], [])], {}, 14), 'TYPE_MISMATCH', /share one element type/);
  throwsOnyx(() => one('Add', [a], {}, 14), 'TYPE_MISMATCH', /input 1 must be a tensor/);
  throwsOnyx(
    () => one('Add', [t('string', ['a']), t('string', ['b'])], {}, 14),
    'TYPE_MISMATCH',
    /Add does not accept string/,
  );
});

test('opset 1/6 binary ops use the broadcast and axis attributes', () => {
  const a = t('float32', [1, 2, 3, 4, 5, 6], [2, 3]);
  // without broadcast=1 the shapes must match
  throwsOnyx(() => one('Add', [a, t('float32', [1, 1, 1], [3])], {}, 6), 'SHAPE_MISMATCH', /broadcast=1/);
  // suffix matching
  assert.deepEqual(
    values(one('Add', [a, t('float32', [1, 2, 3], [3])], { broadcast: 1 }, 6)),
    [2, 4, 6, 5, 7, 9],
  );
  // axis=0 aligns B with A's first dim (numpy would align it to the last)
  const y = one('Mul', [a, t('float32', [10, 100], [2])], { broadcast: 1, axis: 0 }, 1);
  assert.deepEqual(values(y), [10, 20, 30, 400, 500, 600]);
  throwsOnyx(
    () => one('Sub', [a, t('float32', [1, 2], [2])], { broadcast: 1, axis: 1 }, 6),
    'SHAPE_MISMATCH',
    /at axis 1/,
  );
  // the same legacy rules for the opset-1 comparisons and logic ops
  assert.deepEqual(
    values(one('Equal', [t('int32', [1, 2, 3, 4], [2, 2]), t('int32', [1, 4], [2])], { broadcast: 1 }, 1)),
    [1, 0, 0, 1],
  );
});

test('integer arithmetic wraps like C, divides toward zero, int64 stays exact', () => {
  assert.deepEqual(values(one('Add', [t('int8', [127, -128]), t('int8', [1, -1])], {}, 14)), [-128, 127]);
  assert.deepEqual(values(one('Mul', [t('int32', [65536 * 3 + 7]), t('int32', [65536 * 5 + 11])], {}, 14)), [
    Math.imul(65536 * 3 + 7, 65536 * 5 + 11),
  ]);
  assert.deepEqual(values(one('Mul', [t('uint32', [4294967295]), t('uint32', [3])], {}, 14)), [4294967293]);
  assert.deepEqual(
    values(one('Div', [t('int32', [7, -7, 7, -7, 5]), t('int32', [2, 2, -2, -2, 0])], {}, 14)),
    [3, -3, -3, 3, 0],
  );
  const big = 2n ** 62n + 1n;
  assert.deepEqual(values(one('Add', [t('int64', [big]), t('int64', [big])], {}, 14)), [-(2n ** 63n) + 2n]);
  assert.deepEqual(values(one('Div', [t('int64', [-7n, 9007199254740993n]), t('int64', [2n, 1n])], {}, 14)), [
    -3n,
    9007199254740993n,
  ]);
  assert.deepEqual(values(one('Div', [t('uint64', [10n]), t('uint64', [0n])], {}, 14)), [0n]);
});

test('float16 results are computed in float and rounded to float16', () => {
  const y = one('Add', [f16([1, 2048]), f16([0.0004, 1])], {}, 14);
  assert.equal(y.type, 'float16');
  assert.deepEqual(Array.from(decodeMinifloats('float16', y.data as Uint16Array)), [1, 2048]);
});

test('Pow accepts a different exponent type (Pow-12+) and keeps the base type', () => {
  assert.deepEqual(values(one('Pow', [t('float32', [2, 4]), t('int64', [3n, -1n])], {}, 15)), [8, 0.25]);
  assert.deepEqual(
    values(one('Pow', [t('int32', [2, 3, 2]), t('float32', [0.5, 2, -1])], {}, 15)),
    [1, 9, 0],
  );
  assert.deepEqual(values(one('Pow', [t('int64', [3n, 2n]), t('int64', [40n, 64n])], {}, 15)), [
    BigInt.asIntN(64, 3n ** 40n),
    0n,
  ]);
  assert.deepEqual(
    values(one('Pow', [t('float32', [1, -1]), t('float32', [NaN, Infinity])], {}, 15)),
    [1, 1],
  );
});

test('Mod: fmod=0 takes the divisor sign (integers), fmod=1 the dividend sign', () => {
  const a = t('int32', [-4, 7, -7, 5, 3]);
  const b = t('int32', [3, -3, -3, 0, 2]);
  assert.deepEqual(values(one('Mod', [a, b], {}, 13)), [2, -2, -1, 0, 1]);
  assert.deepEqual(values(one('Mod', [a, b], { fmod: 1 }, 13)), [-1, 1, -1, 0, 1]);
  assert.deepEqual(values(one('Mod', [t('int64', [-4n]), t('int64', [3n])], {}, 13)), [2n]);
  assert.deepEqual(values(one('Mod', [t('float64', [-5.5]), t('float64', [2])], { fmod: 1 }, 13)), [-1.5]);
  throwsOnyx(() => one('Mod', [a, b], { fmod: 2 }, 13), 'INVALID_MODEL', /fmod must be 0 or 1/);
});

test('unary math: Round is half-to-even, Sign/Abs/Neg take integers, float-only ops reject them', () => {
  assert.deepEqual(
    values(one('Round', [t('float32', [0.5, 1.5, 2.5, -2.5, 2.6, -0.4])], {}, 22)),
    [0, 2, 2, -2, 3, -0],
  );
  assert.deepEqual(values(one('Sign', [t('int64', [-5n, 0n, 9n])], {}, 13)), [-1n, 0n, 1n]);
  assert.deepEqual(values(one('Abs', [t('int8', [-128, -3, 4])], {}, 13)), [-128, 3, 4]);
  assert.deepEqual(values(one('Neg', [t('int64', [5n, -(2n ** 63n)])], {}, 13)), [-5n, -(2n ** 63n)]);
  assert.deepEqual(values(one('Sign', [t('float32', [NaN, -0.5])], {}, 13)), [NaN, -1]);
  throwsOnyx(
    () => one('Sqrt', [t('int32', [4])], {}, 13),
    'TYPE_MISMATCH',
    /Sqrt does not accept int32.*float/,
  );
  const y = one('Exp', [t('float32', [], [2, 0])], {}, 13);
  assert.deepEqual(y.dims, [2, 0]);
});

test('erf, roundHalfEven and integer powers', () => {
  assert.ok(
    Math.abs(erf(0.5) - 0.5204998778130465) < 1e-15,
    'Math.abs(erf(0.5) - 0.5204998778130465) < 1e-15',
  );
  assert.ok(Math.abs(erf(-3) + 0.9999779095030014) < 1e-15, 'Math.abs(erf(-3) + 0.9999779095030014) < 1e-15');
  assert.ok(Math.abs(erf(2.5) - 0.999593047982555) < 1e-15, 'Math.abs(erf(2.5) - 0.999593047982555) < 1e-15');
  assert.equal(erf(10), 1);
  assert.ok(Number.isNaN(erf(NaN)), 'Number.isNaN(erf(NaN))');
  assert.ok(Object.is(roundHalfEven(-0.5), -0), 'Object.is(roundHalfEven(-0.5), -0)');
  assert.equal(intPow(2, 31), -2147483648);
  assert.equal(intPow(-1, -3), -1);
  assert.equal(bigPow(2n, 63n), -(2n ** 63n));
});

test('IsNaN and IsInf (detect_negative / detect_positive), also on float16', () => {
  const x = t('float32', [NaN, Infinity, -Infinity, 1]);
  assert.deepEqual(values(one('IsNaN', [x], {}, 20)), [1, 0, 0, 0]);
  assert.deepEqual(values(one('IsInf', [x], {}, 20)), [0, 1, 1, 0]);
  assert.deepEqual(values(one('IsInf', [x], { detect_positive: 0 }, 20)), [0, 0, 1, 0]);
  assert.deepEqual(values(one('IsInf', [f16([Infinity, -Infinity])], { detect_negative: 0 }, 20)), [1, 0]);
  assert.equal(one('IsNaN', [x], {}, 13).type, 'bool');
});

test('logic, bitwise and shifts', () => {
  const a = t('bool', [0, 0, 1, 1]);
  const b = t('bool', [0, 1, 0, 1]);
  assert.deepEqual(values(one('And', [a, b], {}, 7)), [0, 0, 0, 1]);
  assert.deepEqual(values(one('Or', [a, b], {}, 7)), [0, 1, 1, 1]);
  assert.deepEqual(values(one('Xor', [a, b], {}, 7)), [0, 1, 1, 0]);
  assert.deepEqual(values(one('Not', [a], {}, 1)), [1, 1, 0, 0]);
  throwsOnyx(() => one('And', [t('int32', [1]), t('int32', [1])], {}, 7), 'TYPE_MISMATCH', /takes bool/);
  assert.deepEqual(
    values(one('BitwiseAnd', [t('uint32', [0xffffffff]), t('uint32', [0x80000001])], {}, 18)),
    [0x80000001],
  );
  assert.deepEqual(values(one('BitwiseNot', [t('uint8', [5])], {}, 18)), [250]);
  assert.deepEqual(values(one('BitwiseXor', [t('int64', [-1n]), t('int64', [5n])], {}, 18)), [-6n]);
  const left = { direction: 'LEFT' };
  assert.deepEqual(
    values(one('BitShift', [t('uint8', [255, 1, 1]), t('uint8', [1, 7, 9])], left, 11)),
    [254, 128, 0],
  );
  assert.deepEqual(values(one('BitShift', [t('uint32', [1]), t('uint32', [31])], left, 11)), [2147483648]);
  assert.deepEqual(values(one('BitShift', [t('uint64', [1n]), t('uint64', [63n])], left, 11)), [2n ** 63n]);
  const right = { direction: 'RIGHT' };
  assert.deepEqual(values(one('BitShift', [t('uint32', [4294967295]), t('uint32', [31])], right, 11)), [1]);
  throwsOnyx(() => one('BitShift', [], { direction: 'UP' }, 11), 'INVALID_MODEL', /LEFT.*RIGHT/);
});

test('comparisons: broadcasting, strings in Equal, int64, bool output', () => {
  const y = one('Equal', [t('string', ['a', 'b', 'a'], [3, 1]), t('string', ['a', 'b'], [2])], {}, 19);
  assert.deepEqual(y.dims, [3, 2]);
  assert.equal(y.type, 'bool');
  assert.deepEqual(values(y), [1, 0, 0, 1, 1, 0]);
  assert.deepEqual(values(one('Less', [t('int64', [2n ** 60n]), t('int64', [2n ** 60n + 1n])], {}, 13)), [1]);
  assert.deepEqual(
    values(one('GreaterOrEqual', [t('float32', [1, NaN, 3]), t('float32', [1, 1, 4])], {}, 16)),
    [1, 0, 0],
  );
  assert.deepEqual(values(one('LessOrEqual', [t('uint8', [3]), t('uint8', [2])], {}, 16)), [0]);
});

test('Where broadcasts and copies any element type exactly', () => {
  const c = t('bool', [1, 0], [2]);
  const y = one('Where', [c, t('string', ['x', 'y', 'z', 'w'], [2, 2]), t('string', ['-'], [])], {}, 16);
  assert.deepEqual(values(y), ['x', '-', 'z', '-']);
  const h = one('Where', [c, f16([0.1, 0.2]), f16([7, 8])], {}, 16);
  assert.deepEqual(Array.from(h.data as Uint16Array), [
    encodeMinifloats('float16', [0.1])[0],
    encodeMinifloats('float16', [8])[0],
  ]);
  assert.deepEqual(values(one('Where', [c, t('int64', [1n, 2n]), t('int64', [3n, 4n])], {}, 9)), [1n, 4n]);
  throwsOnyx(
    () => one('Where', [t('int32', [1]), c, c], {}, 16),
    'TYPE_MISMATCH',
    /condition must be a bool/,
  );
});

test('Where walks every broadcast pattern like per-element offsets would', () => {
  // Masks and operands over rank 0–4, size-1 and size-0 dims, each operand broadcast or not.
  const cases: [number[], number[], number[]][] = [
    [[], [], []],
    [[1, 128], [], [1, 4, 1, 128]],
    [
      [3, 1],
      [1, 5],
      [3, 5],
    ],
    [[2, 1, 4], [3, 1], []],
    [[1], [2, 3, 1, 2], [3, 2, 2]],
    [[0, 3], [3], [1, 3]],
    [
      [2, 1, 1, 3],
      [1, 2, 1, 1],
      [2, 1, 2, 1],
    ],
  ];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const [cd, xd, yd] of cases) {
    const size = (d: number[]) => d.reduce((a, b) => a * b, 1);
    const c = t(
      'bool',
      Array.from({ length: size(cd) }, () => (next() < 0.5 ? 1 : 0)),
      cd,
    );
    const x = t(
      'float32',
      Array.from({ length: size(xd) }, () => next()),
      xd,
    );
    const y = t(
      'int32',
      Array.from({ length: size(yd) }, (_, i) => i),
      yd,
    );
    const dims = broadcastShapes(cd, xd, yd);
    const [oc, ox, oy] = broadcastOffsets([cd, xd, yd], dims);
    const at = (o: Int32Array | null, i: number) => (o ? o[i] : i);
    const want = Array.from({ length: size(dims) }, (_, i) =>
      (c.data as Uint8Array)[at(oc, i)]
        ? (x.data as Float32Array)[at(ox, i)]
        : -1 - (y.data as Int32Array)[at(oy, i)],
    );
    const yf = t(
      'float32',
      Array.from(y.data as Int32Array, (v) => -1 - v),
      yd,
    );
    const got = one('Where', [c, x, yf], {}, 16);
    assert.deepEqual([got.dims, values(got)], [dims, want], JSON.stringify([cd, xd, yd]));
  }
  const z = one(
    'Where',
    [t('bool', [0, 1], [2]), t('complex64', [1, 2, 3, 4], [2]), t('complex64', [9, 9], [])],
    {},
    16,
  );
  assert.deepEqual(values(z), [9, 9, 3, 4]);
});

test('Clip: attributes before opset 11, optional scalar inputs after, every numeric type', () => {
  const x = t('float32', [-3, 0, 3]);
  assert.deepEqual(values(one('Clip', [x], { min: { float: -1 }, max: { float: 2 } }, 6)), [-1, 0, 2]);
  assert.deepEqual(values(one('Clip', [x], { max: { float: 0 } }, 6)), [-3, 0, 0]);
  assert.deepEqual(values(one('Clip', [x, undefined, t('float32', [1], [])], {}, 13)), [-3, 0, 1]);
  assert.deepEqual(values(one('Clip', [x, t('float32', [-1], [])], {}, 13)), [-1, 0, 3]);
  assert.deepEqual(values(one('Clip', [x], {}, 13)), [-3, 0, 3]);
  // min > max: everything becomes max, as numpy.clip
  assert.deepEqual(values(one('Clip', [x, t('float32', [2], []), t('float32', [1], [])], {}, 13)), [1, 1, 1]);
  assert.deepEqual(values(one('Clip', [t('int64', [-(2n ** 62n), 5n]), t('int64', [0n], [])], {}, 13)), [
    0n,
    5n,
  ]);
  assert.deepEqual(
    values(one('Clip', [t('uint8', [1, 200]), undefined, t('uint8', [100], [])], {}, 12)),
    [1, 100],
  );
  throwsOnyx(() => one('Clip', [x, t('float32', [1, 2])], {}, 13), 'SHAPE_MISMATCH', /min must be a scalar/);
  throwsOnyx(() => one('Clip', [x, t('float64', [1], [])], {}, 13), 'TYPE_MISMATCH', /input's type float32/);
});

test('Min/Max/Sum/Mean: variadic, broadcasting, NaN propagation, integer types', () => {
  const a = t('float32', [1, NaN, 3], [3]);
  const b = t('float32', [2, 0, 1], [3]);
  const c = t('float32', [0], []);
  assert.deepEqual(values(one('Max', [a, b, c], {}, 13)), [2, NaN, 3]);
  assert.deepEqual(values(one('Min', [b, a], {}, 13)), [1, NaN, 1]);
  assert.deepEqual(values(one('Sum', [b, b, t('float32', [1], [1])], {}, 13)), [5, 1, 3]);
  assert.deepEqual(values(one('Mean', [b, t('float32', [4, 2, 3])], {}, 13)), [3, 1, 2]);
  assert.deepEqual(
    values(one('Max', [t('int64', [-(2n ** 63n), 2n ** 62n]), t('int64', [0n, 1n])], {}, 13)),
    [0n, 2n ** 62n],
  );
  assert.deepEqual(values(one('Min', [t('uint32', [4294967295, 1]), t('uint32', [5, 2])], {}, 13)), [5, 1]);
  const only = t('int32', [1, 2]);
  assert.equal(one('Sum', [only], {}, 13), only);
  throwsOnyx(
    () => one('Mean', [t('int32', [1]), t('int32', [1])], {}, 13),
    'TYPE_MISMATCH',
    /Mean does not accept/,
  );
  throwsOnyx(() => one('Sum', [], {}, 13), 'INVALID_MODEL', /at least one input/);
});
