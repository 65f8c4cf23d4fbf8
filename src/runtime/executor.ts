/**
 * Runs a plan. Values live in a scope chain (a subgraph's scope sees its enclosing scopes), are
 * dropped after their last reader, and kernels' errors come back naming the node, op, opset and the
 * dtypes/shapes of its inputs. Long runs yield to the event loop between nodes so `run()` never
 * blocks a Node.js server or a browser tab for the whole inference.
 */
import {
  enterLease,
  leaveLease,
  releaseStorage,
  releaseUnheld,
  withoutLease,
  type Lease,
} from '../core/buffer-pool.js';
import { OnyxError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { describeValue, type Value } from '../core/value.js';
import type { Graph, Node } from '../ir/graph.js';
import type { RunContext } from '../ops/kernel.js';
import type { Allocator } from './allocator.js';
import type { MemoryTracker } from './memory.js';
import { ABSENT, OUTER, withNode, type Plans, type Step } from './plan.js';
import type { Profiler } from './profiler.js';
import { enterThreadPool, leaveThreadPool, type ThreadPool } from './thread-pool.js';

/** How long the executor may hold the thread before yielding to the event loop. */
const YIELD_EVERY_MS = 16;

const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * The values of one run of a graph, by the slots its plan numbered (plan.ts `GraphPlan.slots`), and
 * the scope of the graph that encloses it: a subgraph reads outer values by name through it.
 */
export class Scope {
  constructor(
    readonly values: (Value | undefined)[],
    private readonly slots: ReadonlyMap<string, number>,
    readonly parent: Scope | null,
  ) {}

  get(name: string): Value | undefined {
    const slot = this.slots.get(name);
    const v = slot === undefined ? undefined : this.values[slot];
    return v !== undefined ? v : this.parent?.get(name);
  }
}

/** A kernel's error, with the node and a description of its inputs. */
function failed(e: unknown, node: Node, args: readonly (Value | undefined)[]): OnyxError {
  return withNode(e, node, `\n  inputs: ${args.map(describeValue).join('; ')}`);
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
    const values = plan.template.slice();
    for (const [name, v] of inputs) {
      const slot = plan.slots.get(name);
      if (slot !== undefined) values[slot] = v;
    }
    const scope = new Scope(values, plan.slots, outer);
    // The step whose kernel runs now: the graph's steps run one at a time (an async kernel's
    // awaits hold the loop), so the context's allocOutput reads it.
    let current: Step | undefined;
    const ctx = this.contextFor(scope, () => (outer === null ? current : undefined));
    const { profiler, memory, threads } = this.options;
    for (const step of plan.steps) {
      current = step;
      const { node, inputSlots, outputSlots } = step;
      // Every entry assigned, an omitted input too: kernels may walk the list with every/forEach,
      // which would skip holes.
      const args: (Value | undefined)[] = new Array(inputSlots.length);
      for (let i = 0; i < inputSlots.length; i++) {
        const slot = inputSlots[i];
        if (slot === ABSENT) {
          args[i] = undefined;
          continue;
        }
        // A graph input left unbound (an optional one) falls back to the enclosing scopes. (null is
        // a value: an empty optional.)
        let v = slot === OUTER ? undefined : values[slot];
        if (v === undefined) v = outer?.get(node.inputs[i]);
        if (v === undefined) {
          throw withNode(new OnyxError('RUNTIME_ERROR', `input '${node.inputs[i]}' has no value`), node);
        }
        args[i] = v;
      }
      const start = profiler ? performance.now() : 0;
      // A step that makes an output of the run (see Step.makesOutput) writes it to storage of its
      // own, not run storage: the caller then gets it as it is, where run storage would be copied
      // out (exactData).
      const lease = step.makesOutput && outer === null ? undefined : this.options.lease;
      const mark = lease?.fresh.length ?? 0;
      // The kernel's synchronous part runs with the run's lease and thread pool current, and only
      // that part: an async kernel's awaits must not leave them current for code that runs meanwhile.
      let made: Value[] | Promise<Value[]>;
      const previousPool = enterThreadPool(threads);
      const previousLease = lease ? enterLease(lease) : undefined;
      try {
        made = step.kernel(args, ctx);
      } catch (e) {
        throw failed(e, node, args);
      } finally {
        if (lease) leaveLease(previousLease);
        leaveThreadPool(previousPool);
      }
      let outs: Value[];
      try {
        outs = made instanceof Promise ? await made : made;
      } catch (e) {
        throw failed(e, node, args);
      }
      if (profiler) profiler.record(node, step.ep, args, outs, start, performance.now());
      for (let i = 0; i < outputSlots.length; i++) {
        const slot = outputSlots[i];
        if (slot === ABSENT) continue;
        const out = outs[i];
        if (out === undefined) {
          throw withNode(
            new OnyxError(
              'RUNTIME_ERROR',
              `kernel returned ${outs.length} outputs, output '${node.outputs[i]}' is missing`,
            ),
            node,
          );
        }
        values[slot] = out;
        memory.hold(out);
      }
      // Shared-memory blocks the kernel took and no output holds (its scratch) go back now.
      if (lease) releaseUnheld(lease, mark, this.held);
      for (const slot of step.releaseSlots) {
        const v = values[slot];
        if (v === undefined) continue;
        memory.drop(v, this.dead);
        values[slot] = undefined;
      }
      if (Date.now() - this.lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        this.lastYield = Date.now();
      }
    }
    return graph.outputs.map((o) => {
      const v = scope.get(o.name);
      if (v === undefined) throw new OnyxError('RUNTIME_ERROR', `graph output '${o.name}' was not computed`);
      return v;
    });
  }

  /** `topStep`: the top-level graph's step now running (undefined in a subgraph, whose outputs stay in the run). */
  private contextFor(scope: Scope, topStep: () => Step | undefined): RunContext {
    const { allocator } = this.options;
    return {
      runSubgraph: (g, values) => {
        const bound = new Map<string, Value>();
        g.inputs.forEach((inp, i) => {
          if (i < values.length) bound.set(inp.name, values[i]);
        });
        return this.runGraph(g, bound, scope);
      },
      alloc: (type, dims, zeroed) => allocator.alloc(type, dims, zeroed),
      allocOutput: (index, type, dims, zeroed) => {
        const alloc = () => allocator.alloc(type, dims, zeroed);
        // Outside the run's lease: fresh storage that the caller gets as it is (see exactValue).
        return topStep()?.graphOutputs[index] ? withoutLease(alloc) : alloc();
      },
      threads: this.options.threads,
    };
  }
}
