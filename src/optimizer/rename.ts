/**
 * Replaces every read of value `from` by `to` in a graph and, because subgraphs may read enclosing
 * values by name (as node inputs or directly as subgraph outputs), in all nested subgraphs too.
 * ONNX names are unique across scopes, so there is no shadowing to respect.
 */
import { forEachSubgraph, type Graph } from '../ir/graph.js';

export function renameUses(graph: Graph, from: string, to: string, nested = false): void {
  for (const node of graph.nodes) {
    for (let i = 0; i < node.inputs.length; i++) if (node.inputs[i] === from) node.inputs[i] = to;
    forEachSubgraph(node, (g) => renameUses(g, from, to, true));
  }
  if (nested) for (const o of graph.outputs) if (o.name === from) o.name = to;
}
