/**
 * GELU pattern fusion: the GELUs that exporters spell out become one node.
 * - The exact form, 0.5·x·(1 + erf(x/√2)): ai.onnx Gelu (opset ≥ 20) or else onnxruntime's
 *   com.microsoft Gelu.
 * - The tanh approximation (GPT-2's), 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): ai.onnx Gelu with
 *   approximate = "tanh" (opset ≥ 20) or else onnxruntime's com.microsoft FastGelu (its
 *   FastGeluFusion), which also takes in a preceding bias Add of a MatMul's columns. In a GPT
 *   step, eleven nodes of a few microseconds each became one.
 * Matched forms (every intermediate read only inside the pattern, operands of Add/Mul either way
 * round, x/√2 also written x·(1/√2), x³ as Pow(x, 3), x·(x·x) or (x·x)·x):
 *   Div(x, √2) → Erf → Add(1) → TAIL
 *   Mul(√(2/π), Add(x, Mul(0.044715, x³))) → Tanh → Add(1) → TAIL
 * where TAIL is Mul(x, ·) → Mul(·, 0.5), Mul(Mul(x, 0.5), ·), or Mul(·, 0.5) → Mul(x, ·).
 * float32 only (onnxruntime's CPU Gelu kernels).
 */
import type { AttrValue } from '../ir/attributes.js';
import type { Model, Node } from '../ir/graph.js';
import {
  attr,
  constantOf,
  forEachGraph,
  importDomain,
  MS_DOMAIN,
  newNode,
  onlyProducer,
  onlyReader,
  removeNodes,
  scalarOf,
  patternContext,
  type PatternContext,
  floatVector,
  isOp,
} from './graph-utils.js';

const near = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= 1e-4 * Math.abs(b);

/** For a binary node reading `value`, the other operand. */
const otherInput = (n: Node, value: string) => (n.inputs[0] === value ? n.inputs[1] : n.inputs[0]);

/** The node reading `value` when it is the only reader, has op `op` and two inputs. */
function soleReader(c: PatternContext, value: string, op: string): Node | undefined {
  const r = onlyReader(c, value, op);
  return r?.inputs.length === 2 ? r : undefined;
}

const constScalar = (c: PatternContext, name: string) => {
  const t = constantOf(c.g, name);
  return t?.type === 'float32' ? scalarOf(t) : undefined;
};

/** The node producing `value` when it is read only once and has op `op` (two inputs). */
function soleProducer(c: PatternContext, value: string, op: string): Node | undefined {
  const p = onlyProducer(c, value, op);
  return p?.inputs.length === 2 ? p : undefined;
}

/** Of a binary node, the operand that is a float32 constant near `v` and the other one. */
function withConstant(c: PatternContext, n: Node, v: number): string | undefined {
  if (near(constScalar(c, n.inputs[1]), v)) return n.inputs[0];
  if (near(constScalar(c, n.inputs[0]), v)) return n.inputs[1];
  return undefined;
}

/** The GELU pattern after its Add(1) node `add` (the tail forms above), or undefined. */
function tail(
  c: PatternContext,
  x: string,
  head: Node[],
  add: Node,
): { nodes: Node[]; x: string; out: string } | undefined {
  const m1 = soleReader(c, add.outputs[0], 'Mul');
  if (!m1) return undefined;
  const other = otherInput(m1, add.outputs[0]);
  head = [...head, add, m1];
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

/** The Add(1) reading `value` alone. */
function addOne(c: PatternContext, value: string): Node | undefined {
  const add = soleReader(c, value, 'Add');
  return add && near(constScalar(c, otherInput(add, value)), 1) ? add : undefined;
}

/** The nodes of an exact GELU around one Erf, its input x and final output. */
function matchErf(c: PatternContext, erf: Node): { nodes: Node[]; x: string; out: string } | undefined {
  // x/√2 as Div(x, √2), or as Mul by 1/√2 on either side.
  const div = soleProducer(c, erf.inputs[0], 'Div');
  const mul = soleProducer(c, erf.inputs[0], 'Mul');
  let x: string | undefined;
  if (div && near(constScalar(c, div.inputs[1]), Math.SQRT2)) x = div.inputs[0];
  else if (mul) x = withConstant(c, mul, Math.SQRT1_2);
  const scale = div ?? mul;
  if (!scale || x === undefined) return undefined;
  const add = addOne(c, erf.outputs[0]);
  return add ? tail(c, x, [scale, erf], add) : undefined;
}

/** The nodes computing `cube` = x³ from `x` (each read once), or undefined. */
function cubeOf(c: PatternContext, cube: string, x: string): Node[] | undefined {
  const pow = soleProducer(c, cube, 'Pow');
  if (pow) return pow.inputs[0] === x && near(constScalar(c, pow.inputs[1]), 3) ? [pow] : undefined;
  const mul = soleProducer(c, cube, 'Mul');
  if (!mul || !mul.inputs.includes(x)) return undefined;
  const sq = soleProducer(c, otherInput(mul, x), 'Mul');
  return sq && sq.inputs[0] === x && sq.inputs[1] === x ? [sq, mul] : undefined;
}

/** The nodes of a tanh-approximated GELU around one Tanh, its input x and final output. */
function matchTanh(c: PatternContext, tanh: Node): { nodes: Node[]; x: string; out: string } | undefined {
  const scale = soleProducer(c, tanh.inputs[0], 'Mul');
  const inner = scale && withConstant(c, scale, Math.sqrt(2 / Math.PI));
  const sum = inner !== undefined ? soleProducer(c, inner, 'Add') : undefined;
  if (!scale || !sum) return undefined;
  for (const side of [0, 1]) {
    const x = sum.inputs[side];
    const term = soleProducer(c, sum.inputs[1 - side], 'Mul');
    const cube = term && withConstant(c, term, 0.044715);
    const cubeNodes = cube !== undefined ? cubeOf(c, cube, x) : undefined;
    if (!term || !cubeNodes) continue;
    const add = addOne(c, tanh.outputs[0]);
    return add ? tail(c, x, [...cubeNodes, term, sum, scale, tanh], add) : undefined;
  }
  return undefined;
}

/**
 * When `x` is a MatMul's product plus a constant bias over its columns (MatMul with a constant K × N
 * B, Add of a 1-D float32 [N]) read only by the pattern's `nodes`: that Add, which FastGelu's bias
 * input absorbs (as onnxruntime's BiasGelu fusion does).
 */
function biasAdd(
  c: PatternContext,
  x: string,
  nodes: Node[],
): { add: Node; x: string; bias: string } | undefined {
  const add = c.producers.get(x);
  if (!isOp(add, 'Add') || add.inputs.length !== 2) return undefined;
  const readers = c.consumers.get(x) ?? [];
  if (c.uses.get(x) !== readers.length || !readers.every((r) => nodes.includes(r))) return undefined;
  for (const side of [0, 1]) {
    const bias = floatVector(c.g, add.inputs[1 - side]);
    const mm = c.producers.get(add.inputs[side]);
    const N = isOp(mm, 'MatMul') ? constantOf(c.g, mm.inputs[1])?.dims : undefined;
    if (bias && N?.length === 2 && N[1] === bias.dims[0]) {
      return { add, x: add.inputs[side], bias: add.inputs[1 - side] };
    }
  }
  return undefined;
}

export function fuseGelu(model: Model): boolean {
  let changed = false;
  forEachGraph(model.graph, (g) => {
    const c = patternContext(g);
    const dead = new Set<Node>();
    const added: Node[] = [];
    for (const core of g.nodes) {
      if (core.domain !== '' || (core.opType !== 'Erf' && core.opType !== 'Tanh')) continue;
      const exact = core.opType === 'Erf';
      const m = exact ? matchErf(c, core) : matchTanh(c, core);
      // Intermediates have one reader each (graph outputs count as readers), so only `out` escapes.
      if (!m || m.nodes.some((n) => dead.has(n))) continue;
      const onnx = (core.opsets.get('') ?? 1) >= 20;
      const opsets = onnx ? core.opsets : importDomain(model, core);
      const name = `${core.name}_gelu`;
      if (onnx) {
        const tanh: [string, AttrValue][] = [['approximate', attr.string('tanh')]];
        added.push(newNode(name, 'Gelu', '', [m.x], [m.out], exact ? [] : tanh, opsets));
      } else if (exact) {
        added.push(newNode(name, 'Gelu', MS_DOMAIN, [m.x], [m.out], [], opsets));
      } else {
        const biased = biasAdd(c, m.x, m.nodes);
        if (biased) dead.add(biased.add);
        const inputs = biased ? [biased.x, biased.bias] : [m.x];
        added.push(newNode(name, 'FastGelu', MS_DOMAIN, inputs, [m.out], [], opsets));
      }
      for (const n of m.nodes) dead.add(n);
      changed = true;
    }
    removeNodes(g, dead);
    // validateGraph puts the new nodes in topological order after this pass.
    g.nodes.push(...added);
  });
  return changed;
}
