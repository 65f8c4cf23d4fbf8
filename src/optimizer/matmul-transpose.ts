/**
 * MatMul + Transpose and MatMul + scale fusion into onnxruntime's contrib op com.microsoft
 * FusedMatMul (alpha·op(A)·op(B), transA/transB swapping an operand's last two dims), as
 * onnxruntime's MatmulTransposeFusion and MatMulScaleFusion do:
 * - a Transpose that swaps the last two dims (and keeps the others in place) feeding a MatMul input
 *   — attention's Kᵀ — is read by the product itself: the GEMM packs the operand transposed, so
 *   the transposed copy (a pass over the whole tensor) is never made;
 * - a Mul or Div of the product by a constant scalar — attention's 1/√d — becomes alpha.
 * The Transpose or the product must be read by this node only, and the element type be float32
 * (onnxruntime's CPU FusedMatMul kernel). The node keeps the name and output of what it replaces.
 */
import type { AttrValue } from '../ir/attributes.js';
import type { Graph, Model, Node } from '../ir/graph.js';
import {
  attr,
  constantOf,
  elemTypeOf,
  forEachGraph,
  importDomain,
  MS_DOMAIN,
  newNode,
  producerMap,
  rankOf,
  removeNodes,
  scalarOf,
  useCounts,
} from './graph-utils.js';

interface Form {
  transA: boolean;
  transB: boolean;
  alpha: number;
}

/** The operand form of a MatMul or FusedMatMul node (undefined: neither, or batch transposes). */
function formOf(n: Node): Form | undefined {
  if (n.domain === '' && n.opType === 'MatMul') return { transA: false, transB: false, alpha: 1 };
  if (n.domain !== MS_DOMAIN || n.opType !== 'FusedMatMul') return undefined;
  if (n.attrs.int('transBatchA', 0) !== 0 || n.attrs.int('transBatchB', 0) !== 0) return undefined;
  return {
    transA: n.attrs.int('transA', 0) !== 0,
    transB: n.attrs.int('transB', 0) !== 0,
    alpha: n.attrs.float('alpha', 1),
  };
}

/** True for a Transpose whose perm swaps the last two dims and leaves the rest in place. */
function swapsLastTwo(n: Node): boolean {
  if (n.domain !== '' || n.opType !== 'Transpose' || !n.attrs.has('perm')) return false;
  const perm = n.attrs.ints('perm', []);
  const r = perm.length;
  return r >= 2 && perm.every((p, i) => p === (i < r - 2 ? i : i === r - 2 ? r - 1 : r - 2));
}

export function fuseMatMulTranspose(model: Model): boolean {
  let changed = false;
  forEachGraph(model.graph, (g) => {
    const fused = (like: Node, inputs: string[], outputs: string[], f: Form): Node => {
      changed = true;
      const attrs: [string, AttrValue][] = [
        ['alpha', attr.float(f.alpha)],
        ['transA', attr.int(f.transA ? 1 : 0)],
        ['transB', attr.int(f.transB ? 1 : 0)],
      ];
      return newNode(like.name, 'FusedMatMul', MS_DOMAIN, inputs, outputs, attrs, importDomain(model, like));
    };
    // Two sweeps, each over a fresh view of the graph: the second sees the first's products.
    rewrite(g, (n, producers, uses, dead) => {
      // A Transpose of the last two dims feeding either input: the product reads it transposed.
      const f = formOf(n);
      if (!f || n.inputs.length !== 2 || !isFloat32(g, n, producers)) return n;
      const inputs = [...n.inputs];
      const form = { ...f };
      for (const i of [0, 1]) {
        const t = producers.get(inputs[i]);
        if (!t || dead.has(t) || !swapsLastTwo(t) || uses.get(inputs[i]) !== 1) continue;
        dead.add(t);
        inputs[i] = t.inputs[0];
        if (i === 0) form.transA = !form.transA;
        else form.transB = !form.transB;
      }
      return inputs[0] === n.inputs[0] && inputs[1] === n.inputs[1] ? n : fused(n, inputs, n.outputs, form);
    });
    rewrite(g, (n, producers, uses, dead) => {
      // Mul/Div of a product by a constant scalar: the product takes it as alpha.
      if (n.domain !== '' || (n.opType !== 'Mul' && n.opType !== 'Div') || n.inputs.length !== 2) return n;
      for (const side of n.opType === 'Mul' ? [0, 1] : [0]) {
        const mm = producers.get(n.inputs[side]);
        const f = mm && !dead.has(mm) ? formOf(mm) : undefined;
        const c = constantOf(g, n.inputs[1 - side]);
        const s = c?.type === 'float32' ? scalarOf(c) : undefined;
        if (!mm || !f || s === undefined || uses.get(n.inputs[side]) !== 1 || !isFloat32(g, mm, producers))
          continue;
        // A [1] scalar would make a 0-D product (1-D · 1-D) 1-D: only with a matrix operand.
        const matrix = [0, 1].some((i) => (rankOf(g, mm.inputs[i], producers) ?? 0) >= 2);
        if (c!.dims.length > 1 || (c!.dims.length === 1 && !matrix)) continue;
        dead.add(mm);
        return fused(mm, mm.inputs, n.outputs, {
          ...f,
          alpha: n.opType === 'Mul' ? f.alpha * s : f.alpha / s,
        });
      }
      return n;
    });
  });
  return changed;
}

/** Replaces each node of `g` by what `fn` returns, then drops the nodes `fn` marked dead. */
function rewrite(
  g: Graph,
  fn: (n: Node, producers: Map<string, Node>, uses: Map<string, number>, dead: Set<Node>) => Node,
): void {
  const producers = producerMap(g);
  const uses = useCounts(g);
  const dead = new Set<Node>();
  g.nodes = g.nodes.map((n) => fn(n, producers, uses, dead));
  removeNodes(g, dead);
}

function isFloat32(g: Graph, n: Node, producers: Map<string, Node>): boolean {
  return elemTypeOf(g, n.inputs[0], producers) === 'float32';
}
