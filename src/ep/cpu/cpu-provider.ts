/**
 * The CPU execution provider: every op in the default registry, running the TypeScript reference
 * kernels (WASM SIMD kernels replace hot ones as they land, tested against these).
 */
import { defaultRegistry } from '../../ops/all.js';
import type { Kernel, NodeInfo } from '../../ops/kernel.js';
import { HeapAllocator } from '../../runtime/allocator.js';
import type { ExecutionProvider } from '../provider.js';

export class CpuExecutionProvider implements ExecutionProvider {
  readonly name = 'cpu';
  readonly allocator = new HeapAllocator();

  getKernel(node: NodeInfo): Kernel | undefined {
    const resolved = defaultRegistry.resolve(node.domain, node.opType, node.opset);
    return resolved?.def.build({ ...node, sinceVersion: resolved.sinceVersion });
  }
}
