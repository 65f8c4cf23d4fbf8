import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { permutePlan } from '../../../ops/data-movement.js';
import { stridesOf } from '../../../ops/util/broadcast.js';
import { nodeThreadHost } from '../../../platform/node-worker.js';
import type { ThreadPool } from '../../../runtime/thread-pool.js';
import { WasmMemoryAllocator } from '../../../runtime/wasm-allocator.js';
import {
  createWasmKernels,
  wasmSimdVariant,
  type ConvolveCall,
  type GemmEpilogue,
  type WasmKernels,
} from './kernels.js';
import {
  GEMM_PARALLEL_MIN_FLOPS,
  GEMV_PARALLEL_MIN_FLOPS,
  LSTM_STEP_MIN_FLOPS,
  PARALLEL_MIN_FLOPS,
  WINOGRAD_TILE_WORK,
  createGemmThreadPool,
  parallelConvolve,
  parallelDepthwise,
  parallelIgemm,
  parallelLstm,
  parallelPool2d,
  parallelSgemm,
  parallelSgemmBatch,
  parallelSgemmGroups,
  parallelSgemmWithPacked,
  parallelWinograd,
  rangeRunner,
  splitC,
} from './parallel-gemm.js';

/** Deterministic values in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** A random array, in the kernels' memory (used in place) or on the JS heap (copied in and out). */
function random(k: WasmKernels, n: number, next: () => number, inMemory: boolean): Float32Array {
  const x = inMemory ? (k.allocator.alloc('float32', [n]).data as Float32Array) : new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = next();
  return x;
}

interface Shape {
  M: number;
  N: number;
  K: number;
}

// Every shape is above PARALLEL_MIN_FLOPS, so it really splits: odd sizes, tall (row split), wide
// (column split), vectors, K not a multiple of the depth block.
const SHAPES: Shape[] = [
  { M: 67, N: 129, K: 131 },
  { M: 301, N: 19, K: 200 },
  { M: 9, N: 517, K: 300 },
  { M: 1, N: 4099, K: 300 },
  { M: 513, N: 1, K: 2100 },
  { M: 33, N: 47, K: 700 },
  { M: 130, N: 130, K: 257 },
  // Split by rows with a deep plain B: packed once for every chunk (withSharedPackedB).
  { M: 96, N: 49, K: 1030 },
];

const skip = wasmSimdVariant === undefined ? 'no WebAssembly SIMD128' : false;

describe('parallelSgemm', { skip }, () => {
  const kernels = createWasmKernels(new WasmMemoryAllocator())!;

  it('splits the larger dimension in micro-tile multiples, counting packing', () => {
    // Conv-like: packed weights as A. Few columns: rows; many columns: columns.
    assert.equal(splitC(512, 49, 4608, true, false, 2).loSlot, 15);
    assert.equal(splitC(64, 3136, 576, true, false, 2).loSlot, 17);
    assert.deepEqual(
      [splitC(512, 512, 512, false, false, 2).grain, splitC(512, 49, 4608, true, false, 2).grain],
      [8, 4],
    );
    // Unfolding im2col per row chunk costs more than packing a plain B: such a conv splits by columns.
    assert.equal(splitC(512, 196, 4608, true, false, 2).loSlot, 15);
    assert.equal(splitC(512, 196, 4608, true, false, 2, 24).loSlot, 17);
    for (const s of SHAPES) assert.ok(2 * s.M * s.N * s.K >= PARALLEL_MIN_FLOPS, JSON.stringify(s));
    // Six chunks per thread over pre-packed weights, two otherwise; none under ~1 MFLOP, one per
    // thread at least.
    assert.equal(splitC(64, 3136, 576, true, false, 2).chunks, 12);
    assert.equal(splitC(512, 512, 512, false, false, 2).chunks, 4);
    assert.equal(splitC(32, 100, 400, true, false, 2).chunks, 2); // 2.6 MFLOP
    assert.equal(splitC(8, 8, 8, true, false, 3).chunks, 3);
  });

  for (const threads of [2, 3]) {
    describe(`${threads} threads`, () => {
      let pool: ThreadPool;
      before(async () => {
        pool = createGemmThreadPool(threads, nodeThreadHost, kernels)!;
        const deadline = Date.now() + 30_000;
        while (pool.readyWorkers < threads - 1 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 2));
        assert.equal(pool.readyWorkers, threads - 1, 'workers started');
      });
      after(() => pool.close());

      it('equals the single-threaded kernel bit for bit: transposes, alpha/beta, epilogues, strides', () => {
        let seed = 1;
        for (const { M, N, K } of SHAPES) {
          for (const [transA, transB] of [
            [false, false],
            [true, false],
            [false, true],
            [true, true],
          ]) {
            const next = rng(seed++);
            const inMemory = seed % 2 === 0;
            const pad = seed % 3;
            const lda = (transA ? M : K) + pad;
            const ldb = (transB ? K : N) + pad;
            const ldc = N + pad;
            const A = random(kernels, (transA ? K : M) * lda + 3, next, inMemory);
            const B = random(kernels, (transB ? N : K) * ldb + 5, next, inMemory);
            const C0 = random(kernels, M * ldc + 7, next, true);
            const alpha = seed % 4 === 0 ? 0.5 : 1;
            const beta = seed % 3 === 0 ? 0 : 0.25;
            const epilogue: GemmEpilogue | undefined =
              seed % 5 === 0
                ? undefined
                : {
                    bias: {
                      data: random(kernels, Math.max(M, N) + 2, next, !inMemory),
                      offset: 2,
                      axis: seed % 2 ? 'row' : 'col',
                    },
                    clip: seed % 3 ? { min: 0, max: Infinity } : undefined,
                  };
            const want = C0.slice();
            kernels.sgemm(transA, transB, M, N, K, alpha, A, 3, lda, B, 5, ldb, beta, want, 7, ldc, epilogue);
            const got = inMemory ? C0 : C0.slice();
            parallelSgemm(
              pool,
              transA,
              transB,
              M,
              N,
              K,
              alpha,
              A,
              3,
              lda,
              B,
              5,
              ldb,
              beta,
              got,
              7,
              ldc,
              epilogue,
            );
            assert.deepEqual(got, want, `${M}×${N}×${K} transA=${transA} transB=${transB} pad=${pad}`);
          }
        }
      });

      it('equals the single-threaded kernel with pre-packed A or B', () => {
        let seed = 100;
        for (const { M, N, K } of SHAPES) {
          for (const side of ['A', 'B'] as const) {
            for (const trans of [false, true]) {
              const next = rng(seed++);
              const [wr, wc] = side === 'A' ? [M, K] : [K, N];
              const W = random(kernels, wr * wc, next, true);
              const w = kernels.packWeights(side, trans, wr, wc, W, 0, trans ? wr : wc);
              const [xr, xc] = side === 'B' ? (trans ? [K, M] : [M, K]) : trans ? [N, K] : [K, N];
              const X = random(kernels, xr * xc, next, seed % 2 === 0);
              const epilogue: GemmEpilogue = {
                bias: {
                  data: random(kernels, side === 'A' ? M : N, next, true),
                  axis: side === 'A' ? 'row' : 'col',
                },
                clip: { min: -0.5, max: 0.5 },
              };
              const want = new Float32Array(M * N);
              const got = new Float32Array(M * N);
              kernels.sgemmWithPacked(w, trans, M, N, K, 1, X, 0, xc, 0, want, 0, N, epilogue);
              parallelSgemmWithPacked(pool, w, trans, M, N, K, 1, X, 0, xc, 0, got, 0, N, epilogue);
              assert.deepEqual(got, want, `${M}×${N}×${K} packed ${side} trans=${trans}`);
              kernels.releaseWeights(w);
            }
          }
        }
      });

      it('splits convolutions (im2col in the kernel) and depthwise ones, equal to one thread', () => {
        const next = rng(300);
        const geo = { C: 24, H: 30, W: 29, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1 };
        const g = { ...geo, oh: 30, ow: 29 };
        const X = random(kernels, g.C * g.H * g.W, next, false);
        const Wt = random(kernels, 40 * g.C * 9, next, false);
        const bias = random(kernels, 40, next, false);
        const epilogue: GemmEpilogue = { bias: { data: bias, axis: 'row' }, clip: { min: 0, max: 6 } };
        /** The split convolution's output equals one thread's (Y: M × oh·ow, fresh). */
        const splitEqualsOneThread = (call: Omit<ConvolveCall, 'Y'>, what: string) => {
          const size = call.M * call.geo.oh * call.geo.ow;
          const [want, got] = [new Float32Array(size), new Float32Array(size)];
          kernels.convolve({ ...call, Y: want });
          parallelConvolve(pool, { ...call, Y: got });
          assert.deepEqual(got, want, what);
        };
        const conv = {
          weights: { data: Wt, offset: 0 },
          M: 40,
          X,
          xOff: 0,
          geo: g,
          beta: 0,
          yOff: 0,
          epilogue,
        };
        splitEqualsOneThread(conv, 'convolve');
        // Many output channels over a small strided image: split by rows, the image unfolded once
        // for every chunk (withSharedPackedB), plain or packed weights.
        const small = { C: 40, H: 9, W: 9, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, padTop: 1, padLeft: 1 };
        const sg = { ...small, oh: 5, ow: 5 };
        assert.equal(splitC(96, 25, 360, true, false, 2).end, 96, 'the strided case splits by rows');
        const sX = random(kernels, 40 * 81, next, false);
        const sW = random(kernels, 96 * 360, next, false);
        const packedW = kernels.packWeights('A', false, 96, 360, sW, 0, 360);
        for (const weights of [{ data: sW, offset: 0 }, packedW]) {
          const sConv = { weights, M: 96, X: sX, xOff: 0, geo: sg, beta: 0, yOff: 0, epilogue: undefined };
          splitEqualsOneThread(sConv, 'strided convolve split by rows');
        }
        kernels.releaseWeights(packedW);
        // Large enough that the threads also share the unfolding of the image, by columns.
        const big = { C: 64, H: 27, W: 27, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, padTop: 1, padLeft: 1 };
        const bg = { ...big, oh: 14, ow: 14 };
        assert.equal(
          splitC(1024, 196, 576, true, false, 2).end,
          1024,
          'the large strided case splits by rows',
        );
        const bW = kernels.packWeights(
          'A',
          false,
          1024,
          576,
          random(kernels, 1024 * 576, next, false),
          0,
          576,
        );
        const bConv = { weights: bW, M: 1024, X: random(kernels, 64 * 27 * 27, next, false), xOff: 0 };
        splitEqualsOneThread(
          { ...bConv, geo: bg, beta: 0, yOff: 0, epilogue: undefined },
          'strided convolve split by rows, the image unfolded by all threads',
        );
        kernels.releaseWeights(bW);
        const dw = { ...g, C: 64, H: 60, W: 61, oh: 60, ow: 61 };
        const dwX = random(kernels, 64 * 60 * 61, next, false);
        const dwBias = { data: random(kernels, 64, next, false), axis: 'row' as const };
        const dwWant = new Float32Array(64 * 60 * 61);
        const dwGot = new Float32Array(64 * 60 * 61);
        const depthwise = {
          X: dwX,
          xOff: 0,
          W: Wt,
          wOff: 0,
          geo: dw,
          yOff: 0,
          epilogue: { ...epilogue, bias: dwBias },
        };
        kernels.depthwise({ ...depthwise, Y: dwWant });
        parallelDepthwise(pool, { ...depthwise, Y: dwGot });
        assert.deepEqual(dwGot, dwWant, 'depthwise');
        for (const kind of ['max', 'average'] as const) {
          const pg = { ...dw, kh: 3, kw: 3 }; // ~34 MFLOP-equivalents: splits
          const div = new Float32Array(60 * 61).fill(9);
          const pWant = new Float32Array(64 * 60 * 61);
          const pGot = new Float32Array(64 * 60 * 61);
          const pooling = { X: dwX, xOff: 0, geo: pg, yOff: 0, kind, divisors: div };
          kernels.pool2d({ ...pooling, Y: pWant });
          parallelPool2d(pool, { ...pooling, Y: pGot });
          assert.deepEqual(pGot, pWant, `${kind} pool`);
        }
        assert.ok(2 * 64 * 60 * 61 * 9 >= PARALLEL_MIN_FLOPS, 'the depthwise case really splits');
      });

      it('splits a batch of products by whole products and Winograd by channel, equal to one thread', () => {
        const next = rng(400);
        const [M, N, K, count] = [33, 70, 45, 12];
        const A = random(kernels, count * K * M, next, false);
        const B = random(kernels, count * K * N, next, true);
        const batch = {
          transA: true,
          transB: false,
          M,
          N,
          K,
          alpha: 0.5,
          A,
          aOff: 0,
          lda: M,
          strideA: K * M,
        };
        const call = { ...batch, B, bOff: 0, ldb: N, strideB: K * N, cOff: 0, ldc: N, strideC: M * N, count };
        const want = new Float32Array(count * M * N);
        const got = new Float32Array(count * M * N);
        kernels.sgemmBatch({ ...call, C: want });
        parallelSgemmBatch(pool, { ...call, C: got });
        assert.deepEqual(got, want, 'batched products');
        assert.ok(2 * M * N * K * count >= PARALLEL_MIN_FLOPS, 'the batch really splits');
        for (let i = 0; i < count; i++) {
          const one = new Float32Array(M * N);
          kernels.sgemm(true, false, M, N, K, 0.5, A, i * K * M, M, B, i * K * N, N, 0, one, 0, N);
          assert.deepEqual(got.subarray(i * M * N, (i + 1) * M * N), one, `product ${i}`);
        }
        const [C, Mw, H, W, oh, ow] = [64, 64, 60, 58, 60, 56];
        const geo = { C, H, W, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 0, oh, ow };
        const X = random(kernels, C * H * W, next, false);
        const weights = Array.from({ length: 16 }, () => {
          const u = random(kernels, Mw * C, next, false);
          return kernels.packWeights('A', false, Mw, C, u, 0, C);
        });
        const epilogue: GemmEpilogue = { bias: { data: random(kernels, Mw, next, false), axis: 'row' } };
        const sum = random(kernels, Mw * oh * ow, next, false);
        const wino = { X, xOff: 0, weights, M: Mw, geo, yOff: 0, epilogue, sum };
        const wWant = new Float32Array(Mw * oh * ow);
        const wGot = new Float32Array(Mw * oh * ow);
        kernels.winograd({ ...wino, Y: wWant });
        parallelWinograd(pool, { ...wino, Y: wGot });
        assert.deepEqual(wGot, wWant, 'winograd');
        assert.ok(WINOGRAD_TILE_WORK * C * 30 * 28 >= PARALLEL_MIN_FLOPS, 'the transforms really split');
        for (const w of weights) kernels.releaseWeights(w);
      });

      it('splits the elementwise and row-wise kernels by range, equal to one thread', () => {
        const next = rng(11);
        let jobs = 0;
        const split = (fn: Parameters<typeof rangeRunner>[2], grain = 1) => {
          const runner = rangeRunner(pool, kernels, fn, 1e12, grain)!;
          return (args: number[], lo: number, hi: number, ws: number) => {
            jobs++;
            runner(args, lo, hi, ws);
          };
        };
        const heap = (n: number) => random(kernels, n, next, false);
        const twice = (n: number, run: (Y: Float32Array, split: boolean) => void) => {
          const [want, got] = [new Float32Array(n), new Float32Array(n)];
          run(want, false);
          run(got, true);
          assert.deepEqual(got, want);
        };
        const n = 4097; // odd: the last chunk ends with a partial vector (through the workspace)
        const X = heap(n);
        for (const f of ['gelu', 'sigmoid', 'relu'] as const) {
          twice(n, (Y, s) =>
            kernels.activation(f, X, 0, Y, 0, n, s ? split('activationRange', 4) : undefined),
          );
        }
        const [rows, len] = [37, 53];
        const S = heap(rows * len);
        twice(rows * len, (Y, s) =>
          kernels.softmax(S, 0, Y, 0, rows * len, len, s ? split('softmaxRange') : undefined),
        );
        const [scale, bias] = [Float64Array.from(heap(len)), Float64Array.from(heap(len))];
        // LayerNormalization, RMSNormalization, and SkipLayerNormalization's rows, skip + (S +
        // addBias): the sums written are the same too.
        const [skip, addBias] = [heap(rows * len), heap(len)];
        const sums = [new Float32Array(rows * len), new Float32Array(rows * len)];
        for (const [rms, withSkip] of [
          [false, false],
          [true, false],
          [false, true],
        ]) {
          twice(rows * len, (Y, s) =>
            kernels.normRows(
              S,
              Y,
              rows,
              len,
              scale,
              bias,
              1e-5,
              rms,
              undefined,
              withSkip ? { skip, addBias, sum: sums[+s] } : undefined,
              s ? split('normRowsRange') : undefined,
            ),
          );
        }
        assert.deepEqual(sums[1], sums[0]);
        assert.deepEqual(
          sums[0],
          S.map((v, i) => skip[i] + Math.fround(v + addBias[i % len])),
        );
        const [N, C, P] = [3, 5, 67];
        const I = heap(N * C * P);
        const window = { before: 2, after: 1, k: 1e-3, bias: 1.5 };
        twice(N * C * P, (Y, s) => kernels.lrn075(I, Y, N, C, P, window, s ? split('lrnRange') : undefined));
        const [a, b] = [Float64Array.from(heap(C)), Float64Array.from(heap(C))];
        twice(N * C * P, (Y, s) =>
          kernels.channelAffine(I, Y, N, C, P, a, b, true, s ? split('channelAffineRange') : undefined),
        );
        // One run (split by element), runs with a per-run operand, a repeated scalar.
        const B = heap(n);
        twice(n, (Y, s) =>
          kernels.binary2d('sub', X, B, Y, 1, n, 0, 1, 0, 1, s ? split('binaryRange') : undefined),
        );
        twice(n, (Y, s) =>
          kernels.binary2d('div', X, B, Y, 1, n, 0, 1, 0, 0, s ? split('binaryRange') : undefined),
        );
        twice(rows * len, (Y, s) =>
          kernels.binary2d('mul', S, B, Y, rows, len, len, 1, 1, 0, s ? split('binaryRange') : undefined),
        );
        // Permutes: BERT's head split, a 4-D shuffle, and dims too few for PERMUTE_UNITS (every
        // outer dim becomes a unit, the innermost run stays whole).
        for (const [dims, perm] of [
          [
            [128, 3, 4, 64],
            [1, 2, 0, 3],
          ],
          [
            [3, 5, 7, 9],
            [2, 0, 3, 1],
          ],
          [
            [2, 3, 5],
            [2, 1, 0],
          ],
        ]) {
          const count = dims.reduce((a, b) => a * b, 1);
          const P = heap(count);
          const plan = permutePlan(dims, perm)!;
          twice(count, (Y, s) => kernels.permute(P, Y, plan, s ? split('permuteRange') : undefined));
          // Against the definition: Y[out index] = P[in index].
          const want = new Float32Array(count);
          const inStrides = stridesOf(dims);
          const outDims = perm.map((p) => dims[p]);
          for (let o = 0; o < count; o++) {
            let [rest, at] = [o, 0];
            for (let d = outDims.length - 1; d >= 0; d--) {
              at += (rest % outDims[d]) * inStrides[perm[d]];
              rest = Math.floor(rest / outDims[d]);
            }
            want[o] = P[at];
          }
          const got = new Float32Array(count);
          kernels.permute(P, got, plan, split('permuteRange'));
          assert.deepEqual(got, want, `permute ${dims} by ${perm}`);
        }
        assert.equal(jobs, 18);
        assert.equal(
          rangeRunner(pool, createWasmKernels(new WasmMemoryAllocator())!, 'softmaxRange', 1e12),
          undefined,
        );
      });

      it('splits products of several rows from GEMM_PARALLEL_MIN_FLOPS, one-row products from GEMV_PARALLEL_MIN_FLOPS', () => {
        const next = rng(5);
        let splits = 0;
        const parallelFor = pool.parallelFor.bind(pool);
        pool.parallelFor = (...a: Parameters<typeof pool.parallelFor>) => {
          splits++;
          return parallelFor(...a);
        };
        try {
          const product = (M: number, N: number, K: number) => {
            const A = random(kernels, M * K, next, true);
            const B = random(kernels, K * N, next, true);
            const [want, got] = [new Float32Array(M * N), new Float32Array(M * N)];
            kernels.sgemm(false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, want, 0, N);
            parallelSgemm(pool, false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, got, 0, N);
            assert.deepEqual(got, want);
          };
          product(68, 196, 68); // 1.8 MFLOP: ShuffleNet's per-group 1×1 convolution
          assert.ok(
            2 * 68 * 196 * 68 >= GEMM_PARALLEL_MIN_FLOPS,
            '2 * 68 * 196 * 68 >= GEMM_PARALLEL_MIN_FLOPS',
          );
          assert.equal(splits, 1);
          product(1, 128, 256); // 0.07 MFLOP, one row: stays on the calling thread
          assert.ok(2 * 128 * 256 < GEMV_PARALLEL_MIN_FLOPS, 'under the threshold');
          assert.equal(splits, 1);
          product(1, 1024, 256); // 0.5 MFLOP, one row (a GPT step's MLP): split by columns
          assert.ok(2 * 1024 * 256 >= GEMV_PARALLEL_MIN_FLOPS, '2 * 1024 * 256 >= GEMV_PARALLEL_MIN_FLOPS');
          assert.equal(splits, 2);
        } finally {
          pool.parallelFor = parallelFor;
        }
      });

      it("splits a grouped 1×1 convolution's products by whole groups, each equal to its own product", () => {
        const next = rng(13);
        // 5 groups of 34 × 1001 × 6 (ShuffleNet-like, odd sizes), bias and clamp, accumulating onto Y.
        const [G, M, N, K] = [5, 34, 1001, 6];
        const weights = Array.from({ length: G }, () => {
          const w = random(kernels, M * K, next, false);
          return kernels.packWeights('A', false, M, K, w, 0, K);
        });
        const X = random(kernels, G * K * N, next, true);
        const bias = random(kernels, G * M, next, false);
        const Y0 = random(kernels, G * M * N, next, true);
        const epilogue: GemmEpilogue = { bias: { data: bias, axis: 'row' }, clip: { min: -0.5, max: 0.5 } };
        const call = (Y: Float32Array) => ({
          weights,
          M,
          N,
          K,
          X,
          xOff: 0,
          ldx: N,
          strideX: K * N,
          Y,
          yOff: 0,
          strideY: M * N,
          beta: 1,
          epilogue,
        });
        const [one, split, each] = [0, 1, 2].map(() => {
          const y = kernels.allocator.alloc('float32', [G * M * N]).data as Float32Array;
          y.set(Y0);
          return y;
        });
        kernels.sgemmGroups(call(one));
        assert.ok(2 * M * N * K * G >= PARALLEL_MIN_FLOPS, 'the groups really split');
        parallelSgemmGroups(pool, call(split));
        for (let g = 0; g < G; g++) {
          const e: GemmEpilogue = { bias: { data: bias, offset: g * M, axis: 'row' }, clip: epilogue.clip };
          kernels.sgemmWithPacked(weights[g], false, M, N, K, 1, X, g * K * N, N, 1, each, g * M * N, N, e);
        }
        assert.deepEqual(split, one);
        assert.deepEqual(one, each);
        for (const w of weights) kernels.releaseWeights(w);
      });

      it('runs an LSTM on all threads at once, one block of hidden units each, equal to one thread', () => {
        const next = rng(9);
        // Odd and even step counts (the final h ends in either buffer), batch rows, peepholes, bias,
        // reverse, all with steps above LSTM_STEP_MIN_FLOPS; H = 162 is no whole number of GEMM
        // panels (NR = 8) and stays on one thread.
        for (const [S, Bt, H, peep, reverse] of [
          [7, 1, 160, false, false],
          [6, 3, 96, true, true],
          [5, 2, 256, true, false],
          [3, 1, 162, false, false],
        ] as const) {
          assert.ok(8 * Bt * H * H >= LSTM_STEP_MIN_FLOPS, '8 * Bt * H * H >= LSTM_STEP_MIN_FLOPS');
          const R = kernels.packWeights(
            'B',
            false,
            H,
            4 * H,
            random(kernels, H * 4 * H, next, false),
            0,
            4 * H,
          );
          const base = {
            S,
            Bt,
            H,
            xw: random(kernels, S * Bt * 4 * H, next, false),
            xStep: Bt,
            xBatch: 1,
            R,
            rBias: random(kernels, 4 * H, next, false),
            peepholes: peep ? random(kernels, 3 * H, next, false) : undefined,
            yOff: 0,
            yStep: Bt * H,
            yBatch: H,
            reverse,
          };
          const [h0, c0] = [random(kernels, Bt * H, next, false), random(kernels, Bt * H, next, false)];
          const want = { ...base, h: h0.slice(), c: c0.slice(), Y: new Float32Array(S * Bt * H) };
          const got = { ...base, h: h0.slice(), c: c0.slice(), Y: new Float32Array(S * Bt * H) };
          kernels.lstm(want);
          let parties = 0;
          const parallelFor = pool.parallelFor.bind(pool);
          pool.parallelFor = (...a: Parameters<typeof pool.parallelFor>) => {
            parties = a[2].chunks;
            return parallelFor(...a);
          };
          try {
            parallelLstm(pool, got);
          } finally {
            pool.parallelFor = parallelFor;
          }
          assert.equal(parties, H % 8 === 0 ? threads : 0, `S=${S} H=${H}: one block per thread`);
          for (const key of ['Y', 'h', 'c'] as const)
            assert.deepEqual(got[key], want[key], `S=${S} H=${H} ${key}`);
          kernels.releaseWeights(R);
        }
      });

      it('splits an integer product by blocks of rows, equal to one thread', () => {
        const next = rng(11);
        const [M, N, K] = [67, 45, 401];
        assert.ok(2 * M * N * K >= PARALLEL_MIN_FLOPS, 'the product really splits');
        const bytes = (n: number) => Int8Array.from({ length: n }, () => Math.round(next() * 127));
        const call = {
          M,
          N,
          K,
          A: bytes(M * K),
          aOff: 0,
          lda: K,
          za: Int32Array.from({ length: M }, (_, i) => (i % 5) - 2),
          B: Uint8Array.from(bytes(K * N), (v) => v + 128),
          bOff: 0,
          ldb: N,
          zb: Int32Array.from({ length: N }, (_, j) => 120 + (j % 9)),
          cOff: 0,
          ldc: N,
        };
        const want = new Int32Array(M * N);
        const got = new Int32Array(M * N);
        kernels.igemm({ ...call, C: want });
        parallelIgemm(pool, { ...call, C: got });
        assert.deepEqual(got, want);
        // And the direct sum.
        for (const [i, j] of [
          [0, 0],
          [M - 1, N - 1],
          [33, 17],
        ]) {
          let sum = 0;
          for (let k = 0; k < K; k++)
            sum += (call.A[i * K + k] - call.za[i]) * (call.B[k * N + j] - call.zb[j]);
          assert.equal(want[i * N + j], sum, `C[${i}][${j}]`);
        }
      });

      it('sees memory that grew after the workers started', () => {
        const n = 160;
        const grown = kernels.allocator.alloc('float32', [16 << 20]); // 64 MiB: forces a grow
        const next = rng(7);
        const A = random(kernels, n * n, next, true);
        const want = new Float32Array(n * n);
        const got = kernels.allocator.alloc('float32', [n * n]).data as Float32Array;
        kernels.sgemm(false, false, n, n, n, 1, A, 0, n, A, 0, n, 0, want, 0, n);
        parallelSgemm(pool, false, false, n, n, n, 1, A, 0, n, A, 0, n, 0, got, 0, n);
        assert.deepEqual(got, want);
        kernels.allocator.release(grown);
      });
    });
  }

  it('runs on one thread without a pool', () => {
    const n = 40;
    const A = new Float32Array(n * n).fill(1);
    const C = new Float32Array(n * n);
    parallelSgemm(undefined, false, false, n, n, n, 2, A, 0, n, A, 0, n, 0, C, 0, n);
    assert.ok(
      C.every((v) => v === 2 * n),
      'C.every((v) => v === 2 * n)',
    );
  });
});
