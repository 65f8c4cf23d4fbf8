/**
 * The engine behind `InferenceSession`: takes an IR model and the chosen EPs, expands functions,
 * validates, optimizes and plans once; then each `run` only executes the plan.
 */
import type { Value } from '../core/value.js';
import type { ExecutionProvider } from '../ep/provider.js';
import type { Model } from '../ir/graph.js';
import { inlineFunctions } from '../ir/inline.js';
import { validateGraph } from '../ir/validate.js';
import { optimizeModel, type OptimizationLevel } from '../optimizer/optimize.js';
import { HeapAllocator, type Allocator } from './allocator.js';
import { Executor } from './executor.js';
import { MemoryTracker } from './memory.js';
import { buildPlans, nodeInfo, type Plans } from './plan.js';
import { Profiler } from './profiler.js';

export interface SessionCoreOptions {
  providers: readonly ExecutionProvider[];
  optimizationLevel: OptimizationLevel;
  profiling?: boolean;
}

export class SessionCore {
  readonly memory = new MemoryTracker();
  readonly profiler: Profiler | undefined;
  private readonly allocator: Allocator;

  private constructor(
    readonly model: Model,
    private readonly plans: Plans,
    options: SessionCoreOptions,
  ) {
    this.allocator = options.providers[0]?.allocator ?? new HeapAllocator();
    this.profiler = options.profiling ? new Profiler() : undefined;
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
    await optimizeModel(model, options.optimizationLevel, {
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
    const plans = buildPlans(model.graph, options.providers);
    return new SessionCore(model, plans, options);
  }

  async run(feeds: ReadonlyMap<string, Value>): Promise<Map<string, Value>> {
    const executor = new Executor(this.plans, {
      allocator: this.allocator,
      memory: this.memory,
      profiler: this.profiler,
    });
    const outputs = await executor.runGraph(this.model.graph, feeds, null);
    return new Map(this.model.graph.outputs.map((o, i) => [o.name, outputs[i]]));
  }
}
