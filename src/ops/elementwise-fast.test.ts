// The float32 fast paths of Sum, Relu, Sigmoid, Tanh, Gelu, Softmax, BatchNormalization, the four
// arithmetic ops, LayerNormalization and LRN against the paths they bypass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { geluErfFloat32, geluTanhFloat32, ops as activationOps, softmaxRowsFloat32 } from './activations.js';
import { ops as arithmeticOps } from './arithmetic.js';
import { ops as normalizationOps } from './normalization.js';
import { setKernelMode } from './util/dispatch.js';
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
    assert.ok(Object.is(fast.data[1], -0), 'Object.is(fast.data[1], -0)');
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
    // A sweep across exp's range reduction (n = round(x·log2 e) from −126 to 127) and its clamps;
    // NaN stays NaN through the clamps, infinities saturate.
    const sweep = Float32Array.from({ length: 701 }, (_, i) => -175 + i * 0.5 + 0.123);
    for (const [op, ref] of [
      ['Sigmoid', (v: number) => 1 / (1 + Math.exp(-v))],
      ['Tanh', Math.tanh],
    ] as const) {
      const y = (await runOp1(activationOps, op, [f32(sweep, [sweep.length])])).data as Float32Array;
      sweep.forEach((v, i) => {
        const want = ref(v);
        assert.ok(
          Math.abs(y[i] - want) <= 4e-7 * Math.abs(want) + 1e-37,
          `${op}(${v}) = ${y[i]}, want ${want}`,
        );
      });
      const special = Float32Array.of(NaN, -Infinity, Infinity, 1);
      const s = (await runOp1(activationOps, op, [f32(special, [4])])).data as Float32Array;
      assert.ok(Number.isNaN(s[0]), `${op}(NaN) = ${s[0]}`);
      // Within the same few ulp at the clamps: Sigmoid(−∞) = 1 / (1 + e^88.38) ≈ 4e-39; tanh's
      // rational function gives ±(1 − 2⁻²²) at ±7.905 (Eigen's clamp) and beyond.
      const low = op === 'Sigmoid' ? 0 : -1;
      const near = (v: number, want: number) => Math.abs(v - want) <= 4e-7 * Math.abs(want) + 1e-37;
      assert.ok(near(s[1], low) && near(s[2], 1), `${op}(±Infinity) = ${s[1]}, ${s[2]}`);
    }
  });

  it('Gelu (both forms) and Softmax on float32 (WASM in fast mode) agree with the float64 loops', async () => {
    const data = Float32Array.from([...randomFloats(37, 9).map((v) => v * 12), -30, 30, 0, -0, 1e-8]);
    for (const approximate of ['none', 'tanh']) {
      const want = new Float32Array(data.length);
      (approximate === 'none' ? geluErfFloat32 : geluTanhFloat32)(data, want);
      const y = await runOp1(activationOps, 'Gelu', [f32(data, [data.length])], { approximate });
      (y.data as Float32Array).forEach((v, i) => {
        // float32 exp of −z² in the far negative tail: relative error grows with z² (1e-5 at x = −12).
        assert.ok(
          Math.abs(v - want[i]) <= 2e-5 * Math.abs(want[i]) + 1e-30,
          `Gelu ${approximate} at ${data[i]}`,
        );
      });
    }
    // Rows of every length mod 4, a large spread (float32 exp of x − max ≈ −50 is good to ~3e-6
    // relative), and a row with a NaN (all NaN, as the loop gives).
    for (const len of [1, 3, 4, 6, 9]) {
      const x = Float32Array.from(randomFloats(3 * len, len).map((v) => v * 40));
      if (len === 6) x[7] = NaN;
      const want = softmaxRowsFloat32('softmax', x, len);
      const y = (await runOp1(activationOps, 'Softmax', [f32(x, [3, len])])).data as Float32Array;
      y.forEach((v, i) => {
        const ok = Object.is(v, want[i]) || Math.abs(v - want[i]) <= 5e-6 * Math.abs(want[i]) + 1e-30;
        assert.ok(ok, `Softmax len ${len} at ${i}: ${v} vs ${want[i]}`);
      });
    }
  });

  it('BatchNormalization on float32 (WASM per-channel affine in fast mode) is bit-identical to the reference loop', async () => {
    // Spatial sizes of every length mod 4, one and several images, one channel and many.
    for (const dims of [
      [1, 1, 1],
      [2, 3, 5],
      [1, 4, 3, 3],
      [3, 2, 2, 7],
      [1, 5, 16],
    ]) {
      const C = dims[1];
      const n = dims.reduce((a, b) => a * b, 1);
      const x = f32(Float32Array.from([...randomFloats(n, n).map((v) => v * 50)]), dims);
      x.data[0] = NaN;
      const params = [7, 8, 9, 10].map((seed, i) =>
        f32(
          randomFloats(C, seed).map((v) => (i === 3 ? 0.1 + Math.abs(v) : v * 3)),
          [C],
        ),
      );
      const fast = (await runOp1(normalizationOps, 'BatchNormalization', [x, ...params]))
        .data as Float32Array;
      const saved = setKernelMode('reference');
      let want: Float32Array;
      try {
        want = (await runOp1(normalizationOps, 'BatchNormalization', [x, ...params])).data as Float32Array;
      } finally {
        setKernelMode(saved);
      }
      assert.ok(Number.isNaN(fast[0]), 'Number.isNaN(fast[0])');
      // float64 arithmetic rounded once on both paths: bit-identical.
      assert.deepEqual([...fast.subarray(1)], [...want.subarray(1)], `dims [${dims}]`);
    }
  });

  it('Add, Sub, Mul, Div on float32 (WASM in fast mode for up to two coalesced axes) are bit-identical to the generic path', async () => {
    // Same shapes, a bias along the last axis (either side), per-channel, scalar; odd run lengths;
    // and a three-axis broadcast that stays in TypeScript. At least 1024 outputs (the WASM cut-off).
    const cases: [number[], number[]][] = [
      [
        [3, 7, 53],
        [3, 7, 53],
      ],
      [[33, 65], [65]],
      [[65], [33, 65]],
      [
        [1, 5, 15, 15],
        [1, 5, 1, 1],
      ],
      [[2, 1031], [1]],
      [[1], [1031]],
      [
        [4, 1, 300],
        [4, 5, 1],
      ],
    ];
    for (const [ad, bd] of cases) {
      const n = (d: number[]) => d.reduce((p, q) => p * q, 1);
      const a = f32(
        randomFloats(n(ad), n(ad)).map((v) => v * 10),
        ad,
      );
      const b = f32(
        randomFloats(n(bd), n(bd) + 1).map((v) => v * 10 + 0.5),
        bd,
      );
      (b.data as Float32Array)[0] = 0; // x / 0 and 0 · x
      for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
        const fast = await runOp1(arithmeticOps, op, [a, b]);
        const generic = await runOp1(arithmeticOps, op, [f64(a), f64(b)]);
        const want = Float32Array.from(generic.data as Float64Array);
        assert.deepEqual(fast.dims, generic.dims);
        assert.deepEqual([...(fast.data as Float32Array)], [...want], `${op} [${ad}] ∘ [${bd}]`);
      }
    }
  });

  it('LayerNormalization and RMSNormalization (WASM apply step in fast mode) are bit-identical to the reference loop', async () => {
    const cases: { x: number[]; axis: number; p: number[]; bias: boolean }[] = [
      { x: [3, 33], axis: -1, p: [33], bias: true },
      { x: [2, 4, 7], axis: -1, p: [1, 7], bias: false },
      { x: [2, 3, 5], axis: 1, p: [3, 5], bias: true },
    ];
    for (const c of cases) {
      const n = c.x.reduce((a, b) => a * b, 1);
      const m = c.p.reduce((a, b) => a * b, 1);
      const x = f32(
        randomFloats(n, n).map((v) => v * 8 - 1),
        c.x,
      );
      const scale = f32(
        randomFloats(m, 3).map((v) => v * 2),
        c.p,
      );
      const bias = f32(randomFloats(m, 4), c.p);
      for (const [op, opset, inputs] of [
        ['LayerNormalization', 17, c.bias ? [x, scale, bias] : [x, scale]],
        ['RMSNormalization', 23, [x, scale]],
      ] as const) {
        const attrs = { axis: c.axis };
        const fast = (await runOp1(normalizationOps, op, [...inputs], attrs, opset)).data as Float32Array;
        const saved = setKernelMode('reference');
        let want: Float32Array;
        try {
          want = (await runOp1(normalizationOps, op, [...inputs], attrs, opset)).data as Float32Array;
        } finally {
          setKernelMode(saved);
        }
        assert.deepEqual([...fast], [...want], `${op} [${c.x}] axis ${c.axis}`);
      }
    }
  });

  it('LRN with beta 0.75 (WASM in fast mode) is bit-identical to the reference loop', async () => {
    // Odd and even window sizes, a window wider than the channels, odd spatial sizes, and planes too
    // large for the running sums to fit a thread's workspace (then not split by position).
    for (const [dims, size] of [
      [[1, 7, 5, 3], 5],
      [[2, 3, 4, 4], 4],
      [[1, 2, 9], 5],
      [[1, 3, 300_001], 3],
    ] as [number[], number][]) {
      const n = dims.reduce((a, b) => a * b, 1);
      const x = f32(
        randomFloats(n, size + n).map((v) => v * 30),
        dims,
      );
      const attrs = { size, alpha: { float: 2e-3 }, beta: { float: 0.75 }, bias: { float: 1.5 } };
      const fast = (await runOp1(normalizationOps, 'LRN', [x], attrs)).data as Float32Array;
      const saved = setKernelMode('reference');
      let want: Float32Array;
      try {
        want = (await runOp1(normalizationOps, 'LRN', [x], attrs)).data as Float32Array;
      } finally {
        setKernelMode(saved);
      }
      assert.deepEqual([...fast], [...want], `LRN [${dims}] size ${size}`);
    }
  });
});
