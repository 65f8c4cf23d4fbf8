/**
 * Execution providers. An EP decides, node by node, whether it takes the node and with which kernel;
 * the session asks the EPs in the user's priority order and the first that returns a kernel runs the
 * node (per-node fallback), so a partial EP (a WebGPU one, a user's custom one) composes with `cpu`.
 */
import type { Allocator } from '../runtime/allocator.js';
import type { Kernel, NodeInfo } from '../ops/kernel.js';

export interface ExecutionProvider {
  /** The name users put in `executionProviders` (e.g. 'cpu'). */
  readonly name: string;
  /** A kernel for the node, or undefined when this EP does not take it. */
  getKernel(node: NodeInfo): Kernel | undefined;
  /** Where this EP's tensors live. */
  readonly allocator: Allocator;
}

const providers = new Map<string, ExecutionProvider>();

/** Makes an EP selectable by name in `SessionOptions.executionProviders`. */
export function registerExecutionProvider(ep: ExecutionProvider): void {
  providers.set(ep.name, ep);
}

export function getExecutionProvider(name: string): ExecutionProvider | undefined {
  return providers.get(name);
}

export function registeredExecutionProviders(): string[] {
  return [...providers.keys()];
}
