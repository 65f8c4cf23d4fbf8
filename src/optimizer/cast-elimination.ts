/**
 * Cast elimination: a Cast to the type its input already has (or a CastLike whose two inputs share a
 * type) is an identity and is removed. Only types the model states, or that follow from a simple
 * rule (see `elemTypeOf`), are trusted; a Cast whose output is a graph output is kept.
 */
import { dtypeFromCode } from '../core/dtype.js';
import type { Graph, Node } from '../ir/graph.js';
import { elemTypeOf, forEachGraph, producerMap } from './graph-utils.js';
import { renameUses } from './rename.js';

export function eliminateCasts(root: Graph): boolean {
  let changed = false;
  forEachGraph(root, (g) => {
    const outputs = new Set(g.outputs.map((o) => o.name));
    const producers = producerMap(g);
    g.nodes = g.nodes.filter((n) => {
      if (!isNoOpCast(g, n, producers) || outputs.has(n.outputs[0])) return true;
      renameUses(g, n.outputs[0], n.inputs[0]);
      producers.delete(n.outputs[0]);
      changed = true;
      return false;
    });
  });
  return changed;
}

function isNoOpCast(g: Graph, n: Node, producers: Map<string, Node>): boolean {
  if (n.domain !== '' || !n.inputs[0] || !n.outputs[0]) return false;
  const from = () => elemTypeOf(g, n.inputs[0], producers);
  if (n.opType === 'Cast') {
    const to = n.attrs.raw('to');
    // Cast-19+ 'saturate' only matters for float8 targets, which a same-type cast never changes.
    return to?.kind === 'int' && dtypeFromCode(to.value)?.name === from() && from() !== undefined;
  }
  if (n.opType === 'CastLike' && n.inputs[1]) {
    const like = elemTypeOf(g, n.inputs[1], producers);
    return like !== undefined && like === from();
  }
  return false;
}
