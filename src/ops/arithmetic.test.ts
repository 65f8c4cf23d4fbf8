import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { decodeMinifloats, encodeMinifloats } from '../core/float-formats.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { ops } from './arithmetic.js';
import { heapRunContext, type NodeInfo } from './kernel.js';
import { bigPow, erf, intPow, roundHalfEven } from './util/special-functions.js';

const int = (value: number): AttrValue => ({ kind: 'int', value });
const flt = (value: number): AttrValue => ({ kind: 'float', value });
const str = (value: string): AttrValue => ({ kind: 'string', value, bytes: new TextEncoder().encode(value) });

/** Runs `opType` as resolved at `opset` (largest listed since-version ≤ opset). */
function run(
  opType: string,
  opset: number,
  attrs: Record<string, AttrValue>,
  inputs: (Value | undefined)[],
): Value[] {
  const def = ops.find((o) => o.opType === opType);
  assert.ok(def, `${opType} is registered`);
  const sinceVersion = Math.max(...def.versions.filter((v) => v <= opset));
  assert.ok(Number.isFinite(sinceVersion), `${opType} has a version ≤ ${opset}`);
  const node: NodeInfo = {
    name: 'n',
    opType,
    domain: '',
    opset,
    sinceVersion,
    attrs: new Attributes(new Map(Object.entries(attrs)), 'test'),
    inputCount: inputs.length,
    outputCount: 1,
    inputPresent: inputs.map((x) => x !== undefined),
    outputPresent: [true],
  };
  return def.build(node)(inputs, heapRunContext) as Value[];
}
const one = (...a: Parameters<typeof run>) => run(...a)[0] as Tensor;
const t = (type: TensorType, data: readonly (number | bigint | string)[], dims?: number[]) =>
  new Tensor(type, data as number[], dims ?? [data.length]);
const f16 = (values: number[], dims?: number[]) =>
  new Tensor('float16', encodeMinifloats('float16', values), dims ?? [values.length]);
const values = (x: Tensor) => Array.from(x.data as ArrayLike<number | bigint | string>);

const throwsOnyx = (fn: () => unknown, code: string, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof OnyxError && e.code === code && re.test(e.message));

test('every op lists sorted, unique since-versions', () => {
  for (const def of ops) {
    assert.deepEqual(
      [...def.versions].sort((a, b) => a - b),
      def.versions,
      def.opType,
    );
    assert.equal(new Set(def.versions).size, def.versions.length, def.opType);
  }
});

test('Add/Sub/Mul/Div broadcast numpy-style from opset 7 and keep the element type', () => {
  const a = t('float32', [1, 2, 3, 4, 5, 6], [2, 3]);
  const b = t('float32', [10, 20, 30], [3]);
  const y = one('Add', 14, {}, [a, b]);
  assert.deepEqual(y.dims, [2, 3]);
  assert.deepEqual(values(y), [11, 22, 33, 14, 25, 36]);
  assert.deepEqual(values(one('Sub', 14, {}, [b, t('float32', [1], [])])), [9, 19, 29]);
  // rank 0 with rank 0, and empty tensors
  assert.deepEqual(one('Mul', 14, {}, [t('float64', [3], []), t('float64', [4], [])]).dims, []);
  const e = one('Add', 14, {}, [t('float32', [], [0, 3]), b]);
  assert.deepEqual(e.dims, [0, 3]);
  throwsOnyx(
    () => one('Add', 14, {}, [a, t('float32', [1, 2], [2])]),
    'SHAPE_MISMATCH',
    /cannot be broadcast/,
  );
  throwsOnyx(() => one('Add', 14, {}, [a, t('float64', [1], [])]), 'TYPE_MISMATCH', /share one element type/);
  throwsOnyx(() => one('Add', 14, {}, [a]), 'TYPE_MISMATCH', /input 1 must be a tensor/);
  throwsOnyx(
    () => one('Add', 14, {}, [t('string', ['a']), t('string', ['b'])]),
    'TYPE_MISMATCH',
    /Add does not accept string/,
  );
});

test('opset 1/6 binary ops use the broadcast and axis attributes', () => {
  const a = t('float32', [1, 2, 3, 4, 5, 6], [2, 3]);
  // without broadcast=1 the shapes must match
  throwsOnyx(() => one('Add', 6, {}, [a, t('float32', [1, 1, 1], [3])]), 'SHAPE_MISMATCH', /broadcast=1/);
  // suffix matching
  assert.deepEqual(
    values(one('Add', 6, { broadcast: int(1) }, [a, t('float32', [1, 2, 3], [3])])),
    [2, 4, 6, 5, 7, 9],
  );
  // axis=0 aligns B with A's first dim (numpy would align it to the last)
  const y = one('Mul', 1, { broadcast: int(1), axis: int(0) }, [a, t('float32', [10, 100], [2])]);
  assert.deepEqual(values(y), [10, 20, 30, 400, 500, 600]);
  throwsOnyx(
    () => one('Sub', 6, { broadcast: int(1), axis: int(1) }, [a, t('float32', [1, 2], [2])]),
    'SHAPE_MISMATCH',
    /at axis 1/,
  );
  // the same legacy rules for the opset-1 comparisons and logic ops
  assert.deepEqual(
    values(
      one('Equal', 1, { broadcast: int(1) }, [t('int32', [1, 2, 3, 4], [2, 2]), t('int32', [1, 4], [2])]),
    ),
    [1, 0, 0, 1],
  );
});

test('integer arithmetic wraps like C, divides toward zero, int64 stays exact', () => {
  assert.deepEqual(values(one('Add', 14, {}, [t('int8', [127, -128]), t('int8', [1, -1])])), [-128, 127]);
  assert.deepEqual(values(one('Mul', 14, {}, [t('int32', [65536 * 3 + 7]), t('int32', [65536 * 5 + 11])])), [
    Math.imul(65536 * 3 + 7, 65536 * 5 + 11),
  ]);
  assert.deepEqual(values(one('Mul', 14, {}, [t('uint32', [4294967295]), t('uint32', [3])])), [4294967293]);
  assert.deepEqual(
    values(one('Div', 14, {}, [t('int32', [7, -7, 7, -7, 5]), t('int32', [2, 2, -2, -2, 0])])),
    [3, -3, -3, 3, 0],
  );
  const big = 2n ** 62n + 1n;
  assert.deepEqual(values(one('Add', 14, {}, [t('int64', [big]), t('int64', [big])])), [-(2n ** 63n) + 2n]);
  assert.deepEqual(values(one('Div', 14, {}, [t('int64', [-7n, 9007199254740993n]), t('int64', [2n, 1n])])), [
    -3n,
    9007199254740993n,
  ]);
  assert.deepEqual(values(one('Div', 14, {}, [t('uint64', [10n]), t('uint64', [0n])])), [0n]);
});

test('float16 results are computed in float and rounded to float16', () => {
  const y = one('Add', 14, {}, [f16([1, 2048]), f16([0.0004, 1])]);
  assert.equal(y.type, 'float16');
  assert.deepEqual(Array.from(decodeMinifloats('float16', y.data as Uint16Array)), [1, 2048]);
});

test('Pow accepts a different exponent type (Pow-12+) and keeps the base type', () => {
  assert.deepEqual(values(one('Pow', 15, {}, [t('float32', [2, 4]), t('int64', [3n, -1n])])), [8, 0.25]);
  assert.deepEqual(
    values(one('Pow', 15, {}, [t('int32', [2, 3, 2]), t('float32', [0.5, 2, -1])])),
    [1, 9, 0],
  );
  assert.deepEqual(values(one('Pow', 15, {}, [t('int64', [3n, 2n]), t('int64', [40n, 64n])])), [
    BigInt.asIntN(64, 3n ** 40n),
    0n,
  ]);
  assert.deepEqual(
    values(one('Pow', 15, {}, [t('float32', [1, -1]), t('float32', [NaN, Infinity])])),
    [1, 1],
  );
});

test('Mod: fmod=0 takes the divisor sign (integers), fmod=1 the dividend sign', () => {
  const a = t('int32', [-4, 7, -7, 5, 3]);
  const b = t('int32', [3, -3, -3, 0, 2]);
  assert.deepEqual(values(one('Mod', 13, {}, [a, b])), [2, -2, -1, 0, 1]);
  assert.deepEqual(values(one('Mod', 13, { fmod: int(1) }, [a, b])), [-1, 1, -1, 0, 1]);
  assert.deepEqual(values(one('Mod', 13, {}, [t('int64', [-4n]), t('int64', [3n])])), [2n]);
  assert.deepEqual(
    values(one('Mod', 13, { fmod: int(1) }, [t('float64', [-5.5]), t('float64', [2])])),
    [-1.5],
  );
  throwsOnyx(() => one('Mod', 13, { fmod: int(2) }, [a, b]), 'INVALID_MODEL', /fmod must be 0 or 1/);
});

test('unary math: Round is half-to-even, Sign/Abs/Neg take integers, float-only ops reject them', () => {
  assert.deepEqual(
    values(one('Round', 22, {}, [t('float32', [0.5, 1.5, 2.5, -2.5, 2.6, -0.4])])),
    [0, 2, 2, -2, 3, -0],
  );
  assert.deepEqual(values(one('Sign', 13, {}, [t('int64', [-5n, 0n, 9n])])), [-1n, 0n, 1n]);
  assert.deepEqual(values(one('Abs', 13, {}, [t('int8', [-128, -3, 4])])), [-128, 3, 4]);
  assert.deepEqual(values(one('Neg', 13, {}, [t('int64', [5n, -(2n ** 63n)])])), [-5n, -(2n ** 63n)]);
  assert.deepEqual(values(one('Sign', 13, {}, [t('float32', [NaN, -0.5])])), [NaN, -1]);
  throwsOnyx(
    () => one('Sqrt', 13, {}, [t('int32', [4])]),
    'TYPE_MISMATCH',
    /Sqrt does not accept int32.*float/,
  );
  const y = one('Exp', 13, {}, [t('float32', [], [2, 0])]);
  assert.deepEqual(y.dims, [2, 0]);
});

test('erf, roundHalfEven and integer powers', () => {
  assert.ok(Math.abs(erf(0.5) - 0.5204998778130465) < 1e-15);
  assert.ok(Math.abs(erf(-3) + 0.9999779095030014) < 1e-15);
  assert.ok(Math.abs(erf(2.5) - 0.999593047982555) < 1e-15);
  assert.equal(erf(10), 1);
  assert.ok(Number.isNaN(erf(NaN)));
  assert.ok(Object.is(roundHalfEven(-0.5), -0));
  assert.equal(intPow(2, 31), -2147483648);
  assert.equal(intPow(-1, -3), -1);
  assert.equal(bigPow(2n, 63n), -(2n ** 63n));
});

test('IsNaN and IsInf (detect_negative / detect_positive), also on float16', () => {
  const x = t('float32', [NaN, Infinity, -Infinity, 1]);
  assert.deepEqual(values(one('IsNaN', 20, {}, [x])), [1, 0, 0, 0]);
  assert.deepEqual(values(one('IsInf', 20, {}, [x])), [0, 1, 1, 0]);
  assert.deepEqual(values(one('IsInf', 20, { detect_positive: int(0) }, [x])), [0, 0, 1, 0]);
  assert.deepEqual(
    values(one('IsInf', 20, { detect_negative: int(0) }, [f16([Infinity, -Infinity])])),
    [1, 0],
  );
  assert.equal(one('IsNaN', 13, {}, [x]).type, 'bool');
});

test('logic, bitwise and shifts', () => {
  const a = t('bool', [0, 0, 1, 1]);
  const b = t('bool', [0, 1, 0, 1]);
  assert.deepEqual(values(one('And', 7, {}, [a, b])), [0, 0, 0, 1]);
  assert.deepEqual(values(one('Or', 7, {}, [a, b])), [0, 1, 1, 1]);
  assert.deepEqual(values(one('Xor', 7, {}, [a, b])), [0, 1, 1, 0]);
  assert.deepEqual(values(one('Not', 1, {}, [a])), [1, 1, 0, 0]);
  throwsOnyx(() => one('And', 7, {}, [t('int32', [1]), t('int32', [1])]), 'TYPE_MISMATCH', /takes bool/);
  assert.deepEqual(
    values(one('BitwiseAnd', 18, {}, [t('uint32', [0xffffffff]), t('uint32', [0x80000001])])),
    [0x80000001],
  );
  assert.deepEqual(values(one('BitwiseNot', 18, {}, [t('uint8', [5])])), [250]);
  assert.deepEqual(values(one('BitwiseXor', 18, {}, [t('int64', [-1n]), t('int64', [5n])])), [-6n]);
  const left = { direction: str('LEFT') };
  assert.deepEqual(
    values(one('BitShift', 11, left, [t('uint8', [255, 1, 1]), t('uint8', [1, 7, 9])])),
    [254, 128, 0],
  );
  assert.deepEqual(values(one('BitShift', 11, left, [t('uint32', [1]), t('uint32', [31])])), [2147483648]);
  assert.deepEqual(values(one('BitShift', 11, left, [t('uint64', [1n]), t('uint64', [63n])])), [2n ** 63n]);
  const right = { direction: str('RIGHT') };
  assert.deepEqual(values(one('BitShift', 11, right, [t('uint32', [4294967295]), t('uint32', [31])])), [1]);
  throwsOnyx(() => one('BitShift', 11, { direction: str('UP') }, []), 'INVALID_MODEL', /LEFT.*RIGHT/);
});

test('comparisons: broadcasting, strings in Equal, int64, bool output', () => {
  const y = one('Equal', 19, {}, [t('string', ['a', 'b', 'a'], [3, 1]), t('string', ['a', 'b'], [2])]);
  assert.deepEqual(y.dims, [3, 2]);
  assert.equal(y.type, 'bool');
  assert.deepEqual(values(y), [1, 0, 0, 1, 1, 0]);
  assert.deepEqual(values(one('Less', 13, {}, [t('int64', [2n ** 60n]), t('int64', [2n ** 60n + 1n])])), [1]);
  assert.deepEqual(
    values(one('GreaterOrEqual', 16, {}, [t('float32', [1, NaN, 3]), t('float32', [1, 1, 4])])),
    [1, 0, 0],
  );
  assert.deepEqual(values(one('LessOrEqual', 16, {}, [t('uint8', [3]), t('uint8', [2])])), [0]);
});

test('Where broadcasts and copies any element type exactly', () => {
  const c = t('bool', [1, 0], [2]);
  const y = one('Where', 16, {}, [c, t('string', ['x', 'y', 'z', 'w'], [2, 2]), t('string', ['-'], [])]);
  assert.deepEqual(values(y), ['x', '-', 'z', '-']);
  const h = one('Where', 16, {}, [c, f16([0.1, 0.2]), f16([7, 8])]);
  assert.deepEqual(Array.from(h.data as Uint16Array), [
    encodeMinifloats('float16', [0.1])[0],
    encodeMinifloats('float16', [8])[0],
  ]);
  assert.deepEqual(values(one('Where', 9, {}, [c, t('int64', [1n, 2n]), t('int64', [3n, 4n])])), [1n, 4n]);
  throwsOnyx(
    () => one('Where', 16, {}, [t('int32', [1]), c, c]),
    'TYPE_MISMATCH',
    /condition must be a bool/,
  );
});

test('Clip: attributes before opset 11, optional scalar inputs after, every numeric type', () => {
  const x = t('float32', [-3, 0, 3]);
  assert.deepEqual(values(one('Clip', 6, { min: flt(-1), max: flt(2) }, [x])), [-1, 0, 2]);
  assert.deepEqual(values(one('Clip', 6, { max: flt(0) }, [x])), [-3, 0, 0]);
  assert.deepEqual(values(one('Clip', 13, {}, [x, undefined, t('float32', [1], [])])), [-3, 0, 1]);
  assert.deepEqual(values(one('Clip', 13, {}, [x, t('float32', [-1], [])])), [-1, 0, 3]);
  assert.deepEqual(values(one('Clip', 13, {}, [x])), [-3, 0, 3]);
  // min > max: everything becomes max, as numpy.clip
  assert.deepEqual(values(one('Clip', 13, {}, [x, t('float32', [2], []), t('float32', [1], [])])), [1, 1, 1]);
  assert.deepEqual(values(one('Clip', 13, {}, [t('int64', [-(2n ** 62n), 5n]), t('int64', [0n], [])])), [
    0n,
    5n,
  ]);
  assert.deepEqual(
    values(one('Clip', 12, {}, [t('uint8', [1, 200]), undefined, t('uint8', [100], [])])),
    [1, 100],
  );
  throwsOnyx(() => one('Clip', 13, {}, [x, t('float32', [1, 2])]), 'SHAPE_MISMATCH', /min must be a scalar/);
  throwsOnyx(() => one('Clip', 13, {}, [x, t('float64', [1], [])]), 'TYPE_MISMATCH', /input's type float32/);
});

test('Min/Max/Sum/Mean: variadic, broadcasting, NaN propagation, integer types', () => {
  const a = t('float32', [1, NaN, 3], [3]);
  const b = t('float32', [2, 0, 1], [3]);
  const c = t('float32', [0], []);
  assert.deepEqual(values(one('Max', 13, {}, [a, b, c])), [2, NaN, 3]);
  assert.deepEqual(values(one('Min', 13, {}, [b, a])), [1, NaN, 1]);
  assert.deepEqual(values(one('Sum', 13, {}, [b, b, t('float32', [1], [1])])), [5, 1, 3]);
  assert.deepEqual(values(one('Mean', 13, {}, [b, t('float32', [4, 2, 3])])), [3, 1, 2]);
  assert.deepEqual(
    values(one('Max', 13, {}, [t('int64', [-(2n ** 63n), 2n ** 62n]), t('int64', [0n, 1n])])),
    [0n, 2n ** 62n],
  );
  assert.deepEqual(values(one('Min', 13, {}, [t('uint32', [4294967295, 1]), t('uint32', [5, 2])])), [5, 1]);
  const only = t('int32', [1, 2]);
  assert.equal(one('Sum', 13, {}, [only]), only);
  throwsOnyx(
    () => one('Mean', 13, {}, [t('int32', [1]), t('int32', [1])]),
    'TYPE_MISMATCH',
    /Mean does not accept/,
  );
  throwsOnyx(() => one('Sum', 13, {}, []), 'INVALID_MODEL', /at least one input/);
});
