/**
 * The engine behind `InferenceSession`: takes an IR model and the chosen EPs, expands functions,
 * validates, optimizes and plans once; then each `run` only executes the plan.
 */
import { closeLease, exactData, Lease } from '../core/buffer-pool.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { ExecutionProvider } from '../ep/provider.js';
import type { Model } from '../ir/graph.js';
import { inlineFunctions } from '../ir/inline.js';
import { validateGraph } from '../ir/validate.js';
import { optimizeModel, type OptimizationLevel, type PassRecord } from '../optimizer/optimize.js';
import { HeapAllocator, type Allocator } from './allocator.js';
import { Executor } from './executor.js';
import { MemoryTracker } from './memory.js';
import { buildPlans, disposePlans, nodeInfo, type Plans } from './plan.js';
import { Profiler } from './profiler.js';
import { isKeptOutput } from './shape-memo.js';
import type { ThreadPool } from './thread-pool.js';

export interface SessionCoreOptions {
  providers: readonly ExecutionProvider[];
  optimizationLevel: OptimizationLevel;
  /** Optimizer pass names not to run. */
  disabledOptimizers?: ReadonlySet<string>;
  profiling?: boolean;
  /** Intra-op threads for the kernels; the core releases the pool in `close()`. */
  threads?: ThreadPool;
}

export class SessionCore {
  /** The most bytes of intermediate values held at once in any run so far. */
  peakBytes = 0;
  readonly profiler: Profiler | undefined;
  private readonly allocator: Allocator;
  private readonly threads: ThreadPool | undefined;

  private constructor(
    readonly model: Model,
    /** What each optimizer pass did to `model`. */
    readonly optimization: readonly PassRecord[],
    private readonly plans: Plans,
    options: SessionCoreOptions,
  ) {
    this.allocator = options.providers[0]?.allocator ?? new HeapAllocator();
    this.profiler = options.profiling ? new Profiler() : undefined;
    this.threads = options.threads;
  }

  static async create(model: Model, options: SessionCoreOptions): Promise<SessionCore> {
    const hasKernel = (node: Parameters<typeof nodeInfo>[0]) =>
      options.providers.some((ep) => {
        try {
          return ep.getKernel(nodeInfo(node)) !== undefined;
        } catch {
          return true;
        }
      });
    inlineFunctions(model.graph, { functions: model.functions, hasKernel });
    validateGraph(model.graph);
    const optimization = await optimizeModel(model, options.optimizationLevel, {
      disabled: options.disabledOptimizers,
      foldKernel: (node) => {
        for (const ep of options.providers) {
          try {
            const kernel = ep.getKernel(nodeInfo(node));
            if (kernel) return kernel;
          } catch {
            return undefined;
          }
        }
        return undefined;
      },
    });
    const plans = buildPlans(model.graph, options.providers, {
      fuseSteps: options.optimizationLevel !== 'disabled',
    });
    return new SessionCore(model, optimization, plans, options);
  }

  /**
   * One run, with its own reference counts and storage lease: whatever the run still holds at its
   * end (its outputs, values no step released) is left to the caller and the GC, never recycled.
   */
  async run(feeds: ReadonlyMap<string, Value>): Promise<Map<string, Value>> {
    const memory = new MemoryTracker();
    const lease = new Lease();
    const executor = new Executor(this.plans, {
      allocator: this.allocator,
      memory,
      lease,
      profiler: this.profiler,
      threads: this.threads,
    });
    try {
      const outputs = await executor.runGraph(this.model.graph, feeds, null);
      return new Map(this.model.graph.outputs.map((o, i) => [o.name, exactValue(outputs[i], lease)]));
    } finally {
      closeLease(lease);
      this.peakBytes = Math.max(this.peakBytes, memory.peakBytes);
    }
  }

  /**
   * Frees the kernels' build-time resources (pre-packed weights) and gives back the thread pool (its
   * workers stop when no other session holds it).
   */
  async close(): Promise<void> {
    disposePlans(this.plans);
    await this.threads?.release();
  }
}

/** `v` with every tensor's storage exactly its data (see `exactData`): outputs may be pooled buffers. */
function exactValue(v: Value, lease: Lease): Value {
  if (v instanceof Tensor) {
    // A memoized node's output is reused by later runs: the caller gets its own copy.
    if (isKeptOutput(v)) return new Tensor(v.type, v.data.slice(), v.dims);
    if (Array.isArray(v.data)) return v;
    const data = exactData(v.data, lease);
    return data === v.data ? v : new Tensor(v.type, data, v.dims);
  }
  if (Array.isArray(v)) return v.map((x) => exactValue(x, lease));
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, exactValue(x, lease)]));
  return v;
}
