/**
 * Tensor storage. Kernels allocate outputs through the session's allocator (`RunContext.alloc`) and
 * the executor hands each intermediate back after its last use, so an allocator backed by one
 * `WebAssembly.Memory` can reuse blocks and share bytes with WASM kernels without copies.
 * `HeapAllocator` is the plain-JS one: the GC reclaims released tensors.
 */
import type { TensorType } from '../core/dtype.js';
import { Tensor, type Dims } from '../core/tensor.js';

export interface Allocator {
  alloc(type: TensorType, dims: Dims): Tensor;
  /** Gives back a tensor this allocator made (others are ignored); it must not be used afterwards. */
  release(tensor: Tensor): void;
}

export class HeapAllocator implements Allocator {
  alloc(type: TensorType, dims: Dims): Tensor {
    return Tensor.zeros(type, dims);
  }

  release(): void {}
}
