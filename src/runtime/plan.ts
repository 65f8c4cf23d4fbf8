/**
 * The execution plan, computed once at session creation: for every graph (the main one and each
 * subgraph) the node order, the kernel and EP chosen for each node, and which values die after each
 * step so the executor can release them. Every node no EP can run is collected, and all of them are
 * reported in one error.
 */
import { OnyxError } from '../core/errors.js';
import type { Value } from '../core/value.js';
import { forEachSubgraph, implicitInputs, type Graph, type Node } from '../ir/graph.js';
import type { ExecutionProvider } from '../ep/provider.js';
import type { Kernel, NodeInfo } from '../ops/kernel.js';
import { isMemoizable, memoizeShapeKernel } from './shape-memo.js';
import { matmulBiasNode, matmulBiasPairs } from './step-fusion.js';

/** `Step.inputSlots` entry of an omitted optional input. */
export const ABSENT = -1;
/** `Step.inputSlots` entry of a value of an enclosing graph (looked up by name in its scope). */
export const OUTER = -2;

export interface Step {
  node: Node;
  kernel: Kernel;
  ep: string;
  /** Where each input is: a slot of the run's value array, ABSENT or OUTER. */
  inputSlots: number[];
  /** The slot of each output (ABSENT for an omitted one). */
  outputSlots: number[];
  /** The slots of the values whose last reader is this step (never graph outputs). */
  releaseSlots: number[];
  /**
   * The step makes one of its graph's outputs, and every other value it makes is read by no later
   * step: it then runs outside the run's storage lease, making its outputs on the JS heap, where the
   * caller gets them without a copy. A graph output that later steps read too (a decoder's present
   * key/value cache, read by its attention) is copied into a kernel's memory by each WASM reader
   * instead of out once at the end with a fresh allocation: GPT step 1–8% faster (same process).
   */
  makesOutput: boolean;
  /** Which of its outputs are outputs of its graph (`RunContext.allocOutput` gives them storage of their own). */
  graphOutputs: boolean[];
}

export interface GraphPlan {
  graph: Graph;
  steps: Step[];
  /**
   * A slot for every value the graph defines (inputs, initializers, node outputs): a run keeps its
   * values in an array, not a map by name (a GPT decoder step looks up ~150 inputs per run).
   */
  slots: Map<string, number>;
  /** A run's value array starts as a copy of this: the initializers in their slots. */
  template: (Value | undefined)[];
}

export type Plans = Map<Graph, GraphPlan>;

export function nodeInfo(node: Node): NodeInfo {
  return {
    name: node.name,
    opType: node.opType,
    domain: node.domain,
    opset: opsetOf(node),
    sinceVersion: 0,
    attrs: node.attrs,
    inputCount: node.inputs.length,
    outputCount: node.outputs.length,
    inputPresent: node.inputs.map((i) => i !== ''),
    outputPresent: node.outputs.map((o) => o !== ''),
    inputNames: node.inputs,
  };
}

export function opsetOf(node: Node): number {
  const v = node.opsets.get(node.domain);
  if (v !== undefined) return v;
  // A domain the model forgot to import: onnxruntime assumes version 1 for custom domains.
  return node.domain === '' ? (node.opsets.get('') ?? 1) : 1;
}

export interface PlanOptions {
  /**
   * Run a MatMul and the bias Add after it as one step (step-fusion.ts) where the EP that runs the
   * MatMul has the fused kernel. Off at graphOptimizationLevel 'disabled', which runs the graph as it is.
   */
  fuseSteps?: boolean;
}

export function buildPlans(
  root: Graph,
  providers: readonly ExecutionProvider[],
  options: PlanOptions = {},
): Plans {
  const plans: Plans = new Map();
  const unsupported: string[] = [];
  const failures: unknown[] = [];
  const visit = (graph: Graph) => {
    const steps: Step[] = [];
    const pairs = options.fuseSteps ? matmulBiasPairs(graph) : undefined;
    // Adds whose work a fused MatMul step does.
    const absorbed = new Set<Node>();
    for (const original of graph.nodes) {
      if (absorbed.has(original)) continue;
      forEachSubgraph(original, visit);
      const pair = pairs?.get(original);
      const fused = pair && { node: matmulBiasNode(pair), add: pair.add };
      let node = original;
      let chosen: { kernel: Kernel; ep: string } | undefined;
      for (const ep of providers) {
        // The first EP with a kernel for the MatMul runs it, fused when it has that kernel too.
        const fusedKernel = fused && fusedKernelOf(ep, { ...nodeInfo(fused.node), graph });
        if (fused && fusedKernel) {
          [node, chosen] = [fused.node, { kernel: fusedKernel, ep: ep.name }];
          absorbed.add(fused.add);
          break;
        }
        let kernel: Kernel | undefined;
        try {
          kernel = ep.getKernel({ ...nodeInfo(node), graph });
        } catch (e) {
          failures.push(withNode(e, node));
          chosen = { kernel: () => [], ep: ep.name };
          break;
        }
        if (kernel) {
          chosen = { kernel, ep: ep.name };
          break;
        }
      }
      if (!chosen) {
        const domain = node.domain === '' ? 'ai.onnx' : node.domain;
        unsupported.push(`${node.opType} (domain ${domain}, opset ${opsetOf(node)}) at node '${node.name}'`);
        continue;
      }
      steps.push({
        node,
        ...chosen,
        inputSlots: [],
        outputSlots: [],
        releaseSlots: [],
        makesOutput: false,
        graphOutputs: [],
      });
    }
    const outputs = new Set(graph.outputs.map((o) => o.name));
    const inputNames = new Set(graph.inputs.map((i) => i.name));
    const read = new Set(steps.flatMap((st) => [...st.node.inputs, ...implicitInputs(st.node)]));
    for (const step of steps) {
      const { node } = step;
      step.graphOutputs = node.outputs.map((o) => outputs.has(o));
      const graphOutput = step.graphOutputs.includes(true);
      step.makesOutput = graphOutput && node.outputs.every((o) => outputs.has(o) || !read.has(o));
      if (!graphOutput && isMemoizable(node.domain, node.opType)) {
        const constant = node.inputs.map((i) => graph.initializers.has(i) && !inputNames.has(i));
        step.kernel = memoizeShapeKernel(step.kernel, node.opType, constant);
      }
    }
    const { slots, template } = assignSlots(graph, steps);
    computeReleases(graph, steps, slots);
    plans.set(graph, { graph, steps, slots, template });
  };
  visit(root);
  if (unsupported.length > 0) {
    const unique = [...new Set(unsupported)];
    throw new OnyxError(
      'UNSUPPORTED_OP',
      `the model uses ${unique.length} node(s) that no execution provider supports:\n  ${unique.join('\n  ')}`,
      {},
      { details: unique },
    );
  }
  if (failures.length > 0) throw failures[0];
  return plans;
}

/** `ep`'s kernel for a fused node, or undefined when it has none or cannot build it (the nodes then run apart). */
function fusedKernelOf(ep: ExecutionProvider, info: NodeInfo): Kernel | undefined {
  try {
    return ep.getKernel(info);
  } catch {
    return undefined;
  }
}

/** Lets every planned kernel free what it set aside at build time (see `Kernel.dispose`). */
export function disposePlans(plans: Plans): void {
  for (const plan of plans.values()) for (const step of plan.steps) step.kernel.dispose?.();
}

/**
 * Each value made by a node of this graph is released after its last reader. Graph inputs, outer-scope
 * values and initializers belong to whoever supplied them and are never released here; graph outputs
 * are handed to the caller.
 */
function computeReleases(graph: Graph, steps: Step[], slots: ReadonlyMap<string, number>): void {
  const keep = new Set(graph.outputs.map((o) => o.name));
  const produced = new Set(steps.flatMap((s) => s.node.outputs));
  const lastUse = new Map<string, number>();
  steps.forEach((s, i) => {
    for (const name of [...s.node.inputs, ...implicitInputs(s.node)]) if (name) lastUse.set(name, i);
    // An output nobody reads dies right after it is made.
    for (const name of s.node.outputs) if (name && !lastUse.has(name)) lastUse.set(name, i);
  });
  for (const [name, i] of lastUse) {
    if (produced.has(name) && !keep.has(name) && !graph.initializers.has(name))
      steps[i].releaseSlots.push(slots.get(name)!);
  }
}

/** Numbers the values `graph` defines and points its steps at them. */
function assignSlots(graph: Graph, steps: Step[]): Pick<GraphPlan, 'slots' | 'template'> {
  const slots = new Map<string, number>();
  const define = (name: string) => {
    if (name && !slots.has(name)) slots.set(name, slots.size);
  };
  for (const i of graph.inputs) define(i.name);
  for (const name of graph.initializers.keys()) define(name);
  for (const step of steps) step.node.outputs.forEach(define);
  const template: (Value | undefined)[] = [];
  for (const [name, t] of graph.initializers) template[slots.get(name)!] = t;
  template.length = slots.size;
  for (const step of steps) {
    step.inputSlots = step.node.inputs.map((name) => (name ? (slots.get(name) ?? OUTER) : ABSENT));
    step.outputSlots = step.node.outputs.map((name) => (name ? slots.get(name)! : ABSENT));
  }
  return { slots, template };
}

/** Attaches node context to an error raised while building or running a node's kernel. */
export function withNode(e: unknown, node: Node, detail = ''): OnyxError {
  const ctx = {
    node: node.name,
    opType: node.opType,
    domain: node.domain || undefined,
    opset: opsetOf(node),
  };
  if (e instanceof OnyxError) {
    if (e.context.node) return e;
    const message = e.message + detail;
    return new OnyxError(e.code, message, ctx, { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new OnyxError('RUNTIME_ERROR', `kernel failed: ${message}${detail}`, ctx, { cause: e });
}
