import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { InferenceSession, OnyxError, Tensor, setLogSink } from '../src/index.js';
import { parallelSgemm } from '../src/ep/cpu/wasm/parallel-gemm.js';
import { wasmSimdVariant } from '../src/ep/cpu/wasm/kernels.js';
import type { ExecutionProvider } from '../src/ep/provider.js';
import type { RunContext } from '../src/ops/kernel.js';
import { HeapAllocator } from '../src/runtime/allocator.js';
import { ThreadPool, currentThreadPool } from '../src/runtime/thread-pool.js';
import { buildModel } from './helpers/build-model.js';

const M = 96;
const K = 160;
const N = 200; // 2·M·N·K ≈ 6 MFLOP: above the parallel threshold
const model = buildModel({
  nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
  inputs: [
    { name: 'a', type: 'float32', dims: [M, K] },
    { name: 'b', type: 'float32', dims: [K, N] },
  ],
  outputs: [{ name: 'y', type: 'float32', dims: [M, N] }],
  opset: 17,
});

/** An EP whose MatMul runs parallelSgemm on the context's pool and remembers that pool. */
const seen: (ThreadPool | undefined)[] = [];
const probe: ExecutionProvider = {
  name: 'threads-probe',
  allocator: new HeapAllocator(),
  getKernel(node) {
    if (node.opType !== 'MatMul') return undefined;
    return (inputs, ctx: RunContext) => {
      seen.push(ctx.threads);
      const [a, b] = inputs as Tensor[];
      const y = ctx.alloc('float32', [M, N]);
      const [A, B, Y] = [a.data, b.data, y.data] as Float32Array[];
      parallelSgemm(ctx.threads, false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, Y, 0, N);
      return [y];
    };
  },
};

/** Jobs dispatched by every pool so far (counted by wrapping ThreadPool.prototype.parallelFor). */
let jobs = 0;
const parallelFor = ThreadPool.prototype.parallelFor;
ThreadPool.prototype.parallelFor = function (this: ThreadPool, ...args) {
  jobs++;
  parallelFor.apply(this, args);
};
const jobsOf = () => jobs;

function feeds(): Record<string, Tensor> {
  const a = new Float32Array(M * K).map((_, i) => ((i * 7) % 13) - 6);
  const b = new Float32Array(K * N).map((_, i) => ((i * 5) % 11) - 5);
  return { a: new Tensor('float32', a, [M, K]), b: new Tensor('float32', b, [K, N]) };
}

describe(
  'intraOpNumThreads',
  { skip: wasmSimdVariant === undefined ? 'no WebAssembly SIMD128' : false },
  () => {
    it('gives kernels a pool of that many threads, with the same results, and no warning', async () => {
      const logged: string[] = [];
      const prev = setLogSink((_, m) => logged.push(m));
      try {
        const want = await (
          await InferenceSession.create(model, { intraOpNumThreads: 1, executionProviders: ['cpu'] })
        ).run(feeds());
        const session = await InferenceSession.create(model, {
          intraOpNumThreads: 2,
          executionProviders: [probe],
        });
        seen.length = 0;
        const got = await session.run(feeds());
        assert.equal(seen[0]?.size, 2);
        assert.deepEqual(got.y.data, want.y.data);
        await session.release();
        assert.equal(seen[0]?.isClosed, true, 'release() stops the pool');
        assert.deepEqual(
          logged.filter((m) => /thread/i.test(m)),
          [],
        );
      } finally {
        setLogSink(prev);
      }
    });

    it('splits elementwise and row-wise kernels over the pool with the same results', async () => {
      // 64 × 1024 floats: every kernel here is above its splitting threshold (ops/util/dispatch.ts).
      const [rows, cols] = [64, 1024];
      const vec = (seed: number) =>
        new Tensor(
          'float32',
          new Float32Array(cols).map((_, i) => Math.sin(i * seed) + 1),
          [cols],
        );
      const wide = buildModel({
        nodes: [
          { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
          { op: 'Softmax', inputs: ['s'], outputs: ['p'], attrs: { axis: -1 } },
          { op: 'Add', inputs: ['p', 'x'], outputs: ['a'] },
          { op: 'LayerNormalization', inputs: ['a', 'scale', 'shift'], outputs: ['l'] },
          { op: 'BatchNormalization', inputs: ['l', 'scale', 'shift', 'shift', 'scale'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', type: 'float32', dims: [rows, cols] }],
        outputs: [{ name: 'y', type: 'float32', dims: [rows, cols] }],
        initializers: [
          { name: 'scale', tensor: vec(3) },
          { name: 'shift', tensor: vec(7) },
        ],
        opset: 17,
      });
      const x = new Tensor(
        'float32',
        new Float32Array(rows * cols).map((_, i) => Math.cos(i)),
        [rows, cols],
      );
      // Add → LayerNormalization stays two nodes (fused, they would be one SkipLayerNormalization).
      const extra = { 'optimization.disable_specified_optimizers': 'SkipLayerNormFusion' };
      const one = await InferenceSession.create(wide, { intraOpNumThreads: 1, extra });
      const before = jobsOf();
      const want = (await one.run({ x })).y.data;
      assert.equal(jobsOf(), before, 'one thread: no pool job');
      await one.release();
      // Workers start in the background: run until they take part in every node (each run must
      // agree anyway; the run during which they become ready splits only some nodes).
      const two = await InferenceSession.create(wide, { intraOpNumThreads: 2, extra });
      let split = 0;
      for (let i = 0; i < 500 && split < 5; i++) {
        const start = jobsOf();
        assert.deepEqual((await two.run({ x })).y.data, want);
        split = jobsOf() - start;
        await new Promise((r) => setTimeout(r, 10));
      }
      await two.release();
      assert.equal(split, 5, 'one pool job per node');
      assert.equal(currentThreadPool(), undefined, 'no current pool outside a run');
    });

    it('defaults to one thread per logical processor; 1 means no pool', async () => {
      seen.length = 0;
      const byDefault = await InferenceSession.create(model, { executionProviders: [probe] });
      const one = await InferenceSession.create(model, { intraOpNumThreads: 1, executionProviders: [probe] });
      await byDefault.run(feeds());
      await one.run(feeds());
      assert.equal(seen[0]?.size ?? 1, availableParallelism());
      assert.equal(seen[1], undefined);
      await byDefault.release();
      await one.release();
    });

    it('shares one pool between sessions until the last is released', async () => {
      seen.length = 0;
      const s1 = await InferenceSession.create(model, { intraOpNumThreads: 3, executionProviders: [probe] });
      const s2 = await InferenceSession.create(model, { intraOpNumThreads: 3, executionProviders: [probe] });
      await s1.run(feeds());
      await s2.run(feeds());
      assert.equal(seen[0], seen[1]);
      await s1.release();
      assert.equal(seen[0]?.isClosed, false);
      await s2.run(feeds());
      await s2.release();
      assert.equal(seen[0]?.isClosed, true);
    });

    it('rejects a count that is not a non-negative integer', async () => {
      await assert.rejects(
        InferenceSession.create(model, { intraOpNumThreads: -1 }),
        (e: unknown) =>
          e instanceof OnyxError && e.code === 'INVALID_ARGUMENT' && /intraOpNumThreads/.test(e.message),
      );
    });
  },
);
