/**
 * Skip + LayerNormalization fusion (onnxruntime's SkipLayerNormFusion): a transformer's residual
 * step,
 *   t = Add(bias, x)            (a projection's bias; optional)
 *   s = Add(skip, t)            (the residual sum, which later layers may read too)
 *   y = LayerNormalization(s, gamma, beta)   over the last axis
 * becomes one com.microsoft SkipLayerNormalization(x, skip, gamma, beta, bias) → y (and s as its
 * fourth output when anything else reads it): two or three nodes — two full passes over the
 * activations — fewer per residual step (eight nodes of a GPT step, four Adds of 128 × 768 in a
 * BERT-base-like encoder's two layers). The kernel forms skip + (x + bias), the sum the two Adds
 * made, so results do not change.
 *
 * Conditions: LayerNormalization (ai.onnx, opset ≥ 17) over the last axis with only its first
 * output used; gamma, beta and bias constant float32 vectors of one length; x and skip of rank 2
 * or 3 (what onnxruntime's kernel accepts) — at least one known, the same when both are; t read
 * only by the residual Add.
 */
import type { Model, Node } from '../ir/graph.js';
import {
  attr,
  forEachGraph,
  importDomain,
  MS_DOMAIN,
  newNode,
  rankOf,
  removeNodes,
  isOp,
  patternContext,
  type PatternContext,
  floatVector,
} from './graph-utils.js';

/** The length of the constant float32 vector `name`, else undefined. */
const vectorLength = (c: PatternContext, name: string) => floatVector(c.g, name)?.dims[0];

/** x + bias (either way round) made by an Add read once, with a constant bias of `width` floats. */
function biasAdd(
  c: PatternContext,
  value: string,
  width: number,
): { node: Node; x: string; bias: string } | undefined {
  const add = c.producers.get(value);
  if (!isOp(add, 'Add') || c.uses.get(value) !== 1) return undefined;
  const [a, b] = add.inputs;
  if (vectorLength(c, a) === width && vectorLength(c, b) === undefined) return { node: add, x: b, bias: a };
  if (vectorLength(c, b) === width && vectorLength(c, a) === undefined) return { node: add, x: a, bias: b };
  return undefined;
}

interface Match {
  dead: Node[];
  x: string;
  skip: string;
  bias?: string;
}

function match(c: PatternContext, ln: Node, width: number): Match | undefined {
  const residual = c.producers.get(ln.inputs[0]);
  if (!isOp(residual, 'Add')) return undefined;
  const [a, b] = residual.inputs;
  // The side that is a bias Add is x; with none, the Add's first input is.
  const fromB = biasAdd(c, b, width);
  const fromA = fromB ? undefined : biasAdd(c, a, width);
  const found = fromB ?? fromA;
  const [x, skip] = found ? [found.x, fromB ? a : b] : [a, b];
  // Ranks the graph tells (a projection's output behind a computed Reshape often has none): at
  // least one, each 2 or 3, equal when both are known.
  const known = [x, skip].map((v) => rankOf(c.g, v, c.producers)).filter((r) => r !== undefined);
  if (known.length === 0 || known.some((r) => (r !== 2 && r !== 3) || r !== known[0])) return undefined;
  const dead = found ? [found.node, residual, ln] : [residual, ln];
  return { dead, x, skip, bias: found?.bias };
}

export function fuseSkipLayerNorm(model: Model): boolean {
  let changed = false;
  forEachGraph(model.graph, (g) => {
    const c = patternContext(g);
    const dead = new Set<Node>();
    const added: Node[] = [];
    for (const ln of g.nodes) {
      if (!isOp(ln, 'LayerNormalization') || (ln.opsets.get('') ?? 1) < 17 || dead.has(ln)) continue;
      if (ln.outputs.slice(1).some((o) => o !== '' && c.uses.has(o))) continue;
      const [, gamma, beta = ''] = ln.inputs;
      const width = vectorLength(c, gamma);
      if (width === undefined || (beta !== '' && vectorLength(c, beta) !== width)) continue;
      const axis = ln.attrs.int('axis', -1);
      if (axis !== -1 && axis !== (rankOf(g, ln.inputs[0], c.producers) ?? 0) - 1) continue;
      if (ln.attrs.int('stash_type', 1) !== 1) continue;
      const m = match(c, ln, width);
      if (!m || m.dead.some((n) => dead.has(n))) continue;
      const sum = ln.inputs[0];
      // The residual sum stays a value of the graph when anything besides this LayerNorm (which
      // reads it once: its other inputs are constants) reads it.
      const sumRead = (c.uses.get(sum) ?? 0) > 1;
      const inputs = [m.x, m.skip, gamma, beta, m.bias ?? ''];
      while (inputs[inputs.length - 1] === '') inputs.pop();
      added.push(
        newNode(
          `${ln.name}_skip`,
          'SkipLayerNormalization',
          MS_DOMAIN,
          inputs,
          sumRead ? [ln.outputs[0], '', '', sum] : [ln.outputs[0]],
          [['epsilon', attr.float(ln.attrs.float('epsilon', 1e-5))]],
          importDomain(model, ln),
        ),
      );
      for (const n of m.dead) dead.add(n);
      changed = true;
    }
    removeNodes(g, dead);
    g.nodes.push(...added);
  });
  return changed;
}
