/**
 * Storage recycling across a session's runs (core/buffer-pool.ts, runtime/memory.ts): outputs a
 * caller keeps are never overwritten by later runs, views of an intermediate keep it alive, and the
 * reported peak memory does not creep up run after run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wasmKernels } from '../src/ep/cpu/wasm/kernels.js';
import { InferenceSession, registerExecutionProvider, Tensor } from '../src/index.js';
import { HeapAllocator } from '../src/runtime/allocator.js';
import { buildModel } from './helpers/build-model.js';

const N = 64 * 64; // 16 KiB of float32 per tensor: pooled

function model(): Uint8Array {
  // a = x + 1; [s0, s1] = Split(a) (views or copies); b = Relu(s0) ; y = Reshape(b); z = s1 · 2
  return buildModel({
    opset: 17,
    nodes: [
      { op: 'Add', inputs: ['x', 'one'], outputs: ['a'] },
      { op: 'Split', inputs: ['a'], outputs: ['s0', 's1'], attrs: { axis: 0 } },
      { op: 'Relu', inputs: ['s0'], outputs: ['b'] },
      { op: 'Reshape', inputs: ['b', 'shape'], outputs: ['y'] },
      { op: 'Mul', inputs: ['s1', 'two'], outputs: ['z'] },
    ],
    inputs: [{ name: 'x', type: 'float32', dims: [2, N] }],
    outputs: [
      { name: 'y', type: 'float32', dims: [N] },
      { name: 'z', type: 'float32', dims: [1, N] },
    ],
    initializers: [
      { name: 'one', tensor: new Tensor('float32', Float32Array.of(1), []) },
      { name: 'two', tensor: new Tensor('float32', Float32Array.of(2), []) },
      { name: 'shape', tensor: new Tensor('int64', BigInt64Array.of(BigInt(N)), [1]) },
    ],
  });
}

const input = (v: number) => new Tensor('float32', new Float32Array(2 * N).fill(v), [2, N]);

describe('storage reuse between runs', () => {
  it('keeps earlier outputs intact and the peak steady over many runs', async () => {
    const s = await InferenceSession.create(model());
    const first = await s.run({ x: input(1) });
    const peak = s.peakMemoryBytes;
    const kept = [first];
    for (let r = 2; r <= 20; r++) {
      const out = await s.run({ x: input(r) });
      assert.ok(
        (out.y.data as Float32Array).every((v) => v === r + 1),
        `run ${r}: y`,
      );
      assert.ok(
        (out.z.data as Float32Array).every((v) => v === 2 * (r + 1)),
        `run ${r}: z`,
      );
      kept.push(out);
    }
    kept.forEach((out, i) => {
      assert.ok(
        (out.y.data as Float32Array).every((v) => v === i + 2),
        `kept y of run ${i + 1}`,
      );
      assert.ok(
        (out.z.data as Float32Array).every((v) => v === 2 * (i + 2)),
        `kept z of run ${i + 1}`,
      );
    });
    assert.equal(s.peakMemoryBytes, peak, 'outputs of earlier runs are not counted as held');
    // Run storage in the kernels' shared memory goes back at the end of every run: no growth.
    const arena = wasmKernels()?.allocator;
    const inUse = arena?.bytesInUse;
    for (let r = 0; r < 3; r++) await s.run({ x: input(r) });
    assert.equal(arena?.bytesInUse, inUse);
    await s.release();
  });

  it('hands out outputs whose storage is exactly their data, though run storage comes in size classes', async () => {
    const n = 5001; // 20004 bytes: its pooled class is longer
    const s = await InferenceSession.create(
      buildModel({
        opset: 17,
        nodes: [
          { op: 'Relu', inputs: ['x'], outputs: ['r'] },
          { op: 'Neg', inputs: ['r'], outputs: ['y'] },
          { op: 'Reshape', inputs: ['r', 'shape'], outputs: ['v'] },
        ],
        inputs: [{ name: 'x', type: 'float32', dims: [1, n] }],
        outputs: [
          { name: 'y', type: 'float32', dims: [1, n] },
          { name: 'v', type: 'float32', dims: [n] },
        ],
        initializers: [{ name: 'shape', tensor: new Tensor('int64', BigInt64Array.of(BigInt(n)), [1]) }],
      }),
    );
    for (let r = 1; r <= 3; r++) {
      const out = await s.run({ x: new Tensor('float32', new Float32Array(n).fill(r), [1, n]) });
      for (const name of ['y', 'v']) {
        const d = out[name].data as Float32Array;
        assert.equal(d.length, n);
        assert.equal(d.buffer.byteLength, d.byteLength, `${name}: the whole buffer is the data`);
        assert.ok(d.buffer instanceof ArrayBuffer, `${name}: on the JS heap, not in the kernels' memory`);
      }
      assert.ok(
        (out.y.data as Float32Array).every((v) => v === -r),
        '(out.y.data as Float32Array).every((v) => v === -r)',
      );
      assert.ok(
        (out.v.data as Float32Array).every((v) => v === r),
        '(out.v.data as Float32Array).every((v) => v === r)',
      );
    }
    await s.release();
  });

  it('makes an output that later steps also read on the heap, and keeps it intact across runs', async () => {
    // r = Relu(x) is an output and Mul's input (a decoder's present key/value cache is both).
    const n = 4096;
    const s = await InferenceSession.create(
      buildModel({
        opset: 17,
        nodes: [
          { op: 'Relu', inputs: ['x'], outputs: ['r'] },
          { op: 'Mul', inputs: ['r', 'r'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', type: 'float32', dims: [1, n] }],
        outputs: [
          { name: 'r', type: 'float32', dims: [1, n] },
          { name: 'y', type: 'float32', dims: [1, n] },
        ],
      }),
    );
    const kept = [];
    for (let v = 1; v <= 3; v++) {
      const out = await s.run({ x: new Tensor('float32', new Float32Array(n).fill(v), [1, n]) });
      const r = out.r.data as Float32Array;
      assert.ok(
        r.buffer instanceof ArrayBuffer && r.buffer.byteLength === r.byteLength,
        'r: exact, on the heap',
      );
      assert.ok(
        (out.y.data as Float32Array).every((e) => e === v * v),
        '(out.y.data as Float32Array).every((e) => e === v * v)',
      );
      kept.push(r);
    }
    kept.forEach((r, i) =>
      assert.ok(
        r.every((e) => e === i + 1),
        `r of run ${i + 1} kept`,
      ),
    );
    await s.release();
  });

  it("gives a kernel's output of the model its own storage though the node's other output stays in the run", async () => {
    // A decoder's attention: y feeds the next nodes, the present key/value caches leave the run.
    const n = 4096;
    const made: Tensor[] = [];
    registerExecutionProvider({
      name: 'twin',
      allocator: new HeapAllocator(),
      getKernel: (node) =>
        node.opType === 'Twin'
          ? (inputs, ctx) => {
              const x = (inputs[0] as Tensor).data as Float32Array;
              const kept = ctx.allocOutput(0, 'float32', [n], false);
              const next = ctx.allocOutput(1, 'float32', [n], false);
              (kept.data as Float32Array).set(x);
              (next.data as Float32Array).set(x.map((v) => -v));
              made.push(kept);
              return [kept, next];
            }
          : undefined,
    });
    const s = await InferenceSession.create(
      buildModel({
        opset: 17,
        extraOpsets: [{ domain: 'test.twin', version: 1 }],
        nodes: [
          { op: 'Twin', domain: 'test.twin', inputs: ['x'], outputs: ['k', 't'] },
          { op: 'Relu', inputs: ['t'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', type: 'float32', dims: [n] }],
        outputs: [
          { name: 'k', type: 'float32', dims: [n] },
          { name: 'y', type: 'float32', dims: [n] },
        ],
      }),
      { executionProviders: ['cpu', 'twin'] },
    );
    const kept = [];
    for (let v = 1; v <= 3; v++) {
      const out = await s.run({ x: new Tensor('float32', new Float32Array(n).fill(-v), [n]) });
      assert.equal(out.k.data, made[v - 1].data, 'k is the storage the kernel made, not a copy of it');
      assert.ok(
        (out.y.data as Float32Array).every((e) => e === v),
        '(out.y.data as Float32Array).every((e) => e === v)',
      );
      kept.push(out.k.data as Float32Array);
    }
    kept.forEach((k, i) =>
      assert.ok(
        k.every((e) => e === -(i + 1)),
        `k of run ${i + 1} kept`,
      ),
    );
    await s.release();
  });

  it('runs on after another library grew a shared WebAssembly memory of the process', async () => {
    // V8 (Node 20) then gives every shared memory a new buffer object; onnxruntime-web loaded beside
    // Onyx did that, and the next run crashed on arena views it no longer recognised.
    const s = await InferenceSession.create(model());
    const want = await s.run({ x: input(3) });
    new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }).grow(1);
    const got = await s.run({ x: input(3) });
    assert.deepEqual(Array.from(got.z.data as Float32Array), Array.from(want.z.data as Float32Array));
    await s.release();
  });
});
