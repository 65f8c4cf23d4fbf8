// The float32 fast paths of Sum, Relu, Sigmoid and Tanh against the generic elementwise path they bypass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { ops as activationOps } from './activations.js';
import { ops as arithmeticOps } from './arithmetic.js';
import { randomFloats, runOp1 } from './util/op-test-kit.js';

const f32 = (data: Float32Array, dims: number[]) => new Tensor('float32', data, dims);
const f64 = (t: Tensor) => new Tensor('float64', Float64Array.from(t.data as Float32Array), t.dims);

describe('float32 fast paths', () => {
  it('Sum of same-shape float32 tensors rounds each step like the generic fold', async () => {
    for (const n of [1, 7, 1000]) {
      const [a, b, c] = [1, 2, 3].map((s) => randomFloats(n, s).map((v) => v * 1e3));
      const xs = [a, b, c].map((d) => f32(d, [n]));
      const y = await runOp1(arithmeticOps, 'Sum', xs);
      const want = a.map((v, i) => Math.fround(Math.fround(v + b[i]) + c[i]));
      assert.deepEqual([...(y.data as Float32Array)], [...want]);
      // Broadcasting still goes the generic way.
      const bc = await runOp1(arithmeticOps, 'Sum', [xs[0], f32(Float32Array.of(2), [1])]);
      assert.deepEqual([...(bc.data as Float32Array)], [...a.map((v) => Math.fround(v + 2))]);
    }
  });

  it('Relu on float32 matches the generic path (NaN, -0, infinities)', async () => {
    const x = f32(
      Float32Array.from([NaN, -0, 0, -1, 2.5, -Infinity, Infinity, ...randomFloats(33, 4)]),
      [40],
    );
    const fast = await runOp1(activationOps, 'Relu', [x]);
    const generic = await runOp1(activationOps, 'Relu', [f64(x)]);
    assert.equal(fast.type, 'float32');
    assert.deepEqual([...(fast.data as Float32Array)], [...(generic.data as Float64Array)]);
    assert.ok(Object.is(fast.data[1], -0));
  });

  it('Sigmoid and Tanh on float32 (WASM in fast mode) stay within a few ulp of Math', async () => {
    // Every length mod 4 (the vector tail), tiny values (tanh ≈ x), saturation and NaN.
    for (const n of [1, 2, 3, 4, 9]) {
      const x = f32(
        Float32Array.from({ length: n }, (_, i) => [1e-7, -3e-4, 0.7, -2.5, 12, -40, 100][i % 7]),
        [n],
      );
      for (const [op, ref] of [
        ['Sigmoid', (v: number) => 1 / (1 + Math.exp(-v))],
        ['Tanh', Math.tanh],
      ] as const) {
        const y = (await runOp1(activationOps, op, [x])).data as Float32Array;
        x.data.forEach((v, i) => {
          const want = ref(v as number);
          assert.ok(
            Math.abs(y[i] - want) <= 4e-7 * Math.abs(want) + 1e-30,
            `${op}(${v}) = ${y[i]}, want ${want}`,
          );
        });
      }
    }
    const nan = await runOp1(activationOps, 'Tanh', [f32(Float32Array.of(NaN, 1), [2])]);
    assert.ok(Number.isNaN(nan.data[0]));
  });
});
