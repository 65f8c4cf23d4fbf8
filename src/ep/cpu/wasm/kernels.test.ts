import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gemm } from '../../../ops/util/gemm.js';
import { RESERVED_LOW_BYTES, WasmMemoryAllocator } from '../../../runtime/wasm-allocator.js';
import { createWasmKernels, wasmSimdVariant, type GemmEpilogue, type WasmKernels } from './kernels.js';
import { relaxedSimdWasm, simdWasm } from './kernels-binary.js';

/** Deterministic values in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

function fill(n: number, next: () => number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = next();
  return x;
}

interface Case {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  beta: number;
  aOff: number;
  lda: number;
  bOff: number;
  ldb: number;
  cOff: number;
  ldc: number;
  A: Float32Array;
  B: Float32Array;
  C: Float32Array;
}

/** A random problem; `pad` adds leading-dimension slack and offsets. */
function makeCase(
  seed: number,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  alpha = 1,
  beta = 0,
  pad = 0,
): Case {
  const next = rng(seed);
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = N + pad;
  const aOff = pad * 3;
  const bOff = pad * 5;
  const cOff = pad * 7;
  return {
    transA,
    transB,
    M,
    N,
    K,
    alpha,
    beta,
    aOff,
    lda,
    bOff,
    ldb,
    cOff,
    ldc,
    A: fill(aOff + Math.max(aRows * lda, 1), next),
    B: fill(bOff + Math.max(bRows * ldb, 1), next),
    C: fill(cOff + M * ldc, next),
  };
}

/**
 * The reference result (float64-accumulated TS gemm, then the epilogue) and a per-element error
 * bound: float32 accumulation of K products errs by at most ~K·2⁻²⁴·Σ|a·b| (relative 1e-5-ish for
 * K in the hundreds), plus rounding of the beta·C, bias and alpha terms.
 */
function reference(c: Case, epilogue?: GemmEpilogue): { want: Float32Array; tol: Float64Array } {
  const { transA, transB, M, N, K, alpha, beta, A, aOff, lda, B, bOff, ldb, C, cOff, ldc } = c;
  const want = C.slice();
  gemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, want, cOff, ldc);
  const mag = new Float32Array(C.length);
  const absA = A.map(Math.abs);
  const absB = B.map(Math.abs);
  gemm(transA, transB, M, N, K, Math.abs(alpha), absA, aOff, lda, absB, bOff, ldb, 0, mag, cOff, ldc);
  const tol = new Float64Array(C.length);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const p = cOff + i * ldc + j;
      let v = want[p];
      let scale = mag[p] + (beta === 0 ? 0 : Math.abs(beta * C[p]));
      if (epilogue?.sum) {
        const z = epilogue.sum.data[(epilogue.sum.offset ?? 0) + i * ldc + j];
        v += z;
        scale += Math.abs(z);
      }
      if (epilogue?.bias) {
        const { data, offset = 0, axis } = epilogue.bias;
        const b = data[offset + (axis === 'col' ? j : i)];
        v += b;
        scale += Math.abs(b);
      }
      if (epilogue?.clip) v = Math.min(Math.max(v, epilogue.clip.min), epilogue.clip.max);
      want[p] = v;
      tol[p] = (K + 8) * 2 ** -23 * scale + 1e-30;
    }
  }
  return { want, tol };
}

function check(got: Float32Array, c: Case, epilogue: GemmEpilogue | undefined, what: string): void {
  const { want, tol } = reference(c, epilogue);
  assert.equal(got.length, want.length);
  for (let p = 0; p < got.length; p++) {
    const i = Math.floor((p - c.cOff) / c.ldc);
    const j = p - c.cOff - i * c.ldc;
    const inside = p >= c.cOff && i < c.M && j < c.N;
    if (!inside) {
      assert.equal(got[p], c.C[p], `${what}: element ${p} outside C was modified`);
    } else if (!(Math.abs(got[p] - want[p]) <= tol[p])) {
      assert.fail(`${what}: C[${i},${j}] = ${got[p]}, want ${want[p]} ± ${tol[p]}`);
    }
  }
}

function run(k: WasmKernels, c: Case, epilogue?: GemmEpilogue): Float32Array {
  const out = c.C.slice();
  k.sgemm(
    c.transA,
    c.transB,
    c.M,
    c.N,
    c.K,
    c.alpha,
    c.A,
    c.aOff,
    c.lda,
    c.B,
    c.bOff,
    c.ldb,
    c.beta,
    out,
    c.cOff,
    c.ldc,
    epilogue,
  );
  return out;
}

/** `run` with op(B) packed first (`packWeights` + `sgemmWithPacked`), the packed block released after. */
function runPackedB(k: WasmKernels, c: Case, epilogue?: GemmEpilogue): Float32Array {
  const { transA, transB, M, N, K } = c;
  const w = k.packWeights('B', transB, K, N, c.B, c.bOff, c.ldb);
  const out = c.C.slice();
  k.sgemmWithPacked(w, transA, M, N, K, c.alpha, c.A, c.aOff, c.lda, c.beta, out, c.cOff, c.ldc, epilogue);
  k.releaseWeights(w);
  return out;
}

const label = (c: Case): string =>
  `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'} M=${c.M} N=${c.N} K=${c.K} alpha=${c.alpha} beta=${c.beta} lda=${c.lda}`;

const skip = wasmSimdVariant ? false : 'this engine has no WebAssembly SIMD128';

describe('WASM SIMD sgemm', { skip }, () => {
  const k = createWasmKernels()!;
  const transposes: [boolean, boolean][] = [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ];

  it(`runs the engine's best variant (${wasmSimdVariant})`, () => {
    assert.ok(
      wasmSimdVariant === 'simd' || wasmSimdVariant === 'relaxed-simd',
      "wasmSimdVariant === 'simd' || wasmSimdVariant === 'relaxed-simd'",
    );
    assert.equal(k.variant, wasmSimdVariant);
  });

  it('keeps its constant table in the low bytes the allocator never hands out', () => {
    const end = k.exports.CONSTANTS_END.value as number;
    assert.ok(end <= RESERVED_LOW_BYTES, `table ends at ${end}, reserved ${RESERVED_LOW_BYTES}`);
    const first = new WasmMemoryAllocator().alloc('float32', [1]).data as Float32Array;
    assert.ok(first.byteOffset >= RESERVED_LOW_BYTES, `first block at ${first.byteOffset}`);
  });

  it('matches the TypeScript gemm on small, odd and tile-straddling shapes, every transpose', () => {
    const dims = [1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 31];
    let seed = 1;
    for (const [ta, tb] of transposes) {
      for (const M of dims) {
        for (const N of [1, 3, 8, 9, 17]) {
          for (const K of [1, 4, 7, 16]) {
            const c = makeCase(seed++, M, N, K, ta, tb);
            check(run(k, c), c, undefined, label(c));
          }
        }
      }
    }
  });

  it('matches on shapes that cross the cache blocks (KC=256, MC=128, NC=2048)', () => {
    const shapes: [number, number, number][] = [
      [130, 67, 300],
      [65, 129, 513],
      [3, 2100, 20],
      [257, 33, 257],
      // One row (A read in place, not packed), deeper than one block.
      [1, 67, 300],
      [1, 20, 513],
    ];
    let seed = 100;
    for (const [M, N, K] of shapes) {
      for (const [ta, tb] of transposes) {
        const c = makeCase(seed++, M, N, K, ta, tb, 0.75, 0.5, 3);
        check(run(k, c), c, undefined, label(c));
      }
    }
  });

  it('applies alpha and beta, offsets and leading dimensions, and leaves the rest of C alone', () => {
    let seed = 200;
    for (const [alpha, beta] of [
      [1, 0],
      [2, 1],
      [-0.5, 0.25],
      [1, -1],
    ]) {
      for (const [ta, tb] of transposes) {
        const c = makeCase(seed++, 19, 23, 37, ta, tb, alpha, beta, 5);
        check(run(k, c), c, undefined, label(c));
      }
    }
  });

  it('with beta = 0 ignores NaNs already in C; K = 0 and alpha = 0 give beta·C', () => {
    const c = makeCase(300, 6, 10, 12, false, false);
    c.C.fill(NaN);
    check(run(k, c), c, undefined, 'beta=0 over NaN');
    for (const [K, alpha] of [
      [0, 1],
      [5, 0],
    ]) {
      const z = makeCase(301, 6, 10, K, false, true, alpha, 0.5, 2);
      check(run(k, z), z, undefined, `K=${K} alpha=${alpha}`);
    }
  });

  it('fuses the bias (per column or per row) and ReLU / clip epilogues', () => {
    let seed = 400;
    for (const axis of ['col', 'row'] as const) {
      for (const clip of [undefined, { min: 0, max: Infinity }, { min: -0.3, max: 0.4 }]) {
        for (const [M, N, K] of [
          [9, 13, 300],
          [16, 24, 32],
        ]) {
          const c = makeCase(seed++, M, N, K, false, false, 1, 0.5, 1);
          const next = rng(seed++);
          const data = fill(3 + (axis === 'col' ? N : M), next);
          const epilogue: GemmEpilogue = { bias: { data, offset: 3, axis }, ...(clip ? { clip } : {}) };
          check(run(k, c, epilogue), c, epilogue, `${label(c)} bias=${axis} clip=${JSON.stringify(clip)}`);
          const clipOnly = clip ? { clip } : undefined;
          check(run(k, c, clipOnly), c, clipOnly, `${label(c)} clip=${JSON.stringify(clip)}`);
        }
      }
    }
  });

  it('adds a sum laid out as C once (first K block), before the bias and clip, on every store path', () => {
    let seed = 450;
    // Edge tiles, whole tiles, K over one depth block, the one-row kernel, K = 0; the sum on the heap
    // (copied in) or in the kernels' memory (read in place, any distance from C's scratch).
    for (const [M, N, K] of [
      [9, 13, 300],
      [16, 24, 32],
      [1, 40, 300],
      [5, 7, 0],
    ]) {
      for (const inMemory of [false, true]) {
        for (const beta of [0, 0.5]) {
          const c = makeCase(seed++, M, N, K, false, false, 1.5, beta, 2);
          const z = fill(c.cOff + (M - 1) * c.ldc + N + 3, rng(seed++));
          const data = inMemory ? k.allocator.allocFloat32(z.length) : z;
          data.set(z);
          const epilogue: GemmEpilogue = {
            sum: { data, offset: c.cOff },
            bias: { data: fill(N, rng(seed++)), axis: 'col' },
            clip: { min: -0.6, max: 0.7 },
          };
          check(run(k, c, epilogue), c, epilogue, `${label(c)} sum in memory=${inMemory}`);
          check(runPackedB(k, c, epilogue), c, epilogue, `packed ${label(c)} sum in memory=${inMemory}`);
        }
      }
    }
    // The sum is C itself (in the kernels' memory): C = alpha·A·B + beta·C + C.
    const c = makeCase(seed, 9, 13, 40, false, false, 1, 0.5, 2);
    const own = k.allocator.allocFloat32(c.C.length);
    own.set(c.C);
    k.sgemm(false, false, 9, 13, 40, 1, c.A, c.aOff, c.lda, c.B, c.bOff, c.ldb, 0.5, own, c.cOff, c.ldc, {
      sum: { data: own, offset: c.cOff },
    });
    check(own, c, { sum: { data: c.C, offset: c.cOff } }, 'sum = C');
  });

  it('multiplies by pre-packed weights on either side, with epilogues', () => {
    let seed = 500;
    for (const [M, N, K] of [
      [1, 1, 1],
      [7, 9, 5],
      [33, 70, 300],
      [130, 20, 40],
    ]) {
      for (const [ta, tb] of transposes) {
        const c = makeCase(seed++, M, N, K, ta, tb, 1.5, 0.5, 2);
        const epilogue: GemmEpilogue = {
          bias: { data: fill(N, rng(seed++)), axis: 'col' },
          clip: { min: 0, max: 1 },
        };
        const wb = k.packWeights('B', tb, K, N, c.B, c.bOff, c.ldb);
        const outB = c.C.slice();
        k.sgemmWithPacked(
          wb,
          ta,
          M,
          N,
          K,
          c.alpha,
          c.A,
          c.aOff,
          c.lda,
          c.beta,
          outB,
          c.cOff,
          c.ldc,
          epilogue,
        );
        check(outB, c, epilogue, `packed B ${label(c)}`);
        k.releaseWeights(wb);
        assert.throws(() =>
          k.sgemmWithPacked(wb, ta, M, N, K, 1, c.A, c.aOff, c.lda, 0, outB, c.cOff, c.ldc),
        );

        const wa = k.packWeights('A', ta, M, K, c.A, c.aOff, c.lda);
        const outA = c.C.slice();
        k.sgemmWithPacked(wa, tb, M, N, K, c.alpha, c.B, c.bOff, c.ldb, c.beta, outA, c.cOff, c.ldc);
        check(outA, c, undefined, `packed A ${label(c)}`);
        assert.throws(
          () => k.sgemmWithPacked(wa, tb, M + 1, N, K, 1, c.B, c.bOff, c.ldb, 0, outA, 0, N),
          /weights/,
        );
        k.releaseWeights(wa);
      }
    }
  });

  it('stores products with alpha 1 and no beta or clip straight to C, bias or none', () => {
    // Whole passes of the one-row kernel (32 columns) and a partial last one, whole 4×8 tiles and
    // edge ones, one depth block and several (K > 256: C accumulates between blocks), packed B and
    // B read in place.
    let seed = 900;
    for (const [M, N, K] of [
      [1, 32, 20],
      [1, 64, 300],
      [1, 72, 513],
      [5, 9, 300],
      [8, 64, 513],
    ]) {
      for (const withBias of [false, true]) {
        const c = makeCase(seed++, M, N, K, false, false, 1, 0, 3);
        const epilogue: GemmEpilogue | undefined = withBias
          ? { bias: { data: fill(N, rng(seed++)), axis: 'col' } }
          : undefined;
        check(run(k, c, epilogue), c, epilogue, `in place ${label(c)}`);
        check(runPackedB(k, c, epilogue), c, epilogue, `packed B ${label(c)}`);
      }
    }
  });

  it('works in place on arrays in its allocator memory, also after the memory grew', () => {
    const allocator = new WasmMemoryAllocator(1);
    const kk = createWasmKernels(allocator)!;
    const c = makeCase(600, 20, 30, 40, false, false, 1, 1);
    const place = (x: Float32Array): Float32Array => {
      const t = allocator.alloc('float32', [x.length]).data as Float32Array;
      t.set(x);
      return t;
    };
    const A = place(c.A);
    const B = place(c.B);
    const C = place(c.C);
    assert.ok(kk.inMemory(A) && kk.inMemory(C), 'kk.inMemory(A) && kk.inMemory(C)');
    assert.ok(!kk.inMemory(c.A), '!kk.inMemory(c.A)');
    allocator.alloc('float32', [1 << 20]); // grows the memory: A, B, C now view an older buffer
    assert.notEqual(A.buffer, allocator.memory.buffer);
    assert.ok(kk.inMemory(A), 'kk.inMemory(A)');
    const before = allocator.bytesInUse;
    kk.sgemm(false, false, 20, 30, 40, 1, A, 0, 40, B, 0, 30, 1, C, 0, 30);
    assert.equal(allocator.bytesInUse, before, 'no scratch was needed');
    check(C, c, undefined, 'in memory');
  });

  it('computes any row/column sub-block through the raw export (for a worker pool)', () => {
    const allocator = new WasmMemoryAllocator(1);
    const kk = createWasmKernels(allocator)!;
    const [M, N, K] = [37, 45, 70];
    const c = makeCase(700, M, N, K, false, true, 1, 0);
    const buf = (x: Float32Array): Float32Array => {
      const t = allocator.alloc('float32', [x.length]).data as Float32Array;
      t.set(x);
      return t;
    };
    const A = buf(c.A);
    const B = buf(c.B);
    const C = buf(c.C);
    const ws = allocator.alloc('float32', [(kk.exports.WORKSPACE_BYTES.value as number) / 4])
      .data as Float32Array;
    const w = kk.packWeights('B', true, K, N, B, 0, c.ldb);
    // Four workers' worth of blocks: rows split anywhere, columns split at a multiple of NR = 8.
    for (const [i0, i1] of [
      [0, 13],
      [13, M],
    ]) {
      for (const [j0, j1] of [
        [0, 16],
        [16, N],
      ]) {
        kk.exports.sgemm(
          0,
          1,
          M,
          N,
          K,
          1,
          A.byteOffset,
          c.lda,
          0,
          0,
          0,
          C.byteOffset,
          c.ldc,
          0,
          w.ptr,
          i0,
          i1,
          j0,
          j1,
          0,
          0,
          0,
          0,
          0,
          ws.byteOffset,
          0,
          0,
        );
      }
    }
    check(C, c, undefined, 'sub-blocks');
  });

  it('convolves images by packing im2col from the image, as the direct convolution does', () => {
    const kk = k!;
    // [C, H, W, M, kh, kw, sh, sw, dh, dw, padTop, padLeft, padBottom, padRight]: one-row and
    // row-crossing panels (ow < 8 and not a multiple of 8), stride 1/2/3, dilation, padding on every
    // side, K over one KC block (256), N over one NC block (2048), M not a multiple of MR.
    const shapes = [
      [3, 9, 10, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1],
      [2, 7, 7, 4, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3],
      [31, 12, 13, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1],
      [4, 20, 19, 6, 3, 2, 3, 2, 2, 3, 2, 0, 1, 4],
      [8, 5, 5, 3, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0],
      [3, 1, 40, 7, 1, 5, 1, 1, 1, 2, 0, 2, 0, 2],
      [2, 50, 49, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1],
      [1, 3, 3, 2, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2],
    ];
    let seed = 1000;
    for (const [C, H, W, M, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr] of shapes) {
      const next = rng(seed++);
      const oh = Math.floor((H + pt + pb - ((kh - 1) * dh + 1)) / sh) + 1;
      const ow = Math.floor((W + pl + pr - ((kw - 1) * dw + 1)) / sw) + 1;
      const K = C * kh * kw;
      const N = oh * ow;
      const X = fill(3 + C * H * W, next);
      const Wt = fill(2 + M * K, next);
      const bias = fill(M, next);
      const Z = fill(M * N, next);
      // The direct convolution in float64: expected = W·im2col(X) + Z + bias, clamped at 0.
      const want = new Float64Array(M * N);
      for (let m = 0; m < M; m++) {
        for (let p = 0; p < N; p++) {
          const oy = Math.floor(p / ow);
          const ox = p % ow;
          let acc = 0;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * sh - pt + ky * dh;
                const ix = ox * sw - pl + kx * dw;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += Wt[2 + m * K + (c * kh + ky) * kw + kx] * X[3 + (c * H + iy) * W + ix];
              }
            }
          }
          want[m * N + p] = Math.max(0, acc + Z[m * N + p] + bias[m]);
        }
      }
      const geo = { C, H, W, kh, kw, sh, sw, dh, dw, padTop: pt, padLeft: pl, oh, ow };
      const epilogue: GemmEpilogue = { bias: { data: bias, axis: 'row' }, clip: { min: 0, max: Infinity } };
      const packed = kk.packWeights('A', false, M, K, Wt, 2, K);
      for (const w of [packed, { data: Wt, offset: 2 }]) {
        const Y = new Float32Array(1 + M * N);
        Y.set(Z, 1);
        kk.convolve({ weights: w, M, X, xOff: 3, geo, beta: 1, Y, yOff: 1, epilogue });
        for (let i = 0; i < M * N; i++) {
          const tol = 1e-4 * (1 + Math.abs(want[i]));
          assert.ok(
            Math.abs(Y[1 + i] - want[i]) <= tol,
            `${[C, H, W, M, kh, kw, sh, sw].join('×')} (${'ptr' in w ? 'packed' : 'plain'}) at ${i}: ${Y[1 + i]} vs ${want[i]}`,
          );
        }
      }
      kk.releaseWeights(packed);
    }
  });

  it('runs depthwise convolutions as the direct loop does (strides, dilation, padding, narrow rows)', () => {
    const kk = k!;
    // [C, H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, padBottom, padRight]
    const shapes = [
      [5, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1],
      [3, 10, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1],
      [2, 7, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1],
      [4, 12, 17, 5, 5, 3, 3, 1, 1, 2, 2, 2, 2],
      [2, 9, 14, 3, 3, 1, 2, 2, 2, 0, 3, 2, 1],
      [1, 1, 21, 1, 4, 1, 1, 1, 1, 0, 2, 0, 1],
      [3, 6, 41, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1],
      // Rows too wide for a padded band in the workspace: the per-element path.
      [1, 3, 30000, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1],
    ];
    let seed = 2000;
    for (const [C, H, W, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr] of shapes) {
      const next = rng(seed++);
      const oh = Math.floor((H + pt + pb - ((kh - 1) * dh + 1)) / sh) + 1;
      const ow = Math.floor((W + pl + pr - ((kw - 1) * dw + 1)) / sw) + 1;
      const P = oh * ow;
      const X = fill(2 + C * H * W, next);
      const Wt = fill(1 + C * kh * kw, next);
      const bias = fill(C, next);
      const Z = fill(3 + C * P, next);
      const want = new Float64Array(C * P);
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < P; p++) {
          const [oy, ox] = [Math.floor(p / ow), p % ow];
          let acc = bias[c] + Z[3 + c * P + p];
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh - pt + ky * dh;
              const ix = ox * sw - pl + kx * dw;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                acc += Wt[1 + (c * kh + ky) * kw + kx] * X[2 + (c * H + iy) * W + ix];
              }
            }
          }
          want[c * P + p] = Math.min(Math.max(acc, -0.5), 0.75);
        }
      }
      const Y = new Float32Array(3 + C * P);
      const geo = { C, H, W, kh, kw, sh, sw, dh, dw, padTop: pt, padLeft: pl, oh, ow };
      const epilogue: GemmEpilogue = { bias: { data: bias, axis: 'row' }, clip: { min: -0.5, max: 0.75 } };
      kk.depthwise({ X, xOff: 2, W: Wt, wOff: 1, geo, Y, yOff: 3, epilogue, sum: Z });
      for (let i = 0; i < C * P; i++) {
        assert.ok(Math.abs(Y[3 + i] - want[i]) <= 1e-5, `${[C, H, W, kh, kw, sh, sw].join('×')} at ${i}`);
      }
    }
  });

  it('packs heap weights through a bounded scratch, in-memory ones in place, to the same bytes', () => {
    const [rows, cols] = [2000, 600]; // several depth blocks either way, 4.8 MB of float32
    const heap = fill(rows * cols + 7, rng(77));
    for (const side of ['A', 'B'] as const) {
      for (const trans of [false, true]) {
        const kk = createWasmKernels(new WasmMemoryAllocator())!;
        const inMemory = kk.allocator.alloc('float32', [heap.length]).data as Float32Array;
        inMemory.set(heap);
        const ld = trans ? rows : cols;
        const before = kk.allocator.bytesInUse;
        const a = kk.packWeights(side, trans, rows, cols, heap, 7, ld);
        const b = kk.packWeights(side, trans, rows, cols, inMemory, 7, ld);
        const bytes = (a.block.data as Float32Array).byteLength;
        const view = (w: typeof a) => new Float32Array(kk.memory.buffer, w.ptr, bytes / 4);
        assert.deepEqual(view(b), view(a), `${side} trans=${trans}`);
        kk.releaseWeights(a);
        kk.releaseWeights(b);
        // What is left is the scratch the heap weights went through: one KC = 256 deep block or a
        // 1 MB slab of rows (a power-of-two size class), not the whole 4.8 MB weight.
        const scratch = kk.allocator.bytesInUse - before;
        assert.ok(
          scratch <= 2 * 256 * Math.max(rows, cols) * 4,
          `${side} trans=${trans}: ${scratch} B of scratch`,
        );
      }
    }
  });

  it('has a plain SIMD128 build that agrees too', () => {
    const plain = createWasmKernels(undefined, 'simd')!;
    const c = makeCase(900, 21, 35, 270, true, true, 1, 0.5, 2);
    check(run(plain, c), c, undefined, 'simd build');
  });
});

describe('WASM module layout', () => {
  /** The ids of the sections of a WebAssembly binary, in order. */
  const sectionIds = (bytes: Uint8Array): number[] => {
    const ids: number[] = [];
    let p = 8; // magic and version
    while (p < bytes.length) {
      ids.push(bytes[p++]);
      let size = 0;
      for (let shift = 0; ; shift += 7) {
        const b = bytes[p++];
        size += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) break;
      }
      p += size;
    }
    return ids;
  };
  it('has no data or element segments: the tensor allocator owns the memory above its reserved bytes', () => {
    // AssemblyScript puts static data (strings, function references) at the bottom of the memory,
    // where the allocator places tensors; a kernel that needed any would read overwritten bytes.
    for (const [name, b64] of Object.entries({ simdWasm, relaxedSimdWasm })) {
      const ids = sectionIds(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      assert.ok(!ids.includes(11), `${name} has a data section`);
      assert.ok(!ids.includes(9), `${name} has an element section`);
    }
  });
});
