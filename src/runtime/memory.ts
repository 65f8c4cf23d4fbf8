/**
 * Counts the bytes held by intermediate values while a graph runs, by storage identity (a Reshape
 * output shares its input's bytes and is counted once), to report a session's peak memory.
 */
import type { TensorData } from '../core/dtype.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';

export class MemoryTracker {
  private readonly refs = new Map<TensorData, number>();
  bytesInUse = 0;
  peakBytes = 0;

  hold(v: Value | undefined): void {
    forEachTensor(v, (t) => {
      const n = this.refs.get(t.data) ?? 0;
      this.refs.set(t.data, n + 1);
      if (n === 0) {
        this.bytesInUse += bytesOf(t.data);
        if (this.bytesInUse > this.peakBytes) this.peakBytes = this.bytesInUse;
      }
    });
  }

  /** Stops counting one reference without releasing storage (ownership left the graph). */
  forget(v: Value | undefined): void {
    this.drop(v, () => {});
  }

  /** Drops one reference; calls `dead` for each tensor whose storage nothing else holds now. */
  drop(v: Value | undefined, dead: (t: Tensor) => void): void {
    forEachTensor(v, (t) => {
      const n = this.refs.get(t.data);
      if (n === undefined) return;
      if (n > 1) this.refs.set(t.data, n - 1);
      else {
        this.refs.delete(t.data);
        this.bytesInUse -= bytesOf(t.data);
        dead(t);
      }
    });
  }
}

function bytesOf(d: TensorData): number {
  return Array.isArray(d) ? d.reduce((s, x) => s + 2 * x.length, 0) : d.byteLength;
}

function forEachTensor(v: Value | undefined, fn: (t: Tensor) => void): void {
  if (v instanceof Tensor) fn(v);
  else if (Array.isArray(v)) for (const x of v) forEachTensor(x, fn);
  else if (v instanceof Map) for (const x of v.values()) forEachTensor(x, fn);
}
