/**
 * Counts the references to the storage of the intermediate values of one run, to report the peak
 * bytes held and to tell the executor when storage is dead (so it can be recycled). Storage is an
 * ArrayBuffer or a block of the shared arena (core/buffer-pool.ts) — a Reshape output or a subarray
 * view shares its input's, and is counted with it — or, for other views of shared memory, the typed
 * array itself.
 */
import { storageKey } from '../core/buffer-pool.js';
import type { TensorData } from '../core/dtype.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';

export class MemoryTracker {
  private readonly refs = new Map<object, number>();
  bytesInUse = 0;
  peakBytes = 0;

  hold(v: Value | undefined): void {
    if (v instanceof Tensor) this.holdTensor(v);
    else forEachTensor(v, (t) => this.holdTensor(t));
  }

  private holdTensor(t: Tensor): void {
    const key = storageOf(t.data);
    const n = this.refs.get(key) ?? 0;
    this.refs.set(key, n + 1);
    if (n === 0) {
      this.bytesInUse += bytesOf(t.data);
      if (this.bytesInUse > this.peakBytes) this.peakBytes = this.bytesInUse;
    }
  }

  /** True while some value holds the storage `key` (see `storageKey`). */
  holdsStorage(key: object): boolean {
    return this.refs.has(key);
  }

  /** Stops counting one reference without releasing storage (ownership left the graph). */
  forget(v: Value | undefined): void {
    this.drop(v, () => {});
  }

  /** Drops one reference; calls `dead` for each tensor whose storage nothing else holds now. */
  drop(v: Value | undefined, dead: (t: Tensor) => void): void {
    if (v instanceof Tensor) this.dropTensor(v, dead);
    else forEachTensor(v, (t) => this.dropTensor(t, dead));
  }

  private dropTensor(t: Tensor, dead: (t: Tensor) => void): void {
    const key = storageOf(t.data);
    const n = this.refs.get(key);
    if (n === undefined) return;
    if (n > 1) this.refs.set(key, n - 1);
    else {
      this.refs.delete(key);
      this.bytesInUse -= bytesOf(t.data);
      dead(t);
    }
  }
}

/** What a tensor's data keeps alive: its ArrayBuffer or arena block (see `storageKey`), or itself (strings). */
function storageOf(d: TensorData): object {
  return Array.isArray(d) ? d : storageKey(d);
}

function bytesOf(d: TensorData): number {
  if (Array.isArray(d)) return d.reduce((s, x) => s + 2 * x.length, 0);
  return d.buffer instanceof ArrayBuffer ? d.buffer.byteLength : d.byteLength;
}

function forEachTensor(v: Value | undefined, fn: (t: Tensor) => void): void {
  if (v instanceof Tensor) fn(v);
  else if (Array.isArray(v)) for (const x of v) forEachTensor(x, fn);
  else if (v instanceof Map) for (const x of v.values()) forEachTensor(x, fn);
}
