import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Lease,
  MIN_POOLED_BYTES,
  clearStoragePool,
  newStorage,
  pooledStorageBytes,
  recycle,
  withLease,
} from './buffer-pool.js';

const BIG = MIN_POOLED_BYTES * 2;

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

  it('never takes storage made outside a run, by another run, after the run, or too small', () => {
    clearStoragePool();
    const lease = new Lease();
    const other = new Lease();
    const outside = newStorage(BIG);
    recycle(outside, lease);
    const theirs = withLease(other, () => newStorage(BIG));
    recycle(theirs, lease);
    const small = withLease(lease, () => newStorage(64));
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
});
