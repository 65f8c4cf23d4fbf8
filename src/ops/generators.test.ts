import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { ops } from './generators.js';
import { heapRunContext, type NodeInfo } from './kernel.js';
import { encodeMessage } from '../onnx/proto.js';
import { InferenceSession } from '../api/inference-session.js';

const i64 = (...v: (number | bigint)[]) =>
  new Tensor(
    'int64',
    BigInt64Array.from(v, (x) => BigInt(x)),
    [v.length],
  );
const scalar = (type: Tensor['type'], v: number | bigint) => new Tensor(type, [v] as number[], []);

function build(opType: string, sinceVersion: number, attrs: Record<string, AttrValue>, inputCount = 0) {
  const def = ops.find((o) => o.opType === opType)!;
  assert.ok(def.versions.includes(sinceVersion), `${opType} lists since-version ${sinceVersion}`);
  const node: NodeInfo = {
    name: 'n',
    opType,
    domain: '',
    opset: sinceVersion,
    sinceVersion,
    attrs: new Attributes(new Map(Object.entries(attrs)), 'test'),
    inputCount,
    outputCount: 1,
    inputPresent: new Array<boolean>(inputCount).fill(true),
    outputPresent: [true],
  };
  return def.build(node);
}
const one = (opType: string, v: number, attrs: Record<string, AttrValue>, inputs: Value[] = []) =>
  (build(opType, v, attrs, inputs.length)(inputs, heapRunContext) as Tensor[])[0];
const vals = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>);
const throwsOnyx = (fn: () => unknown, code: string, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof OnyxError && e.code === code && re.test(e.message));

test('Constant: every value attribute', () => {
  const t = new Tensor('float16', Uint16Array.of(0x3c00), [1]);
  assert.equal(one('Constant', 1, { value: { kind: 'tensor', value: t } }), t);
  assert.equal(one('Constant', 11, { sparse_value: { kind: 'sparse_tensor', value: t } }), t);
  const f = one('Constant', 12, { value_float: { kind: 'float', value: 1.5 } });
  assert.deepEqual([f.type, f.dims, vals(f)], ['float32', [], [1.5]]);
  const fs = one('Constant', 13, { value_floats: { kind: 'floats', value: [1, 2] } });
  assert.deepEqual([fs.type, fs.dims, vals(fs)], ['float32', [2], [1, 2]]);
  const i = one('Constant', 19, { value_int: { kind: 'int', value: -3 } });
  assert.deepEqual([i.type, i.dims, vals(i)], ['int64', [], [-3n]]);
  const is = one('Constant', 21, { value_ints: { kind: 'ints', value: [4, 5] } });
  assert.deepEqual([is.type, is.dims, vals(is)], ['int64', [2], [4n, 5n]]);
  const s = one('Constant', 23, { value_string: { kind: 'string', value: 'hé', bytes: new Uint8Array() } });
  assert.deepEqual([s.type, s.dims, vals(s)], ['string', [], ['hé']]);
  const ss = one('Constant', 25, { value_strings: { kind: 'strings', value: ['a', ''] } });
  assert.deepEqual([ss.type, ss.dims, vals(ss)], ['string', [2], ['a', '']]);
});

test('Constant: needs exactly one value attribute of the right kind', () => {
  throwsOnyx(() => build('Constant', 13, {}), 'INVALID_MODEL', /none is set/);
  throwsOnyx(
    () =>
      build('Constant', 13, {
        value_int: { kind: 'int', value: 1 },
        value_float: { kind: 'float', value: 1 },
      }),
    'INVALID_MODEL',
    /value_float, value_int/,
  );
  throwsOnyx(
    () => build('Constant', 13, { value_int: { kind: 'float', value: 1 } }),
    'INVALID_MODEL',
    /an int/,
  );
});

test('ConstantOfShape: default float 0, typed values, scalar and empty shapes', () => {
  const d = one('ConstantOfShape', 9, {}, [i64(2, 3)]);
  assert.deepEqual([d.type, d.dims, vals(d)], ['float32', [2, 3], [0, 0, 0, 0, 0, 0]]);
  const v = { kind: 'tensor', value: new Tensor('int64', [7n], [1]) } as const;
  const i = one('ConstantOfShape', 20, { value: v }, [i64()]);
  assert.deepEqual([i.type, i.dims, vals(i)], ['int64', [], [7n]]);
  assert.deepEqual(one('ConstantOfShape', 21, { value: v }, [i64(3, 0)]).dims, [3, 0]);
  const c = { kind: 'tensor', value: new Tensor('complex64', Float32Array.of(1, 2), [1]) } as const;
  assert.deepEqual(vals(one('ConstantOfShape', 25, { value: c }, [i64(2)])), [1, 2, 1, 2]);
  const b = { kind: 'tensor', value: new Tensor('bfloat16', Uint16Array.of(0x3f80), [1]) } as const;
  assert.deepEqual(vals(one('ConstantOfShape', 24, { value: b }, [i64(2)])), [0x3f80, 0x3f80]);
  throwsOnyx(() => one('ConstantOfShape', 9, {}, [i64(-1)]), 'INVALID_MODEL', /negative/);
  const two = { kind: 'tensor', value: new Tensor('float32', [1, 2], [2]) } as const;
  throwsOnyx(() => build('ConstantOfShape', 9, { value: two }), 'INVALID_MODEL', /one-element/);
});

test('Range: every numeric type, negative and empty ranges, exact int64', () => {
  const r = (type: Tensor['type'], s: number, l: number, d: number) =>
    one('Range', 11, {}, [scalar(type, s), scalar(type, l), scalar(type, d)]);
  assert.deepEqual(vals(r('int32', 10, 4, -3)), [10, 7]);
  assert.deepEqual(vals(r('int16', 0, 3, 1)), [0, 1, 2]);
  assert.deepEqual(vals(r('float32', 1, 2, 0.25)), [1, 1.25, 1.5, 1.75]);
  assert.deepEqual(vals(r('float64', 0, -1, 0.5)), []);
  assert.deepEqual(r('float64', 5, 1, 1).dims, [0]);
  const big = 2n ** 60n;
  const i = one('Range', 11, {}, [
    new Tensor('int64', [big], []),
    new Tensor('int64', [big + 7n], []),
    new Tensor('int64', [3n], []),
  ]);
  assert.deepEqual(vals(i), [big, big + 3n, big + 6n]);
  const h = one('Range', 11, {}, [
    new Tensor('float16', Uint16Array.of(0x3c00), []), // 1
    new Tensor('float16', Uint16Array.of(0x4200), []), // 3
    new Tensor('float16', Uint16Array.of(0x3c00), []), // 1
  ]);
  assert.deepEqual([h.type, vals(h)], ['float16', [0x3c00, 0x4000]]);
  throwsOnyx(() => r('int32', 0, 3, 0), 'INVALID_ARGUMENT', /delta must not be 0/);
  throwsOnyx(
    () => one('Range', 11, {}, [scalar('int32', 0), scalar('int64', 3), scalar('int32', 1)]),
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
