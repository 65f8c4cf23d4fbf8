import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WasmMemoryAllocator } from '../runtime/wasm-allocator.js';
import {
  classBytes,
  classOf,
  closeLease,
  exactData,
  Lease,
  MIN_ARENA_FLOATS,
  MIN_POOLED_BYTES,
  clearStoragePool,
  newFloat32Array,
  newStorage,
  pooledStorageBytes,
  poisonUninitialized,
  recycle,
  releaseStorage,
  releaseUnheld,
  storageKey,
  useSharedArena,
  withLease,
} from './buffer-pool.js';

// Pooled, and (as float32) large enough for the shared arena.
const BIG = Math.max(MIN_POOLED_BYTES, 4 * MIN_ARENA_FLOATS) * 2;

describe('size classes', () => {
  it('hold their requests, at most 12.5% over, the same on both sides of 2³¹ bytes', () => {
    const slow = (bytes: number) => {
      const e = Math.floor(Math.log2(bytes));
      return e * 8 + Math.ceil(bytes / 2 ** (e - 3)) - 8;
    };
    const sizes = [
      8,
      9,
      15,
      16,
      17,
      1000,
      1024,
      1025,
      16384,
      65535,
      1 << 20,
      (1 << 20) + 1,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 31 + 1,
      2 ** 32 - 4,
    ];
    for (let b = 8; b < 5000; b += 7) sizes.push(b);
    for (const bytes of sizes) {
      const c = classOf(bytes);
      assert.equal(c, slow(bytes), `class of ${bytes}`);
      assert.ok(classBytes(c) >= bytes && classBytes(c) <= bytes * 1.125 + 1, `${bytes} → ${classBytes(c)}`);
      assert.equal(classOf(classBytes(c)), c);
    }
  });
});

describe('storage pool', () => {
  it('reuses a dead buffer of the same run, zeroed', () => {
    clearStoragePool();
    const lease = new Lease();
    const a = withLease(lease, () => newStorage(BIG));
    new Float32Array(a).fill(7);
    recycle(a, lease);
    assert.equal(pooledStorageBytes(), BIG);
    const b = withLease(lease, () => newStorage(BIG));
    assert.equal(b, a, 'the same buffer comes back');
    assert.ok(
      new Float32Array(b).every((v) => v === 0),
      'zeroed',
    );
    assert.equal(pooledStorageBytes(), 0);
  });

  it('skips zeroing storage a kernel overwrites whole, and poisons it with NaN in tests', () => {
    const before = poisonUninitialized(false);
    try {
      clearStoragePool();
      const arena = new WasmMemoryAllocator(1);
      for (const where of ['heap', 'arena'] as const) {
        useSharedArena(where === 'arena' ? arena : undefined);
        const lease = new Lease();
        const n = BIG / 4;
        const a = withLease(lease, () => newFloat32Array(n));
        a.fill(7);
        releaseStorage(a, lease);
        const b = withLease(lease, () => newFloat32Array(n, false));
        assert.equal(b.byteOffset, a.byteOffset, `${where}: the dead storage comes back`);
        assert.ok(
          b.every((v) => v === 7),
          `${where}: not zeroed`,
        );
        releaseStorage(b, lease);
        poisonUninitialized(true);
        const c = withLease(lease, () => newFloat32Array(n, false));
        assert.ok(
          c.every((v) => Number.isNaN(v)),
          `${where}: poisoned`,
        );
        for (const bytes of [64, 64 * 1024]) {
          const outside = newStorage(bytes, false);
          assert.equal(outside.byteLength, bytes, 'outside a run: exactly the bytes asked');
          assert.ok(
            new Float32Array(outside).every((v) => Number.isNaN(v)),
            'outside a run too',
          );
        }
        releaseStorage(c, lease);
        assert.ok(
          withLease(lease, () => newFloat32Array(n)).every((v) => v === 0),
          `${where}: zeroed`,
        );
        poisonUninitialized(false);
        closeLease(lease);
      }
    } finally {
      useSharedArena(undefined);
      poisonUninitialized(before);
    }
  });

  it('never takes storage made outside a run, by another run, after the run, or too small', () => {
    assert.ok(MIN_POOLED_BYTES <= 8, 'tiny tensors are pooled too (ArrayBuffer allocation ~2 µs each)');
    clearStoragePool();
    const lease = new Lease();
    const other = new Lease();
    const outside = newStorage(BIG);
    recycle(outside, lease);
    const theirs = withLease(other, () => newStorage(BIG));
    recycle(theirs, lease);
    const small = withLease(lease, () => newStorage(MIN_POOLED_BYTES - 1));
    recycle(small, lease);
    const late = withLease(lease, () => newStorage(BIG));
    lease.open = false;
    recycle(late, lease);
    assert.equal(pooledStorageBytes(), 0);
    assert.notEqual(
      withLease(new Lease(), () => newStorage(BIG)),
      late,
      "a closed run's storage (its outputs) is never handed out again",
    );
  });

  it('restores the previous lease after a nested or throwing call', () => {
    clearStoragePool();
    const outer = new Lease();
    const inner = new Lease();
    withLease(outer, () => {
      assert.throws(() => withLease(inner, () => assert.fail('boom')));
      const b = newStorage(BIG);
      recycle(b, inner);
      assert.equal(pooledStorageBytes(), 0, 'leased to the outer run, not the inner');
      recycle(b, outer);
    });
    assert.equal(pooledStorageBytes(), BIG);
    clearStoragePool();
  });

  it('rounds run storage up to a size class and reuses a free buffer up to ~1.4× the size asked', () => {
    clearStoragePool();
    const lease = new Lease();
    const asked = BIG + 100;
    const a = withLease(lease, () => newStorage(asked));
    assert.ok(a.byteLength >= asked && a.byteLength <= asked * 1.125, `class of ${asked}: ${a.byteLength}`);
    assert.equal(newStorage(asked).byteLength, asked, 'outside a run: exact');
    new Uint8Array(a).fill(9);
    recycle(a, lease);
    // A smaller request within reach takes it, its part zeroed; one far smaller does not.
    assert.equal(
      withLease(lease, () => newStorage(Math.floor(asked / 1.2))),
      a,
    );
    assert.ok(
      new Uint8Array(a, 0, Math.floor(asked / 1.2)).every((v) => v === 0),
      'new Uint8Array(a, 0, Math.floor(asked / 1.2)).every((v) => v === 0)',
    );
    recycle(a, lease);
    assert.notEqual(
      withLease(lease, () => newStorage(Math.floor(asked / 2))),
      a,
    );
    clearStoragePool();
  });

  it('gives a run its outputs as exact-length copies of longer pooled buffers only', () => {
    clearStoragePool();
    const lease = new Lease();
    const pooled = new Float32Array(
      withLease(lease, () => newStorage(BIG + 4)),
      0,
      BIG / 4 + 1,
    );
    pooled[0] = 3;
    const copy = exactData(pooled, lease);
    assert.notEqual(copy, pooled);
    assert.equal(copy.buffer.byteLength, copy.byteLength);
    assert.equal(copy[0], 3);
    const longs = new BigInt64Array(
      withLease(lease, () => newStorage(BIG + 8)),
      0,
      BIG / 8 + 1,
    );
    longs[BIG / 8] = -5n;
    const longCopy = exactData(longs, lease);
    assert.ok(
      longCopy instanceof BigInt64Array && longCopy.buffer.byteLength === BIG + 8,
      'longCopy instanceof BigInt64Array && longCopy.buffer.byteLength === BIG + 8',
    );
    assert.equal(longCopy[BIG / 8], -5n);
    const feed = new Float32Array(new ArrayBuffer(BIG * 2), 0, 4);
    assert.equal(exactData(feed, lease), feed, 'storage not pooled for the run is left as it is');
  });

  it('carves run storage of float32 from a shared arena: leased, released when dead or at the end', () => {
    const arena = new WasmMemoryAllocator(1);
    useSharedArena(arena);
    try {
      const lease = new Lease();
      const n = BIG / 4;
      const [x, y, z] = withLease(lease, () => [newFloat32Array(n), newFloat32Array(n), newFloat32Array(n)]);
      assert.ok(
        arena.holds(x) && arena.holds(y) && arena.holds(z),
        'arena.holds(x) && arena.holds(y) && arena.holds(z)',
      );
      assert.ok(!arena.holds(newFloat32Array(n)), 'outside a run: the JS heap');
      assert.ok(!arena.holds(withLease(lease, () => newFloat32Array(4))), 'small arrays: the JS heap');
      assert.equal(storageKey(x.subarray(3, 9)), storageKey(x), 'views of a block count as the block');
      x.fill(1);
      releaseStorage(x.subarray(0, 4), lease);
      const again = withLease(lease, () => newFloat32Array(n));
      assert.equal(again.byteOffset, x.byteOffset, 'a dead block is reused, zeroed');
      assert.ok(
        again.every((v) => v === 0),
        'again.every((v) => v === 0)',
      );
      releaseStorage(y, new Lease()); // another run's release is ignored
      assert.ok(arena.blockOf(y), 'arena.blockOf(y)');
      z[0] = 7;
      z[n - 1] = -2;
      const out = exactData(z, lease);
      assert.ok(out.buffer instanceof ArrayBuffer, 'outputs leave the arena');
      assert.ok(
        out instanceof Float32Array && out.buffer.byteLength === n * 4,
        'out instanceof Float32Array && out.buffer.byteLength === n * 4',
      );
      assert.deepEqual(out, z);
      closeLease(lease);
      assert.equal(arena.blockOf(y), undefined, 'the end of the run releases what it still held');
      assert.equal(arena.blockOf(z), undefined);
    } finally {
      useSharedArena(undefined);
    }
  });

  it('gives back, right after a step, the arena blocks the step took that no value holds', () => {
    const arena = new WasmMemoryAllocator(1);
    useSharedArena(arena);
    try {
      const lease = new Lease();
      const n = BIG / 4;
      const before = withLease(lease, () => newFloat32Array(n));
      const mark = lease.fresh.length;
      const [output, scratch] = withLease(lease, () => [newFloat32Array(n), newFloat32Array(n)]);
      const held = arena.blockOf(output);
      releaseUnheld(lease, mark, (block) => block === held);
      assert.ok(arena.blockOf(output), 'an output the step hands on stays');
      assert.equal(arena.blockOf(scratch), undefined, 'its scratch goes back');
      assert.ok(arena.blockOf(before), 'blocks of earlier steps are not looked at');
      assert.equal(lease.fresh.length, mark);
      closeLease(lease);
    } finally {
      useSharedArena(undefined);
    }
  });
});
