/**
 * Dead-node elimination: removes nodes none of whose outputs reach a graph output (directly, or
 * through other nodes or subgraphs), and initializers nothing reads.
 */
import { forEachSubgraph, implicitInputs, type Graph } from '../ir/graph.js';

export function eliminateDeadCode(graph: Graph): boolean {
  const live = new Set(graph.outputs.map((o) => o.name));
  const kept = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (!n.outputs.some((o) => o && live.has(o))) continue;
    kept.push(n);
    for (const name of [...n.inputs, ...implicitInputs(n)]) if (name) live.add(name);
  }
  kept.reverse();
  let changed = kept.length !== graph.nodes.length;
  graph.nodes = kept;
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  for (const name of [...graph.initializers.keys()]) {
    if (!live.has(name) && !inputNames.has(name)) {
      graph.initializers.delete(name);
      changed = true;
    }
  }
  for (const n of graph.nodes) forEachSubgraph(n, (g) => (changed = eliminateDeadCode(g) || changed));
  return changed;
}
