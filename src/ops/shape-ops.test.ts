import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { heapRunContext, type NodeInfo } from './kernel.js';
import { ops } from './shape-ops.js';

const int = (value: number): AttrValue => ({ kind: 'int', value });
const ints = (value: number[]): AttrValue => ({ kind: 'ints', value });
const i64 = (...v: number[]) => new Tensor('int64', BigInt64Array.from(v, BigInt), [v.length]);

function run(
  opType: string,
  sinceVersion: number,
  attrs: Record<string, AttrValue>,
  inputs: (Value | undefined)[],
  outputCount = 1,
): Value[] {
  const def = ops.find((o) => o.opType === opType)!;
  assert.ok(def.versions.includes(sinceVersion), `${opType} lists since-version ${sinceVersion}`);
  const node: NodeInfo = {
    name: 'n',
    opType,
    domain: '',
    opset: sinceVersion,
    sinceVersion,
    attrs: new Attributes(new Map(Object.entries(attrs)), 'test'),
    inputCount: inputs.length,
    outputCount,
    inputPresent: inputs.map((x) => x !== undefined),
    outputPresent: new Array<boolean>(outputCount).fill(true),
  };
  return def.build(node)(inputs, heapRunContext) as Value[];
}
const one = (...a: Parameters<typeof run>) => run(...a)[0] as Tensor;

const throwsOnyx = (fn: () => unknown, code: string, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof OnyxError && e.code === code && re.test(e.message));

test('Identity passes tensors, sequences and empty optionals through', () => {
  const x = new Tensor('string', ['a'], [1]);
  assert.equal(run('Identity', 1, {}, [x])[0], x);
  const seq = [x, x];
  assert.equal(run('Identity', 16, {}, [seq])[0], seq);
  assert.equal(run('Identity', 16, {}, [null])[0], null);
});

test('Reshape: 0 copies, -1 infers, allowzero, scalars, shares storage', () => {
  const x = new Tensor('float32', new Float32Array(24), [2, 3, 4]);
  const y = one('Reshape', 5, {}, [x, i64(0, -1)]);
  assert.deepEqual(y.dims, [2, 12]);
  assert.equal(y.data, x.data);
  assert.deepEqual(one('Reshape', 14, {}, [x, i64(4, 0, -1)]).dims, [4, 3, 2]);
  const s = one('Reshape', 13, {}, [new Tensor('int64', [5n], [1, 1]), i64()]);
  assert.deepEqual(s.dims, []);
  const empty = new Tensor('float32', new Float32Array(0), [0, 3]);
  assert.deepEqual(one('Reshape', 14, { allowzero: int(1) }, [empty, i64(3, 0)]).dims, [3, 0]);
  assert.deepEqual(one('Reshape', 14, {}, [empty, i64(-1, 3)]).dims, [0, 3]);
  assert.deepEqual(one('Reshape', 1, { shape: ints([6, -1]) }, [x]).dims, [6, 4]);
});

test('Reshape errors name the shapes', () => {
  const x = new Tensor('float32', new Float32Array(6), [2, 3]);
  throwsOnyx(() => one('Reshape', 14, {}, [x, i64(-1, -1)]), 'INVALID_MODEL', /more than one -1/);
  throwsOnyx(() => one('Reshape', 14, {}, [x, i64(4, 2)]), 'SHAPE_MISMATCH', /\[2, 3\].*\[4, 2\]/);
  throwsOnyx(() => one('Reshape', 14, {}, [x, i64(4, -1)]), 'SHAPE_MISMATCH', /cannot be inferred/);
  throwsOnyx(() => one('Reshape', 14, { allowzero: int(1) }, [x, i64(0, -1)]), 'INVALID_MODEL', /allowzero/);
  throwsOnyx(() => one('Reshape', 14, {}, [x, i64(6, 1, 0)]), 'SHAPE_MISMATCH', /rank 2/);
});

test('Shape with start/end (clamped), Size', () => {
  const x = new Tensor('bool', new Uint8Array(24), [2, 3, 4]);
  assert.deepEqual([...(one('Shape', 1, {}, [x]).data as BigInt64Array)], [2n, 3n, 4n]);
  assert.deepEqual([...(one('Shape', 15, { start: int(-2) }, [x]).data as BigInt64Array)], [3n, 4n]);
  assert.deepEqual(
    [...(one('Shape', 15, { start: int(-10), end: int(1) }, [x]).data as BigInt64Array)],
    [2n],
  );
  assert.deepEqual(one('Shape', 15, { start: int(2), end: int(1) }, [x]).dims, [0]);
  const sz = one('Size', 13, {}, [x]);
  assert.deepEqual([sz.type, sz.dims, sz.data[0]], ['int64', [], 24n]);
});

test('Flatten: axis 0, negative axis, rank 0, out of range', () => {
  const x = new Tensor('int8', new Int8Array(24), [2, 3, 4]);
  assert.deepEqual(one('Flatten', 1, { axis: int(0) }, [x]).dims, [1, 24]);
  assert.deepEqual(one('Flatten', 11, { axis: int(-1) }, [x]).dims, [6, 4]);
  assert.deepEqual(one('Flatten', 13, { axis: int(3) }, [x]).dims, [24, 1]);
  assert.deepEqual(one('Flatten', 13, { axis: int(0) }, [new Tensor('float32', [1], [])]).dims, [1, 1]);
  throwsOnyx(() => one('Flatten', 13, { axis: int(4) }, [x]), 'INVALID_MODEL', /out of range/);
});

test('Squeeze and Unsqueeze: attribute axes before 13, input axes after', () => {
  const x = new Tensor('float32', new Float32Array(3), [1, 3, 1]);
  assert.deepEqual(one('Squeeze', 1, {}, [x]).dims, [3]);
  assert.deepEqual(one('Squeeze', 11, { axes: ints([-1]) }, [x]).dims, [1, 3]);
  assert.deepEqual(one('Squeeze', 13, {}, [x, i64(0)]).dims, [3, 1]);
  assert.deepEqual(one('Squeeze', 13, {}, [x, undefined]).dims, [3]);
  assert.deepEqual(one('Squeeze', 13, {}, [x, i64()]).dims, [3]);
  throwsOnyx(() => one('Squeeze', 13, {}, [x, i64(1)]), 'SHAPE_MISMATCH', /dim 3, not 1/);
  assert.deepEqual(one('Unsqueeze', 1, { axes: ints([0, 4]) }, [x]).dims, [1, 1, 3, 1, 1]);
  assert.deepEqual(one('Unsqueeze', 13, {}, [x, i64(-1, 1)]).dims, [1, 1, 3, 1, 1]);
  const s = one('Unsqueeze', 21, {}, [new Tensor('float32', [7], []), i64(0)]);
  assert.deepEqual(s.dims, [1]);
  throwsOnyx(() => one('Unsqueeze', 13, {}, [x, i64(0, 0)]), 'INVALID_MODEL', /repeat/);
  throwsOnyx(() => one('Unsqueeze', 13, {}, [x, i64(9)]), 'INVALID_MODEL', /out of range/);
});

test('Expand broadcasts both ways for every storage kind', () => {
  const s = one('Expand', 13, {}, [new Tensor('string', ['a', 'b'], [2, 1]), i64(3)]);
  assert.deepEqual(s.dims, [2, 3]);
  assert.deepEqual(s.data, ['a', 'a', 'a', 'b', 'b', 'b']);
  // shape of lower rank and with 1s keeps input dims
  const b = one('Expand', 8, {}, [new Tensor('int64', [1n, 2n], [1, 2]), i64(2, 1, 1)]);
  assert.deepEqual(b.dims, [2, 1, 2]);
  assert.deepEqual([...(b.data as BigInt64Array)], [1n, 2n, 1n, 2n]);
  const c = one('Expand', 13, {}, [new Tensor('complex64', Float32Array.of(1, 2), [1]), i64(2)]);
  assert.deepEqual([...(c.data as Float32Array)], [1, 2, 1, 2]);
  const f16 = one('Expand', 13, {}, [new Tensor('float16', Uint16Array.of(0x3c00), []), i64(2, 2)]);
  assert.deepEqual([...(f16.data as Uint16Array)], [0x3c00, 0x3c00, 0x3c00, 0x3c00]);
  const z = one('Expand', 13, {}, [new Tensor('float32', [1], [1]), i64(0, 1)]);
  assert.deepEqual(z.dims, [0, 1]);
  throwsOnyx(
    () => one('Expand', 13, {}, [new Tensor('float32', [1, 2, 3], [3]), i64(2)]),
    'SHAPE_MISMATCH',
    /Expand cannot broadcast input \[3\] to shape \[2\]/,
  );
});
