/**
 * What the rewrite passes share: walking every graph of a model, who reads and who makes each value,
 * constants, fresh names, and the few static facts (element type, rank) a pass needs before it may
 * rewrite. The facts are conservative: `undefined` means "not known", and a pass then leaves the
 * nodes alone.
 */
import { dtypeFromCode, type TensorType, type TypedArray } from '../core/dtype.js';
import { Tensor } from '../core/tensor.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { forEachSubgraph, implicitInputs, type Graph, type Model, type Node } from '../ir/graph.js';

/** Calls `fn` on `root` and every nested subgraph (subgraphs first). */
export function forEachGraph(root: Graph, fn: (g: Graph) => void): void {
  for (const n of root.nodes) forEachSubgraph(n, (g) => forEachGraph(g, fn));
  fn(root);
}

/** How many times each value is read in `g`: node inputs, subgraph (outer-scope) reads, graph outputs. */
export function useCounts(g: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const add = (name: string) => name && uses.set(name, (uses.get(name) ?? 0) + 1);
  for (const n of g.nodes) {
    n.inputs.forEach(add);
    implicitInputs(n).forEach(add);
  }
  for (const o of g.outputs) add(o.name);
  return uses;
}

/** The node that makes each value of `g`. */
export function producerMap(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** Nodes that read each value of `g` (explicit inputs only). */
export function consumerMap(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  }
  return m;
}

/** What the pattern-fusion passes look a graph up by: who makes and who reads each value, and how often. */
export interface PatternContext {
  g: Graph;
  producers: Map<string, Node>;
  consumers: Map<string, Node[]>;
  uses: Map<string, number>;
}

export function patternContext(g: Graph): PatternContext {
  return { g, producers: producerMap(g), consumers: consumerMap(g), uses: useCounts(g) };
}

/** `n` is an ai.onnx node of `op`. */
export const isOp = (n: Node | undefined, op: string): n is Node =>
  n !== undefined && n.domain === '' && n.opType === op;

/** The one node reading `value`, when it is an ai.onnx `op` and `value` is no graph output. */
export function onlyReader(c: PatternContext, value: string, op: string): Node | undefined {
  const r = c.consumers.get(value);
  return r?.length === 1 && c.uses.get(value) === 1 && isOp(r[0], op) ? r[0] : undefined;
}

/**
 * The node making `value`, when it is an `op` of `domain` (ai.onnx by default) and `value` has no
 * other use (asked of a value some node reads: then it is no graph output either).
 */
export function onlyProducer(c: PatternContext, value: string, op: string, domain = ''): Node | undefined {
  const p = c.producers.get(value);
  return p?.opType === op && p.domain === domain && c.uses.get(value) === 1 ? p : undefined;
}

/**
 * A node's `axes`: the attribute (Squeeze/Unsqueeze before opset 13, reductions before 18), else the
 * constant input 1; a Squeeze with neither squeezes every size-1 dim ([]).
 */
export function axesOf(g: Graph, n: Node): number[] | undefined {
  if (n.attrs.has('axes')) return n.attrs.ints('axes');
  if (n.inputs[1]) return intsOf(constantOf(g, n.inputs[1]));
  return n.opType === 'Squeeze' ? [] : undefined;
}

/** The constant value of `name` in `g`: an initializer that no feed can override. */
export function constantOf(g: Graph, name: string): Tensor | undefined {
  if (!name || g.input(name)) return undefined;
  return g.initializers.get(name);
}

/** The constant float32 vector (1-D) `name` of `g` — a scale, shift or bias — else undefined. */
export function floatVector(g: Graph, name: string): Tensor | undefined {
  const t = name ? constantOf(g, name) : undefined;
  return t && t.type === 'float32' && t.dims.length === 1 ? t : undefined;
}

/** The single number a one-element numeric tensor holds. */
export function scalarOf(t: Tensor | undefined): number | undefined {
  if (!t || t.size !== 1 || t.type === 'string') return undefined;
  const v = (t.data as TypedArray)[0];
  return typeof v === 'bigint' ? Number(v) : t.type === 'float16' || t.type === 'bfloat16' ? undefined : v;
}

/** A tensor's elements as plain numbers (int64 via Number), for small shape/axes constants. */
export function intsOf(t: Tensor | undefined): number[] | undefined {
  if (!t || (t.type !== 'int64' && t.type !== 'int32')) return undefined;
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Hands out value and node names that no graph of the model uses yet. */
export class NameGen {
  /** Every name in use, gathered on the first `fresh` call: most passes never need one. */
  private taken: Set<string> | undefined;

  constructor(private readonly root: Graph) {}

  fresh(base: string): string {
    const taken = (this.taken ??= namesIn(this.root));
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  }
}

function namesIn(root: Graph): Set<string> {
  const taken = new Set<string>();
  forEachGraph(root, (g) => {
    for (const i of g.inputs) taken.add(i.name);
    for (const o of g.outputs) taken.add(o.name);
    for (const k of g.initializers.keys()) taken.add(k);
    for (const n of g.nodes) {
      taken.add(n.name);
      for (const x of n.inputs) taken.add(x);
      for (const x of n.outputs) taken.add(x);
    }
  });
  return taken;
}

export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value, exact: BigInt(value) }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value, exact: value.map((v) => BigInt(v)) }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value, bytes: new TextEncoder().encode(value) }),
};

/** An int64 1-D tensor (shape and axes constants). */
export function int64Tensor(values: number[]): Tensor {
  return new Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    [values.length],
  );
}

/** Ops whose output 0 has the element type of input 0. */
const SAME_TYPE_AS_INPUT0 = new Set([
  'Identity',
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Erf',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Clip',
  'Transpose',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'Concat',
  'Slice',
  'Gather',
  'Expand',
  'Conv',
  'MatMul',
  'Gemm',
  'BatchNormalization',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Softmax',
  'LayerNormalization',
  'ReduceMean',
  'ReduceSum',
  'Dropout',
]);

/** The element type of value `name` in `g`, when the model or a simple rule tells it. */
export function elemTypeOf(
  g: Graph,
  name: string,
  producers: Map<string, Node>,
  depth = 0,
): TensorType | undefined {
  const init = g.initializers.get(name);
  if (init) return init.type;
  const t = g.input(name)?.type ?? g.valueInfo.get(name) ?? g.outputs.find((o) => o.name === name)?.type;
  if (t && t.kind === 'tensor') return t.elemType;
  const p = producers.get(name);
  if (!p || depth > 64 || p.domain !== '') return undefined;
  if (p.opType === 'Cast' && p.outputs[0] === name) {
    const to = p.attrs.raw('to');
    return to?.kind === 'int' ? dtypeFromCode(to.value)?.name : undefined;
  }
  if (p.opType === 'Shape' || p.opType === 'Size') return 'int64';
  if (SAME_TYPE_AS_INPUT0.has(p.opType) && p.outputs[0] === name && p.inputs[0]) {
    return elemTypeOf(g, p.inputs[0], producers, depth + 1);
  }
  // Every output of a Split has its input's type.
  if (p.opType === 'Split' && p.inputs[0]) return elemTypeOf(g, p.inputs[0], producers, depth + 1);
  return undefined;
}

const SAME_RANK_AS_INPUT0 = new Set([
  'Identity',
  'Not',
  'Trilu',
  'BatchNormalization',
  'MaxPool',
  'AveragePool',
  'LRN',
  'Concat',
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Abs',
  'Neg',
  'Exp',
  'Erf',
  'Sqrt',
  'Cast',
  'Clip',
  'Dropout',
  'Softmax',
  'LayerNormalization',
]);

const SAME_RANK_CONTRIB = new Set(['FastGelu', 'Gelu', 'BiasGelu', 'SkipLayerNormalization']);

/**
 * Ranks already found, per producer map: a pass makes its map once and asks for many values' ranks,
 * and the walk back through binary ops visits both operands — through a residual network's chain of
 * Adds (x + f(x)) each block's input along every path from the end, 2^blocks walks. Only ranks found
 * are kept: an unknown one may be the depth limit's, not the graph's. A value's rank does not change
 * when a rewrite keeps its name (rewrites keep what each value is).
 */
const knownRanks = new WeakMap<Map<string, Node>, Map<string, number>>();

/** The rank of value `name` in `g`, when the model or a simple rule tells it. */
export function rankOf(g: Graph, name: string, producers: Map<string, Node>, depth = 0): number | undefined {
  let known = knownRanks.get(producers);
  if (!known) knownRanks.set(producers, (known = new Map()));
  const seen = known.get(name);
  if (seen !== undefined) return seen;
  const r = findRank(g, name, producers, depth);
  if (r !== undefined) known.set(name, r);
  return r;
}

function findRank(g: Graph, name: string, producers: Map<string, Node>, depth: number): number | undefined {
  const init = g.initializers.get(name);
  if (init) return init.dims.length;
  const t = g.input(name)?.type ?? g.valueInfo.get(name) ?? g.outputs.find((o) => o.name === name)?.type;
  if (t && t.kind === 'tensor' && t.shape) return t.shape.length;
  const p = producers.get(name);
  if (!p || depth > 64) return undefined;
  const rank = (i: number) => (p.inputs[i] ? rankOf(g, p.inputs[i], producers, depth + 1) : undefined);
  // The contrib ops the fusions emit keep their first input's rank (SkipLayerNormalization in every
  // output: the residual sum a later layer reads is its fourth).
  if (p.domain === MS_DOMAIN && SAME_RANK_CONTRIB.has(p.opType)) return rank(0);
  if (p.domain !== '' || p.outputs[0] !== name) return undefined;
  switch (p.opType) {
    case 'Flatten':
    case 'Gemm':
      return 2;
    case 'Range':
      return 1;
    case 'Conv':
      return rank(1);
    case 'Reshape':
      // As many dims as the shape operand has elements, when its length is known statically.
      return p.inputs[1] ? lengthOf(g, p.inputs[1], producers, depth + 1) : undefined;
    case 'Shape':
      return p.attrs.has('start') || p.attrs.has('end') ? undefined : 1;
    case 'ConstantOfShape':
      return p.inputs[0] ? lengthOf(g, p.inputs[0], producers, depth + 1) : undefined;
    case 'Transpose':
      return rank(0);
    case 'Unsqueeze':
    case 'Squeeze': {
      const axes = axesOf(g, p);
      const r = rank(0);
      if (r === undefined || axes === undefined) return undefined;
      return p.opType === 'Unsqueeze' ? r + axes.length : axes.length > 0 ? r - axes.length : undefined;
    }
    case 'Gather': {
      // Data's rank with the gathered axis replaced by the indices' dims (an embedding lookup).
      const [data, indices] = [rank(0), rank(1)];
      return data !== undefined && indices !== undefined && data >= 1 ? data - 1 + indices : undefined;
    }
    case 'MatMul': {
      const [a, b] = [rank(0), rank(1)];
      return a !== undefined && b !== undefined && a >= 2 && b >= 2 ? Math.max(a, b) : undefined;
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const [a, b] = [rank(0), rank(1)];
      return a !== undefined && b !== undefined ? Math.max(a, b) : undefined;
    }
    default:
      return SAME_RANK_AS_INPUT0.has(p.opType) ? rank(0) : undefined;
  }
}

/**
 * The element count of 1-D value `name` (a shape operand), when the model or a simple rule tells it:
 * a constant, Shape(x) of a known rank, an Unsqueeze of a scalar to one dim, a Concat of such parts
 * — how exporters spell a Reshape's target shape from dynamic dims.
 */
export function lengthOf(
  g: Graph,
  name: string,
  producers: Map<string, Node>,
  depth = 0,
): number | undefined {
  const init = g.initializers.get(name);
  if (init) return init.dims.length === 1 ? init.dims[0] : undefined;
  const p = producers.get(name);
  if (!p || depth > 64 || p.domain !== '' || p.outputs[0] !== name) return undefined;
  if (p.opType === 'Concat') {
    let n = 0;
    for (const part of p.inputs) {
      const len = part ? lengthOf(g, part, producers, depth + 1) : undefined;
      if (len === undefined) return undefined;
      n += len;
    }
    return n;
  }
  if (p.opType === 'Shape') {
    return p.attrs.has('start') || p.attrs.has('end')
      ? undefined
      : rankOf(g, p.inputs[0], producers, depth + 1);
  }
  if (p.opType === 'Unsqueeze' && rankOf(g, name, producers, depth) === 1) {
    return rankOf(g, p.inputs[0], producers, depth + 1) === 0 ? 1 : undefined;
  }
  return undefined;
}

/** Removes `dead` nodes from `g` (by identity). */
export function removeNodes(g: Graph, dead: ReadonlySet<Node>): void {
  if (dead.size > 0) g.nodes = g.nodes.filter((n) => !dead.has(n));
}

/** onnxruntime's contrib-op domain, which the fusions emit ops of (version 1). */
export const MS_DOMAIN = 'com.microsoft';

/** Makes sure `model` imports `domain` (as version 1 when absent); returns the opsets a new node gets. */
export function importDomain(model: Model, like: Node, domain = MS_DOMAIN): ReadonlyMap<string, number> {
  if (!model.opsets.has(domain)) model.opsets = new Map(model.opsets).set(domain, 1);
  return like.opsets.has(domain) ? like.opsets : new Map(like.opsets).set(domain, model.opsets.get(domain)!);
}

/** A new node of the default or a contrib domain. */
export function newNode(
  name: string,
  opType: string,
  domain: string,
  inputs: string[],
  outputs: string[],
  attrs: [string, AttrValue][],
  opsets: ReadonlyMap<string, number>,
): Node {
  return {
    name,
    opType,
    domain,
    overload: '',
    inputs,
    outputs,
    attrs: new Attributes(new Map(attrs), `node '${name}' (${opType})`),
    opsets,
  };
}
