/**
 * Fusions the planner makes for execution only: the model graph (what `optimizedModelFilePath`
 * writes, what onnxruntime must load) keeps the nodes as they are, and one step runs several.
 *
 * MatMul + bias: a MatMul by a constant 2-D float32 weight W [K, N] whose output only an Add of a
 * constant float32 [N] reads — PyTorch's nn.Linear exported on a 3-D input — runs as one step, the
 * bias added in the GEMM's store (`MATMUL_BIAS_OP`, ops/matmul.ts) instead of by a second pass over
 * the output (BERT-like encoder, 128 × 768 and 128 × 1024 outputs: ~65–75 µs per Add, which
 * scaled ~1.0 at 2 threads). The graph cannot say it itself: ONNX's Gemm is 2-D only and
 * onnxruntime has no contrib op for it, and reshaping to 2-D around a Gemm costs a decoder step more
 * in shape nodes than the Add it saves (tried and reverted, README). The step adds the bias after the
 * whole product, as the Add did, so the outputs are bit for bit the same.
 */
import { Attributes } from '../ir/attributes.js';
import { implicitInputs, type Graph, type Node } from '../ir/graph.js';
import { EXECUTION_DOMAIN, MATMUL_BIAS_OP } from '../ops/matmul.js';

/** A MatMul and the bias Add that alone reads its output. */
export interface MatMulBiasPair {
  matmul: Node;
  add: Node;
  bias: string;
}

/** The constant float32 initializer `name` of `g` (not overridable by a feed), if any. */
function constantFloat32(g: Graph, name: string) {
  const t = name ? g.initializers.get(name) : undefined;
  return t?.type === 'float32' && !g.input(name) ? t : undefined;
}

/** Every MatMul + bias Add of `g` (not its subgraphs) that may run as one step, by MatMul. */
export function matmulBiasPairs(g: Graph): Map<Node, MatMulBiasPair> {
  const reads = new Map<string, number>();
  const readers = new Map<string, Node>();
  const read = (name: string, n?: Node) => {
    if (!name) return;
    reads.set(name, (reads.get(name) ?? 0) + 1);
    if (n) readers.set(name, n);
  };
  for (const n of g.nodes) {
    for (const i of n.inputs) read(i, n);
    for (const i of implicitInputs(n)) read(i);
  }
  for (const o of g.outputs) read(o.name);
  const pairs = new Map<Node, MatMulBiasPair>();
  for (const matmul of g.nodes) {
    if (matmul.domain !== '' || matmul.opType !== 'MatMul' || matmul.inputs.length !== 2) continue;
    const W = constantFloat32(g, matmul.inputs[1]);
    const y = matmul.outputs[0];
    if (!W || W.dims.length !== 2 || reads.get(y) !== 1) continue;
    const add = readers.get(y);
    // Add-7 and later broadcast as numpy does (Add-1/6 only with its `broadcast` attribute).
    if (!add || add.domain !== '' || add.opType !== 'Add' || (add.opsets.get('') ?? 1) < 7) continue;
    const [a, b] = add.inputs;
    const bias = a === y ? b : a;
    if (a === b || ![a, b].includes(y)) continue;
    // [N] broadcasts along the product's last axis and keeps its shape (a [1, N] could add a dim).
    const B = constantFloat32(g, bias);
    if (!B || B.dims.length !== 1 || B.dims[0] !== W.dims[1]) continue;
    pairs.set(matmul, { matmul, add, bias });
  }
  return pairs;
}

/** The one node that runs a pair: the MatMul's name and inputs, the bias, the Add's output. */
export function matmulBiasNode(p: MatMulBiasPair): Node {
  return {
    name: p.matmul.name,
    opType: MATMUL_BIAS_OP,
    domain: EXECUTION_DOMAIN,
    overload: '',
    inputs: [...p.matmul.inputs, p.bias],
    outputs: [p.add.outputs[0]],
    attrs: new Attributes(new Map(), `node '${p.matmul.name}' (MatMul + bias Add)`),
    opsets: new Map([...p.matmul.opsets, [EXECUTION_DOMAIN, 1]]),
  };
}
