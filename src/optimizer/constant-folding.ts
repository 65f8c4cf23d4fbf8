/**
 * Constant folding: a node whose inputs are all initializers (or omitted) is run once at load time
 * and its tensor outputs become initializers. Shape-computing chains (Shape → Gather → Concat →
 * Reshape) fold as soon as their source shapes are static constants. Nodes that are random, have
 * subgraphs, or produce non-tensor values are left alone.
 */
import { Tensor } from '../core/tensor.js';
import type { Graph, Node } from '../ir/graph.js';
import { heapRunContext, type Kernel } from '../ops/kernel.js';

/** Supplies the kernel to evaluate a node with; undefined means "cannot fold". */
export type FoldKernel = (node: Node) => Kernel | undefined;

/** Ops whose outputs differ from run to run: never evaluated at load time, never merged. */
export const NON_DETERMINISTIC: ReadonlySet<string> = new Set([
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Bernoulli',
  'Multinomial',
]);

/** `graphInputs`: the names of g's inputs. */
function foldable(n: Node, g: Graph, graphInputs: ReadonlySet<string>): boolean {
  if (NON_DETERMINISTIC.has(n.opType) || n.outputs.length === 0) return false;
  if (n.attrs.subgraphs.length > 0) return false;
  // An initializer that is also a graph input can be overridden by a feed: not a constant.
  return n.inputs.every((i) => i === '' || (g.initializers.has(i) && !graphInputs.has(i)));
}

export async function foldConstants(graph: Graph, kernelFor: FoldKernel): Promise<boolean> {
  let changed = false;
  const kept: Node[] = [];
  const graphInputs = new Set(graph.inputs.map((i) => i.name));
  for (const n of graph.nodes) {
    for (const [g] of n.attrs.subgraphs) changed = (await foldConstants(g, kernelFor)) || changed;
    if (!foldable(n, graph, graphInputs)) {
      kept.push(n);
      continue;
    }
    const kernel = kernelFor(n);
    let outs;
    try {
      outs =
        kernel &&
        (await kernel(
          n.inputs.map((i) => (i === '' ? undefined : graph.initializers.get(i))),
          heapRunContext,
        ));
    } catch {
      outs = undefined; // leave the node: the same error will surface, with context, when it runs
    }
    if (!outs || !n.outputs.every((o, i) => o === '' || outs[i] instanceof Tensor)) {
      kept.push(n);
      continue;
    }
    n.outputs.forEach((o, i) => o && graph.initializers.set(o, outs[i] as Tensor));
    changed = true;
  }
  graph.nodes = kept;
  return changed;
}
