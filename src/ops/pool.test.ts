import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../core/tensor.js';
import { ops, poolTuning } from './pool.js';
import { assertClose, bindOps, describeKernelModes, f32, randomFloats } from './util/op-test-kit.js';
import { numbersOf } from './util/numeric.js';

const { run } = bindOps(ops);
const i64 = (t: Tensor) => Array.from(t.data as BigInt64Array, Number);

/** Reference 2-D pooling, straight from the definition. */
function naivePool2d(
  X: ArrayLike<number>,
  [N, C, H, W]: number[],
  k: number[],
  s: number[],
  d: number[],
  padB: number[],
  padE: number[],
  ceil: boolean,
  kind: 'max' | 'avg' | 'avgpad',
): { dims: number[]; y: number[]; idx: number[] } {
  const outSize = (i: number, size: number) => {
    const span = size + padB[i] + padE[i] - d[i] * (k[i] - 1) - 1;
    let o = (ceil ? Math.ceil(span / s[i]) : Math.floor(span / s[i])) + 1;
    if (ceil && (o - 1) * s[i] >= size + padB[i]) o--;
    return o;
  };
  const oh = outSize(0, H);
  const ow = outSize(1, W);
  const y: number[] = [];
  const idx: number[] = [];
  for (let p = 0; p < N * C; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity;
        let arg = -1;
        let sum = 0;
        let cnt = 0;
        let cntPad = 0;
        for (let ky = 0; ky < k[0]; ky++) {
          for (let kx = 0; kx < k[1]; kx++) {
            const iy = oy * s[0] - padB[0] + ky * d[0];
            const ix = ox * s[1] - padB[1] + kx * d[1];
            if (iy < H + padE[0] && ix < W + padE[1]) cntPad++;
            if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
            const off = p * H * W + iy * W + ix;
            if (X[off] > best) {
              best = X[off];
              arg = off;
            }
            sum += X[off];
            cnt++;
          }
        }
        y.push(kind === 'max' ? best : sum / (kind === 'avg' ? cnt : cntPad));
        idx.push(arg);
      }
    }
  }
  return { dims: [N, C, oh, ow], y, idx };
}

describe('MaxPool / AveragePool against the naive reference', () => {
  const cases = [
    { x: [2, 3, 9, 8], k: [3, 3], s: [2, 2], d: [1, 1], pb: [1, 1], pe: [1, 1], ceil: false },
    { x: [1, 2, 10, 7], k: [2, 3], s: [3, 2], d: [1, 1], pb: [0, 1], pe: [1, 0], ceil: true },
    { x: [1, 1, 11, 12], k: [3, 2], s: [2, 1], d: [2, 3], pb: [1, 0], pe: [2, 2], ceil: true },
    { x: [1, 2, 5, 5], k: [5, 5], s: [1, 1], d: [1, 1], pb: [2, 2], pe: [2, 2], ceil: false },
  ];
  cases.forEach((c, ci) => {
    it(`case ${ci}: x [${c.x.join(', ')}] k [${c.k.join(', ')}] ceil=${c.ceil}`, async () => {
      const X = randomFloats(
        c.x.reduce((a, b) => a * b, 1),
        40 + ci,
      );
      const x = f32(X, c.x);
      const attrs = {
        kernel_shape: c.k,
        strides: c.s,
        dilations: c.d,
        pads: [...c.pb, ...c.pe],
        ceil_mode: +c.ceil,
      };
      const [y, ind] = (await run('MaxPool', [x], attrs, { opset: 12, outputCount: 2 })) as Tensor[];
      const ref = naivePool2d(X, c.x, c.k, c.s, c.d, c.pb, c.pe, c.ceil, 'max');
      assert.deepEqual(y.dims, ref.dims);
      assertClose(numbersOf(y), ref.y);
      assert.deepEqual(i64(ind), ref.idx);
      for (const [pad, kind] of [
        [0, 'avg'],
        [1, 'avgpad'],
      ] as const) {
        const [a] = (await run('AveragePool', [x], { ...attrs, count_include_pad: pad }, 19)) as Tensor[];
        assertClose(
          numbersOf(a),
          naivePool2d(X, c.x, c.k, c.s, c.d, c.pb, c.pe, c.ceil, kind).y,
          1e-5,
          1e-6,
          kind,
        );
      }
    });
  });

  it('MaxPool indices in column-major order (storage_order=1)', async () => {
    const x = f32([1, 5, 2, 3, 4, 9], [1, 1, 2, 3]);
    const [, ind] = (await run(
      'MaxPool',
      [x],
      { kernel_shape: [2, 2], storage_order: 1 },
      { opset: 12, outputCount: 2 },
    )) as Tensor[];
    // maxima 5 at (0,1) and 9 at (1,2): column-major offsets 1·2+0 = 2 and 2·2+1 = 5
    assert.deepEqual(i64(ind), [2, 5]);
  });

  it('MaxPool works on int8 and uint8 (opset 12)', async () => {
    const x = new Tensor('int8', Int8Array.from([-5, -3, -8, -1]), [1, 1, 2, 2]);
    const [y] = (await run('MaxPool', [x], { kernel_shape: [2, 2] }, 12)) as Tensor[];
    assert.equal(y.type, 'int8');
    assert.deepEqual([...(y.data as Int8Array)], [-1]);
  });

  it('old versions ignore ceil_mode/dilations and AveragePool-1 excludes padding', async () => {
    const x = f32([1, 2, 3, 4], [1, 1, 2, 2]);
    const [y] = (await run(
      'AveragePool',
      [x],
      { kernel_shape: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 },
      1,
    )) as Tensor[];
    assert.deepEqual([...numbersOf(y)], [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
  });

  it('SAME_UPPER auto_pad on 1-D and 3-D inputs', async () => {
    const x = f32([1, 2, 3, 4, 5], [1, 1, 5]);
    const [y] = (await run(
      'MaxPool',
      [x],
      { kernel_shape: [2], strides: [2], auto_pad: 'SAME_UPPER' },
      12,
    )) as Tensor[];
    assert.deepEqual([...numbersOf(y)], [2, 4, 5]);
    const x3 = f32(randomFloats(27, 3), [1, 1, 3, 3, 3]);
    const [y3] = (await run(
      'AveragePool',
      [x3],
      { kernel_shape: [3, 3, 3], auto_pad: 'SAME_LOWER' },
      11,
    )) as Tensor[];
    assert.deepEqual(y3.dims, [1, 1, 3, 3, 3]);
    const mean = Array.from(numbersOf(x3)).reduce((a, b) => a + b, 0) / 27;
    assertClose([numbersOf(y3)[13]], [mean]);
  });

  it('reports missing kernel_shape and bad ranks', async () => {
    await assert.rejects(run('MaxPool', [f32([1], [1, 1, 1])]), /kernel_shape/);
    await assert.rejects(run('MaxPool', [f32([1, 2], [2])], { kernel_shape: [1] }), /\[N, C, spatial/);
    await assert.rejects(
      run('MaxPool', [f32([1, 2, 3, 4], [1, 1, 2, 2])], { kernel_shape: [1] }),
      /kernel_shape \[1\]/,
    );
  });
});

describe('LpPool and global pools', () => {
  it('LpPool p=2 and p=1 (float p in LpPool-1)', async () => {
    const x = f32([3, -4, 0, 0], [1, 1, 2, 2]);
    const [y] = (await run('LpPool', [x], { kernel_shape: [2, 2] }, 18)) as Tensor[];
    assertClose(numbersOf(y), [5]);
    const [y1] = (await run('LpPool', [x], { kernel_shape: [2, 2], p: { float: 1 } }, 1)) as Tensor[];
    assertClose(numbersOf(y1), [7]);
  });

  it('GlobalAveragePool / GlobalMaxPool / GlobalLpPool keep rank with ones', async () => {
    const x = f32([1, 2, 3, 4, -1, -2, -3, -4], [1, 2, 2, 2]);
    const [a] = (await run('GlobalAveragePool', [x])) as Tensor[];
    assert.deepEqual(a.dims, [1, 2, 1, 1]);
    assert.deepEqual([...numbersOf(a)], [2.5, -2.5]);
    const [m] = (await run('GlobalMaxPool', [x])) as Tensor[];
    assert.deepEqual([...numbersOf(m)], [4, -1]);
    const [l] = (await run('GlobalLpPool', [x], { p: 1 })) as Tensor[];
    assert.deepEqual([...numbersOf(l)], [10, 10]);
  });
});

describe('MaxUnpool', () => {
  it('inverts MaxPool with its indices', async () => {
    const X = randomFloats(2 * 2 * 4 * 4, 9);
    const x = f32(X, [2, 2, 4, 4]);
    const attrs = { kernel_shape: [2, 2], strides: [2, 2] };
    const [y, ind] = (await run('MaxPool', [x], attrs, { opset: 12, outputCount: 2 })) as Tensor[];
    const [u] = (await run('MaxUnpool', [y, ind], attrs, 11)) as Tensor[];
    assert.deepEqual(u.dims, [2, 2, 4, 4]);
    const U = numbersOf(u);
    i64(ind).forEach((t, i) => assert.equal(U[t], numbersOf(y)[i]));
    assert.equal(U.filter((v) => v !== 0).length, 2 * 2 * 4);
  });

  it('rejects out-of-range indices', async () => {
    const x = f32([1], [1, 1, 1, 1]);
    const ind = new Tensor('int64', BigInt64Array.from([99n]), [1, 1, 1, 1]);
    await assert.rejects(
      run('MaxUnpool', [x, ind], { kernel_shape: [2, 2], strides: [2, 2] }),
      /outside the output/,
    );
  });
});

describe('MaxRoiPool', () => {
  it('max-pools each region into the pooled shape', async () => {
    const x = f32(
      Array.from({ length: 16 }, (_, i) => i),
      [1, 1, 4, 4],
    );
    const rois = f32([0, 0, 0, 3, 3, 0, 1, 1, 2, 2], [2, 5]);
    const [y] = (await run('MaxRoiPool', [x, rois], { pooled_shape: [2, 2] })) as Tensor[];
    assert.deepEqual(y.dims, [2, 1, 2, 2]);
    assert.deepEqual([...numbersOf(y)], [5, 7, 13, 15, 5, 6, 9, 10]);
  });
});

describeKernelModes(() => {
  describe('float32 2-D pool fast path (WASM, or pool2dF32 in reference mode) against the general engine', () => {
    const cases: { x: number[]; k: number[]; s: number[]; pads: number[]; ceil: number; nan?: boolean }[] = [
      { x: [1, 1, 7, 9], k: [3, 3], s: [1, 1], pads: [1, 1, 1, 1], ceil: 0 },
      { x: [2, 5, 11, 13], k: [3, 3], s: [2, 2], pads: [1, 1, 1, 1], ceil: 0 },
      { x: [1, 4, 10, 8], k: [2, 2], s: [2, 2], pads: [0, 0, 0, 0], ceil: 1 },
      { x: [1, 3, 9, 7], k: [3, 2], s: [2, 1], pads: [1, 0, 2, 1], ceil: 1 },
      { x: [1, 2, 1, 1], k: [3, 3], s: [1, 1], pads: [1, 1, 1, 1], ceil: 0 },
      { x: [1, 3, 12, 12], k: [5, 5], s: [3, 2], pads: [2, 2, 2, 2], ceil: 0 },
      // Rows of several vectors; then a row too wide for the kernel's band (per-element path).
      { x: [1, 2, 9, 41], k: [3, 3], s: [1, 1], pads: [1, 1, 1, 1], ceil: 0 },
      { x: [1, 2, 10, 53], k: [3, 3], s: [2, 2], pads: [0, 1, 1, 0], ceil: 1 },
      { x: [1, 1, 3, 12000], k: [3, 3], s: [1, 1], pads: [1, 1, 1, 1], ceil: 0 },
      // Outputs under four wide, one at a time: windows of whole rows (one span: ResNet-50's final
      // 7 × 7 average), then windows of part rows, some longer than two vectors.
      { x: [1, 6, 7, 7], k: [7, 7], s: [1, 1], pads: [0, 0, 0, 0], ceil: 0, nan: true },
      { x: [2, 3, 5, 5], k: [3, 3], s: [2, 2], pads: [1, 1, 1, 1], ceil: 0, nan: true },
      { x: [1, 2, 6, 7], k: [5, 6], s: [2, 3], pads: [0, 1, 1, 0], ceil: 1 },
      { x: [1, 2, 4, 30], k: [2, 19], s: [1, 11], pads: [0, 0, 1, 0], ceil: 0, nan: true },
    ];
    const kinds: { op: string; extra: Record<string, number> }[] = [
      { op: 'MaxPool', extra: {} },
      { op: 'AveragePool', extra: { count_include_pad: 0 } },
      { op: 'AveragePool', extra: { count_include_pad: 1 } },
    ];
    for (const [i, c] of cases.entries()) {
      for (const kd of kinds) {
        it(`${kd.op} ${JSON.stringify(kd.extra)} k=${c.k} s=${c.s} pads=${c.pads} ceil=${c.ceil} x=${c.x}`, async () => {
          const data = randomFloats(
            c.x.reduce((a, b) => a * b, 1),
            20 + i,
          );
          if (i === 0 || c.x[3] > 1000 || c.nan) data[5] = NaN;
          const x = f32(data, c.x);
          const attrs = { kernel_shape: c.k, strides: c.s, pads: c.pads, ceil_mode: c.ceil, ...kd.extra };
          const saved = poolTuning.fast2d;
          try {
            poolTuning.fast2d = false;
            const [ref] = (await run(kd.op, [x], attrs, 19)) as Tensor[];
            poolTuning.fast2d = true;
            const [got] = (await run(kd.op, [x], attrs, 19)) as Tensor[];
            assert.deepEqual(got.dims, ref.dims);
            const [g, r] = [got.data as Float32Array, ref.data as Float32Array];
            // Max is exact (a NaN anywhere in a window wins); the average sums in float32 on WASM.
            for (let j = 0; j < r.length; j++) {
              const ok =
                Object.is(g[j], r[j]) ||
                (kd.op === 'AveragePool' && Math.abs(g[j] - r[j]) <= 1e-6 * (1 + Math.abs(r[j])));
              assert.ok(ok, `at ${j}: ${g[j]} vs ${r[j]}`);
            }
          } finally {
            poolTuning.fast2d = saved;
          }
        });
      }
    }
  });

  it('GlobalAveragePool / GlobalMaxPool on the fast path against the general loop (NaN, odd sizes)', async () => {
    for (const [i, dims] of [
      [1, 6, 13, 13],
      [2, 3, 1, 1],
      [1, 5, 3, 7],
    ].entries()) {
      const data = randomFloats(
        dims.reduce((a, b) => a * b, 1),
        40 + i,
      );
      data[dims[2] * dims[3]] = NaN; // in the second plane
      const x = f32(data, dims);
      for (const op of ['GlobalAveragePool', 'GlobalMaxPool']) {
        const saved = poolTuning.fast2d;
        let ref: Tensor;
        let got: Tensor;
        try {
          poolTuning.fast2d = false;
          [ref] = (await run(op, [x])) as Tensor[];
          poolTuning.fast2d = true;
          [got] = (await run(op, [x])) as Tensor[];
        } finally {
          poolTuning.fast2d = saved;
        }
        assert.deepEqual(got.dims, ref.dims);
        const [g, r] = [got.data as Float32Array, ref.data as Float32Array];
        for (let j = 0; j < r.length; j++) {
          const ok = Object.is(g[j], r[j]) || Math.abs(g[j] - r[j]) <= 1e-6 * (1 + Math.abs(r[j]));
          assert.ok(ok, `${op} ${dims} at ${j}: ${g[j]} vs ${r[j]}`);
        }
        assert.ok(Number.isNaN(g[1]), `${op}: the NaN plane`);
      }
    }
  });
});
