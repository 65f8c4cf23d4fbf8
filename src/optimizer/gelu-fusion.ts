/**
 * GELU pattern fusion: the exact GELU that exporters spell out, 0.5·x·(1 + erf(x/√2)), becomes one
 * Gelu node — ai.onnx Gelu (opset ≥ 20) or else onnxruntime's com.microsoft Gelu. Matched forms
 * (every intermediate read only inside the pattern, x/√2 also written x·(1/√2)):
 *   Div(x, √2) → Erf → Add(1) → Mul(x, ·) → Mul(·, 0.5)
 *   Div(x, √2) → Erf → Add(1) → Mul(Mul(x, 0.5), ·)
 *   Div(x, √2) → Erf → Add(1) → Mul(·, 0.5) → Mul(x, ·)
 * float32 only (onnxruntime's CPU Gelu kernels).
 */
import type { Graph, Model, Node } from '../ir/graph.js';
import {
  constantOf,
  consumerMap,
  forEachGraph,
  importDomain,
  MS_DOMAIN,
  newNode,
  producerMap,
  removeNodes,
  scalarOf,
  useCounts,
} from './graph-utils.js';

const near = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= 1e-4 * Math.abs(b);

interface Ctx {
  g: Graph;
  producers: Map<string, Node>;
  consumers: Map<string, Node[]>;
  uses: Map<string, number>;
}

/** For a binary node reading `value`, the other operand. */
const otherInput = (n: Node, value: string) => (n.inputs[0] === value ? n.inputs[1] : n.inputs[0]);

/** The node reading `value` when it is the only reader and has op `op`. */
function soleReader(c: Ctx, value: string, op: string): Node | undefined {
  const readers = c.consumers.get(value);
  if (c.uses.get(value) !== 1 || readers?.length !== 1) return undefined;
  const r = readers[0];
  return r.domain === '' && r.opType === op && r.inputs.length === 2 ? r : undefined;
}

const constScalar = (c: Ctx, name: string) => {
  const t = constantOf(c.g, name);
  return t?.type === 'float32' ? scalarOf(t) : undefined;
};

/** The nodes of a GELU pattern around one Erf, its input x and final output. */
function match(c: Ctx, erf: Node): { nodes: Node[]; x: string; out: string } | undefined {
  const div = c.producers.get(erf.inputs[0]);
  if (!div || div.domain !== '' || c.uses.get(erf.inputs[0]) !== 1 || div.inputs.length !== 2)
    return undefined;
  let x: string;
  if (div.opType === 'Div' && near(constScalar(c, div.inputs[1]), Math.SQRT2)) x = div.inputs[0];
  else if (div.opType === 'Mul' && near(constScalar(c, div.inputs[1]), Math.SQRT1_2)) x = div.inputs[0];
  else if (div.opType === 'Mul' && near(constScalar(c, div.inputs[0]), Math.SQRT1_2)) x = div.inputs[1];
  else return undefined;
  const add = soleReader(c, erf.outputs[0], 'Add');
  if (!add || !near(constScalar(c, otherInput(add, erf.outputs[0])), 1)) return undefined;
  const m1 = soleReader(c, add.outputs[0], 'Mul');
  if (!m1) return undefined;
  const other = otherInput(m1, add.outputs[0]);
  const head = [div, erf, add, m1];
  if (other === x) {
    const m2 = soleReader(c, m1.outputs[0], 'Mul');
    if (m2 && near(constScalar(c, otherInput(m2, m1.outputs[0])), 0.5))
      return { nodes: [...head, m2], x, out: m2.outputs[0] };
    return undefined;
  }
  if (near(constScalar(c, other), 0.5)) {
    const m2 = soleReader(c, m1.outputs[0], 'Mul');
    if (m2 && otherInput(m2, m1.outputs[0]) === x) return { nodes: [...head, m2], x, out: m2.outputs[0] };
    return undefined;
  }
  const half = c.producers.get(other);
  if (half?.domain === '' && half.opType === 'Mul' && c.uses.get(other) === 1 && half.inputs.includes(x)) {
    if (near(constScalar(c, otherInput(half, x)), 0.5))
      return { nodes: [half, ...head], x, out: m1.outputs[0] };
  }
  return undefined;
}

export function fuseGelu(model: Model): boolean {
  let changed = false;
  forEachGraph(model.graph, (g) => {
    const c: Ctx = { g, producers: producerMap(g), consumers: consumerMap(g), uses: useCounts(g) };
    const dead = new Set<Node>();
    const added: Node[] = [];
    for (const erf of g.nodes) {
      if (erf.domain !== '' || erf.opType !== 'Erf') continue;
      const m = match(c, erf);
      // Intermediates have one reader each (graph outputs count as readers), so only `out` escapes.
      if (!m || m.nodes.some((n) => dead.has(n))) continue;
      const onnx = (erf.opsets.get('') ?? 1) >= 20;
      const opsets = onnx ? erf.opsets : importDomain(model, erf);
      added.push(newNode(`${erf.name}_gelu`, 'Gelu', onnx ? '' : MS_DOMAIN, [m.x], [m.out], [], opsets));
      for (const n of m.nodes) dead.add(n);
      changed = true;
    }
    removeNodes(g, dead);
    // validateGraph puts the new nodes in topological order after this pass.
    g.nodes.push(...added);
  });
  return changed;
}
