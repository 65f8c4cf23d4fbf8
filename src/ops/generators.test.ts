import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { ops } from './generators.js';
import { bindOps, i64, scalar, throwsOnyx, vals } from './util/op-test-kit.js';
import { encodeMessage } from '../onnx/proto.js';
import { InferenceSession } from '../api/inference-session.js';

const { run1Sync: one, build } = bindOps(ops, { exact: true });

test('Constant: every value attribute', () => {
  const t = new Tensor('float16', Uint16Array.of(0x3c00), [1]);
  assert.equal(one('Constant', [], { value: { kind: 'tensor', value: t } }, 1), t);
  assert.equal(one('Constant', [], { sparse_value: { kind: 'sparse_tensor', value: t } }, 11), t);
  const f = one('Constant', [], { value_float: { kind: 'float', value: 1.5 } }, 12);
  assert.deepEqual([f.type, f.dims, vals(f)], ['float32', [], [1.5]]);
  const fs = one('Constant', [], { value_floats: { kind: 'floats', value: [1, 2] } }, 13);
  assert.deepEqual([fs.type, fs.dims, vals(fs)], ['float32', [2], [1, 2]]);
  const i = one('Constant', [], { value_int: { kind: 'int', value: -3 } }, 19);
  assert.deepEqual([i.type, i.dims, vals(i)], ['int64', [], [-3n]]);
  const is = one('Constant', [], { value_ints: { kind: 'ints', value: [4, 5] } }, 21);
  assert.deepEqual([is.type, is.dims, vals(is)], ['int64', [2], [4n, 5n]]);
  const s = one(
    'Constant',
    [],
    { value_string: { kind: 'string', value: 'hé', bytes: new Uint8Array() } },
    23,
  );
  assert.deepEqual([s.type, s.dims, vals(s)], ['string', [], ['hé']]);
  const ss = one('Constant', [], { value_strings: { kind: 'strings', value: ['a', ''] } }, 25);
  assert.deepEqual([ss.type, ss.dims, vals(ss)], ['string', [2], ['a', '']]);
});

test('Constant: needs exactly one value attribute of the right kind', () => {
  throwsOnyx(() => build('Constant', 0, {}, 13), 'INVALID_MODEL', /none is set/);
  throwsOnyx(
    () =>
      build(
        'Constant',
        0,
        {
          value_int: { kind: 'int', value: 1 },
          value_float: { kind: 'float', value: 1 },
        },
        13,
      ),
    'INVALID_MODEL',
    /value_float, value_int/,
  );
  throwsOnyx(
    () => build('Constant', 0, { value_int: { kind: 'float', value: 1 } }, 13),
    'INVALID_MODEL',
    /an int/,
  );
});

test('ConstantOfShape: default float 0, typed values, scalar and empty shapes', () => {
  const d = one('ConstantOfShape', [i64([2, 3])], {}, 9);
  assert.deepEqual([d.type, d.dims, vals(d)], ['float32', [2, 3], [0, 0, 0, 0, 0, 0]]);
  const v = { kind: 'tensor', value: new Tensor('int64', [7n], [1]) } as const;
  const i = one('ConstantOfShape', [i64([])], { value: v }, 20);
  assert.deepEqual([i.type, i.dims, vals(i)], ['int64', [], [7n]]);
  assert.deepEqual(one('ConstantOfShape', [i64([3, 0])], { value: v }, 21).dims, [3, 0]);
  const c = { kind: 'tensor', value: new Tensor('complex64', Float32Array.of(1, 2), [1]) } as const;
  assert.deepEqual(vals(one('ConstantOfShape', [i64([2])], { value: c }, 25)), [1, 2, 1, 2]);
  const b = { kind: 'tensor', value: new Tensor('bfloat16', Uint16Array.of(0x3f80), [1]) } as const;
  assert.deepEqual(vals(one('ConstantOfShape', [i64([2])], { value: b }, 24)), [0x3f80, 0x3f80]);
  throwsOnyx(() => one('ConstantOfShape', [i64([-1])], {}, 9), 'INVALID_MODEL', /negative/);
  const two = { kind: 'tensor', value: new Tensor('float32', [1, 2], [2]) } as const;
  throwsOnyx(() => build('ConstantOfShape', 0, { value: two }, 9), 'INVALID_MODEL', /one-element/);
});

test('Range: every numeric type, negative and empty ranges, exact int64', () => {
  const r = (type: Tensor['type'], s: number, l: number, d: number) =>
    one('Range', [scalar(type, s), scalar(type, l), scalar(type, d)], {}, 11);
  assert.deepEqual(vals(r('int32', 10, 4, -3)), [10, 7]);
  assert.deepEqual(vals(r('int16', 0, 3, 1)), [0, 1, 2]);
  assert.deepEqual(vals(r('float32', 1, 2, 0.25)), [1, 1.25, 1.5, 1.75]);
  assert.deepEqual(vals(r('float64', 0, -1, 0.5)), []);
  assert.deepEqual(r('float64', 5, 1, 1).dims, [0]);
  const big = 2n ** 60n;
  const i = one(
    'Range',
    [new Tensor('int64', [big], []), new Tensor('int64', [big + 7n], []), new Tensor('int64', [3n], [])],
    {},
    11,
  );
  assert.deepEqual(vals(i), [big, big + 3n, big + 6n]);
  const h = one(
    'Range',
    [
      new Tensor('float16', Uint16Array.of(0x3c00), []), // 1
      new Tensor('float16', Uint16Array.of(0x4200), []), // 3
      new Tensor('float16', Uint16Array.of(0x3c00), []), // 1
    ],
    {},
    11,
  );
  assert.deepEqual([h.type, vals(h)], ['float16', [0x3c00, 0x4000]]);
  throwsOnyx(() => r('int32', 0, 3, 0), 'INVALID_ARGUMENT', /delta must not be 0/);
  throwsOnyx(
    () => one('Range', [scalar('int32', 0), scalar('int64', 3), scalar('int32', 1)], {}, 11),
    'TYPE_MISMATCH',
    /int32, int64, int32/,
  );
  throwsOnyx(() => r('float32', 0, 1e12, 1e-3), 'LIMIT_EXCEEDED', /Range/);
});

test('Constant value_ints beyond 2^53 survive the loader exactly', async () => {
  const big = [9007199254740993n, -9223372036854775808n, 9223372036854775807n];
  // Encode through the protobuf layer directly: int64 attribute values given as decimal strings.
  const model = encodeMessage('ModelProto', {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      node: [
        {
          opType: 'Constant',
          output: ['y'],
          attribute: [{ name: 'value_ints', type: 7, ints: big.map(String) }],
        },
      ],
      output: [{ name: 'y', type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 3 }] } } } }],
    },
  });
  const s = await InferenceSession.create(model);
  assert.deepEqual(Array.from((await s.run({})).y.data as BigInt64Array), big);
});
