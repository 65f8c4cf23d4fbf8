/**
 * Recycles the ArrayBuffers of a run's intermediate tensors: the output of a node reuses the storage
 * of a value that died earlier in the run, or in the previous run, instead of a fresh allocation that
 * the OS has to fault in page by page and the GC has to collect (measured: a fresh 3 MiB output costs
 * ~2 ns per element more than a recycled one, which is most of what an elementwise op costs).
 *
 * Pooled buffers come in size classes, eight per power of two, and a request takes a free buffer of
 * its class or up to REUSE_CLASSES above it (at most ~1.4× the bytes asked): with exact sizes,
 * DenseNet-121's ever-growing concatenations found almost nothing to reuse and the pool ended a run
 * holding ~100 MB. So storage may be longer than asked: callers view it with explicit lengths.
 *
 * Safety is by lease. The executor runs each kernel inside `withLease(lease, …)`; storage created
 * there (through `newStorage`, which `allocData` and the compute arrays use) is leased to that run.
 * The executor gives a buffer back with `recycle` only when its MemoryTracker — which counts
 * references per buffer, views included — says no value of the run holds it, and only a buffer of
 * the same open lease is taken. A run's lease closes when it ends, so its outputs, handed to the
 * caller (as exact-length copies when their storage was a longer pooled buffer, see `exactData`),
 * are never recycled; nor is storage made outside a run (initializers, constant folding, user
 * feeds). The part of a recycled buffer a request asks for is zeroed, as fresh storage is — unless
 * the kernel asks for storage it will overwrite whole (`zeroed = false`): then the zeroing pass, a
 * write of every byte the kernel writes again (~10 ms per DenseNet-121 run), is skipped. Tests run
 * with `poisonUninitialized(true)`, which fills such storage with NaN bytes instead, so that a
 * kernel that reads or leaves any element of it shows.
 */
import type { TypedArray } from './dtype.js';
import { envVar } from './env-var.js';

/** One run's claim on the storage its kernels create. */
export class Lease {
  open = true;
  /** Blocks of the shared arena this run's kernels were given and that are not yet released. */
  readonly blocks = new Set<object>();
  /** Those blocks in the order they were given, since the executor last looked (`releaseUnheld`). */
  readonly fresh: object[] = [];
}

/**
 * Memory that run storage of float32 tensors is carved from instead of the JS heap: the WASM kernels'
 * shared memory, so they read and write those tensors in place (no copy in before a kernel, none out
 * after). Blocks are leased like pooled buffers and released when dead or when their run ends; a
 * run's outputs are copied out to the heap first (`exactData`).
 */
export interface SharedArena {
  /** A view of n floats over a block of its own, zero-filled unless `zeroed` is false. */
  allocFloat32(n: number, zeroed?: boolean): Float32Array;
  /** The live block a view of the arena's memory lies in; undefined for other views. */
  blockOf(view: ArrayBufferView): object | undefined;
  releaseBlock(block: object): void;
}

let arena: SharedArena | undefined;

/** Makes run storage of float32 tensors come from `a` (undefined: the JS heap, as before). */
export function useSharedArena(a: SharedArena | undefined): void {
  arena = a;
}

/**
 * Buffers below this size are left to the GC. Node 20 takes ~2.3 µs for any `new ArrayBuffer`, 1 KiB
 * or 1 MiB (measured), so tiny tensors are pooled too: a 256-wide LayerNorm chain ran 23% faster,
 * an Add chain 6% (same process, alternating). The smallest size class is 8 bytes.
 */
export const MIN_POOLED_BYTES = 8;
/**
 * Float32 run storage of at least this many elements comes from the shared arena: the WASM kernels
 * then read and write it in place, where smaller heap arrays are copied in and out per call.
 */
export const MIN_ARENA_FLOATS = 1024;
/** Pooled bytes kept at most (beyond this, released buffers go to the GC). */
export const MAX_POOLED_BYTES = 512 * 1024 * 1024;

/** Size classes per power of two: a class is at most 12.5% larger than the sizes it serves. */
const CLASSES_PER_DOUBLING = 8;
/** How many classes above its own a request may take a free buffer from (2^(4/8) ≈ 1.41×). */
const REUSE_CLASSES = 4;

let active: Lease | undefined;
let poison = envVar('ONYX_POISON_UNINITIALIZED') === '1';

/**
 * Fills storage asked for with `zeroed = false` with 0xFF bytes (NaN floats), for tests (also on when
 * ONYX_POISON_UNINITIALIZED=1 at load, as `npm test` sets it); returns the previous setting.
 */
export function poisonUninitialized(on: boolean): boolean {
  const was = poison;
  poison = on;
  return was;
}
const leaseOf = new WeakMap<ArrayBuffer, Lease>();
let pooledBytes = 0;

/** The class of `bytes` (≥ 8): the smallest class size that holds it. */
export function classOf(bytes: number): number {
  // Integer bit arithmetic below 2³¹ bytes (every request of a run but the largest): ~5× cheaper
  // than log2, pow and a division, and this runs for every tensor a kernel makes.
  if (bytes < 0x80000000) {
    const e = 31 - Math.clz32(bytes);
    const shift = e - 3;
    return e * CLASSES_PER_DOUBLING + ((bytes + (1 << shift) - 1) >>> shift) - CLASSES_PER_DOUBLING;
  }
  const e = Math.floor(Math.log2(bytes));
  const unit = 2 ** (e - 3);
  return e * CLASSES_PER_DOUBLING + Math.ceil(bytes / unit) - CLASSES_PER_DOUBLING;
}

export function classBytes(c: number): number {
  const e = Math.floor(c / CLASSES_PER_DOUBLING);
  return (CLASSES_PER_DOUBLING + (c % CLASSES_PER_DOUBLING)) * 2 ** (e - 3);
}

/**
 * Free items by size class — this pool's buffers, the shared arena's memory blocks: a request for
 * `bytes` takes one of its class or of up to REUSE_CLASSES above.
 */
export class FreeLists<T> {
  private readonly lists = new Map<number, T[]>();

  /** A free item for a request of `bytes` (taken off its list), or undefined. */
  take(bytes: number): T | undefined {
    const c = classOf(bytes);
    let item: T | undefined;
    for (let k = c; k <= c + REUSE_CLASSES && item === undefined; k++) item = this.lists.get(k)?.pop();
    return item;
  }

  /** Files `item`, which holds `bytes`, under its size class. */
  put(bytes: number, item: T): void {
    const c = classOf(bytes);
    const list = this.lists.get(c);
    if (list) list.push(item);
    else this.lists.set(c, [item]);
  }

  clear(): void {
    this.lists.clear();
  }
}

/** Free buffers of the pool. */
const free = new FreeLists<ArrayBuffer>();

/** Runs `fn` with storage leased to `lease` (restored afterwards; nests). */
export function withLease<T>(lease: Lease, fn: () => T): T {
  const previous = enterLease(lease);
  try {
    return fn();
  } finally {
    leaveLease(previous);
  }
}

/**
 * Makes `lease` the active lease and returns the one it replaces, which the caller must restore
 * with `leaveLease` (in a `finally`): `withLease` without a closure, for the executor's every step.
 */
export function enterLease(lease: Lease | undefined): Lease | undefined {
  const previous = active;
  active = lease;
  return previous;
}

/** Restores the lease `enterLease` replaced. */
export function leaveLease(previous: Lease | undefined): void {
  active = previous;
}

/**
 * Runs `fn` outside any run's lease: storage it makes is fresh and never recycled, so it may be kept
 * past the run (memoized shape outputs, see runtime/shape-memo.ts).
 */
export function withoutLease<T>(fn: () => T): T {
  const previous = enterLease(undefined);
  try {
    return fn();
  } finally {
    leaveLease(previous);
  }
}

/** True for a buffer leased to a run (it may be recycled once dead). */
export function isLeased(buffer: ArrayBufferLike): boolean {
  return buffer instanceof ArrayBuffer && leaseOf.has(buffer);
}

/**
 * Storage of at least `bytes`, zero-filled (unless `zeroed` is false: the caller overwrites all
 * `bytes`): inside a run, leased and rounded up to its size class (recycled when a free buffer
 * fits); outside a run, fresh and exactly `bytes` long.
 */
export function newStorage(bytes: number, zeroed = true): ArrayBuffer {
  const lease = active;
  let buffer: ArrayBuffer | undefined;
  if (!lease?.open || bytes < MIN_POOLED_BYTES) buffer = heapBuffer(bytes, zeroed);
  else {
    buffer = free.take(bytes);
    if (buffer) {
      pooledBytes -= buffer.byteLength;
      if (zeroed) new Uint8Array(buffer, 0, bytes).fill(0);
    } else {
      buffer = heapBuffer(classBytes(classOf(bytes)), zeroed);
    }
    leaseOf.set(buffer, lease);
  }
  if (!zeroed && poison) new Uint8Array(buffer, 0, bytes).fill(0xff);
  return buffer;
}

/**
 * Float32 storage for n elements, zero-filled unless `zeroed` is false (the caller overwrites all n):
 * inside a run, from the shared arena when there is one (and the size is worth a block), else from
 * `newStorage`.
 */
export function newFloat32Array(n: number, zeroed = true): Float32Array {
  const lease = active;
  if (arena && lease?.open && n >= MIN_ARENA_FLOATS) {
    const data = arena.allocFloat32(n, zeroed);
    if (!zeroed && poison) new Uint8Array(data.buffer, data.byteOffset, n * 4).fill(0xff);
    const block = arena.blockOf(data)!;
    lease.blocks.add(block);
    lease.fresh.push(block);
    return data;
  }
  return new Float32Array(newStorage(n * 4, zeroed), 0, n);
}

/**
 * What a typed array's data keeps alive, for reference counting: its ArrayBuffer, its arena block
 * (views of one block share it), or itself (other shared memory).
 */
export function storageKey(d: ArrayBufferView): object {
  if (d.buffer instanceof ArrayBuffer) return d.buffer;
  return arena?.blockOf(d) ?? d;
}

/** Gives back dead storage of `lease`'s run: a heap buffer to the pool, an arena block to the arena. */
export function releaseStorage(d: ArrayBufferView, lease: Lease): void {
  if (d.buffer instanceof ArrayBuffer) {
    recycle(d.buffer, lease);
    return;
  }
  const block = arena?.blockOf(d);
  if (!block || !lease.open || !lease.blocks.delete(block)) return;
  arena!.releaseBlock(block);
}

/**
 * Releases the arena blocks given to `lease` since position `from` of its `fresh` list that `held`
 * says no value holds: a kernel's scratch, which would otherwise stay taken until the run ends.
 */
export function releaseUnheld(lease: Lease, from: number, held: (block: object) => boolean): void {
  for (let i = from; i < lease.fresh.length; i++) {
    const block = lease.fresh[i];
    if (!held(block) && lease.blocks.delete(block)) arena?.releaseBlock(block);
  }
  lease.fresh.length = Math.min(lease.fresh.length, from);
}

/** Ends a run: its arena blocks still held go back (its outputs must have been copied out). */
export function closeLease(lease: Lease): void {
  lease.open = false;
  for (const block of lease.blocks) arena?.releaseBlock(block);
  lease.blocks.clear();
  lease.fresh.length = 0;
}

/** Gives back storage that nothing of `lease`'s run references any more; others are ignored. */
export function recycle(buffer: ArrayBufferLike, lease: Lease): void {
  if (!(buffer instanceof ArrayBuffer) || !lease.open || leaseOf.get(buffer) !== lease) return;
  leaseOf.delete(buffer);
  if (pooledBytes + buffer.byteLength > MAX_POOLED_BYTES) return;
  free.put(buffer.byteLength, buffer);
  pooledBytes += buffer.byteLength;
}

/**
 * `data` itself, or a copy on the JS heap of exactly its length when it views a longer buffer pooled
 * for `lease`'s run or a block of the shared arena: what a run hands its caller, who may reasonably
 * read `data.buffer` whole and keeps it after the run.
 */
export function exactData<T extends TypedArray>(data: T, lease: Lease): T {
  const b = data.buffer;
  if (!(b instanceof ArrayBuffer)) {
    const block = arena?.blockOf(data);
    return block && lease.blocks.has(block) ? heapCopy(data) : data;
  }
  if (leaseOf.get(b) !== lease || data.byteLength === b.byteLength) return data;
  return heapCopy(data);
}

/**
 * A copy of `data` in a heap buffer of exactly its bytes, which the copy overwrites whole (so it is
 * not zeroed first). Not `slice()`: on a view of shared memory (the arena) V8 copies element by
 * element, 59 µs for 128 KiB where `set` takes 5.5 µs (Node 20, measured).
 */
function heapCopy<T extends TypedArray>(data: T): T {
  const buffer = heapBuffer(data.byteLength, false);
  const copy = new (data.constructor as new (b: ArrayBuffer, offset: number, length: number) => T)(
    buffer,
    0,
    data.length,
  );
  copy.set(data as never);
  return copy;
}

type Uninitialized = (bytes: number) => { buffer: ArrayBuffer };
/** Node's allocation without the zero fill (absent in browsers, which get zeroed memory). */
const allocUnsafeSlow = (globalThis as { Buffer?: { allocUnsafeSlow: Uninitialized } }).Buffer
  ?.allocUnsafeSlow;
/** Below this many bytes a zeroed ArrayBuffer is as cheap as an uninitialized one (measured). */
const UNINITIALIZED_MIN_BYTES = 16384;

/**
 * A fresh heap ArrayBuffer of exactly `bytes`; zero-filled unless `zeroed` is false, when the
 * caller overwrites every byte it reads (a 128 KiB buffer: ~27 µs zeroed and written, ~21 µs
 * uninitialized and written, in Node 20 — the rest is the fresh pages' faults).
 */
function heapBuffer(bytes: number, zeroed: boolean): ArrayBuffer {
  if (zeroed || !allocUnsafeSlow || bytes < UNINITIALIZED_MIN_BYTES) return new ArrayBuffer(bytes);
  return allocUnsafeSlow(bytes).buffer;
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
