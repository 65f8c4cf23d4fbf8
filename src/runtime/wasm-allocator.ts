/**
 * Tensor storage inside one `WebAssembly.Memory`, so WASM kernels read and write tensors in place
 * with no copies between ops. The memory is shared (SharedArrayBuffer-backed) so that worker threads
 * can use the same bytes, and so growing it never detaches the views that live tensors hold.
 *
 * Blocks are 64-byte aligned (a cache line; SIMD loads want ≥16) and recycled as the storage pool's
 * buffers are (core/buffer-pool.ts `FreeLists`: size classes eight per power of two; a request takes
 * a free block of its class or a few above) before the memory grows. Tensors from this allocator
 * must be released only once nothing references their storage (the executor's MemoryTracker
 * guarantees that), and results handed to users are copied out.
 */
import { classBytes, classOf, FreeLists } from '../core/buffer-pool.js';
import { dtypeInfo, type TensorType, type TypedArray } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { Tensor, shapeSize, type Dims } from '../core/tensor.js';
import type { Allocator } from './allocator.js';

const PAGE = 65536;
const ALIGN = 64;
/**
 * Bytes at the start of the memory never handed out: offset 0 stays null to WASM code, and the
 * kernels keep their table of vector constants at fixed addresses there (assembly/constants.ts).
 */
export const RESERVED_LOW_BYTES = 1024;

/** A block of the memory: [offset, offset + size). */
export interface MemoryBlock {
  readonly offset: number;
  readonly size: number;
}

export class WasmMemoryAllocator implements Allocator {
  readonly memory: WebAssembly.Memory;
  private top = RESERVED_LOW_BYTES;
  private readonly free = new FreeLists<MemoryBlock>();
  private readonly owned = new WeakMap<object, MemoryBlock>();
  /** Blocks handed out, by offset, and their offsets in order (to find the block of any view). */
  private readonly live = new Map<number, MemoryBlock>();
  private readonly liveOffsets: number[] = [];
  /**
   * Every buffer object the memory has had. Growing replaces it (old views keep theirs), and so does
   * V8 (Node 20) whenever any shared memory of the process grows — another library's included
   * (onnxruntime-web's did) — though this one kept its size: see `buffer`.
   */
  private readonly generations = new WeakSet<ArrayBufferLike>();
  /** The buffer of the latest generation: most views checked by `holds` are of it. */
  private latest: ArrayBufferLike;
  /** Zeroes bytes of the memory: WASM's memory.fill once kernels on this memory offer it. */
  private zero: (offset: number, bytes: number) => void = (offset, bytes) =>
    // 8-byte words: a byte-wise fill of shared memory is ~8× slower in V8.
    new Float64Array(this.buffer(), offset, Math.ceil(bytes / 8)).fill(0);
  bytesInUse = 0;

  /** `maximumPages` caps the memory (64 KiB each); 65536 pages = 4 GiB, the wasm32 limit. */
  constructor(initialPages = 16, maximumPages = 65536) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true });
    this.latest = this.memory.buffer;
    this.generations.add(this.latest);
  }

  alloc(type: TensorType, dims: Dims): Tensor {
    const info = dtypeInfo(type);
    if (info.numericClass === 'string') return Tensor.zeros(type, dims); // strings live on the JS heap
    const count = shapeSize(dims) * info.lanes;
    const elementBytes = (info.arrayType as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const block = this.allocBlock(count * elementBytes);
    const Ctor = info.arrayType as unknown as new (b: ArrayBufferLike, o: number, n: number) => TypedArray;
    const data = new Ctor(this.buffer(), block.offset, count);
    this.owned.set(data, block);
    return new Tensor(type, data, dims);
  }

  /**
   * A float32 view of n elements over a block of its own (see `blockOf`, `releaseBlock`),
   * zero-filled unless `zeroed` is false (a recycled block then keeps its old bytes).
   */
  allocFloat32(n: number, zeroed = true): Float32Array {
    const block = this.allocBlock(n * 4, zeroed);
    return new Float32Array(this.buffer(), block.offset, n);
  }

  release(tensor: Tensor): void {
    const block = this.owned.get(tensor.data);
    if (!block) return;
    this.owned.delete(tensor.data);
    this.releaseBlock(block);
  }

  /** Gives back a block handed out by `allocFloat32` (found with `blockOf`); it must be dead. */
  releaseBlock(block: MemoryBlock): void {
    if (this.live.get(block.offset) !== block) return;
    this.live.delete(block.offset);
    this.liveOffsets.splice(this.insertionPoint(block.offset), 1);
    this.free.put(block.size, block);
    this.bytesInUse -= block.size;
  }

  /**
   * Zeroes recycled blocks with `zeroBytes` (a WASM function on this memory running memory.fill:
   * ~5× faster than the JS fill it replaces, 0.16 vs 0.8 ms per 4 MiB).
   */
  useZeroFill(zeroBytes: (offset: number, bytes: number) => void): void {
    this.zero = zeroBytes;
  }

  /** True when the tensor's storage is inside this allocator's memory. */
  owns(tensor: Tensor): boolean {
    return this.owned.has(tensor.data);
  }

  /** True when `view` looks at this memory (any generation of its buffer). */
  holds(view: ArrayBufferView): boolean {
    const b = view.buffer;
    if (b === this.latest || this.generations.has(b)) return true;
    // A view made by other code (a kernel's) on a buffer object this allocator has not seen yet: one
    // of the memory's current size. (Reading memory.buffer costs ~0.3 µs; most views asked about
    // are small heap arrays, turned away by their length.)
    return b.byteLength === this.latest.byteLength && b === this.buffer();
  }

  /** The memory's buffer object now, registered as one of its generations. */
  private buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    if (b !== this.latest) {
      this.latest = b;
      this.generations.add(b);
    }
    return b;
  }

  /** The live block `view` lies in, if it is a view of this memory. */
  blockOf(view: ArrayBufferView): MemoryBlock | undefined {
    if (!this.holds(view)) return undefined;
    // The last block starting at or before the view.
    const i = this.insertionPoint(view.byteOffset + 1) - 1;
    const block = i >= 0 ? this.live.get(this.liveOffsets[i]) : undefined;
    return block && view.byteOffset + view.byteLength <= block.offset + block.size ? block : undefined;
  }

  private allocBlock(bytes: number, zeroed = true): MemoryBlock {
    const want = Math.max(bytes, ALIGN);
    let block = this.free.take(want);
    if (block) {
      // Zero the part asked for of a recycled block (memory past the old top was never handed out
      // and is still zero).
      if (zeroed) this.zero(block.offset, Math.ceil(bytes / 8) * 8);
    } else {
      const size = Math.ceil(classBytes(classOf(want)) / ALIGN) * ALIGN;
      block = { offset: this.grow(size), size };
    }
    this.live.set(block.offset, block);
    this.liveOffsets.splice(this.insertionPoint(block.offset), 0, block.offset);
    this.bytesInUse += block.size;
    return block;
  }

  /** The first position in `liveOffsets` whose offset is ≥ `offset`. */
  private insertionPoint(offset: number): number {
    const offsets = this.liveOffsets;
    let lo = 0;
    let hi = offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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
      this.buffer();
    }
    this.top = end;
    return offset;
  }
}
