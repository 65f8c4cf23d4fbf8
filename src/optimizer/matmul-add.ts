/**
 * MatMul + Add → Gemm, for 2-D products only: MatMul(A, B) with A and B known to be 2-D, whose output
 * only feeds an Add of a constant C that Gemm's unidirectional broadcast accepts as a bias ([N],
 * [1, N] or a scalar; N from a constant B). The Gemm takes the Add's output name. Needs opset ≥ 7 (Gemm's broadcasting C)
 * and a float element type.
 */
import { Attributes } from '../ir/attributes.js';
import type { Graph, Node } from '../ir/graph.js';
import {
  constantOf,
  elemTypeOf,
  forEachGraph,
  producerMap,
  rankOf,
  removeNodes,
  useCounts,
} from './graph-utils.js';

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16']);

export function fuseMatMulAdd(root: Graph): boolean {
  let changed = false;
  forEachGraph(root, (g) => {
    const producers = producerMap(g);
    const uses = useCounts(g);
    const dead = new Set<Node>();
    for (const add of g.nodes) {
      if (add.domain !== '' || add.opType !== 'Add' || (add.opsets.get('') ?? 1) < 7) continue;
      for (const side of [0, 1]) {
        const mm = producers.get(add.inputs[side]);
        const bias = constantOf(g, add.inputs[1 - side]);
        if (
          !mm ||
          mm.domain !== '' ||
          mm.opType !== 'MatMul' ||
          dead.has(mm) ||
          uses.get(add.inputs[side]) !== 1
        )
          continue;
        if (!bias || !FLOAT_TYPES.has(bias.type) || elemTypeOf(g, mm.inputs[0], producers) !== bias.type)
          continue;
        if (rankOf(g, mm.inputs[0], producers) !== 2 || rankOf(g, mm.inputs[1], producers) !== 2) continue;
        // A bias of N > 1 elements must match B's columns, or the Add would broadcast the product.
        const N = constantOf(g, mm.inputs[1])?.dims[1];
        const d = bias.dims;
        const rowBias = (d.length === 1 || (d.length === 2 && d[0] === 1)) && d[d.length - 1] === N;
        if (!(bias.size === 1 && d.length <= 2) && !rowBias) continue;
        g.nodes[g.nodes.indexOf(add)] = {
          name: add.name,
          opType: 'Gemm',
          domain: '',
          overload: '',
          inputs: [mm.inputs[0], mm.inputs[1], add.inputs[1 - side]],
          outputs: [add.outputs[0]],
          attrs: new Attributes(new Map(), `node '${add.name}' (Gemm)`),
          opsets: add.opsets,
        };
        dead.add(mm);
        changed = true;
        break;
      }
    }
    removeNodes(g, dead);
  });
  return changed;
}
