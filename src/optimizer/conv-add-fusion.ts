/**
 * Conv + Add → com.microsoft FusedConv with the other addend as Z (onnxruntime's
 * ConvAddActivationFusion): a residual connection (ResNet's `Sum`/`Add` of a block's last
 * convolution and its shortcut) is then added inside the convolution's GEMM epilogue instead of in a
 * pass of its own over the whole activation, and a following Relu fuses into the same node
 * (activation-fusion.ts accepts a FusedConv that has no activation yet).
 *
 * The Conv must be float32, its output read by the Add alone, and the other addend computed (a
 * constant addend is a bias, which conv-mul-add folding takes) and not of a rank that shows it
 * broadcasts. Without shape inference the equal shapes onnxruntime's FusedConv requires cannot always
 * be proven; Onyx's FusedConv adds a Z that broadcasts like Add would (ops/conv.ts), so the rewrite
 * never changes a result here.
 */
import type { Model, Node } from '../ir/graph.js';
import {
  constantOf,
  elemTypeOf,
  forEachGraph,
  importDomain,
  MS_DOMAIN,
  newNode,
  producerMap,
  rankOf,
  removeNodes,
  useCounts,
} from './graph-utils.js';

export function fuseConvAdd(model: Model): boolean {
  let changed = false;
  forEachGraph(model.graph, (g) => {
    const producers = producerMap(g);
    const uses = useCounts(g);
    const dead = new Set<Node>();
    g.nodes = g.nodes.map((add) => {
      const isSum = add.opType === 'Sum' || (add.opType === 'Add' && (add.opsets.get('') ?? 1) >= 7);
      if (add.domain !== '' || !isSum || add.inputs.length !== 2 || add.outputs.length !== 1) return add;
      for (const side of [0, 1]) {
        const [c, z] = [add.inputs[side], add.inputs[1 - side]];
        const conv = producers.get(c);
        if (!conv || conv.domain !== '' || conv.opType !== 'Conv' || dead.has(conv)) continue;
        if (uses.get(c) !== 1 || !z || constantOf(g, z) || c === z) continue;
        if (elemTypeOf(g, conv.inputs[1], producers) !== 'float32') continue;
        const rank = rankOf(g, conv.inputs[1], producers);
        const zRank = rankOf(g, z, producers);
        if (rank === undefined || (zRank !== undefined && zRank !== rank)) continue;
        dead.add(conv);
        changed = true;
        const inputs = [conv.inputs[0], conv.inputs[1], conv.inputs[2] ?? '', z];
        return newNode(
          conv.name,
          'FusedConv',
          MS_DOMAIN,
          inputs,
          add.outputs,
          [...conv.attrs.map],
          importDomain(model, conv),
        );
      }
      return add;
    });
    removeNodes(g, dead);
  });
  return changed;
}
