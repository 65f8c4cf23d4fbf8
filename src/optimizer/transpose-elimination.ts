/**
 * Transpose elimination: a Transpose of a Transpose becomes one Transpose of the original input with
 * the composed permutation (the first one dies when nothing else reads it), and a Transpose whose
 * permutation is the identity is removed. A Transpose without `perm` (reverse all axes) is left
 * alone: its meaning depends on a rank the graph may not state.
 */
import { Attributes } from '../ir/attributes.js';
import type { Graph, Node } from '../ir/graph.js';
import { attr, forEachGraph, producerMap } from './graph-utils.js';
import { renameUses } from './rename.js';

const permOf = (n: Node): number[] | undefined =>
  n.domain === '' && n.opType === 'Transpose' && n.attrs.raw('perm')?.kind === 'ints'
    ? n.attrs.ints('perm')
    : undefined;

const isIdentity = (perm: number[]) => perm.every((p, i) => p === i);

export function eliminateTransposes(root: Graph): boolean {
  let changed = false;
  forEachGraph(root, (g) => {
    const producers = producerMap(g);
    const outputs = new Set(g.outputs.map((o) => o.name));
    for (const n of g.nodes) {
      const outer = permOf(n);
      const inner = outer && producers.get(n.inputs[0]);
      const innerPerm = inner && permOf(inner);
      if (!outer || !inner || !innerPerm || innerPerm.length !== outer.length) continue;
      // y = T(T(x, p1), p2): y's axis i is x's axis p1[p2[i]].
      n.inputs[0] = inner.inputs[0];
      n.attrs = new Attributes(
        new Map([['perm', attr.ints(outer.map((i) => innerPerm[i]))]]),
        `node '${n.name}' (Transpose)`,
      );
      changed = true;
    }
    g.nodes = g.nodes.filter((n) => {
      const perm = permOf(n);
      if (!perm || !isIdentity(perm) || outputs.has(n.outputs[0])) return true;
      renameUses(g, n.outputs[0], n.inputs[0]);
      changed = true;
      return false;
    });
  });
  return changed;
}
