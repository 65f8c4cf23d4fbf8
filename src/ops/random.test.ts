import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { heapRunContext, type Kernel, type NodeInfo } from './kernel.js';
import { OpRegistry } from './registry.js';
import { Xoshiro128, ops, seedBits } from './random.js';
import { numbersOf } from './util/numeric.js';

const registry = new OpRegistry().register(...ops);
const int = (value: number): AttrValue => ({ kind: 'int', value });
const float = (value: number): AttrValue => ({ kind: 'float', value });
const ints = (value: number[]): AttrValue => ({ kind: 'ints', value });

function kernel(opType: string, attrs: Record<string, AttrValue> = {}, inputCount = 0, opset = 22): Kernel {
  const r = registry.resolve('', opType, opset)!;
  const node: NodeInfo = {
    name: 'n',
    opType,
    domain: '',
    opset,
    sinceVersion: r.sinceVersion,
    attrs: new Attributes(new Map(Object.entries(attrs)), 'n'),
    inputCount,
    outputCount: 1,
    inputPresent: new Array<boolean>(inputCount).fill(true),
    outputPresent: [true],
  };
  return r.def.build(node);
}

async function run(k: Kernel, inputs: Tensor[] = []): Promise<Tensor> {
  return ((await Promise.resolve(k(inputs, heapRunContext))) as Tensor[])[0];
}

const t = (type: TensorType, data: number[], dims?: number[]) =>
  new Tensor(type, data, dims ?? [data.length]);
const values = (x: Tensor) => Array.from(numbersOf(x));

function stats(v: number[]): { mean: number; variance: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
  return { mean, variance };
}

const N = 20000;

describe('Xoshiro128', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const g = new Xoshiro128(seed);
      return Array.from({ length: 5 }, () => g.nextUint32());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    assert.notEqual(seedBits(1), seedBits(2));
  });

  it('uniform() stays in [0, 1) with the right moments', () => {
    const g = new Xoshiro128(7);
    const v = Array.from({ length: N }, () => g.uniform());
    assert.ok(
      v.every((x) => x >= 0 && x < 1),
      'v.every((x) => x >= 0 && x < 1)',
    );
    const { mean, variance } = stats(v);
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / 12) < 0.005, `variance ${variance}`);
  });
});

describe('RandomUniform / RandomNormal', () => {
  it('same seed, fresh kernels: same values; the generator advances between runs', async () => {
    const attrs = { shape: ints([3, 4]), seed: float(5) };
    const a = values(await run(kernel('RandomUniform', attrs)));
    const k = kernel('RandomUniform', attrs);
    const b1 = values(await run(k));
    const b2 = values(await run(k));
    assert.deepEqual(a, b1);
    assert.notDeepEqual(b1, b2);
  });

  it('RandomUniform: shape, dtype and distribution over [low, high)', async () => {
    const y = await run(
      kernel('RandomUniform', {
        shape: ints([N]),
        low: float(2),
        high: float(5),
        dtype: int(11),
        seed: float(1),
      }),
    );
    assert.equal(y.type, 'float64');
    assert.deepEqual(y.dims, [N]);
    const v = values(y);
    assert.ok(
      v.every((x) => x >= 2 && x < 5),
      'v.every((x) => x >= 2 && x < 5)',
    );
    const { mean, variance } = stats(v);
    assert.ok(Math.abs(mean - 3.5) < 0.05, `mean ${mean}`);
    assert.ok(Math.abs(variance - 0.75) < 0.05, `variance ${variance}`);
  });

  it('RandomNormal: mean and scale', async () => {
    const y = await run(
      kernel('RandomNormal', {
        shape: ints([100, N / 100]),
        mean: float(1),
        scale: float(2),
        seed: float(3),
      }),
    );
    assert.equal(y.type, 'float32');
    const { mean, variance } = stats(values(y));
    assert.ok(Math.abs(mean - 1) < 0.1, `mean ${mean}`);
    assert.ok(Math.abs(variance - 4) < 0.25, `variance ${variance}`);
  });

  it('float16 output and rank-0 shape', async () => {
    const y = await run(kernel('RandomNormal', { shape: ints([]), dtype: int(10), seed: float(0) }));
    assert.equal(y.type, 'float16');
    assert.deepEqual(y.dims, []);
  });

  it('*Like take the input shape and type; a non-float input needs dtype', async () => {
    const x = t('float64', new Array(6).fill(0), [2, 3]);
    const y = await run(kernel('RandomNormalLike', { seed: float(1) }, 1), [x]);
    assert.equal(y.type, 'float64');
    assert.deepEqual(y.dims, [2, 3]);
    const u = await run(kernel('RandomUniformLike', { dtype: int(1), seed: float(1) }, 1), [
      t('int32', [1, 2]),
    ]);
    assert.equal(u.type, 'float32');
    await assert.rejects(
      run(kernel('RandomUniformLike', {}, 1), [t('int32', [1, 2])]),
      (e: unknown) =>
        e instanceof OnyxError && e.code === 'TYPE_MISMATCH' && /needs a float 'dtype'/.test(e.message),
    );
  });

  it('rejects a non-float dtype and high < low', () => {
    assert.throws(
      () => kernel('RandomUniform', { shape: ints([2]), dtype: int(6) }),
      /dtype 6 \(int32\) is not allowed/,
    );
    assert.throws(
      () => kernel('RandomUniform', { shape: ints([2]), low: float(1), high: float(0) }),
      /high \(0\) must be >= low/,
    );
  });
});

describe('Bernoulli', () => {
  it('frequency of ones matches p; p = 0 and p = 1 are exact', async () => {
    const p = t('float32', [...new Array(N).fill(0.3), 0, 1]);
    const y = values(await run(kernel('Bernoulli', { seed: float(9) }, 1), [p]));
    const ones = y.slice(0, N).reduce((a, b) => a + b, 0) / N;
    assert.ok(Math.abs(ones - 0.3) < 0.015, `frequency ${ones}`);
    assert.deepEqual(y.slice(N), [0, 1]);
  });

  it('dtype attribute (bool, double) keeps the input shape', async () => {
    const p = t('float64', [1, 0, 1, 0], [2, 2]);
    const b = await run(kernel('Bernoulli', { dtype: int(9) }, 1), [p]);
    assert.equal(b.type, 'bool');
    assert.deepEqual(b.dims, [2, 2]);
    assert.deepEqual(values(b), [1, 0, 1, 0]);
    const d = await run(kernel('Bernoulli', {}, 1, 15), [t('float32', [1])]);
    assert.equal(d.type, 'float32');
  });
});

describe('Multinomial', () => {
  it('samples classes with the softmax probabilities of each row', async () => {
    const logits = t('float32', [Math.log(0.2), Math.log(0.8), 0, -Infinity], [2, 2]);
    const y = await run(
      kernel('Multinomial', { sample_size: int(N / 2), seed: float(4), dtype: int(7) }, 1, 7),
      [logits],
    );
    assert.equal(y.type, 'int64');
    assert.deepEqual(y.dims, [2, N / 2]);
    const v = values(y);
    const row0 = v.slice(0, N / 2);
    const freq1 = row0.reduce((a, b) => a + b, 0) / row0.length;
    assert.ok(Math.abs(freq1 - 0.8) < 0.02, `frequency ${freq1}`);
    assert.ok(
      v.slice(N / 2).every((c) => c === 0),
      'a class of probability 0 is never drawn',
    );
  });

  it('rejects non-2-D input', async () => {
    await assert.rejects(
      run(kernel('Multinomial', {}, 1), [t('float32', [1, 2])]),
      /\[batch_size, class_size\]/,
    );
  });
});
