import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { decodeMinifloats, encodeMinifloats } from '../core/float-formats.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { ops } from './activations.js';
import { heapRunContext, type NodeInfo } from './kernel.js';
import { MT19937 } from './util/mt19937.js';

const int = (value: number): AttrValue => ({ kind: 'int', value });
const flt = (value: number): AttrValue => ({ kind: 'float', value });
const str = (value: string): AttrValue => ({ kind: 'string', value, bytes: new TextEncoder().encode(value) });

function run(
  opType: string,
  opset: number,
  attrs: Record<string, AttrValue>,
  inputs: (Value | undefined)[],
  outputCount = 1,
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
    outputCount,
    inputPresent: inputs.map((x) => x !== undefined),
    outputPresent: new Array<boolean>(outputCount).fill(true),
  };
  return def.build(node)(inputs, heapRunContext) as Value[];
}
const one = (...a: Parameters<typeof run>) => run(...a)[0] as Tensor;
const t = (type: TensorType, data: readonly (number | bigint)[], dims?: number[]) =>
  new Tensor(type, data as number[], dims ?? [data.length]);
const values = (x: Tensor) => Array.from(x.data as ArrayLike<number | bigint>);
const close = (actual: ArrayLike<number>, expected: number[], tol = 1e-6) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])),
      `[${i}] ${actual[i]} vs ${expected[i]}`,
    );
  }
};

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

test('pointwise activations with attributes and defaults', () => {
  const x = t('float64', [-2, -0.5, 0, 0.5, 2]);
  assert.deepEqual(values(one('Relu', 14, {}, [x])), [0, 0, 0, 0.5, 2]);
  assert.deepEqual(values(one('LeakyRelu', 16, { alpha: flt(0.5) }, [x])), [-1, -0.25, 0, 0.5, 2]);
  close(values(one('Elu', 22, {}, [x])) as number[], [Math.exp(-2) - 1, Math.exp(-0.5) - 1, 0, 0.5, 2]);
  close(values(one('Celu', 12, { alpha: flt(2) }, [x])) as number[], [
    2 * (Math.exp(-1) - 1),
    2 * (Math.exp(-0.25) - 1),
    0,
    0.5,
    2,
  ]);
  close(values(one('HardSigmoid', 22, {}, [x])) as number[], [0.1, 0.4, 0.5, 0.6, 0.9]);
  close(values(one('HardSwish', 22, {}, [t('float64', [-4, 1, 4])])) as number[], [0, 1 * (1 / 6 + 0.5), 4]);
  close(values(one('ThresholdedRelu', 22, { alpha: flt(0.5) }, [x])) as number[], [0, 0, 0, 0, 2]);
  close(values(one('Shrink', 9, { lambd: flt(1), bias: flt(0.5) }, [x])) as number[], [-1.5, 0, 0, 0, 1.5]);
  close(values(one('Softsign', 22, {}, [x])) as number[], [-2 / 3, -1 / 3, 0, 1 / 3, 2 / 3]);
  close(values(one('Sigmoid', 13, {}, [t('float64', [-800, 0, 800])])) as number[], [0, 0.5, 1]);
  close(values(one('Softplus', 22, {}, [t('float64', [-800, 0, 800])])) as number[], [0, Math.LN2, 800]);
  close(values(one('Swish', 24, { alpha: flt(2) }, [t('float64', [1])])) as number[], [
    1 / (1 + Math.exp(-2)),
  ]);
  close(values(one('Mish', 22, {}, [t('float64', [1])])) as number[], [Math.tanh(Math.log1p(Math.E))]);
  close(values(one('Gelu', 20, {}, [t('float64', [1])])) as number[], [0.8413447460685429]);
  close(
    values(one('Gelu', 20, { approximate: str('tanh') }, [t('float64', [1])])) as number[],
    [0.8411919906082768],
  );
  throwsOnyx(() => one('Gelu', 20, { approximate: str('fast') }, [x]), 'INVALID_MODEL', /none.*tanh/);
  throwsOnyx(
    () => one('Sigmoid', 13, {}, [t('int32', [1])]),
    'TYPE_MISMATCH',
    /Sigmoid does not accept int32/,
  );
  // NaN passes through Relu; empty tensors keep their shape
  assert.ok(Number.isNaN(values(one('Relu', 14, {}, [t('float32', [NaN])]))[0] as number));
  assert.deepEqual(one('Tanh', 13, {}, [t('float32', [], [0, 4])]).dims, [0, 4]);
});

test('Relu-14 and Shrink take integers; float16 is rounded on store', () => {
  assert.deepEqual(values(one('Relu', 14, {}, [t('int8', [-5, 5])])), [0, 5]);
  assert.deepEqual(values(one('Relu', 14, {}, [t('int64', [-5n, 5n])])), [0n, 5n]);
  assert.deepEqual(
    values(one('Shrink', 9, { lambd: flt(1.5), bias: flt(1.5) }, [t('int32', [-3, 1, 3])])),
    [-1, 0, 1],
  );
  const h = one('Sigmoid', 13, {}, [new Tensor('float16', encodeMinifloats('float16', [0, 1]), [2])]);
  assert.equal(h.type, 'float16');
  close(decodeMinifloats('float16', h.data as Uint16Array), [0.5, 0.7310586], 1e-3);
});

test('SwiGLU = Swish(A)·B, same shapes only', () => {
  const a = t('float32', [1, -1]);
  const b = t('float32', [2, 3]);
  close(values(one('SwiGLU', 28, { alpha: flt(0.5) }, [a, b])) as number[], [
    2 / (1 + Math.exp(-0.5)),
    -3 / (1 + Math.exp(0.5)),
  ]);
  throwsOnyx(() => one('SwiGLU', 28, {}, [a, t('float32', [1], [])]), 'SHAPE_MISMATCH', /same shape/);
});

test('PRelu broadcasts the slope onto X only', () => {
  const x = t('float32', [-1, 2, -3, 4, -5, 6], [2, 3]);
  assert.deepEqual(
    values(one('PRelu', 16, {}, [x, t('float32', [10, 20, 30], [3])])),
    [-10, 2, -90, 4, -100, 6],
  );
  assert.deepEqual(values(one('PRelu', 16, {}, [x, t('float32', [2], [])])), [-2, 2, -6, 4, -10, 6]);
  throwsOnyx(
    () => one('PRelu', 16, {}, [t('float32', [-1], [1]), t('float32', [1, 2], [2])]),
    'SHAPE_MISMATCH',
    /slope/,
  );
  assert.deepEqual(values(one('PRelu', 16, {}, [t('int64', [-2n, 3n]), t('int64', [5n], [1])])), [-10n, 3n]);
  // opset 6: a 1-D slope of length C applies per channel of N×C×H (opset 16 aligns it to the last dim)
  const x3 = t('float32', [-1, -1, -1, -1], [1, 2, 2]);
  assert.deepEqual(values(one('PRelu', 6, {}, [x3, t('float32', [1, 2], [2])])), [-1, -1, -2, -2]);
  assert.deepEqual(values(one('PRelu', 16, {}, [x3, t('float32', [1, 2], [2])])), [-1, -2, -1, -2]);
  const x4 = t('float32', [-1, -1, -1, -1, -1, -1], [1, 2, 3]);
  assert.deepEqual(values(one('PRelu', 6, {}, [x4, t('float32', [1, 2], [2])])), [-1, -1, -1, -2, -2, -2]);
});

test('Softmax family: opset 13 works along one axis, earlier opsets coerce to 2-D', () => {
  const x = t('float64', [1, 2, 3, 4], [2, 2]);
  const e = (a: number, b: number) => Math.exp(a) / (Math.exp(a) + Math.exp(b));
  // axis 0 at opset 13: columns
  close(values(one('Softmax', 13, { axis: int(0) }, [x])) as number[], [e(1, 3), e(2, 4), e(3, 1), e(4, 2)]);
  // axis 0 at opset 11: the whole tensor is one row
  const s = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4);
  close(
    values(one('Softmax', 11, { axis: int(0) }, [x])) as number[],
    [1, 2, 3, 4].map((v) => Math.exp(v) / s),
  );
  // default axis: -1 at opset 13, 1 at opset 1 (same for a 2-D input)
  close(values(one('Softmax', 13, {}, [x])) as number[], values(one('Softmax', 1, {}, [x])) as number[]);
  close(
    values(one('LogSoftmax', 13, { axis: int(-1) }, [x])) as number[],
    [e(1, 2), e(2, 1), e(3, 4), e(4, 3)].map(Math.log),
  );
  // numerically safe for large inputs
  close(values(one('Softmax', 13, {}, [t('float32', [10000, 10001])])) as number[], [e(0, 1), e(1, 0)]);
  const y = t('float32', [3, 1, 3, 2, 5, 0, 0, 1], [2, 2, 2]);
  // Hardmax-13 axis 1: per (n, :, k) column; ties pick the first
  assert.deepEqual(values(one('Hardmax', 13, { axis: int(1) }, [y])), [1, 0, 0, 1, 1, 0, 0, 1]);
  // Hardmax-11 axis 1: each n is one row of 4 values
  assert.deepEqual(values(one('Hardmax', 11, { axis: int(1) }, [y])), [1, 0, 0, 0, 1, 0, 0, 0]);
  throwsOnyx(
    () => one('Softmax', 13, { axis: int(2) }, [x]),
    'INVALID_MODEL',
    /axis 2 is out of range for rank 2/,
  );
  assert.deepEqual(one('Softmax', 13, {}, [t('float32', [], [3, 0])]).dims, [3, 0]);
});

test('Dropout: identity with a mask of ones at inference, seeded mask in training mode', () => {
  const x = t('float32', [1, 2, 3, 4, 5, 6, 7, 8]);
  const [y, mask] = run('Dropout', 13, { seed: int(0) }, [x], 2) as Tensor[];
  assert.equal(y, x);
  assert.equal(mask.type, 'bool');
  assert.deepEqual(values(mask), new Array(8).fill(1));
  // before opset 10 the mask has X's type
  assert.equal((run('Dropout', 7, { ratio: flt(0.3) }, [x], 2)[1] as Tensor).type, 'float32');
  // training_mode false or ratio 0: identity
  assert.equal(one('Dropout', 22, {}, [x, t('float32', [0.5], []), t('bool', [0], [])]), x);
  assert.equal(one('Dropout', 22, {}, [x, t('float32', [0], []), t('bool', [1], [])]), x);
  // training: keep where RandomState(seed).uniform(0,1) >= ratio, scaled by 1/(1-ratio)
  const rng = new MT19937(3);
  const keep = Array.from({ length: 8 }, () => (rng.nextDouble() >= 0.5 ? 1 : 0));
  const [yt, mt] = run(
    'Dropout',
    22,
    { seed: int(3) },
    [x, t('float32', [0.5], []), t('bool', [1], [])],
    2,
  ) as Tensor[];
  assert.deepEqual(values(mt), keep);
  assert.deepEqual(
    values(yt),
    keep.map((k, i) => (k ? (i + 1) * 2 : 0)),
  );
  throwsOnyx(
    () => one('Dropout', 22, {}, [x, t('float32', [1], []), t('bool', [1], [])]),
    'INVALID_ARGUMENT',
    /ratio must be in \[0, 1\)/,
  );
  throwsOnyx(
    () => one('Dropout', 22, {}, [t('int32', [1])]),
    'TYPE_MISMATCH',
    /Dropout does not accept int32/,
  );
});
