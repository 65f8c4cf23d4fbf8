/**
 * LayerNorm pattern fusion: the decomposed layer normalization exporters emit over the last axis,
 *   mean = ReduceMean(x); d = Sub(x, mean); var = ReduceMean(Pow(d, 2));
 *   y = Div(d, Sqrt(Add(var, ε))) · scale + bias
 * becomes one ai.onnx LayerNormalization(x, scale, bias; axis = -1, epsilon = ε). Needs opset ≥ 17
 * (onnxruntime's pre-17 spelling is a contrib registration in the ai.onnx domain, which no other
 * runtime accepts), constant 1-D float32 scale and bias (bias may be absent), and every
 * intermediate read only inside the pattern.
 */
import type { Model, Node } from '../ir/graph.js';
import {
  attr,
  axesOf,
  constantOf,
  forEachGraph,
  newNode,
  onlyReader,
  rankOf,
  removeNodes,
  scalarOf,
  isOp,
  patternContext,
  type PatternContext,
  floatVector,
} from './graph-utils.js';

const otherInput = (n: Node, value: string) => (n.inputs[0] === value ? n.inputs[1] : n.inputs[0]);

/** The readers of `value` when they are all nodes (it is no graph output) and there are `count`. */
function readers(c: PatternContext, value: string, count: number): Node[] | undefined {
  const r = c.consumers.get(value);
  return r && r.length === count && c.uses.get(value) === count ? r : undefined;
}

/** Whether a ReduceMean averages over exactly the last axis (keepdims on). */
function overLastAxis(c: PatternContext, n: Node, x: string): boolean {
  if (n.attrs.int('keepdims', 1) !== 1) return false;
  const axes = axesOf(c.g, n);
  if (!axes || axes.length !== 1) return false;
  return axes[0] === -1 || axes[0] === (rankOf(c.g, x, c.producers) ?? 0) - 1;
}

function match(
  c: PatternContext,
  mean: Node,
): { nodes: Node[]; x: string; scale: string; bias?: string; eps: number; out: string } | undefined {
  const x = mean.inputs[0];
  if (!overLastAxis(c, mean, x)) return undefined;
  const sub = onlyReader(c, mean.outputs[0], 'Sub');
  if (!sub || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) return undefined;
  const d = sub.outputs[0];
  const pair = readers(c, d, 2);
  const pow = pair?.find((n) => isOp(n, 'Pow'));
  const div = pair?.find((n) => isOp(n, 'Div'));
  if (
    !pow ||
    !div ||
    pow.inputs[0] !== d ||
    scalarOf(constantOf(c.g, pow.inputs[1])) !== 2 ||
    div.inputs[0] !== d
  )
    return undefined;
  const variance = onlyReader(c, pow.outputs[0], 'ReduceMean');
  if (!variance || !overLastAxis(c, variance, x)) return undefined;
  const addEps = onlyReader(c, variance.outputs[0], 'Add');
  const eps = addEps && scalarOf(constantOf(c.g, otherInput(addEps, variance.outputs[0])));
  if (!addEps || eps === undefined) return undefined;
  const sqrt = onlyReader(c, addEps.outputs[0], 'Sqrt');
  if (!sqrt || onlyReader(c, sqrt.outputs[0], 'Div') !== div || div.inputs[1] !== sqrt.outputs[0])
    return undefined;
  const mul = onlyReader(c, div.outputs[0], 'Mul');
  const scale = mul && otherInput(mul, div.outputs[0]);
  if (!mul || !scale || !floatVector(c.g, scale)) return undefined;
  const nodes = [mean, sub, pow, variance, addEps, sqrt, div, mul];
  const add = onlyReader(c, mul.outputs[0], 'Add');
  const bias = add && otherInput(add, mul.outputs[0]);
  if (add && bias && floatVector(c.g, bias))
    return { nodes: [...nodes, add], x, scale, bias, eps, out: add.outputs[0] };
  return { nodes, x, scale, eps, out: mul.outputs[0] };
}

export function fuseLayerNorm(model: Model): boolean {
  let changed = false;
  forEachGraph(model.graph, (g) => {
    const c = patternContext(g);
    const dead = new Set<Node>();
    const added: Node[] = [];
    for (const mean of g.nodes) {
      if (!isOp(mean, 'ReduceMean') || (mean.opsets.get('') ?? 1) < 17 || dead.has(mean)) continue;
      const m = match(c, mean);
      if (!m) continue;
      const inputs = m.bias ? [m.x, m.scale, m.bias] : [m.x, m.scale];
      const attrs: Parameters<typeof newNode>[5] = [
        ['axis', attr.int(-1)],
        ['epsilon', attr.float(m.eps)],
      ];
      added.push(
        newNode(`${mean.name}_layernorm`, 'LayerNormalization', '', inputs, [m.out], attrs, mean.opsets),
      );
      for (const n of m.nodes) dead.add(n);
      changed = true;
    }
    removeNodes(g, dead);
    g.nodes.push(...added);
  });
  return changed;
}
