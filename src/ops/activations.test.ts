import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMinifloats, encodeMinifloats } from '../core/float-formats.js';
import { Tensor } from '../core/tensor.js';
import { ops } from './activations.js';
import {
  assertNear,
  assertVersionsSorted,
  bindOps,
  t,
  throwsOnyx,
  vals as values,
} from './util/op-test-kit.js';
import { setKernelMode } from './util/dispatch.js';
import { MT19937 } from './util/mt19937.js';

const { runSync: run, run1Sync: one } = bindOps(ops);
const close = (actual: ArrayLike<number>, expected: number[], tol = 1e-6) =>
  assertNear(actual, expected, tol);

test('every op lists sorted, unique since-versions', () => assertVersionsSorted(ops));

test('pointwise activations with attributes and defaults', () => {
  const x = t('float64', [-2, -0.5, 0, 0.5, 2]);
  assert.deepEqual(values(one('Relu', [x], {}, 14)), [0, 0, 0, 0.5, 2]);
  assert.deepEqual(values(one('LeakyRelu', [x], { alpha: { float: 0.5 } }, 16)), [-1, -0.25, 0, 0.5, 2]);
  close(values(one('Elu', [x], {}, 22)) as number[], [Math.exp(-2) - 1, Math.exp(-0.5) - 1, 0, 0.5, 2]);
  close(values(one('Celu', [x], { alpha: { float: 2 } }, 12)) as number[], [
    2 * (Math.exp(-1) - 1),
    2 * (Math.exp(-0.25) - 1),
    0,
    0.5,
    2,
  ]);
  close(values(one('HardSigmoid', [x], {}, 22)) as number[], [0.1, 0.4, 0.5, 0.6, 0.9]);
  close(values(one('HardSwish', [t('float64', [-4, 1, 4])], {}, 22)) as number[], [0, 1 * (1 / 6 + 0.5), 4]);
  close(values(one('ThresholdedRelu', [x], { alpha: { float: 0.5 } }, 22)) as number[], [0, 0, 0, 0, 2]);
  close(
    values(one('Shrink', [x], { lambd: { float: 1 }, bias: { float: 0.5 } }, 9)) as number[],
    [-1.5, 0, 0, 0, 1.5],
  );
  close(values(one('Softsign', [x], {}, 22)) as number[], [-2 / 3, -1 / 3, 0, 1 / 3, 2 / 3]);
  close(values(one('Sigmoid', [t('float64', [-800, 0, 800])], {}, 13)) as number[], [0, 0.5, 1]);
  close(values(one('Softplus', [t('float64', [-800, 0, 800])], {}, 22)) as number[], [0, Math.LN2, 800]);
  close(values(one('Swish', [t('float64', [1])], { alpha: { float: 2 } }, 24)) as number[], [
    1 / (1 + Math.exp(-2)),
  ]);
  close(values(one('Mish', [t('float64', [1])], {}, 22)) as number[], [Math.tanh(Math.log1p(Math.E))]);
  close(values(one('Gelu', [t('float64', [1])], {}, 20)) as number[], [0.8413447460685429]);
  close(
    values(one('Gelu', [t('float64', [1])], { approximate: 'tanh' }, 20)) as number[],
    [0.8411919906082768],
  );
  throwsOnyx(() => one('Gelu', [x], { approximate: 'fast' }, 20), 'INVALID_MODEL', /none.*tanh/);
  throwsOnyx(
    () => one('Sigmoid', [t('int32', [1])], {}, 13),
    'TYPE_MISMATCH',
    /Sigmoid does not accept int32/,
  );
  // NaN passes through Relu; empty tensors keep their shape
  assert.ok(
    Number.isNaN(values(one('Relu', [t('float32', [NaN])], {}, 14))[0] as number),
    "Number.isNaN(values(one('Relu', [t('float32', [NaN])], {}, 14))[0] as number)",
  );
  assert.deepEqual(one('Tanh', [t('float32', [], [0, 4])], {}, 13).dims, [0, 4]);
});

test('Relu-14 and Shrink take integers; float16 is rounded on store', () => {
  assert.deepEqual(values(one('Relu', [t('int8', [-5, 5])], {}, 14)), [0, 5]);
  assert.deepEqual(values(one('Relu', [t('int64', [-5n, 5n])], {}, 14)), [0n, 5n]);
  assert.deepEqual(
    values(one('Shrink', [t('int32', [-3, 1, 3])], { lambd: { float: 1.5 }, bias: { float: 1.5 } }, 9)),
    [-1, 0, 1],
  );
  const h = one('Sigmoid', [new Tensor('float16', encodeMinifloats('float16', [0, 1]), [2])], {}, 13);
  assert.equal(h.type, 'float16');
  close(decodeMinifloats('float16', h.data as Uint16Array), [0.5, 0.7310586], 1e-3);
});

test('SwiGLU = Swish(A)·B, same shapes only', () => {
  const a = t('float32', [1, -1]);
  const b = t('float32', [2, 3]);
  close(values(one('SwiGLU', [a, b], { alpha: { float: 0.5 } }, 28)) as number[], [
    2 / (1 + Math.exp(-0.5)),
    -3 / (1 + Math.exp(0.5)),
  ]);
  throwsOnyx(() => one('SwiGLU', [a, t('float32', [1], [])], {}, 28), 'SHAPE_MISMATCH', /same shape/);
});

test('PRelu broadcasts the slope onto X only', () => {
  const x = t('float32', [-1, 2, -3, 4, -5, 6], [2, 3]);
  assert.deepEqual(
    values(one('PRelu', [x, t('float32', [10, 20, 30], [3])], {}, 16)),
    [-10, 2, -90, 4, -100, 6],
  );
  assert.deepEqual(values(one('PRelu', [x, t('float32', [2], [])], {}, 16)), [-2, 2, -6, 4, -10, 6]);
  throwsOnyx(
    () => one('PRelu', [t('float32', [-1], [1]), t('float32', [1, 2], [2])], {}, 16),
    'SHAPE_MISMATCH',
    /slope/,
  );
  assert.deepEqual(values(one('PRelu', [t('int64', [-2n, 3n]), t('int64', [5n], [1])], {}, 16)), [-10n, 3n]);
  // opset 6: a 1-D slope of length C applies per channel of N×C×H (opset 16 aligns it to the last dim)
  const x3 = t('float32', [-1, -1, -1, -1], [1, 2, 2]);
  assert.deepEqual(values(one('PRelu', [x3, t('float32', [1, 2], [2])], {}, 6)), [-1, -1, -2, -2]);
  assert.deepEqual(values(one('PRelu', [x3, t('float32', [1, 2], [2])], {}, 16)), [-1, -2, -1, -2]);
  const x4 = t('float32', [-1, -1, -1, -1, -1, -1], [1, 2, 3]);
  assert.deepEqual(values(one('PRelu', [x4, t('float32', [1, 2], [2])], {}, 6)), [-1, -1, -1, -2, -2, -2]);
});

test('Softmax family: opset 13 works along one axis, earlier opsets coerce to 2-D', () => {
  const x = t('float64', [1, 2, 3, 4], [2, 2]);
  const e = (a: number, b: number) => Math.exp(a) / (Math.exp(a) + Math.exp(b));
  // axis 0 at opset 13: columns
  close(values(one('Softmax', [x], { axis: 0 }, 13)) as number[], [e(1, 3), e(2, 4), e(3, 1), e(4, 2)]);
  // axis 0 at opset 11: the whole tensor is one row
  const s = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4);
  close(
    values(one('Softmax', [x], { axis: 0 }, 11)) as number[],
    [1, 2, 3, 4].map((v) => Math.exp(v) / s),
  );
  // default axis: -1 at opset 13, 1 at opset 1 (same for a 2-D input)
  close(values(one('Softmax', [x], {}, 13)) as number[], values(one('Softmax', [x], {}, 1)) as number[]);
  close(
    values(one('LogSoftmax', [x], { axis: -1 }, 13)) as number[],
    [e(1, 2), e(2, 1), e(3, 4), e(4, 3)].map(Math.log),
  );
  // numerically safe for large inputs
  close(values(one('Softmax', [t('float32', [10000, 10001])], {}, 13)) as number[], [e(0, 1), e(1, 0)]);
  const y = t('float32', [3, 1, 3, 2, 5, 0, 0, 1], [2, 2, 2]);
  // Hardmax-13 axis 1: per (n, :, k) column; ties pick the first
  assert.deepEqual(values(one('Hardmax', [y], { axis: 1 }, 13)), [1, 0, 0, 1, 1, 0, 0, 1]);
  // Hardmax-11 axis 1: each n is one row of 4 values
  assert.deepEqual(values(one('Hardmax', [y], { axis: 1 }, 11)), [1, 0, 0, 0, 1, 0, 0, 0]);
  throwsOnyx(
    () => one('Softmax', [x], { axis: 2 }, 13),
    'INVALID_MODEL',
    /axis 2 is out of range for rank 2/,
  );
  assert.deepEqual(one('Softmax', [t('float32', [], [3, 0])], {}, 13).dims, [3, 0]);
});

test('Dropout: identity with a mask of ones at inference, seeded mask in training mode', () => {
  const x = t('float32', [1, 2, 3, 4, 5, 6, 7, 8]);
  const [y, mask] = run('Dropout', [x], { seed: 0 }, { opset: 13, outputCount: 2 }) as Tensor[];
  assert.equal(y, x);
  assert.equal(mask.type, 'bool');
  assert.deepEqual(values(mask), new Array(8).fill(1));
  // before opset 10 the mask has X's type
  assert.equal(
    (run('Dropout', [x], { ratio: { float: 0.3 } }, { opset: 7, outputCount: 2 })[1] as Tensor).type,
    'float32',
  );
  // training_mode false or ratio 0: identity
  assert.equal(one('Dropout', [x, t('float32', [0.5], []), t('bool', [0], [])], {}, 22), x);
  assert.equal(one('Dropout', [x, t('float32', [0], []), t('bool', [1], [])], {}, 22), x);
  // training: keep where RandomState(seed).uniform(0,1) >= ratio, scaled by 1/(1-ratio)
  const rng = new MT19937(3);
  const keep = Array.from({ length: 8 }, () => (rng.nextDouble() >= 0.5 ? 1 : 0));
  const [yt, mt] = run(
    'Dropout',
    [x, t('float32', [0.5], []), t('bool', [1], [])],
    { seed: 3 },
    { opset: 22, outputCount: 2 },
  ) as Tensor[];
  assert.deepEqual(values(mt), keep);
  assert.deepEqual(
    values(yt),
    keep.map((k, i) => (k ? (i + 1) * 2 : 0)),
  );
  throwsOnyx(
    () => one('Dropout', [x, t('float32', [1], []), t('bool', [1], [])], {}, 22),
    'INVALID_ARGUMENT',
    /ratio must be in \[0, 1\)/,
  );
  throwsOnyx(
    () => one('Dropout', [t('int32', [1])], {}, 22),
    'TYPE_MISMATCH',
    /Dropout does not accept int32/,
  );
});

test('Gelu/Softmax/LogSoftmax float32 loops match the generic (float64) path on random shapes', (t) => {
  // The TypeScript loops (reference mode); the WASM kernels are checked against them in
  // elementwise-fast.test.ts.
  const saved = setKernelMode('reference');
  t.after(() => setKernelMode(saved));
  const rng = new MT19937(1234);
  for (let trial = 0; trial < 20; trial++) {
    const rank = 1 + Math.floor(rng.nextDouble() * 4);
    const dims = Array.from({ length: rank }, () => 1 + Math.floor(rng.nextDouble() * 9));
    const n = dims.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => (rng.nextDouble() - 0.5) * 16);
    if (trial === 0) data.set([NaN, Infinity, -Infinity, -0, -12, 12].slice(0, n));
    const x32 = new Tensor('float32', data, dims);
    const x64 = new Tensor('float64', Float64Array.from(data), dims);
    // Gelu: erf via a one-exp erfc approximation (relative error < 1.2e-7); the generic 1 + erf
    // cancels in the far negative tail, hence the small absolute slack.
    for (const approximate of ['none', 'tanh']) {
      const fast = values(one('Gelu', [x32], { approximate }, 20)) as number[];
      const ref = values(one('Gelu', [x64], { approximate }, 20)) as number[];
      assert.equal(fast.length, ref.length);
      for (let i = 0; i < ref.length; i++) {
        const r = Math.fround(ref[i]);
        if (Number.isNaN(r)) assert.ok(Number.isNaN(fast[i]), `Gelu(${data[i]})`);
        else if (fast[i] !== r)
          assert.ok(
            Math.abs(fast[i] - r) <= 3e-7 * Math.abs(r) + 1e-12,
            `Gelu(${data[i]}): ${fast[i]} vs ${r}`,
          );
      }
    }
    // Softmax family: the same double arithmetic, so bit-identical once rounded.
    const axis = -1 - Math.floor(rng.nextDouble() * rank);
    for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) {
      for (const opset of [11, 13]) {
        const fast = one(op, [x32], { axis }, opset);
        assert.equal(fast.type, 'float32');
        assert.deepEqual(fast.dims, dims);
        const ref = (values(one(op, [x64], { axis }, opset)) as number[]).map(Math.fround);
        assert.deepEqual(values(fast), ref, `${op}-${opset} axis ${axis} dims [${dims}]`);
      }
    }
  }
});
