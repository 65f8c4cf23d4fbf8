/**
 * BatchNormalization → Mul/Add by per-channel constants folded into the BatchNormalization (its
 * output is x̂·γ + β, so ·c gives γ·c, β·c and +d gives β + d). Caffe2-exported DenseNets follow every
 * pre-activation BatchNormalization with such a Mul and Add; conv-folding.ts takes the ones after a
 * Conv, this pass the ones after a Concat or a pool, leaving one pass over the data instead of three.
 *
 * The BatchNormalization must be in inference mode with one output read only by the Mul/Add, its γ
 * and β constants of the data's float type, the data's rank known (the constant must line up with
 * the channel axis) and the other operand a per-channel or scalar constant.
 */
import { Tensor } from '../core/tensor.js';
import type { Graph, Node } from '../ir/graph.js';
import { perChannel } from './conv-folding.js';
import {
  constantOf,
  forEachGraph,
  NameGen,
  producerMap,
  rankOf,
  removeNodes,
  useCounts,
} from './graph-utils.js';

export function foldBatchNormMulAdd(root: Graph): boolean {
  let changed = false;
  const names = new NameGen(root);
  forEachGraph(root, (g) => {
    const producers = producerMap(g);
    const uses = useCounts(g);
    const dead = new Set<Node>();
    for (const n of g.nodes) {
      if (n.domain !== '' || (n.opType !== 'Mul' && n.opType !== 'Add') || n.inputs.length !== 2) continue;
      if (n.opType === 'Add' && (n.opsets.get('') ?? 1) < 7) continue; // legacy broadcast attributes
      for (const side of [0, 1]) {
        const bn = producers.get(n.inputs[side]);
        if (!bn || dead.has(bn) || !foldable(g, bn, uses.get(n.inputs[side]))) continue;
        const gamma = constantOf(g, bn.inputs[1])!;
        const beta = constantOf(g, bn.inputs[2])!;
        const rank = rankOf(g, bn.inputs[0], producers);
        const c = rank && perChannel(constantOf(g, n.inputs[1 - side]), rank, gamma.size, gamma.type);
        if (!c) continue;
        const [g2, b2] = folded(gamma.data as Float32Array, beta.data as Float32Array, c, n.opType === 'Mul');
        const [gName, bName] = [names.fresh(`${bn.inputs[1]}_folded`), names.fresh(`${bn.inputs[2]}_folded`)];
        g.initializers.set(gName, asType(gamma, g2));
        g.initializers.set(bName, asType(beta, b2));
        bn.inputs = [bn.inputs[0], gName, bName, ...bn.inputs.slice(3)];
        bn.outputs = [n.outputs[0]];
        producers.set(n.outputs[0], bn);
        dead.add(n);
        changed = true;
        break;
      }
    }
    removeNodes(g, dead);
  });
  return changed;
}

/**
 * γ·c and β·c (`mul`), or γ and β + c. Its own small function, and plain loops: this runs once per
 * folded node while the model loads, mostly before V8 optimizes the pass — a callback per element
 * (Float64Array.from) cost ~40 ms over DenseNet-121's 242 Mul/Add, and the loops inlined in the
 * pass's body ran at ~150 ns per element (measured); a function called 242 times is optimized early.
 */
function folded(
  gamma: Float32Array | Float64Array,
  beta: Float32Array | Float64Array,
  c: Float64Array,
  mul: boolean,
): [Float64Array, Float64Array] {
  const g2 = new Float64Array(gamma.length);
  const b2 = new Float64Array(beta.length);
  for (let k = 0; k < g2.length; k++) {
    g2[k] = mul ? gamma[k] * c[k] : gamma[k];
    b2[k] = mul ? beta[k] * c[k] : beta[k] + c[k];
  }
  return [g2, b2];
}

function foldable(g: Graph, bn: Node, uses: number | undefined): boolean {
  if (bn.domain !== '' || bn.opType !== 'BatchNormalization' || uses !== 1) return false;
  if (bn.outputs.slice(1).some((o) => o) || bn.attrs.int('training_mode', 0) !== 0) return false;
  if (bn.attrs.has('spatial') && bn.attrs.int('spatial') !== 1) return false;
  const [gamma, beta] = [constantOf(g, bn.inputs[1]), constantOf(g, bn.inputs[2])];
  const float = (t: Tensor | undefined) => t && (t.type === 'float32' || t.type === 'float64');
  return !!float(gamma) && !!float(beta) && gamma!.type === beta!.type && gamma!.size === beta!.size;
}

function asType(like: Tensor, values: Float64Array): Tensor {
  return new Tensor(like.type, like.type === 'float32' ? Float32Array.from(values) : values, like.dims);
}
