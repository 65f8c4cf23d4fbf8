import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../core/tensor.js';
import { ops } from './normalization.js';
import { heapRunContext, type NodeInfo } from './kernel.js';
import { assertClose, bindOps, f32, opNode, randomFloats } from './util/op-test-kit.js';
import { setKernelMode } from './util/dispatch.js';
import { numbersOf } from './util/numeric.js';
import { Graph } from '../ir/graph.js';

const { run } = bindOps(ops);

/** Mean and population variance of `xs`. */
function stats(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length];
}

describe('BatchNormalization', () => {
  const X = randomFloats(2 * 3 * 4, 1);
  const x = f32(X, [2, 3, 4]);
  const scale = f32([1, 2, 0.5], [3]);
  const bias = f32([0, 1, -1], [3]);
  const mean = f32([0.1, -0.2, 0.3], [3]);
  const vr = f32([1, 0.5, 2], [3]);
  const channel = (c: number) =>
    [0, 1].flatMap((n) => Array.from(X.subarray((n * 3 + c) * 4, (n * 3 + c + 1) * 4)));

  it('inference mode uses the running statistics', async () => {
    const [y] = (await run('BatchNormalization', [x, scale, bias, mean, vr], {}, 15)) as Tensor[];
    const M = numbersOf(mean);
    const V = numbersOf(vr);
    const ref = Array.from(X, (v, i) => {
      const c = Math.floor(i / 4) % 3;
      return ((v - M[c]) / Math.sqrt(V[c] + 1e-5)) * numbersOf(scale)[c] + numbersOf(bias)[c];
    });
    assertClose(numbersOf(y), ref);
  });

  it('computes the scale and shift of constant parameters once, and only for those', async () => {
    const { def, node } = opNode(ops, 'BatchNormalization', 5, {}, { opset: 15 });
    const names = ['x', 'scale', 'bias', 'mean', 'var'];
    const params = [scale, bias, mean, vr];
    const initializers = new Map(names.slice(1).map((n, i) => [n, params[i]]));
    const graph = new Graph('g', [], [{ name: 'x', type: null }], [], initializers, new Map());
    const kernel = def.build({ ...node, inputNames: names, graph } as unknown as NodeInfo);
    const expected = (xs: Float32Array, sc: Tensor) =>
      Array.from(xs, (v, i) => {
        const c = Math.floor(i / 4) % 3;
        const [M, V] = [numbersOf(mean)[c], numbersOf(vr)[c]];
        return ((v - M) / Math.sqrt(V + 1e-5)) * numbersOf(sc)[c] + numbersOf(bias)[c];
      });
    const run1 = async (xs: Float32Array, sc = scale) =>
      numbersOf(((await kernel([f32(xs, [2, 3, 4]), sc, bias, mean, vr], heapRunContext)) as Tensor[])[0]);
    const X2 = randomFloats(24, 2);
    assertClose(await run1(X), expected(X, scale));
    assertClose(await run1(X2), expected(X2, scale)); // the cached scale and shift
    const other = f32([3, -1, 2], [3]);
    assertClose(await run1(X2, other), expected(X2, other)); // not the constant: computed
    assertClose(await run1(X), expected(X, scale));
  });

  it('training mode (15) uses batch statistics and updates the running ones', async () => {
    const outs = (await run(
      'BatchNormalization',
      [x, scale, bias, mean, vr],
      { training_mode: 1, momentum: { float: 0.8 } },
      { opset: 15, outputCount: 3 },
    )) as Tensor[];
    assert.equal(outs.length, 3);
    for (let c = 0; c < 3; c++) {
      const [m, v] = stats(channel(c));
      assertClose(
        [numbersOf(outs[1])[c], numbersOf(outs[2])[c]],
        [0.8 * numbersOf(mean)[c] + 0.2 * m, 0.8 * numbersOf(vr)[c] + 0.2 * v],
      );
      const y0 = numbersOf(outs[0])[c * 4];
      assertClose([y0], [((X[c * 4] - m) / Math.sqrt(v + 1e-5)) * numbersOf(scale)[c] + numbersOf(bias)[c]]);
    }
  });

  it('version 1–7 spatial=0 takes per-(channel, position) parameters', async () => {
    const P = (v: number) => f32(new Float32Array(12).fill(v), [3, 4]);
    const [y] = (await run(
      'BatchNormalization',
      [x, P(2), P(1), P(0), P(1)],
      { spatial: 0, epsilon: { float: 0 } },
      7,
    )) as Tensor[];
    assertClose(
      numbersOf(y),
      Array.from(X, (v) => 2 * v + 1),
    );
    await assert.rejects(
      run('BatchNormalization', [x, scale, bias, mean, vr], { spatial: 0 }, 7),
      /12 values/,
    );
  });

  it('version 6 with is_test=1 ignores extra outputs', async () => {
    const outs = (await run(
      'BatchNormalization',
      [x, scale, bias, mean, vr],
      { is_test: 1 },
      { opset: 6, outputCount: 1 },
    )) as Tensor[];
    assert.equal(outs.length, 1);
  });
});

describe('InstanceNormalization / GroupNormalization', () => {
  it('InstanceNormalization normalizes each (n, c) plane', async () => {
    const X = randomFloats(2 * 2 * 5, 3);
    const [y] = (await run('InstanceNormalization', [
      f32(X, [2, 2, 5]),
      f32([1, 2], [2]),
      f32([0, 3], [2]),
    ])) as Tensor[];
    for (let p = 0; p < 4; p++) {
      const plane = Array.from(X.subarray(p * 5, p * 5 + 5));
      const [m, v] = stats(plane);
      const c = p % 2;
      assertClose(
        numbersOf(y).subarray(p * 5, p * 5 + 5),
        plane.map((a) => ((a - m) / Math.sqrt(v + 1e-5)) * [1, 2][c] + [0, 3][c]),
      );
    }
  });

  it('GroupNormalization-18 (per-group affine) vs -21 (per-channel affine)', async () => {
    const X = randomFloats(1 * 4 * 3, 5);
    const x = f32(X, [1, 4, 3]);
    const groupStats = [0, 1].map((g) => stats(Array.from(X.subarray(g * 6, g * 6 + 6))));
    const norm = (i: number) => {
      const [m, v] = groupStats[Math.floor(i / 6)];
      return (X[i] - m) / Math.sqrt(v + 1e-5);
    };
    const [y18] = (await run(
      'GroupNormalization',
      [x, f32([2, 3], [2]), f32([1, -1], [2])],
      { num_groups: 2 },
      18,
    )) as Tensor[];
    assertClose(
      numbersOf(y18),
      Array.from(X, (_, i) => norm(i) * [2, 3][Math.floor(i / 6)] + [1, -1][Math.floor(i / 6)]),
    );
    const sc = [1, 2, 3, 4];
    const [y21] = (await run(
      'GroupNormalization',
      [x, f32(sc, [4]), f32([0, 0, 0, 1], [4])],
      { num_groups: 2 },
      21,
    )) as Tensor[];
    assertClose(
      numbersOf(y21),
      Array.from(X, (_, i) => norm(i) * sc[Math.floor(i / 3)] + (Math.floor(i / 3) === 3 ? 1 : 0)),
    );
    await assert.rejects(
      run('GroupNormalization', [x, f32(sc, [4]), f32(sc, [4])], { num_groups: 2 }, 18),
      /one per group/,
    );
    await assert.rejects(
      run('GroupNormalization', [x, f32([1], [1]), f32([1], [1])], { num_groups: 3 }, 21),
      /divisible/,
    );
  });
});

describe('LayerNormalization / RMSNormalization', () => {
  it('LayerNormalization returns Y, Mean and InvStdDev with negative axis', async () => {
    const X = randomFloats(2 * 3 * 4, 7);
    const scale = randomFloats(12, 8);
    const outs = (await run(
      'LayerNormalization',
      [f32(X, [2, 3, 4]), f32(scale, [3, 4])],
      { axis: -2 },
      { opset: 17, outputCount: 3 },
    )) as Tensor[];
    assert.deepEqual(outs[1].dims, [2, 1, 1]);
    assert.equal(outs[1].type, 'float32');
    for (let n = 0; n < 2; n++) {
      const row = Array.from(X.subarray(n * 12, n * 12 + 12));
      const [m, v] = stats(row);
      assertClose([numbersOf(outs[1])[n], numbersOf(outs[2])[n]], [m, 1 / Math.sqrt(v + 1e-5)]);
      assertClose(
        numbersOf(outs[0]).subarray(n * 12, n * 12 + 12),
        row.map((a, i) => ((a - m) / Math.sqrt(v + 1e-5)) * scale[i]),
      );
    }
    await assert.rejects(
      run('LayerNormalization', [f32(X, [2, 3, 4]), f32(scale, [3, 4])], { axis: 3 }, 17),
      /out of range/,
    );
    await assert.rejects(
      run('LayerNormalization', [f32(X, [2, 3, 4]), f32([1, 2, 3], [3])], {}, 17),
      /does not broadcast/,
    );
  });

  it('the WASM kernels (statistics included) match the TypeScript reference over odd and wide rows', async () => {
    // Rows of 1, 7 (no whole vector), 33 (a tail), 256 and 768 wide; values offset far from 0 so
    // that the variance is a small difference (the two-pass sums must keep it).
    for (const [rows, inner] of [
      [1, 256],
      [3, 7],
      [5, 33],
      [4, 768],
      [2, 1],
    ]) {
      const X = randomFloats(rows * inner, rows + inner).map((v) => 100 + v);
      const scale = randomFloats(inner, 3);
      const bias = randomFloats(inner, 4);
      for (const op of ['LayerNormalization', 'RMSNormalization']) {
        const inputs =
          op === 'RMSNormalization'
            ? [f32(X, [rows, inner]), f32(scale, [inner])]
            : [f32(X, [rows, inner]), f32(scale, [inner]), f32(bias, [inner])];
        const o = op === 'RMSNormalization' ? { opset: 23 } : { opset: 17, outputCount: 3 };
        const outs = async (mode: 'fast' | 'reference') => {
          const saved = setKernelMode(mode);
          try {
            return (await run(op, inputs, { epsilon: { float: 1e-3 } }, o)) as Tensor[];
          } finally {
            setKernelMode(saved);
          }
        };
        const [fast, ref] = [await outs('fast'), await outs('reference')];
        assert.equal(fast.length, ref.length);
        fast.forEach((t, i) => assertClose(numbersOf(t), numbersOf(ref[i]), 1e-6, 1e-7));
      }
    }
  });

  it('RMSNormalization divides by the root mean square', async () => {
    const [y] = (await run(
      'RMSNormalization',
      [f32([3, 4, 0, 0], [2, 2]), f32([1, 2], [2])],
      { epsilon: { float: 0 } },
      23,
    )) as Tensor[];
    const r = Math.sqrt(12.5);
    assertClose(numbersOf(y).subarray(0, 2), [3 / r, 8 / r]);
  });
});

describe('LRN / MeanVarianceNormalization / LpNormalization', () => {
  it('LRN sums squares over neighbouring channels', async () => {
    const X = [1, 2, 3, 4];
    const [y] = (await run('LRN', [f32(X, [1, 4, 1, 1])], {
      size: 3,
      alpha: { float: 0.3 },
      beta: { float: 0.5 },
      bias: { float: 1 },
    })) as Tensor[];
    const sq = [1 + 4, 1 + 4 + 9, 4 + 9 + 16, 9 + 16];
    assertClose(
      numbersOf(y),
      X.map((v, c) => v / Math.pow(1 + (0.3 / 3) * sq[c], 0.5)),
    );
    await assert.rejects(run('LRN', [f32(X, [1, 4, 1, 1])]), /'size'/);
    // Even size (window 1 before, 2 after), beta 0.75 (its √(t·√t) path), two images, 2 pixels.
    const X2 = Array.from({ length: 2 * 7 * 2 }, (_, i) => Math.sin(i) * 3);
    const [y2] = (await run('LRN', [f32(X2, [2, 7, 1, 2])], {
      size: 4,
      alpha: { float: 0.4 },
      beta: { float: 0.75 },
      bias: { float: 2 },
    })) as Tensor[];
    const want = X2.map((v, i) => {
      const [n, c, s] = [Math.floor(i / 14), Math.floor(i / 2) % 7, i % 2];
      let sq = 0;
      for (let cc = Math.max(0, c - 1); cc <= Math.min(6, c + 2); cc++) sq += X2[n * 14 + cc * 2 + s] ** 2;
      return v / Math.pow(2 + (0.4 / 4) * sq, 0.75);
    });
    assertClose(numbersOf(y2), want);
  });

  it('MeanVarianceNormalization over default axes and MVN-1 per channel', async () => {
    const X = randomFloats(2 * 2 * 3, 11);
    const x = f32(X, [2, 2, 3, 1]);
    const [y] = (await run('MeanVarianceNormalization', [x], {}, 13)) as Tensor[];
    const ch = (c: number) =>
      [0, 1].flatMap((n) => Array.from(X.subarray((n * 2 + c) * 3, (n * 2 + c) * 3 + 3)));
    const [m0, v0] = stats(ch(0));
    assertClose([numbersOf(y)[0]], [(X[0] - m0) / (Math.sqrt(v0) + 1e-9)]);
    const [y1] = (await run('MeanVarianceNormalization', [x], { normalize_variance: 0 }, 1)) as Tensor[];
    const [mp] = stats(Array.from(X.subarray(0, 3)));
    assertClose([numbersOf(y1)[0]], [X[0] - mp]);
  });

  it('LpNormalization p=1 and p=2, zero vectors stay zero', async () => {
    const x = f32([3, 4, 0, 0], [2, 2]);
    const [y2] = (await run('LpNormalization', [x])) as Tensor[];
    assertClose(numbersOf(y2), [0.6, 0.8, 0, 0]);
    const [y1] = (await run('LpNormalization', [x], { axis: 0, p: 1 })) as Tensor[];
    assertClose(numbersOf(y1), [1, 1, 0, 0]);
    await assert.rejects(run('LpNormalization', [x], { p: 3 }), /p must be 1 or 2/);
  });
});

describe('BatchNormalization float32 inference pass', () => {
  for (const dims of [
    [1, 1, 5, 7],
    [2, 3, 4, 5],
    [3, 7],
    [1, 4, 9],
  ]) {
    it(`matches fround(x·s + t) for ${JSON.stringify(dims)}`, async () => {
      const [N, C] = dims;
      const S = dims.slice(2).reduce((a, b) => a * b, 1);
      const x = f32(randomFloats(N * C * S, 3), dims);
      const scale = f32(randomFloats(C, 4), [C]);
      const bias = f32(randomFloats(C, 5), [C]);
      const mean = f32(randomFloats(C, 6), [C]);
      const vr = f32(
        Array.from(randomFloats(C, 7), (v) => Math.abs(v) + 0.1),
        [C],
      );
      const [y] = (await run(
        'BatchNormalization',
        [x, scale, bias, mean, vr],
        { epsilon: { float: 1e-3 } },
        15,
      )) as Tensor[];
      assert.ok(y.data instanceof Float32Array, 'y.data instanceof Float32Array');
      const X = numbersOf(x);
      const [sc, b, m, v] = [scale, bias, mean, vr].map(numbersOf);
      const want: number[] = [];
      for (let i = 0; i < X.length; i++) {
        const c = Math.floor(i / S) % C;
        const a = sc[c] / Math.sqrt(v[c] + Math.fround(1e-3));
        want.push(Math.fround(X[i] * a + (b[c] - m[c] * a)));
      }
      assert.deepEqual(Array.from(y.data), want);
    });
  }
});
