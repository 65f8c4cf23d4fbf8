import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MAX_TENSOR_ELEMENTS } from '../core/limits.js';
import { OnyxError } from '../core/errors.js';
import { HeapAllocator } from './allocator.js';

it('HeapAllocator checks dims before allocating, whether or not the storage is zeroed', () => {
  const heap = new HeapAllocator();
  for (const zeroed of [true, false]) {
    assert.deepEqual(heap.alloc('float32', [2, 3], zeroed).dims, [2, 3]);
    assert.throws(
      () => heap.alloc('float32', [MAX_TENSOR_ELEMENTS, 1024], zeroed),
      (e: unknown) => e instanceof OnyxError && e.code === 'LIMIT_EXCEEDED',
    );
    assert.throws(
      () => heap.alloc('float32', [2, -1], zeroed),
      (e: unknown) => e instanceof OnyxError && e.code === 'INVALID_ARGUMENT',
    );
  }
});
