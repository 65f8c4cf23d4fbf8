/**
 * Identity elimination: an Identity node (or an inference-mode Dropout whose mask output is absent or
 * read by nothing) whose output is not a graph output is removed, and its readers read its input
 * directly.
 */
import { forEachSubgraph, type Graph, type Node } from '../ir/graph.js';
import { useCounts } from './graph-utils.js';
import { renameUses } from './rename.js';

function isPassThrough(n: Node, uses: ReadonlyMap<string, number>): boolean {
  if (n.domain !== '') return false;
  if (n.opType === 'Identity') return true;
  // Dropout is identity at inference unless training_mode is given or the mask output is used
  // (exporters often name a mask that nothing reads: SqueezeNet's).
  const mask = n.outputs[1] ?? '';
  return n.opType === 'Dropout' && n.inputs.length <= 2 && (mask === '' || !uses.get(mask));
}

export function eliminateIdentities(graph: Graph): boolean {
  let changed = false;
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const uses = useCounts(graph);
  graph.nodes = graph.nodes.filter((n) => {
    if (!isPassThrough(n, uses) || !n.inputs[0] || outputs.has(n.outputs[0])) return true;
    renameUses(graph, n.outputs[0], n.inputs[0]);
    changed = true;
    return false;
  });
  for (const n of graph.nodes) forEachSubgraph(n, (g) => (changed = eliminateIdentities(g) || changed));
  return changed;
}
