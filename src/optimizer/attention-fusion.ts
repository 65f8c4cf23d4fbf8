/**
 * Decoder self-attention fusion: the multi-head attention a GPT-style block exports as ~15 nodes
 * becomes one onnxruntime com.microsoft MultiHeadAttention (ops/multihead-attention.ts), with the
 * key/value cache in and out. A decoding step runs one query per layer, where each of those nodes
 * cost more than its arithmetic. Matched (every intermediate read only by the next node):
 *
 *   X (+ bias)  → Reshape [u0, u1, 3, N, H] → Transpose [2, 0, 3, 1, 4] → Split in 3 on axis 0
 *   → Squeeze axis 0 → q, k, v
 *   present_key = Concat(past_key, k, axis 2) (or k with no cache), present_value likewise
 *   FusedMatMul(q, present_key; transB, alpha) (→ Where(mask, fill, ·)) → Softmax (last axis)
 *   → MatMul(·, present_value) → Transpose [0, 2, 1, 3] → Reshape → Y
 *
 * becomes
 *
 *   Reshape(X, [u0, u1, 3·N·H]) → Split in 3 on the last axis → q, k, v
 *   MultiHeadAttention(q, k, v, bias, -, Where(mask, fill, 0), past_key, past_value;
 *                      num_heads N, scale alpha) → Y', present_key, present_value
 *   Reshape(Y', the original target) → Y
 *
 * The same arithmetic in the same layout: [u0, u1, 3·N·H] holds X's floats in the order the
 * 5-D Reshape did (0 and -1 in u0, u1 mean what they meant there), MultiHeadAttention splits heads as
 * the Transpose did and adds the bias to q, k and v as the Add did, and its output has the element
 * order of the Transpose before the last Reshape, which is kept. A masked score becomes
 * score + fill instead of fill: the fill must be at most -1e30 (or -∞), so that the sum rounds to
 * the fill (|score| < 1e22) and exp of it to 0 as before. Needs ai.onnx opset ≥ 13 (Split's sizes
 * as an input) and float32.
 */
import { Tensor } from '../core/tensor.js';
import type { Model, Node } from '../ir/graph.js';
import {
  attr,
  axesOf,
  constantOf,
  elemTypeOf,
  floatVector,
  forEachGraph,
  importDomain,
  int64Tensor,
  intsOf,
  isOp,
  lengthOf,
  MS_DOMAIN,
  NameGen,
  newNode,
  onlyProducer,
  onlyReader,
  patternContext,
  rankOf,
  removeNodes,
  scalarOf,
  type PatternContext,
} from './graph-utils.js';

/** Masks filled with a value above this cannot become an additive bias (see the module comment). */
const MAX_FILL = -1e30;

const perm = (n: Node): string => JSON.stringify(n.attrs.has('perm') ? n.attrs.ints('perm') : null);

/** The Squeeze on axis 0 that makes `value` (read once), else undefined. */
function squeezeOf(c: PatternContext, value: string): Node | undefined {
  const sq = onlyProducer(c, value, 'Squeeze');
  return sq && JSON.stringify(axesOf(c.g, sq)) === '[0]' ? sq : undefined;
}

/** The cache a present value is made of: Concat(past, x) on axis 2 → [past, x]; x itself → ['', x]. */
function cached(c: PatternContext, present: string, isOutput: boolean): [string, string, Node?] | undefined {
  const concat = c.producers.get(present);
  if (isOp(concat, 'Concat') && concat.inputs.length === 2) {
    const axis = concat.attrs.int('axis');
    if (axis !== 2 && axis !== -2) return undefined;
    if (c.uses.get(present) !== 1 + (isOutput ? 1 : 0)) return undefined;
    return [concat.inputs[0], concat.inputs[1], concat];
  }
  return isOutput ? undefined : ['', present];
}

interface Match {
  dead: Node[];
  x: string;
  bias: string;
  /** The two leading parts of the 5-D target shape (1-element values). */
  lead: [string, string];
  N: number;
  H: number;
  alpha: number;
  mask?: { cond: string; fill: string; rank: number };
  pastK: string;
  pastV: string;
  presentK: string;
  presentV: string;
  /** The final Reshape, whose data input becomes the fused node's output. */
  out: Node;
}

function match(c: PatternContext, softmax: Node): Match | undefined {
  const { g } = c;
  const opset = softmax.opsets.get('') ?? 1;
  if (opset < 13) return undefined;
  const axis = softmax.attrs.int('axis', -1);
  if (axis !== -1 && axis !== 3) return undefined;
  const probs = softmax.outputs[0];
  // Scores, possibly masked by Where(cond, fill, scores).
  let scoresName = softmax.inputs[0];
  let mask: Match['mask'];
  const dead: Node[] = [softmax];
  const where = onlyProducer(c, scoresName, 'Where');
  if (where) {
    const [cond, fill, s] = where.inputs;
    const f = scalarOf(constantOf(g, fill));
    const rank = rankOf(g, cond, c.producers);
    if (f === undefined || !(f <= MAX_FILL) || elemTypeOf(g, fill, c.producers) !== 'float32')
      return undefined;
    if (rank === undefined || rank > 4) return undefined;
    mask = { cond, fill, rank };
    scoresName = s;
    dead.push(where);
  }
  const qk = onlyProducer(c, scoresName, 'FusedMatMul', MS_DOMAIN);
  if (!qk) return undefined;
  if (qk.attrs.int('transA', 0) !== 0 || qk.attrs.int('transB', 0) !== 1) return undefined;
  if (qk.attrs.int('transBatchA', 0) !== 0 || qk.attrs.int('transBatchB', 0) !== 0) return undefined;
  dead.push(qk);
  // The probabilities times the values, back to [B, S, N, H], then the kept Reshape.
  const pv = onlyReader(c, probs, 'MatMul');
  if (!pv || pv.inputs[0] !== probs) return undefined;
  const back = onlyReader(c, pv.outputs[0], 'Transpose');
  if (!back || perm(back) !== '[0,2,1,3]') return undefined;
  const out = onlyReader(c, back.outputs[0], 'Reshape');
  if (!out || out.inputs[0] !== back.outputs[0]) return undefined;
  dead.push(pv, back);
  // present_key/value: the cache and the new keys/values.
  const isOutput = (v: string) => g.outputs.some((o) => o.name === v);
  const [presentK, presentV] = [qk.inputs[1], pv.inputs[1]];
  const kc = cached(c, presentK, isOutput(presentK));
  const vc = cached(c, presentV, isOutput(presentV));
  if (!kc || !vc || !kc[2] !== !vc[2]) return undefined;
  if (kc[2]) dead.push(kc[2]);
  if (vc[2]) dead.push(vc[2]);
  // q, k, v: Squeeze(Split(Transpose(Reshape(X (+ bias)))), one output each.
  const squeezes = [qk.inputs[0], kc[1], vc[1]].map((v) => squeezeOf(c, v));
  if (squeezes.some((sq) => sq === undefined)) return undefined;
  const split = c.producers.get(squeezes[0]!.inputs[0]);
  if (!isOp(split, 'Split') || split.outputs.length !== 3 || split.attrs.int('axis', 0) !== 0)
    return undefined;
  if (squeezes.some((sq, i) => sq!.inputs[0] !== split.outputs[i] || c.uses.get(split.outputs[i]) !== 1))
    return undefined;
  const sizes = split.inputs[1] ? intsOf(constantOf(g, split.inputs[1])) : undefined;
  if (split.inputs[1] && JSON.stringify(sizes) !== '[1,1,1]') return undefined;
  dead.push(...(squeezes as Node[]));
  const tr = onlyProducer(c, split.inputs[0], 'Transpose');
  if (!tr || perm(tr) !== '[2,0,3,1,4]') return undefined;
  const reshape = onlyProducer(c, tr.inputs[0], 'Reshape');
  if (!reshape || reshape.attrs.int('allowzero', 0) !== 0) return undefined;
  const shape = c.producers.get(reshape.inputs[1]);
  if (!isOp(shape, 'Concat') || shape.inputs.length !== 5) return undefined;
  const tail = shape.inputs.slice(2).map((v) => intsOf(constantOf(g, v)));
  if (tail.some((t) => t?.length !== 1) || tail[0]![0] !== 3) return undefined;
  const [N, H] = [tail[1]![0], tail[2]![0]];
  if (N <= 0 || H <= 0) return undefined;
  const lead: [string, string] = [shape.inputs[0], shape.inputs[1]];
  if (lead.some((v) => lengthOf(g, v, c.producers) !== 1)) return undefined;
  dead.push(split, tr, reshape);
  // X + bias (either way round) read only here, or X as it is.
  let x = reshape.inputs[0];
  let bias = '';
  const add = onlyProducer(c, x, 'Add');
  if (add) {
    const [a, b] = add.inputs;
    const width = 3 * N * H;
    const isBias = (v: string) => floatVector(g, v)?.dims[0] === width;
    if (isBias(a) !== isBias(b)) {
      [bias, x] = isBias(a) ? [a, b] : [b, a];
      dead.push(add);
    }
  }
  // float32: the bias is (floatVector), so then is X (Add's operands share a type); else X's type
  // or the cache's must be known (Concat's operands share one too).
  const typed = (v: string) => v !== '' && elemTypeOf(g, v, c.producers) === 'float32';
  if (!bias && !typed(x) && !typed(kc[0])) return undefined;
  return {
    dead,
    x,
    bias,
    lead,
    N,
    H,
    alpha: qk.attrs.float('alpha', 1),
    mask,
    pastK: kc[0],
    pastV: vc[0],
    presentK: kc[2] ? presentK : '',
    presentV: vc[2] ? presentV : '',
    out,
  };
}

export function fuseDecoderAttention(model: Model): boolean {
  let changed = false;
  const names = new NameGen(model.graph);
  forEachGraph(model.graph, (g) => {
    const c = patternContext(g);
    const dead = new Set<Node>();
    const added: Node[] = [];
    for (const softmax of g.nodes) {
      if (!isOp(softmax, 'Softmax') || dead.has(softmax)) continue;
      const m = match(c, softmax);
      if (!m || m.dead.some((n) => dead.has(n))) continue;
      const opsets = importDomain(model, softmax);
      const base = softmax.name || 'attention';
      const fresh = (suffix: string) => names.fresh(`${base}_${suffix}`);
      const node = (
        suffix: string,
        op: string,
        domain: string,
        ins: string[],
        outs: string[],
        attrs: Parameters<typeof newNode>[5] = [],
      ) => added.push(newNode(fresh(suffix), op, domain, ins, outs, attrs, opsets));
      const D = m.N * m.H;
      // X as [u0, u1, 3·N·H], then q, k, v of D each.
      const width = fresh('qkv_width');
      g.initializers.set(width, int64Tensor([3 * D]));
      const shape3 = fresh('qkv_shape');
      node('qkv_shape_concat', 'Concat', '', [...m.lead, width], [shape3], [['axis', attr.int(0)]]);
      const x3 = fresh('qkv');
      node('qkv_reshape', 'Reshape', '', [m.x, shape3], [x3]);
      const sizes = fresh('qkv_sizes');
      g.initializers.set(sizes, int64Tensor([D, D, D]));
      const [q, k, v] = [fresh('q'), fresh('k'), fresh('v')];
      node('qkv_split', 'Split', '', [x3, sizes], [q, k, v], [['axis', attr.int(2)]]);
      // The mask as an additive bias, 4-D as onnxruntime asks.
      let bias = '';
      if (m.mask) {
        const zero = fresh('mask_zero');
        g.initializers.set(zero, new Tensor('float32', new Float32Array(1), []));
        bias = fresh('mask_bias');
        node('mask_bias', 'Where', '', [m.mask.cond, m.mask.fill, zero], [bias]);
        if (m.mask.rank < 4) {
          const axes = fresh('mask_axes');
          g.initializers.set(axes, int64Tensor(Array.from({ length: 4 - m.mask.rank }, (_, i) => i)));
          const bias4 = fresh('mask_bias_4d');
          node('mask_unsqueeze', 'Unsqueeze', '', [bias, axes], [bias4]);
          bias = bias4;
        }
      }
      const y = fresh('attention');
      const inputs = [q, k, v, m.bias, '', bias, m.pastK, m.pastV];
      while (inputs[inputs.length - 1] === '') inputs.pop();
      const outputs = [y, m.presentK, m.presentV];
      while (outputs[outputs.length - 1] === '') outputs.pop();
      node('mha', 'MultiHeadAttention', MS_DOMAIN, inputs, outputs, [
        ['num_heads', attr.int(m.N)],
        ['scale', attr.float(m.alpha)],
      ]);
      m.out.inputs = [y, ...m.out.inputs.slice(1)];
      for (const n of m.dead) dead.add(n);
      changed = true;
    }
    removeNodes(g, dead);
    g.nodes.push(...added);
  });
  return changed;
}
