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
import type { Graph, Node } from '../ir/graph.js';
import { EXECUTION_DOMAIN, MATMUL_BIAS_OP } from '../ops/matmul.js';
import { constantOf, floatVector, isOp, onlyReader, patternContext } from '../optimizer/graph-utils.js';

/** A MatMul and the bias Add that alone reads its output. */
export interface MatMulBiasPair {
  matmul: Node;
  add: Node;
  bias: string;
}

/** Every MatMul + bias Add of `g` (not its subgraphs) that may run as one step, by MatMul. */
export function matmulBiasPairs(g: Graph): Map<Node, MatMulBiasPair> {
  const c = patternContext(g);
  const pairs = new Map<Node, MatMulBiasPair>();
  for (const matmul of g.nodes) {
    if (!isOp(matmul, 'MatMul') || matmul.inputs.length !== 2) continue;
    const W = constantOf(g, matmul.inputs[1]);
    if (W?.type !== 'float32' || W.dims.length !== 2) continue;
    // The product's one reader (no other node, subgraph or graph output reads it).
    const y = matmul.outputs[0];
    const add = onlyReader(c, y, 'Add');
    // Add-7 and later broadcast as numpy does (Add-1/6 only with its `broadcast` attribute).
    if (!add || (add.opsets.get('') ?? 1) < 7) continue;
    const bias = add.inputs[0] === y ? add.inputs[1] : add.inputs[0];
    // [N] broadcasts along the product's last axis and keeps its shape (a [1, N] could add a dim).
    if (floatVector(g, bias)?.dims[0] !== W.dims[1]) continue;
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
