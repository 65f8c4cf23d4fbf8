/**
 * Tensor storage inside one `WebAssembly.Memory`, so WASM kernels read and write tensors in place
 * with no copies between ops. The memory is shared (SharedArrayBuffer-backed) so that worker threads
 * can use the same bytes, and so growing it never detaches the views that live tensors hold.
 *
 * Blocks are 64-byte aligned (a cache line; SIMD loads want ≥16) and recycled by power-of-two size
 * class: a released block goes on its class's free list and is handed out again before the memory
 * grows. Tensors from this allocator must be released only once nothing references their storage
 * (the executor's MemoryTracker guarantees that), and results handed to users are copied out.
 */
import { dtypeInfo, type TensorType, type TypedArray } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { Tensor, shapeSize, type Dims } from '../core/tensor.js';
import type { Allocator } from './allocator.js';

const PAGE = 65536;
const ALIGN = 64;

export class WasmMemoryAllocator implements Allocator {
  readonly memory: WebAssembly.Memory;
  private top = ALIGN; // offset 0 is never handed out, so 0 can mean "null" to WASM code
  private readonly free = new Map<number, number[]>();
  private readonly owned = new WeakMap<object, { offset: number; size: number }>();
  bytesInUse = 0;

  /** `maximumPages` caps the memory (64 KiB each); 65536 pages = 4 GiB, the wasm32 limit. */
  constructor(initialPages = 16, maximumPages = 65536) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true });
  }

  alloc(type: TensorType, dims: Dims): Tensor {
    const info = dtypeInfo(type);
    if (info.numericClass === 'string') return Tensor.zeros(type, dims); // strings live on the JS heap
    const count = shapeSize(dims) * info.lanes;
    const elementBytes = (info.arrayType as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const size = sizeClass(Math.max(count * elementBytes, 1));
    const reused = this.free.get(size)?.pop();
    const offset = reused ?? this.grow(size);
    const Ctor = info.arrayType as unknown as new (b: ArrayBufferLike, o: number, n: number) => TypedArray;
    // Zero a recycled block through a byte view (works for BigInt arrays too); memory past the old
    // top was never handed out and is still zero as WebAssembly made it.
    if (reused !== undefined) new Uint8Array(this.memory.buffer, offset, size).fill(0);
    const data = new Ctor(this.memory.buffer, offset, count);
    this.owned.set(data, { offset, size });
    this.bytesInUse += size;
    return new Tensor(type, data, dims);
  }

  release(tensor: Tensor): void {
    const block = this.owned.get(tensor.data);
    if (!block) return;
    this.owned.delete(tensor.data);
    const list = this.free.get(block.size);
    if (list) list.push(block.offset);
    else this.free.set(block.size, [block.offset]);
    this.bytesInUse -= block.size;
  }

  /** True when the tensor's storage is inside this allocator's memory. */
  owns(tensor: Tensor): boolean {
    return this.owned.has(tensor.data);
  }

  private grow(size: number): number {
    const offset = this.top;
    const end = offset + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new OnyxError(
          'LIMIT_EXCEEDED',
          `tensor memory cannot grow by ${pages * PAGE} bytes (WebAssembly memory limit)`,
          {},
          { cause: e },
        );
      }
    }
    this.top = end;
    return offset;
  }
}

/** The smallest power of two ≥ n, at least one alignment unit. */
function sizeClass(n: number): number {
  let s = ALIGN;
  while (s < n) s *= 2;
  return s;
}
