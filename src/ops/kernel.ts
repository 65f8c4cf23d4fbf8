/**
 * The contract between the runtime and an op implementation.
 *
 * An `OpDef` is registered under (domain, opType, sinceVersions). At session creation the runtime
 * calls `build(node)` once per node — parse and check attributes there ("plan once, run many") — and
 * gets back a `Kernel` that `run()` calls with the node's input values. Kernels never mutate inputs.
 */
import type { TensorType } from '../core/dtype.js';
import type { Dims } from '../core/tensor.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { Attributes } from '../ir/attributes.js';
import type { Graph } from '../ir/graph.js';
import type { ThreadPool } from '../runtime/thread-pool.js';

/** What a kernel's build step may know about its node. */
export interface NodeInfo {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** The model's opset for the node's domain. */
  readonly opset: number;
  /** The since-version of the OpDef entry chosen for that opset (e.g. 13 for Softmax in opset 17). */
  readonly sinceVersion: number;
  readonly attrs: Attributes;
  /** Input and output counts, including omitted optional ones (named ''). */
  readonly inputCount: number;
  readonly outputCount: number;
  /** Which inputs/outputs were omitted (''), by position. */
  readonly inputPresent: readonly boolean[];
  readonly outputPresent: readonly boolean[];
  /**
   * The graph the node sits in, for the rare op that must read its surroundings (Gradient
   * differentiates the nodes that compute its inputs). Kernels must not modify it.
   */
  readonly graph?: Graph;
  /** The node's input value names ('' for omitted ones), when the planner built it from a graph. */
  readonly inputNames?: readonly string[];
}

/**
 * Input `index` when it is a constant known at build time: an initializer of the node's graph that
 * is not also a graph input (a feed could replace that). Kernels use it to prepare weights once
 * (pre-packing); at run time they must still check that the value they get is this very tensor.
 */
export function constantInput(node: NodeInfo, index: number): Tensor | undefined {
  const name = node.inputNames?.[index];
  const g = node.graph;
  if (!name || !g || g.input(name)) return undefined;
  return g.initializers.get(name);
}

/** Services the runtime gives a kernel while it runs. */
export interface RunContext {
  /**
   * Runs a subgraph (If/Loop/Scan body) with the given input values; names the body reads from
   * enclosing scopes resolve to the values visible at this node.
   */
  runSubgraph(graph: Graph, inputs: readonly Value[]): Promise<Value[]>;
  /**
   * Allocates an output tensor from the session's allocator, zero-filled unless `zeroed` is false
   * (the kernel writes every element; see core/buffer-pool.ts).
   */
  alloc(type: TensorType, dims: Dims, zeroed?: boolean): Tensor;
  /**
   * Allocates output `index` of the node, as `alloc` does. When that output leaves the run (an
   * output of the model), its storage is the caller's from the start instead of run storage copied
   * out at the end (a decoder's key/value cache: 4 × 128 KiB of copies per step). Kernels with
   * several outputs, some of which later nodes read, use it: the executor gives a step whose every
   * output leaves the run storage of its own anyway (see runtime/plan.ts `Step.makesOutput`).
   */
  allocOutput(index: number, type: TensorType, dims: Dims, zeroed?: boolean): Tensor;
  /**
   * The session's intra-op thread pool (absent when single-threaded): pass it to
   * ep/cpu/wasm/parallel-gemm.ts's `parallelSgemm`, which also takes `undefined`.
   */
  threads?: ThreadPool;
}

/** Input values by position; `undefined` for an omitted optional input. */
export type KernelInputs = readonly (Value | undefined)[];

export type Kernel = ((inputs: KernelInputs, ctx: RunContext) => Value[] | Promise<Value[]>) & {
  /**
   * Frees what `build` set aside outside the JS heap (pre-packed weights in WebAssembly memory).
   * The session calls it once when it is released; the kernel is not called afterwards.
   */
  dispose?(): void;
};

export interface OpDef {
  /** '' for ai.onnx. */
  readonly domain?: string;
  readonly opType: string;
  /**
   * Every since-version of the op in the spec's changelog that this implementation covers. The
   * registry picks the largest one ≤ the model's opset; an opset below the smallest is unsupported.
   */
  readonly versions: readonly number[];
  build(node: NodeInfo): Kernel;
}

/** A plain-TS allocator for kernels and tests that have no session (the reference path). */
export const heapRunContext: RunContext = {
  runSubgraph() {
    throw new Error('no subgraph runner in this context');
  },
  alloc: (type, dims) => Tensor.zeros(type, dims),
  allocOutput: (_index, type, dims) => Tensor.zeros(type, dims),
};
