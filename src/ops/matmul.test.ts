import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../core/tensor.js';
import { OnyxError } from '../core/errors.js';
import { gemm, type FloatArray } from './util/gemm.js';
import { ops, determinant } from './matmul.js';
import {
  assertClose,
  buildOp,
  describeKernelModes,
  opRunner,
  randomFloats,
  runOp,
} from './util/op-test-kit.js';
import { numbersOf } from './util/numeric.js';
import { setKernelMode } from './util/dispatch.js';
import { graph, node, runGraph } from './util/graph-harness.js';
import type { Graph } from '../ir/graph.js';
import { ops as quantizeOps } from './quantize.js';

const allOps = [...ops, ...quantizeOps];

const run = opRunner(ops);
const f32 = (data: ArrayLike<number>, dims: number[]) => new Tensor('float32', Float32Array.from(data), dims);
const out0 = async (...a: Parameters<typeof run>) => (await run(...a))[0] as Tensor;

/** The reference: textbook triple loop in float64. */
function naiveGemm(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: ArrayLike<number>,
  lda: number,
  B: ArrayLike<number>,
  ldb: number,
  beta: number,
  C: ArrayLike<number>,
  ldc: number,
): Float64Array {
  const out = new Float64Array(M * ldc);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++)
        s += (tA ? A[k * lda + i] : A[i * lda + k]) * (tB ? B[j * ldb + k] : B[k * ldb + j]);
      out[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * C[i * ldc + j]);
    }
  }
  return out;
}

describe('gemm (blocked) against the naive reference', () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 13, 17, 33, 64, 65, 130];
  let seed = 1;
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      it(`transA=${tA} transB=${tB} on odd and block-edge sizes`, () => {
        for (let trial = 0; trial < 14; trial++) {
          const M = sizes[(trial * 5 + 1) % sizes.length];
          const N = sizes[(trial * 3 + 2) % sizes.length];
          const K = trial === 13 ? 300 : sizes[(trial * 7 + 3) % sizes.length];
          const pad = trial % 3; // leading dimensions larger than the matrix
          const lda = (tA ? M : K) + pad;
          const ldb = (tB ? K : N) + pad;
          const ldc = N + pad;
          const A = randomFloats((tA ? K : M) * lda, seed++);
          const B = randomFloats((tB ? N : K) * ldb, seed++);
          const C0 = randomFloats(M * ldc, seed++);
          const alpha = trial % 2 ? 0.5 : 1;
          const beta = [0, 1, -2][trial % 3];
          for (const Arr of [Float32Array, Float64Array]) {
            const C = Arr.from(C0) as FloatArray;
            gemm(tA, tB, M, N, K, alpha, Arr.from(A), 0, lda, Arr.from(B), 0, ldb, beta, C, 0, ldc);
            const ref = naiveGemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc);
            for (let i = 0; i < M; i++) {
              assertClose(
                C.subarray(i * ldc, i * ldc + N),
                ref.subarray(i * ldc, i * ldc + N),
                1e-4,
                1e-4,
                `${Arr.name} M=${M} N=${N} K=${K} row ${i}`,
              );
              // Padding columns are untouched.
              for (let j = N; j < ldc; j++) assert.equal(C[i * ldc + j], Arr.from(C0)[i * ldc + j]);
            }
          }
        }
      });
    }
  }

  it('crosses N and K block boundaries (N > 1024, K > 256)', () => {
    const [M, N, K] = [6, 1030, 260];
    const A = randomFloats(M * K, 91);
    const B = randomFloats(N * K, 92);
    for (const tB of [false, true]) {
      const C = new Float32Array(M * N);
      gemm(false, tB, M, N, K, 1, A, 0, K, B, 0, tB ? K : N, 0, C, 0, N);
      assertClose(C, naiveGemm(false, tB, M, N, K, 1, A, K, B, tB ? K : N, 0, [], N), 1e-4, 1e-4);
    }
  });

  it('honours offsets and beta = 0 ignores NaN in C', () => {
    const A = Float32Array.from([9, 1, 2, 3, 4]);
    const B = Float32Array.from([9, 9, 5, 6, 7, 8]);
    const C = Float32Array.from([NaN, NaN, NaN, NaN]);
    gemm(false, false, 2, 2, 2, 1, A, 1, 2, B, 2, 2, 0, C, 0, 2);
    assert.deepEqual([...C], [19, 22, 43, 50]);
  });

  it('handles K = 0 and empty M/N', () => {
    const C = Float32Array.from([1, 2]);
    gemm(false, false, 1, 2, 0, 1, new Float32Array(0), 0, 0, new Float32Array(0), 0, 2, 3, C, 0, 2);
    assert.deepEqual([...C], [3, 6]);
    gemm(false, false, 0, 2, 3, 1, new Float32Array(0), 0, 3, new Float32Array(6), 0, 2, 0, C, 0, 2);
    assert.deepEqual([...C], [3, 6]);
  });
});

describeKernelModes(() => {
  describe('MatMul', () => {
    it('broadcasts batch dims and handles 1-D operands', async () => {
      const a = f32(randomFloats(2 * 1 * 3 * 4, 7), [2, 1, 3, 4]);
      const b = f32(randomFloats(5 * 4 * 2, 8), [5, 4, 2]);
      const y = await out0('MatMul', [a, b]);
      assert.deepEqual(y.dims, [2, 5, 3, 2]);
      const A = numbersOf(a);
      const B = numbersOf(b);
      const Y = numbersOf(y);
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 5; j++) {
          const ref = naiveGemm(
            false,
            false,
            3,
            2,
            4,
            1,
            A.subarray(i * 12),
            4,
            B.subarray(j * 8),
            2,
            0,
            [],
            2,
          );
          assertClose(Y.subarray((i * 5 + j) * 6, (i * 5 + j + 1) * 6), ref);
        }
      }
      const v = f32([1, 2, 3, 4], [4]);
      assert.deepEqual((await out0('MatMul', [v, v])).dims, []);
      assert.deepEqual((await out0('MatMul', [v, f32(randomFloats(12, 3), [3, 4, 1])])).dims, [3, 1]);
      assert.deepEqual((await out0('MatMul', [f32(randomFloats(12, 3), [3, 1, 4]), v])).dims, [3, 1]);
    });

    it('computes a batch of same-shaped products (split by whole products) against the naive GEMM', async () => {
      for (const [batch, M, N, K] of [
        [6, 5, 7, 9],
        [4, 1, 128, 64],
        [3, 17, 1, 33],
      ]) {
        const a = f32(randomFloats(batch * M * K, 21), [batch, M, K]);
        const b = f32(randomFloats(batch * K * N, 22), [batch, K, N]);
        const y = numbersOf(await out0('MatMul', [a, b]));
        const [A, B] = [numbersOf(a), numbersOf(b)];
        for (let i = 0; i < batch; i++) {
          const ref = naiveGemm(
            false,
            false,
            M,
            N,
            K,
            1,
            A.subarray(i * M * K),
            K,
            B.subarray(i * K * N),
            N,
            0,
            [],
            N,
          );
          assertClose(y.subarray(i * M * N, (i + 1) * M * N), ref);
        }
      }
    });

    it('computes integer and float16 products', async () => {
      const a = new Tensor('int32', Int32Array.from([1, 2, 3, 4]), [2, 2]);
      const y = await out0('MatMul', [a, a]);
      assert.equal(y.type, 'int32');
      assert.deepEqual([...(y.data as Int32Array)], [7, 10, 15, 22]);
      const h = new Tensor('float16', Uint16Array.from([0x3c00, 0x4000, 0x4200, 0x4400]), [2, 2]); // 1 2 3 4
      const yh = await out0('MatMul', [h, h]);
      assert.equal(yh.type, 'float16');
      assert.deepEqual([...numbersOf(yh)], [7, 10, 15, 22]);
    });

    it('rejects mismatched inner dimensions with both shapes in the message', async () => {
      await assert.rejects(
        run('MatMul', [f32(randomFloats(6, 1), [2, 3]), f32(randomFloats(8, 1), [4, 2])]),
        (e: OnyxError) => e.code === 'SHAPE_MISMATCH' && /\[2, 3\].*\[4, 2\]/.test(e.message),
      );
      await assert.rejects(run('MatMul', [f32([1], []), f32([1], [1])]), /rank >= 1/);
    });
  });

  describe('com.microsoft.FusedMatMul', () => {
    const fused = (inputs: Tensor[], attrs: Record<string, number | { float: number }>) =>
      runOp(ops, 'FusedMatMul', inputs, attrs, { domain: 'com.microsoft', opset: 1 });
    /** `t` with its last two dims swapped (a copy). */
    const swapped = (t: Tensor): Tensor => {
      const d = t.dims;
      const [r, c] = [d[d.length - 2], d[d.length - 1]];
      const batch = t.size / (r * c);
      const src = numbersOf(t);
      const out = new Float64Array(t.size);
      for (let b = 0; b < batch; b++)
        for (let i = 0; i < r; i++)
          for (let j = 0; j < c; j++) out[b * r * c + j * r + i] = src[b * r * c + i * c + j];
      return new Tensor(t.type, t.type === 'float32' ? Float32Array.from(out) : out, [
        ...d.slice(0, -2),
        c,
        r,
      ]);
    };
    it('is alpha · MatMul of the operands with the flagged ones transposed (batched, float32 and float64)', async () => {
      for (const type of ['float32', 'float64'] as const) {
        const mk = (dims: number[], seed: number) => {
          const v = randomFloats(
            dims.reduce((x, y) => x * y, 1),
            seed,
          );
          return new Tensor(type, type === 'float32' ? Float32Array.from(v) : Float64Array.from(v), dims);
        };
        // Batched A against a shared 2-D B (folds into one product), and batch against batch.
        for (const [aDims, bDims] of [
          [
            [2, 3, 5, 7],
            [7, 6],
          ],
          [
            [2, 3, 5, 7],
            [2, 3, 7, 6],
          ],
          [
            [5, 9],
            [9, 1],
          ],
        ]) {
          const [a, b] = [mk(aDims, 11), mk(bDims, 12)];
          const want = numbersOf(await out0('MatMul', [a, b]));
          for (const [transA, transB] of [
            [0, 0],
            [1, 0],
            [0, 1],
            [1, 1],
          ]) {
            const inputs = [transA ? swapped(a) : a, transB ? swapped(b) : b];
            const [y] = await fused(inputs, { transA, transB, alpha: { float: 0.5 } });
            assertClose(
              numbersOf(y),
              Array.from(want, (v) => v * 0.5),
              1e-5,
              1e-6,
            );
          }
        }
      }
    });

    it('rejects batch transposes with a typed error', () => {
      assert.throws(
        () => buildOp(ops, 'FusedMatMul', 2, { transBatchA: 1 }, { domain: 'com.microsoft', opset: 1 }),
        (e: OnyxError) => e.code === 'NOT_IMPLEMENTED' && /transBatchA/.test(e.message),
      );
    });
  });

  describe('Gemm', () => {
    it('applies transposes, alpha, beta and broadcasts C', async () => {
      const A = randomFloats(4 * 3, 11);
      const B = randomFloats(5 * 4, 12);
      const Cv = randomFloats(5, 13);
      const y = await out0('Gemm', [f32(A, [4, 3]), f32(B, [5, 4]), f32(Cv, [5])], {
        attrs: { transA: 1, transB: 1, alpha: { float: 0.5 }, beta: { float: 2 } },
      });
      const Cfull = Array.from({ length: 15 }, (_, i) => Cv[i % 5]);
      assertClose(numbersOf(y), naiveGemm(true, true, 3, 5, 4, 0.5, A, 3, B, 4, 2, Cfull, 5));
    });

    it('writes its whole output when K = 0 (the output array is not zero-filled first)', async () => {
      const [a, b] = [f32([], [3, 0]), f32([], [0, 4])];
      const none = await out0('Gemm', [a, b]);
      assert.deepEqual([...numbersOf(none)], new Array(12).fill(0));
      const withC = await out0('Gemm', [a, b, f32([1, 2, 3, 4], [4])], { attrs: { beta: { float: 2.5 } } });
      assert.deepEqual([...numbersOf(withC)], [2.5, 5, 7.5, 10, 2.5, 5, 7.5, 10, 2.5, 5, 7.5, 10]);
    });

    it('legacy Gemm-6 with broadcast=0 needs C of the exact output shape', async () => {
      const a = f32([1, 2], [1, 2]);
      const b = f32([1, 2, 3, 4], [2, 2]);
      await assert.rejects(run('Gemm', [a, b, f32([1], [1])], { opset: 6 }), /broadcast=0/);
      const y = await out0('Gemm', [a, b, f32([1], [1])], { opset: 6, attrs: { broadcast: 1 } });
      assert.deepEqual([...numbersOf(y)], [8, 11]);
    });

    it('works without C (opset 11+) and rejects non-2-D inputs', async () => {
      const y = await out0('Gemm', [f32([1, 2], [1, 2]), f32([3, 4], [2, 1]), undefined]);
      assert.deepEqual([...numbersOf(y)], [11]);
      await assert.rejects(run('Gemm', [f32([1, 2], [2]), f32([3, 4], [2, 1])]), /must be 2-D/);
    });
  });
});

describe('MatMulInteger', () => {
  it('subtracts scalar and per-row/per-column zero points', async () => {
    const a = new Tensor('uint8', Uint8Array.from([11, 12, 13, 14]), [2, 2]);
    const b = new Tensor('uint8', Uint8Array.from([1, 2, 3, 4]), [2, 2]);
    const azp = new Tensor('uint8', Uint8Array.from([10, 12]), [2]);
    const bzp = new Tensor('uint8', Uint8Array.from([1]), []);
    const y = await out0('MatMulInteger', [a, b, azp, bzp], { opset: 10 });
    // A − azp = [[1, 2], [1, 2]]; B − 1 = [[0, 1], [2, 3]]
    assert.equal(y.type, 'int32');
    assert.deepEqual([...(y.data as Int32Array)], [4, 7, 4, 7]);
  });

  it('on the WASM integer GEMM equals a direct sum: odd shapes, both signs, zero points, batches', async () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    const bytes = (type: 'int8' | 'uint8', dims: number[]) => {
      const n = dims.reduce((x, y) => x * y, 1);
      const data = type === 'int8' ? new Int8Array(n) : new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = next() >>> 24;
      return new Tensor(type, data, dims);
    };
    // [A dims, B dims]: K odd and even, edge panels (N mod 8), row blocks (M mod 4), K = 1, vectors
    // and broadcast batches.
    const shapes: [number[], number[]][] = [
      [
        [1, 1],
        [1, 1],
      ],
      [
        [5, 3],
        [3, 9],
      ],
      [
        [4, 16],
        [16, 8],
      ],
      [
        [9, 33],
        [33, 17],
      ],
      [
        [17, 257],
        [257, 31],
      ],
      [[3, 7], [7]],
      [[6], [6, 5]],
      [
        [2, 3, 5, 12],
        [12, 7],
      ],
      [
        [5, 12],
        [3, 12, 10],
      ],
    ];
    for (const [aDims, bDims] of shapes) {
      for (const [ta, tb] of [
        ['uint8', 'uint8'],
        ['int8', 'int8'],
        ['uint8', 'int8'],
      ] as const) {
        const a = bytes(ta, aDims);
        const b = bytes(tb, bDims);
        const M = aDims.length > 1 ? aDims[aDims.length - 2] : 1;
        const N = bDims.length > 1 ? bDims[bDims.length - 1] : 1;
        // Per-row zero points for a matrix A, per-column ones for a matrix B, scalars otherwise.
        const azp = bytes(ta, aDims.length === 2 ? [M] : []);
        const bzp = bytes(tb, bDims.length === 2 ? [N] : []);
        const inputs = [a, b, azp, bzp];
        const saved = setKernelMode('fast');
        const fast = await out0('MatMulInteger', inputs, { opset: 10 });
        setKernelMode('reference');
        const ref = await out0('MatMulInteger', inputs, { opset: 10 });
        setKernelMode(saved);
        const label = `${ta}${fmtDims(aDims)} · ${tb}${fmtDims(bDims)}`;
        assert.deepEqual(fast.dims, ref.dims, label);
        assert.deepEqual(fast.data, ref.data, label);
      }
    }
  });
});

const fmtDims = (d: number[]) => `[${d.join(',')}]`;

describe('integer products with constant weights (packed once when built)', () => {
  const bytes = (type: 'int8' | 'uint8', dims: number[], seed: number) => {
    const n = dims.reduce((x, y) => x * y, 1);
    const data = type === 'int8' ? new Int8Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = (Math.imul(i + seed, 2654435761) >>> 13) & 255;
    return new Tensor(type, data, dims);
  };
  const both = async (g: () => Graph, feeds: Tensor[], opsets: Record<string, number>) => {
    const saved = setKernelMode('fast');
    const [fast] = await runGraph(g(), feeds, allOps, opsets);
    setKernelMode('reference');
    const [ref] = await runGraph(g(), feeds, allOps, opsets);
    setKernelMode(saved);
    return [fast as Tensor, ref as Tensor];
  };

  it('MatMulInteger: B and a per-column zero point as initializers, batched A', async () => {
    for (const type of ['uint8', 'int8'] as const) {
      const b = bytes(type, [37, 21], 1);
      const bzp = bytes(type, [21], 2);
      const a = bytes('uint8', [2, 5, 37], 3);
      const g = () => graph(['a'], ['y'], [node('MatMulInteger', ['a', 'b', '', 'bzp'], ['y'])], { b, bzp });
      const [fast, ref] = await both(g, [a], { '': 10 });
      assert.deepEqual(fast.dims, [2, 5, 21]);
      assert.deepEqual(fast.data, ref.data, type);
    }
  });

  it('QLinearMatMul: constant B and zero point, per-column scales', async () => {
    const b = bytes('int8', [19, 12], 4);
    const inits = {
      as: new Tensor('float32', Float32Array.of(0.02), []),
      az: bytes('int8', [], 5),
      b,
      bs: new Tensor(
        'float32',
        Float32Array.from({ length: 12 }, (_, i) => 0.01 + i * 0.001),
        [12],
      ),
      bz: bytes('int8', [12], 6),
      ys: new Tensor('float32', Float32Array.of(0.3), []),
      yz: bytes('int8', [], 7),
    };
    const g = () =>
      graph(
        ['a'],
        ['y'],
        [node('QLinearMatMul', ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], ['y'])],
        inits,
      );
    const [fast, ref] = await both(g, [bytes('int8', [7, 19], 8)], { '': 10 });
    assert.deepEqual(fast.data, ref.data);
  });
});

/** Reference einsum by brute-force enumeration of every label assignment. */
function naiveEinsum(terms: string[], out: string, xs: Tensor[]): number[] {
  const size = new Map<string, number>();
  terms.forEach((t, i) => [...t].forEach((c, j) => size.set(c, xs[i].dims[j])));
  const labels = [...size.keys()];
  const outSize = [...out].reduce((a, c) => a * size.get(c)!, 1);
  const res = new Array<number>(outSize).fill(0);
  const idx = new Map<string, number>(labels.map((l) => [l, 0]));
  const total = labels.reduce((a, l) => a * size.get(l)!, 1);
  const datas = xs.map((x) => numbersOf(x));
  for (let n = 0; n < total; n++) {
    let p = 1;
    terms.forEach((t, i) => {
      let off = 0;
      [...t].forEach((c, j) => (off = off * xs[i].dims[j] + idx.get(c)!));
      p *= datas[i][off];
    });
    let o = 0;
    for (const c of out) o = o * size.get(c)! + idx.get(c)!;
    res[o] += p;
    for (let k = labels.length - 1; k >= 0; k--) {
      const l = labels[k];
      idx.set(l, idx.get(l)! + 1);
      if (idx.get(l)! < size.get(l)!) break;
      idx.set(l, 0);
    }
  }
  return res;
}

describe('Einsum', () => {
  const cases: [string, number[][], string, string[]][] = [
    [
      'ij,jk->ik',
      [
        [3, 4],
        [4, 5],
      ],
      'ik',
      ['ij', 'jk'],
    ],
    [
      'ij,jk',
      [
        [3, 4],
        [4, 5],
      ],
      'ik',
      ['ij', 'jk'],
    ],
    [
      'ba,ca',
      [
        [3, 4],
        [2, 4],
      ],
      'bc',
      ['ba', 'ca'],
    ],
    ['ii->i', [[4, 4]], 'i', ['ii']],
    ['ii', [[4, 4]], '', ['ii']],
    [
      'bij,bjk->bik',
      [
        [2, 3, 4],
        [2, 4, 5],
      ],
      'bik',
      ['bij', 'bjk'],
    ],
    ['i,j->ij', [[3], [4]], 'ij', ['i', 'j']],
    [
      'ij,jk,kl->il',
      [
        [2, 3],
        [3, 4],
        [4, 2],
      ],
      'il',
      ['ij', 'jk', 'kl'],
    ],
    [
      'iij,jk->ik',
      [
        [3, 3, 2],
        [2, 4],
      ],
      'ik',
      ['iij', 'jk'],
    ],
    ['ijk->kji', [[2, 3, 4]], 'kji', ['ijk']],
    [
      'ab,ab->',
      [
        [3, 4],
        [3, 4],
      ],
      '',
      ['ab', 'ab'],
    ],
  ];
  cases.forEach(([eq, shapes, out, terms], ci) => {
    it(`'${eq}'`, async () => {
      const xs = shapes.map((s, i) =>
        f32(
          randomFloats(
            s.reduce((a, b) => a * b, 1),
            100 + ci * 7 + i,
          ),
          s,
        ),
      );
      const y = await out0('Einsum', xs, { opset: 12, attrs: { equation: eq } });
      assertClose(numbersOf(y), naiveEinsum(terms, out, xs), 1e-4, 1e-5, eq);
    });
  });

  it('handles ellipsis with broadcasting, implicit and explicit', async () => {
    const a = f32(randomFloats(2 * 3 * 4, 1), [2, 3, 4]);
    const b = f32(randomFloats(4 * 5, 2), [1, 4, 5]);
    const y = await out0('Einsum', [a, b], { opset: 12, attrs: { equation: '...ij,...jk->...ik' } });
    assert.deepEqual(y.dims, [2, 3, 5]);
    const ref = await out0('MatMul', [a, b]);
    assertClose(numbersOf(y), numbersOf(ref));
    const s = await out0('Einsum', [a], { opset: 12, attrs: { equation: '...j' } });
    assert.deepEqual(s.dims, [2, 3, 4]);
    const r = await out0('Einsum', [a], { opset: 12, attrs: { equation: '...ij->...' } });
    assert.deepEqual(r.dims, [2]);
  });

  it('reports bad equations', async () => {
    const a = f32([1, 2, 3, 4], [2, 2]);
    await assert.rejects(run('Einsum', [a], { opset: 12, attrs: { equation: 'ij,jk->ik' } }), /2 input term/);
    await assert.rejects(run('Einsum', [a], { opset: 12, attrs: { equation: 'ijk->i' } }), /rank 2/);
    await assert.rejects(
      run('Einsum', [a], { opset: 12, attrs: { equation: 'ij->z' } }),
      /appears in no input/,
    );
  });
});

describe('Det', () => {
  it('computes batched determinants with pivoting', async () => {
    const y = await out0('Det', [f32([0, 1, 1, 0, 2, 0, 0, 3], [2, 2, 2])], { opset: 11 });
    assert.deepEqual([...numbersOf(y)], [-1, 6]);
    const m = Float64Array.from([2, -1, 0, -1, 2, -1, 0, -1, 2]);
    assert.ok(Math.abs(determinant(m, 0, 3) - 4) < 1e-12, 'Math.abs(determinant(m, 0, 3) - 4) < 1e-12');
    assert.equal(determinant(Float64Array.from([1, 2, 2, 4]), 0, 2), 0);
  });

  it('rejects non-square input', async () => {
    await assert.rejects(run('Det', [f32([1, 2, 3, 4, 5, 6], [2, 3])]), /\[\.\.\., M, M\]/);
  });
});
