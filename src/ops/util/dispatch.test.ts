import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../../core/tensor.js';
import { wasmKernels, wasmSimdVariant } from '../../ep/cpu/wasm/kernels.js';
import { ops as contribOps } from '../contrib.js';
import { ops as convOps } from '../conv.js';
import type { OpDef } from '../kernel.js';
import { ops as matmulOps } from '../matmul.js';
import { graph, node, runGraph } from './graph-harness.js';
import { assertClose, randomArray, randomFloats, type AttrInit } from './op-test-kit.js';
import { setKernelMode, sgemm, type GemmEpilogue, type KernelMode } from './dispatch.js';

/** Runs `fn` with the kernel mode set to `mode`. */
async function inMode<T>(mode: KernelMode, fn: () => T | Promise<T>): Promise<T> {
  const saved = setKernelMode(mode);
  try {
    return await fn();
  } finally {
    setKernelMode(saved);
  }
}

const skip = wasmSimdVariant ? false : 'this engine has no WebAssembly SIMD128';

describe('sgemm: WASM SIMD against the TypeScript reference', { skip }, () => {
  it('agrees on random shapes, edge sizes, transposes, strides, alpha/beta and epilogues', async () => {
    const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33, 64, 67];
    const pick = (r: number) => sizes[Math.floor(r * sizes.length)];
    const rnd = randomArray(12 * 60, 99, 0, 1);
    for (let t = 0; t < 60; t++) {
      const r = rnd.slice(t * 12, t * 12 + 12);
      const [M, N] = [pick(r[0]), pick(r[1])];
      const K = t % 17 === 0 ? 0 : pick(r[2]);
      const transA = r[3] < 0.5;
      const transB = r[4] < 0.5;
      const alpha = r[5] < 0.7 ? 1 : 0.5;
      const beta = r[6] < 0.5 ? 0 : r[6] < 0.75 ? 1 : -0.5;
      const pad = Math.floor(r[7] * 3);
      const lda = (transA ? M : K) + pad;
      const ldb = (transB ? K : N) + pad;
      const ldc = N + pad;
      const [aOff, bOff, cOff] = [pad, 2 * pad, pad];
      const A = randomFloats(aOff + (transA ? K : M) * lda + 1, t + 1);
      const B = randomFloats(bOff + (transB ? N : K) * ldb + 1, t + 2);
      const C0 = randomFloats(cOff + M * ldc, t + 3);
      const epilogue: GemmEpilogue = {};
      if (r[8] < 0.6) {
        const axis = r[9] < 0.5 ? 'row' : 'col';
        epilogue.bias = { data: randomFloats(3 + (axis === 'row' ? M : N), t + 4), offset: 3, axis };
      }
      if (r[10] < 0.5) epilogue.clip = r[11] < 0.5 ? { min: 0, max: Infinity } : { min: -0.3, max: 0.4 };
      const results = await Promise.all(
        (['fast', 'reference'] as const).map((mode) =>
          inMode(mode, () => {
            const C = C0.slice();
            sgemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc, epilogue);
            return C;
          }),
        ),
      );
      assertClose(results[0], results[1], 1e-4, 1e-4, `case ${t} (${M}x${N}x${K} tA=${transA} tB=${transB})`);
    }
  });

  it('sends float64 to the reference GEMM (with the epilogue) in either mode', () => {
    const A = Float64Array.from([1, 2, 3, 4]);
    const C = new Float64Array(4);
    sgemm(false, false, 2, 2, 2, 1, A, 0, 2, A, 0, 2, 0, C, 0, 2, {
      bias: { data: Float32Array.from([-10, 0]), axis: 'row' },
      clip: { min: 0, max: 20 },
    });
    assert.deepEqual([...C], [0, 0, 15, 20]);
  });
});

/** Runs one node whose input 1 (the weights) and, when given, 2 are initializers. */
async function runWithConstants(
  ops: readonly OpDef[],
  opType: string,
  x: Tensor,
  consts: Tensor[],
  attrs: Record<string, AttrInit>,
  domain = '',
): Promise<Tensor> {
  const names = consts.map((_, i) => `c${i + 1}`);
  const inits = Object.fromEntries(names.map((n, i) => [n, consts[i]]));
  const g = graph(['x'], ['y'], [node(opType, ['x', ...names], ['y'], attrs, domain)], inits);
  const opsets: Record<string, number> = { '': 21 };
  if (domain) opsets[domain] = 1;
  const [y] = await runGraph(g, [x], ops, opsets);
  return y as Tensor;
}

const f32 = (dims: number[], seed: number) =>
  new Tensor(
    'float32',
    randomFloats(
      dims.reduce((a, b) => a * b, 1),
      seed,
    ),
    dims,
  );

/** The same node in both kernel modes; weights are initializers, so the fast run uses packed ones. */
async function bothModes(...args: Parameters<typeof runWithConstants>): Promise<void> {
  const fast = await inMode('fast', () => runWithConstants(...args));
  const ref = await inMode('reference', () => runWithConstants(...args));
  assert.deepEqual(fast.dims, ref.dims);
  assertClose(fast.data as Float32Array, ref.data as Float32Array, 1e-4, 1e-4, `${args[1]} ${ref.dims}`);
}

describe('pre-packed constant weights against the reference kernels', { skip }, () => {
  it('Conv: plain, 1×1, strided, padded, grouped, depthwise, 1-D and 3-D, with bias', async () => {
    const cases: [number[], number[], Record<string, AttrInit>][] = [
      [[1, 3, 9, 11], [5, 3, 3, 3], { pads: [1, 1, 1, 1] }],
      [[2, 6, 7, 5], [9, 6, 1, 1], {}],
      [[1, 8, 10, 10], [17, 8, 1, 1], { strides: [2, 2] }],
      [[1, 4, 13, 9], [8, 2, 3, 2], { group: 2, strides: [2, 1], dilations: [1, 2], pads: [1, 0, 2, 1] }],
      [[1, 6, 8, 8], [6, 1, 3, 3], { group: 6, pads: [1, 1, 1, 1] }],
      [[2, 3, 17], [4, 3, 4], { pads: [2, 1] }],
      [[1, 2, 5, 4, 6], [3, 2, 2, 3, 2], { pads: [0, 1, 0, 1, 0, 1] }],
    ];
    for (const [i, [xd, wd, attrs]] of cases.entries()) {
      await bothModes(convOps, 'Conv', f32(xd, i), [f32(wd, i + 10), f32([wd[0]], i + 20)], attrs);
      await bothModes(convOps, 'Conv', f32(xd, i), [f32(wd, i + 10)], attrs);
    }
  });

  it('FusedConv with Relu and Clip fused into the GEMM epilogue', async () => {
    const x = f32([1, 4, 9, 9], 1);
    const w = f32([6, 4, 3, 3], 2);
    const b = f32([6], 3);
    await bothModes(contribOps, 'FusedConv', x, [w, b], { activation: 'Relu' }, 'com.microsoft');
    const clip = { activation: 'Clip', activation_params: { floats: [-0.2, 0.3] } };
    await bothModes(contribOps, 'FusedConv', x, [w, b], clip, 'com.microsoft');
  });

  it('MatMul with a constant B: 2-D and batched A, edge sizes', async () => {
    for (const [ad, bd] of [
      [
        [1, 7],
        [7, 9],
      ],
      [
        [5, 3],
        [3, 1],
      ],
      [
        [2, 3, 13, 17],
        [17, 33],
      ],
      [
        [33, 64],
        [64, 65],
      ],
    ]) {
      await bothModes(matmulOps, 'MatMul', f32(ad, 1), [f32(bd, 2)], {});
    }
  });

  it('Gemm with a constant B: transposes, vector and matrix C, alpha/beta; FusedGemm Relu', async () => {
    const x = f32([5, 7], 1);
    const xt = f32([7, 5], 1);
    await bothModes(matmulOps, 'Gemm', x, [f32([7, 9], 2), f32([9], 3)], {});
    await bothModes(matmulOps, 'Gemm', x, [f32([9, 7], 2), f32([1, 9], 3)], { transB: 1 });
    await bothModes(matmulOps, 'Gemm', xt, [f32([9, 7], 2), f32([5, 9], 3)], {
      transA: 1,
      transB: 1,
      alpha: { float: 0.5 },
      beta: { float: 2 },
    });
    await bothModes(matmulOps, 'Gemm', x, [f32([7, 9], 2), f32([5, 1], 3)], {});
    await bothModes(
      contribOps,
      'FusedGemm',
      x,
      [f32([9, 7], 2), f32([9], 3)],
      {
        transB: 1,
        activation: 'Relu',
      },
      'com.microsoft',
    );
  });

  it('frees packed weights on dispose, and uses the fed tensor when a feed replaces the initializer', async () => {
    const k = wasmKernels()!;
    const w = f32([8, 4, 3, 3], 2);
    const g = graph(['x'], ['y'], [node('Conv', ['x', 'w'], ['y'], { pads: [1, 1, 1, 1] })], { w });
    const { buildPlans, disposePlans } = await import('../../runtime/plan.js');
    const before = k.allocator.bytesInUse;
    const plans = buildPlans(g, [
      {
        name: 't',
        allocator: k.allocator,
        getKernel: (info) => convOps[0].build({ ...info, sinceVersion: 11 }),
      },
    ]);
    assert.ok(k.allocator.bytesInUse > before, 'weights were packed at build time');
    disposePlans(plans);
    assert.equal(k.allocator.bytesInUse, before);

    // 'w' is also a graph input: not a constant, so nothing is packed and the feed is used.
    const g2 = graph(['x', 'w'], ['y'], [node('Conv', ['x', 'w'], ['y'], { pads: [1, 1, 1, 1] })], { w });
    const x = f32([1, 4, 5, 5], 1);
    const other = f32([8, 4, 3, 3], 7);
    const [y] = await inMode('fast', () => runGraph(g2, [x, other], convOps));
    const ref = await inMode('reference', () =>
      runWithConstants(convOps, 'Conv', x, [other], { pads: [1, 1, 1, 1] }),
    );
    assertClose((y as Tensor).data as Float32Array, ref.data as Float32Array, 1e-4, 1e-4);
  });
});
