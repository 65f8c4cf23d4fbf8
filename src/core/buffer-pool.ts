/**
 * Recycles the ArrayBuffers of a run's intermediate tensors, by exact byte length: the output of a
 * node reuses the storage of a value that died earlier in the run, or in the previous run, instead
 * of a fresh allocation that the OS has to fault in page by page and the GC has to collect (measured:
 * a fresh 3 MiB output costs ~2 ns per element more than a recycled one, which is most of what an
 * elementwise op costs).
 *
 * Safety is by lease. The executor runs each kernel inside `withLease(lease, …)`; storage created
 * there (through `newStorage`, which `allocData` and the compute arrays use) is leased to that run.
 * The executor gives a buffer back with `recycle` only when its MemoryTracker — which counts
 * references per buffer, views included — says no value of the run holds it, and only a buffer of
 * the same open lease is taken. A run's lease closes when it ends, so its outputs, handed to the
 * caller, are never recycled; nor is storage made outside a run (initializers, constant folding,
 * user feeds). Recycled storage is zeroed, as fresh storage is.
 */

/** One run's claim on the storage its kernels create. */
export class Lease {
  open = true;
}

/** Buffers below this size are left to the GC (pooling them saves nothing measurable). */
export const MIN_POOLED_BYTES = 16384;
/** Pooled bytes kept at most (beyond this, released buffers go to the GC). */
export const MAX_POOLED_BYTES = 512 * 1024 * 1024;

let active: Lease | undefined;
const leaseOf = new WeakMap<ArrayBuffer, Lease>();
const free = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;

/** Runs `fn` with storage leased to `lease` (restored afterwards; nests). */
export function withLease<T>(lease: Lease, fn: () => T): T {
  const previous = active;
  active = lease;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/** A zero-filled buffer of `bytes`: recycled and leased inside a run, fresh otherwise. */
export function newStorage(bytes: number): ArrayBuffer {
  const lease = active;
  if (!lease?.open || bytes < MIN_POOLED_BYTES) return new ArrayBuffer(bytes);
  const reused = free.get(bytes)?.pop();
  let buffer: ArrayBuffer;
  if (reused) {
    pooledBytes -= bytes;
    new Uint8Array(reused).fill(0);
    buffer = reused;
  } else {
    buffer = new ArrayBuffer(bytes);
  }
  leaseOf.set(buffer, lease);
  return buffer;
}

/** Gives back storage that nothing of `lease`'s run references any more; others are ignored. */
export function recycle(buffer: ArrayBufferLike, lease: Lease): void {
  if (!(buffer instanceof ArrayBuffer) || !lease.open || leaseOf.get(buffer) !== lease) return;
  leaseOf.delete(buffer);
  if (pooledBytes + buffer.byteLength > MAX_POOLED_BYTES) return;
  const list = free.get(buffer.byteLength);
  if (list) list.push(buffer);
  else free.set(buffer.byteLength, [buffer]);
  pooledBytes += buffer.byteLength;
}

/** Bytes held for reuse now (for tests and memory reports). */
export function pooledStorageBytes(): number {
  return pooledBytes;
}

/** Drops every pooled buffer (to the GC). */
export function clearStoragePool(): void {
  free.clear();
  pooledBytes = 0;
}
