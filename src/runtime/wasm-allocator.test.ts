import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WasmMemoryAllocator } from './wasm-allocator.js';

describe('WasmMemoryAllocator', () => {
  it('places tensors in the WebAssembly memory, aligned and zeroed', () => {
    const a = new WasmMemoryAllocator(1);
    const t = a.alloc('float32', [3, 5]);
    const data = t.data as Float32Array;
    assert.equal(data.buffer, a.memory.buffer);
    assert.equal(data.byteOffset % 64, 0);
    assert.deepEqual(Array.from(data), new Array(15).fill(0));
    assert.ok(a.owns(t), 'a.owns(t)');
  });

  it('reuses a released block of the same size class before growing', () => {
    const a = new WasmMemoryAllocator(1);
    const t1 = a.alloc('float32', [100]);
    const offset = (t1.data as Float32Array).byteOffset;
    (t1.data as Float32Array).fill(7);
    a.release(t1);
    const t2 = a.alloc('int32', [90]);
    assert.equal((t2.data as Int32Array).byteOffset, offset);
    assert.deepEqual(Array.from(t2.data as Int32Array).slice(0, 3), [0, 0, 0], 'reused blocks are zeroed');
  });

  it('keeps earlier tensors valid when the memory grows', () => {
    const a = new WasmMemoryAllocator(1);
    const small = a.alloc('float64', [4]);
    (small.data as Float64Array).set([1, 2, 3, 4]);
    const big = a.alloc('float32', [1 << 20]); // forces growth well past the first page
    assert.equal(big.size, 1 << 20);
    assert.deepEqual(Array.from(small.data as Float64Array), [1, 2, 3, 4]);
  });

  it('tracks bytes in use and ignores tensors it does not own', () => {
    const a = new WasmMemoryAllocator(1);
    const t = a.alloc('int64', [10]);
    assert.equal(a.bytesInUse, 128);
    a.release(t);
    assert.equal(a.bytesInUse, 0);
    a.release(t); // double release is a no-op
    assert.equal(a.bytesInUse, 0);
  });

  it('reports a clear error when the memory limit is reached', () => {
    const a = new WasmMemoryAllocator(1, 2);
    assert.throws(() => a.alloc('float32', [1 << 16]), /WebAssembly memory limit/);
  });

  it('finds the block of any view into it, and only while the block is live', () => {
    const a = new WasmMemoryAllocator(1);
    const x = a.allocFloat32(1000);
    const y = a.allocFloat32(10);
    const bx = a.blockOf(x)!;
    assert.equal(bx.offset, x.byteOffset);
    assert.ok(
      bx.size >= 4000 && bx.size <= 4000 * 1.125 + 64,
      'bx.size >= 4000 && bx.size <= 4000 * 1.125 + 64',
    );
    assert.equal(a.blockOf(x.subarray(500, 600)), bx, 'a subarray view shares its block');
    assert.notEqual(a.blockOf(y), bx);
    assert.equal(a.blockOf(new Float32Array(4)), undefined, 'heap arrays are not its views');
    a.releaseBlock(bx);
    assert.equal(a.blockOf(x), undefined);
    a.releaseBlock(bx); // a second release is ignored
  });

  it('reuses a free block up to four size classes larger, zeroing the part asked for', () => {
    const a = new WasmMemoryAllocator(1);
    const x = a.allocFloat32(1000);
    x.fill(5);
    const offset = x.byteOffset;
    a.releaseBlock(a.blockOf(x)!);
    const smaller = a.allocFloat32(800); // within 2^(4/8) of the free block
    assert.equal(smaller.byteOffset, offset);
    assert.ok(
      smaller.every((v) => v === 0),
      'smaller.every((v) => v === 0)',
    );
    a.releaseBlock(a.blockOf(smaller)!);
    assert.notEqual(a.allocFloat32(300).byteOffset, offset, 'far smaller requests get a block of their own');
  });

  it('knows views made before the memory grew', () => {
    const a = new WasmMemoryAllocator(1);
    const early = a.allocFloat32(16);
    a.allocFloat32(1 << 20); // grows the memory: a new buffer object
    assert.notEqual(early.buffer, a.memory.buffer);
    assert.ok(a.holds(early), 'a.holds(early)');
    assert.ok(a.blockOf(early), 'a.blockOf(early)');
  });

  it('knows its views after another WebAssembly memory of the process grew', () => {
    // V8 (Node 20) gives a shared memory a new buffer object whenever any shared memory of the process
    // grows — onnxruntime-web's, loaded beside Onyx, did — though this one kept its size.
    const a = new WasmMemoryAllocator(1);
    const before = a.allocFloat32(16);
    new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }).grow(1);
    const after = a.allocFloat32(16);
    const elsewhere = new Float32Array(a.memory.buffer, after.byteOffset, 4);
    new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }).grow(1);
    for (const view of [before, after, elsewhere]) {
      assert.ok(a.holds(view), 'a.holds(view)');
      assert.ok(a.blockOf(view), 'a.blockOf(view)');
    }
    assert.equal(a.holds(new Float32Array(4)), false);
  });
});
