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
    assert.ok(a.owns(t));
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
});
