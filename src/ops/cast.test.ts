import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { TensorType } from '../core/dtype.js';
import { bitCastTensor, castTensor, ops, parseNumber } from './cast.js';
import { bindOps, t } from './util/op-test-kit.js';

const { run1: run } = bindOps(ops, { opset: 25 });

const cast = (x: Tensor, to: TensorType) => Array.from(castTensor(x, to).data as ArrayLike<unknown>);

describe('Cast to string (numpy formatting)', () => {
  it('float32', () => {
    const x = t('float32', [1e8, 0.1, 1.5, -0, NaN, Infinity, -Infinity, 123456789, 999999, 1e-5, 3]);
    assert.deepEqual(cast(x, 'string'), [
      '1e+08',
      '0.1',
      '1.5',
      '-0.0',
      'nan',
      'inf',
      '-inf',
      '1.2345679e+08',
      '999999.0',
      '1e-05',
      '3.0',
    ]);
  });
  it('float64, float16, integers, bool', () => {
    assert.deepEqual(cast(t('float64', [1e8, 1 / 3, 1e16, 0.0001]), 'string'), [
      '100000000.0',
      '0.3333333333333333',
      '1e+16',
      '0.0001',
    ]);
    assert.deepEqual(cast(castTensor(t('float32', [999, 1000, 0.1]), 'float16'), 'string'), [
      '999.0',
      '1e+03',
      '0.1',
    ]);
    assert.deepEqual(cast(t('int64', [-(2n ** 63n), 5n]), 'string'), ['-9223372036854775808', '5']);
    assert.deepEqual(cast(t('uint8', [255]), 'string'), ['255']);
    assert.deepEqual(cast(t('bool', [1, 0]), 'string'), ['True', 'False']);
  });
});

describe('Cast from string', () => {
  it('parses plain, scientific and special literals', () => {
    const x = t('string', [' 3.5 ', '1E8', '-INF', 'NaN', '+inf', 'Infinity', '1e-5', '.5']);
    const got = cast(x, 'float64') as number[];
    assert.deepEqual(got.slice(0, 3), [3.5, 1e8, -Infinity]);
    assert.ok(Number.isNaN(got[3]), 'Number.isNaN(got[3])');
    assert.deepEqual(got.slice(4), [Infinity, Infinity, 1e-5, 0.5]);
  });
  it('integers: exact for integer literals, truncated for decimals', () => {
    assert.deepEqual(cast(t('string', ['100.5', '-7', '1e3']), 'int32'), [100, -7, 1000]);
    assert.deepEqual(cast(t('string', ['9007199254740993', '-9223372036854775808']), 'int64'), [
      9007199254740993n,
      -(2n ** 63n),
    ]);
    assert.deepEqual(cast(t('string', ['18446744073709551615']), 'uint64'), [2n ** 64n - 1n]);
  });
  it('bool accepts true/false words and numbers', () => {
    assert.deepEqual(cast(t('string', ['true', 'FALSE', '0', '2.5']), 'bool'), [1, 0, 0, 1]);
  });
  it('rejects non-numeric strings with a clear error', () => {
    assert.throws(
      () => castTensor(t('string', ['Hello World!']), 'float32'),
      (e: unknown) => e instanceof OnyxError && /cannot cast string "Hello World!"/.test(e.message),
    );
    assert.throws(() => parseNumber('0x10'), OnyxError);
  });
});

describe('Cast between numeric types', () => {
  it('float → integer truncates and wraps like a C cast on x86-64', () => {
    const x = t('float32', [300, -1.9, 2.5e9, NaN, -Infinity]);
    assert.deepEqual(cast(x, 'int8'), [44, -1, 0, 0, 0]);
    assert.deepEqual(cast(x, 'int32'), [300, -1, -2147483648, -2147483648, -2147483648]);
    assert.deepEqual(cast(t('float64', [-1, 5e9]), 'uint32'), [4294967295, 705032704]);
    assert.deepEqual(cast(t('float64', [-1, 2 ** 63, 1e30]), 'uint64'), [
      2n ** 64n - 1n,
      2n ** 63n,
      2n ** 63n,
    ]);
    assert.deepEqual(cast(t('float64', [1e19, -3.9, NaN]), 'int64'), [-(2n ** 63n), -3n, -(2n ** 63n)]);
  });
  it('sub-byte integers wrap', () => {
    assert.deepEqual(cast(t('int32', [9, -9, 7, 16]), 'int4'), [-7, 7, 7, 0]);
    assert.deepEqual(cast(t('int32', [5, -1]), 'uint2'), [1, 3]);
    assert.deepEqual(cast(t('float32', [-3, 2]), 'int2'), [1, -2]);
    assert.deepEqual(cast(t('int64', [17n]), 'uint4'), [1]);
  });
  it('integer narrowing wraps, bool is x != 0', () => {
    assert.deepEqual(cast(t('int64', [2n ** 40n + 3n, -1n]), 'int32'), [3, -1]);
    assert.deepEqual(cast(t('int64', [-1n]), 'uint64'), [2n ** 64n - 1n]);
    assert.deepEqual(cast(t('uint64', [2n ** 64n - 1n]), 'int64'), [-1n]);
    assert.deepEqual(cast(t('float32', [0, -0, NaN, 0.1]), 'bool'), [0, 0, 1, 1]);
    assert.deepEqual(cast(t('int64', [0n, 7n]), 'bool'), [0, 1]);
  });
  it('int64 → float32 rounds once (no double rounding through float64)', () => {
    // 2^53 + 2^29 + 1 is just above the float32 tie between 2^53 and 2^53 + 2^30.
    const v = 2n ** 53n + 2n ** 29n + 1n;
    assert.deepEqual(cast(t('int64', [v, 16777217n]), 'float32'), [2 ** 53 + 2 ** 30, 16777216]);
    assert.deepEqual(cast(t('int64', [2n ** 63n - 1n]), 'float64'), [2 ** 63]);
  });
  it('float8 saturate and e8m0 round_mode attributes', async () => {
    const x = t('float32', [1000, -1000, Infinity]);
    assert.deepEqual(Array.from((await run('Cast', [x], { to: 17 })).data as Uint8Array), [0x7e, 0xfe, 0x7e]);
    assert.deepEqual(
      Array.from((await run('Cast', [x], { to: 17, saturate: 0 })).data as Uint8Array),
      [0x7f, 0xff, 0x7f],
    );
    const y = t('float32', [3, 0.75]);
    const e8 = async (mode: string) =>
      Array.from((await run('Cast', [y], { to: 24, round_mode: mode })).data as Uint8Array);
    assert.deepEqual(await e8('up'), [129, 127]);
    assert.deepEqual(await e8('down'), [128, 126]);
    assert.deepEqual(await e8('nearest'), [129, 127]);
    await assert.rejects(run('Cast', [y], { to: 24, round_mode: 'sideways' }), /round_mode 'sideways'/);
  });
  it('float4e2m1: NaN → 0x8 (ONNX reference), overflow saturates', () => {
    assert.deepEqual(cast(t('float32', [NaN, 100, -0.25]), 'float4e2m1'), [0x8, 0x7, 0x8]);
  });
  it('same type shares the data; empty and rank-0 tensors work', () => {
    const x = t('float32', [1, 2]);
    assert.equal(castTensor(x, 'float32').data, x.data);
    assert.deepEqual(castTensor(t('float32', [], [0, 3]), 'int64').dims, [0, 3]);
    assert.deepEqual(cast(new Tensor('float64', [2.5], []), 'float16'), [0x4100]);
  });
  it('rejects complex types', () => {
    assert.throws(() => castTensor(t('float32', [1]), 'complex64'), /not supported/);
  });
});

describe('Cast attributes and versions', () => {
  it('Cast-1 takes `to` as a type name', async () => {
    const y = await run('Cast', [t('int32', [3])], { to: 'FLOAT' }, 1);
    assert.equal(y.type, 'float32');
  });
  it('unknown or missing `to` is an INVALID_MODEL error', async () => {
    await assert.rejects(run('Cast', [t('int32', [3])], { to: 99 }), /99 is not a known ONNX data type/);
    await assert.rejects(run('Cast', [t('int32', [3])], {}), /needs the attribute 'to'/);
  });
  it('CastLike takes the type of its second input', async () => {
    const y = await run('CastLike', [t('float32', [1.7, -2.2]), t('int8', [0])], {}, 15);
    assert.equal(y.type, 'int8');
    assert.deepEqual(Array.from(y.data as Int8Array), [1, -2]);
  });
});

describe('BitCast', () => {
  it('reinterprets bits of equal width', async () => {
    const y = await run('BitCast', [t('float32', [1, -2])], { to: 6 }, 26);
    assert.deepEqual(Array.from(y.data as Int32Array), [1065353216, -1073741824]);
    assert.deepEqual(Array.from(bitCastTensor(t('int16', [-1]), 'float16').data as Uint16Array), [0xffff]);
    assert.deepEqual(
      Array.from(bitCastTensor(t('uint16', [0x3c00]), 'bfloat16').data as Uint16Array),
      [0x3c00],
    );
    assert.deepEqual(Array.from(bitCastTensor(t('float64', [1]), 'uint64').data as BigUint64Array), [
      0x3ff0000000000000n,
    ]);
    assert.deepEqual(
      Array.from(bitCastTensor(t('int64', [0x3ff0000000000000n]), 'complex64').data as Float32Array),
      [0, 1.875],
    );
  });
  it('sub-byte types: masks and sign-extends', () => {
    assert.deepEqual(
      Array.from(bitCastTensor(t('int4', [-8, -1, 3]), 'uint4').data as Uint8Array),
      [8, 15, 3],
    );
    assert.deepEqual(Array.from(bitCastTensor(t('uint4', [8, 15]), 'int4').data as Int8Array), [-8, -1]);
    assert.deepEqual(Array.from(bitCastTensor(t('uint4', [0xf]), 'float4e2m1').data as Uint8Array), [0xf]);
    assert.deepEqual(Array.from(bitCastTensor(t('uint2', [3]), 'int2').data as Int8Array), [-1]);
  });
  it('normalizes bool and keeps the shape', () => {
    const y = bitCastTensor(t('uint8', [0, 2, 1, 0], [2, 2]), 'bool');
    assert.deepEqual(Array.from(y.data as Uint8Array), [0, 1, 1, 0]);
    assert.deepEqual(y.dims, [2, 2]);
  });
  it('rejects different widths and strings', () => {
    assert.throws(
      () => bitCastTensor(t('float32', [1]), 'float64'),
      /same bit width: float has 32 bits, double has 64/,
    );
    assert.throws(() => bitCastTensor(t('string', ['a']), 'uint8'), /does not support string/);
  });
});
