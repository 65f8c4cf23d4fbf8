/**
 * Reshape chain collapsing. A reshape-like op (Reshape, Squeeze, Unsqueeze, Flatten) only relabels
 * the dims of a row-major buffer, so:
 * - a Reshape to a constant shape ignores how its input was reshaped before: it reads the chain's
 *   source directly (when the shape has no 0, whose meaning "copy the input's dim" depends on it);
 * - a Squeeze or Unsqueeze with constant axes right after a Reshape to a constant shape becomes one
 *   Reshape to the adjusted constant shape.
 * The skipped nodes die in dead-code elimination when nothing else reads them.
 */
import { Attributes } from '../ir/attributes.js';
import type { Graph, Node } from '../ir/graph.js';
import {
  axesOf,
  constantOf,
  forEachGraph,
  int64Tensor,
  intsOf,
  NameGen,
  producerMap,
} from './graph-utils.js';

const RESHAPE_LIKE = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);

export function collapseReshapeChains(root: Graph): boolean {
  let changed = false;
  const names = new NameGen(root);
  forEachGraph(root, (g) => {
    const producers = producerMap(g);
    for (let k = 0; k < g.nodes.length; k++) {
      const n = g.nodes[k];
      if (n.domain !== '') continue;
      const src = producers.get(n.inputs[0]);
      if (!src || src.domain !== '' || !RESHAPE_LIKE.has(src.opType)) continue;
      if (n.opType === 'Reshape') {
        const shape = intsOf(constantOf(g, n.inputs[1]));
        if (!shape || (shape.includes(0) && n.attrs.int('allowzero', 0) === 0)) continue;
        n.inputs[0] = src.inputs[0];
        changed = true;
      } else if ((n.opType === 'Squeeze' || n.opType === 'Unsqueeze') && src.opType === 'Reshape') {
        const shape = intsOf(constantOf(g, src.inputs[1]));
        const axes = axesOf(g, n);
        if (!shape || !axes || shape.includes(0) || (n.opsets.get('') ?? 1) < 5) continue;
        const next = n.opType === 'Unsqueeze' ? unsqueezed(shape, axes) : squeezed(shape, axes);
        if (!next) continue;
        const shapeName = names.fresh(`${n.outputs[0]}_shape`);
        g.initializers.set(shapeName, int64Tensor(next));
        g.nodes[k] = reshapeNode(n, src.inputs[0], shapeName);
        producers.set(n.outputs[0], g.nodes[k]);
        changed = true;
      }
    }
  });
  return changed;
}

function unsqueezed(shape: number[], axes: number[]): number[] | undefined {
  const rank = shape.length + axes.length;
  const at = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  if (at.size !== axes.length || [...at].some((a) => a < 0 || a >= rank)) return undefined;
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : shape[j++]);
  return out;
}

function squeezed(shape: number[], axes: number[]): number[] | undefined {
  if (axes.length === 0) return shape.includes(-1) ? undefined : shape.filter((d) => d !== 1);
  const at = new Set(axes.map((a) => (a < 0 ? a + shape.length : a)));
  if ([...at].some((a) => a < 0 || a >= shape.length || shape[a] !== 1)) return undefined;
  return shape.filter((_, i) => !at.has(i));
}

function reshapeNode(old: Node, data: string, shape: string): Node {
  return {
    name: old.name,
    opType: 'Reshape',
    domain: '',
    overload: '',
    inputs: [data, shape],
    outputs: [old.outputs[0]],
    attrs: new Attributes(new Map(), `node '${old.name}' (Reshape)`),
    opsets: old.opsets,
  };
}
