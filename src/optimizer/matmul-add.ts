/**
 * MatMul + Add → Gemm: MatMul(A, B) with B a constant 2-D matrix (K × N) and A known to be 2-D or
 * more, whose output only feeds an Add of a constant C that Gemm's unidirectional broadcast accepts
 * as a bias ([N], [1, N] or a scalar). The bias then costs nothing in the product's epilogue instead
 * of a pass of its own over the output. Needs opset ≥ 7 (Gemm's broadcasting C) and a float element
 * type.
 *
 * `fuseFoldedMatMulAdd`, a pass of its own placed after the transformer fusions (which take such a
 * bias into SkipLayerNormalization or attention first), does A of rank r > 2 (every Linear layer of a
 * transformer, on [batch, sequence, K]): through Gemm as the 2-D matrix MatMul folds A into anyway,
 * with opset ≥ 14 (Reshape's allowzero):
 *
 *   Reshape(A, [-1, K]) → Gemm(·, B, C) → Reshape(·, Concat(Slice(Shape(A), 0, r − 1), [N]); allowzero)
 *
 * The output keeps the Add's name and A's leading dims, an empty one included (allowzero keeps a 0 a
 * 0). The Reshapes are views at run time and the shape nodes handle a few integers, against the
 * Add's read and write of the whole output (BERT's 128 × 1024 bias Add took ~60–77 µs).
 */
import type { Graph, Node } from '../ir/graph.js';
import {
  attr,
  constantOf,
  elemTypeOf,
  forEachGraph,
  int64Tensor,
  NameGen,
  newNode,
  producerMap,
  rankOf,
  removeNodes,
  useCounts,
} from './graph-utils.js';

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16']);

/** MatMul + Add → Gemm for a 2-D A. */
export function fuseMatMulAdd(root: Graph): boolean {
  return fuse(root, false);
}

/** MatMul + Add → Reshape, Gemm, Reshape for an A of rank > 2. */
export function fuseFoldedMatMulAdd(root: Graph): boolean {
  return fuse(root, true);
}

function fuse(root: Graph, folded: boolean): boolean {
  let changed = false;
  const names = new NameGen(root);
  forEachGraph(root, (g) => {
    const producers = producerMap(g);
    const uses = useCounts(g);
    const dead = new Set<Node>();
    const replaced = new Map<Node, Node[]>();
    for (const add of g.nodes) {
      const opset = add.opsets.get('') ?? 1;
      if (add.domain !== '' || add.opType !== 'Add' || opset < 7) continue;
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
        // MatMul's operands share a type: a constant B tells A's.
        const w = constantOf(g, mm.inputs[1]);
        const type = w?.type ?? elemTypeOf(g, mm.inputs[0], producers);
        if (!bias || !FLOAT_TYPES.has(bias.type) || type !== bias.type) continue;
        const rank = rankOf(g, mm.inputs[0], producers);
        const bRank = w ? w.dims.length : rankOf(g, mm.inputs[1], producers);
        if (bRank !== 2 || rank === undefined || (folded ? rank <= 2 || opset < 14 || !w : rank !== 2))
          continue;
        const [K, N] = w ? w.dims : [undefined, undefined];
        // A bias of N > 1 elements must match B's columns, or the Add would broadcast the product.
        const d = bias.dims;
        const rowBias = (d.length === 1 || (d.length === 2 && d[0] === 1)) && d[d.length - 1] === N;
        if (!(bias.size === 1 && d.length <= 2) && !rowBias) continue;
        const gemm = (a: string, y: string, name: string) =>
          newNode(name, 'Gemm', '', [a, mm.inputs[1], add.inputs[1 - side]], [y], [], add.opsets);
        if (!folded) {
          replaced.set(add, [gemm(mm.inputs[0], add.outputs[0], add.name)]);
        } else {
          if (!K || !N) continue;
          replaced.set(add, foldedGemm(g, names, add, mm.inputs[0], rank, K, N, gemm));
        }
        dead.add(mm);
        changed = true;
        break;
      }
    }
    if (replaced.size > 0) g.nodes = g.nodes.flatMap((n) => replaced.get(n) ?? [n]);
    removeNodes(g, dead);
  });
  return changed;
}

/** The Reshape → Gemm → Reshape that replaces `add` for an A of rank r > 2 (see the module comment). */
function foldedGemm(
  g: Graph,
  names: NameGen,
  add: Node,
  a: string,
  rank: number,
  K: number,
  N: number,
  gemm: (a: string, y: string, name: string) => Node,
): Node[] {
  const fresh = (suffix: string) => names.fresh(`${add.name || 'matmul_add'}_${suffix}`);
  const constant = (suffix: string, values: number[]) => {
    const name = fresh(suffix);
    g.initializers.set(name, int64Tensor(values));
    return name;
  };
  const node = (suffix: string, op: string, inputs: string[], attrs: Parameters<typeof newNode>[5] = []) =>
    newNode(fresh(suffix), op, '', inputs, [fresh(`${suffix}_output`)], attrs, add.opsets);
  const rows = node('rows', 'Reshape', [a, constant('rows_shape', [-1, K])]);
  const product = gemm(rows.outputs[0], fresh('gemm_output'), fresh('gemm'));
  const shape = node('a_shape', 'Shape', [a]);
  const lead = node('lead', 'Slice', [
    shape.outputs[0],
    constant('lead_start', [0]),
    constant('lead_end', [rank - 1]),
    constant('lead_axis', [0]),
  ]);
  const outShape = node(
    'out_shape',
    'Concat',
    [lead.outputs[0], constant('columns', [N])],
    [['axis', attr.int(0)]],
  );
  const out = newNode(
    add.name,
    'Reshape',
    '',
    [product.outputs[0], outShape.outputs[0]],
    [add.outputs[0]],
    [['allowzero', attr.int(1)]],
    add.opsets,
  );
  return [rows, product, shape, lead, outShape, out];
}
