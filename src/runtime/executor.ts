/**
 * Runs a plan. Values live in a scope chain (a subgraph's scope sees its enclosing scopes), are
 * dropped after their last reader, and kernels' errors come back naming the node, op, opset and the
 * dtypes/shapes of its inputs. Long runs yield to the event loop between nodes so `run()` never
 * blocks a Node.js server or a browser tab for the whole inference.
 */
import { releaseStorage, releaseUnheld, withLease, type Lease } from '../core/buffer-pool.js';
import { OnyxError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { describeValue, type Value } from '../core/value.js';
import type { Graph } from '../ir/graph.js';
import type { RunContext } from '../ops/kernel.js';
import type { Allocator } from './allocator.js';
import type { MemoryTracker } from './memory.js';
import { withNode, type Plans } from './plan.js';
import type { Profiler } from './profiler.js';
import { withThreadPool, type ThreadPool } from './thread-pool.js';

/** How long the executor may hold the thread before yielding to the event loop. */
const YIELD_EVERY_MS = 16;

const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

export class Scope {
  readonly values = new Map<string, Value>();
  constructor(readonly parent: Scope | null) {}

  get(name: string): Value | undefined {
    // One map lookup for the usual case, a value of this scope (values are never undefined).
    const v = this.values.get(name);
    return v !== undefined ? v : this.parent?.get(name);
  }

  has(name: string): boolean {
    return this.owner(name) !== undefined;
  }

  /** The innermost scope that defines `name`. */
  private owner(name: string): Scope | undefined {
    if (this.values.has(name)) return this;
    return this.parent?.owner(name);
  }
}

export interface ExecutorOptions {
  allocator: Allocator;
  /** This run's reference counts of intermediate storage. */
  memory: MemoryTracker;
  /** Storage made by this run's kernels is leased to it and recycled once dead (core/buffer-pool.ts). */
  lease?: Lease;
  profiler?: Profiler;
  threads?: ThreadPool;
}

export class Executor {
  private lastYield = Date.now();
  /** Whether a value of the run holds a storage block (see `releaseUnheld`). */
  private readonly held = (block: object) => this.options.memory.holdsStorage(block);
  /** Gives back the storage of a tensor no value holds any more. */
  private readonly dead = (t: Tensor) => {
    this.options.allocator.release(t);
    const runLease = this.options.lease;
    if (runLease && !Array.isArray(t.data)) releaseStorage(t.data, runLease);
  };

  constructor(
    private readonly plans: Plans,
    private readonly options: ExecutorOptions,
  ) {}

  /** Runs `graph` with `inputs` bound to its inputs (in order) and returns its outputs in order. */
  async runGraph(graph: Graph, inputs: ReadonlyMap<string, Value>, outer: Scope | null): Promise<Value[]> {
    const plan = this.plans.get(graph);
    if (!plan) throw new OnyxError('RUNTIME_ERROR', `no plan for graph '${graph.name}'`);
    const scope = new Scope(outer);
    for (const [name, t] of graph.initializers) scope.values.set(name, t);
    for (const [name, v] of inputs) scope.values.set(name, v);
    const ctx = this.contextFor(scope);
    const profiler = this.options.profiler;
    for (const step of plan.steps) {
      const { node } = step;
      const args: (Value | undefined)[] = [];
      for (const name of node.inputs) {
        const v = name === '' ? undefined : scope.get(name);
        if (v === undefined && name !== '') {
          throw withNode(new OnyxError('RUNTIME_ERROR', `input '${name}' has no value`), node);
        }
        args.push(v);
      }
      const start = profiler ? performance.now() : 0;
      const { memory } = this.options;
      // A step that makes an output of the run (see Step.makesOutput) writes it to storage of its
      // own, not run storage: the caller then gets it as it is, where run storage would be copied
      // out (exactData).
      const lease = step.makesOutput && outer === null ? undefined : this.options.lease;
      const mark = lease?.fresh.length ?? 0;
      let outs: Value[];
      try {
        const run = () => step.kernel(args, ctx);
        const r = withThreadPool(this.options.threads, lease ? () => withLease(lease, run) : run);
        outs = r instanceof Promise ? await r : r;
      } catch (e) {
        throw withNode(e, node, `\n  inputs: ${args.map(describeValue).join('; ')}`);
      }
      if (profiler) profiler.record(node, step.ep, args, outs, start, performance.now());
      for (let i = 0; i < node.outputs.length; i++) {
        const name = node.outputs[i];
        if (name === '') continue;
        if (outs[i] === undefined) {
          throw withNode(
            new OnyxError(
              'RUNTIME_ERROR',
              `kernel returned ${outs.length} outputs, output '${name}' is missing`,
            ),
            node,
          );
        }
        scope.values.set(name, outs[i]);
        memory.hold(outs[i]);
      }
      // Shared-memory blocks the kernel took and no output holds (its scratch) go back now.
      if (lease) releaseUnheld(lease, mark, this.held);
      for (const name of step.release) {
        const v = scope.values.get(name);
        if (v === undefined) continue;
        memory.drop(v, this.dead);
        scope.values.delete(name);
      }
      if (Date.now() - this.lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        this.lastYield = Date.now();
      }
    }
    return graph.outputs.map((o) => {
      if (!scope.has(o.name))
        throw new OnyxError('RUNTIME_ERROR', `graph output '${o.name}' was not computed`);
      return scope.get(o.name) as Value;
    });
  }

  private contextFor(scope: Scope): RunContext {
    return {
      runSubgraph: (g, values) => {
        const bound = new Map<string, Value>();
        g.inputs.forEach((inp, i) => {
          if (i < values.length) bound.set(inp.name, values[i]);
        });
        return this.runGraph(g, bound, scope);
      },
      alloc: (type, dims, zeroed) => this.options.allocator.alloc(type, dims, zeroed),
      threads: this.options.threads,
    };
  }
}
