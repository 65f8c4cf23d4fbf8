/**
 * Identity elimination: an Identity node (or an inference-mode Dropout with no mask output) whose
 * output is not a graph output is removed, and its readers read its input directly.
 */
import { forEachSubgraph, type Graph, type Node } from '../ir/graph.js';
import { renameUses } from './rename.js';

function isPassThrough(n: Node): boolean {
  if (n.domain !== '') return false;
  if (n.opType === 'Identity') return true;
  // Dropout is identity at inference unless training_mode is given or the mask output is used.
  return n.opType === 'Dropout' && n.inputs.length <= 2 && (n.outputs.length < 2 || n.outputs[1] === '');
}

export function eliminateIdentities(graph: Graph): boolean {
  let changed = false;
  const outputs = new Set(graph.outputs.map((o) => o.name));
  graph.nodes = graph.nodes.filter((n) => {
    if (!isPassThrough(n) || !n.inputs[0] || outputs.has(n.outputs[0])) return true;
    renameUses(graph, n.outputs[0], n.inputs[0]);
    changed = true;
    return false;
  });
  for (const n of graph.nodes) forEachSubgraph(n, (g) => (changed = eliminateIdentities(g) || changed));
  return changed;
}
