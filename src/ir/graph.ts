/**
 * The in-memory graph that the optimizer rewrites and the runtime plans: nodes with decoded
 * attributes, initializers as Tensors, typed graph inputs/outputs, nested subgraphs and the
 * model-local functions. Independent of protobuf; built by `from-proto.ts`.
 */
import type { Tensor } from '../core/tensor.js';
import type { Attributes } from './attributes.js';
import type { ValueType } from './types.js';

/** ONNX's default domain has two spellings; the IR always uses ''. */
export function normalizeDomain(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}

export interface Node {
  name: string;
  opType: string;
  domain: string;
  overload: string;
  /** Value names; '' marks an omitted optional input or output. */
  inputs: string[];
  outputs: string[];
  attrs: Attributes;
  /** Opset versions in effect for this node (the model's, or its function's imports). */
  opsets: ReadonlyMap<string, number>;
}

export interface ValueInfo {
  name: string;
  type: ValueType | null;
}

export class Graph {
  /** `inputs` by name, built on first use and again when `inputs` is another array or length. */
  private inputIndex?: { of: ValueInfo[]; length: number; byName: Map<string, ValueInfo> };

  constructor(
    public name: string,
    public nodes: Node[],
    public inputs: ValueInfo[],
    public outputs: ValueInfo[],
    public initializers: Map<string, Tensor>,
    public valueInfo: Map<string, ValueType | null>,
  ) {}

  /** Graph inputs that have no initializer: what a caller must feed. */
  requiredInputs(): ValueInfo[] {
    return this.inputs.filter((i) => !this.initializers.has(i.name));
  }

  /**
   * The graph input named `name`. Indexed: models of IR < 4's habits list every initializer as an
   * input too (DenseNet-121: 849), and the optimizer asks for each operand whether it is one — a
   * linear scan each time.
   */
  input(name: string): ValueInfo | undefined {
    let index = this.inputIndex;
    if (!index || index.of !== this.inputs || index.length !== this.inputs.length) {
      const byName = new Map<string, ValueInfo>();
      for (const i of this.inputs) if (!byName.has(i.name)) byName.set(i.name, i);
      index = this.inputIndex = { of: this.inputs, length: this.inputs.length, byName };
    }
    return index.byName.get(name);
  }
}

export interface FunctionDef {
  domain: string;
  name: string;
  overload: string;
  inputs: string[];
  outputs: string[];
  /** Attribute names the function accepts, with the defaults from attribute_proto. */
  attributeNames: string[];
  attributeDefaults: Attributes;
  nodes: Node[];
  opsets: ReadonlyMap<string, number>;
}

export function functionKey(domain: string, name: string, overload = ''): string {
  return `${normalizeDomain(domain)}::${name}::${overload}`;
}

export interface Model {
  irVersion: number;
  opsets: ReadonlyMap<string, number>;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  metadata: Map<string, string>;
  graph: Graph;
  functions: Map<string, FunctionDef>;
}

/** Calls `fn` on every graph attribute (subgraph) of a node. */
export function forEachSubgraph(node: Node, fn: (g: Graph, attrName: string) => void): void {
  const list = node.attrs.subgraphs;
  for (let i = 0; i < list.length; i++) fn(list[i][0], list[i][1]);
}

/**
 * Names a node reads from enclosing scopes through its subgraphs (ONNX "outer scope" values): every
 * name a subgraph node uses that the subgraph itself neither defines nor takes as input.
 */
export function implicitInputs(node: Node): string[] {
  let found: Set<string> | undefined;
  forEachSubgraph(node, (g) => {
    found ??= new Set<string>();
    for (const name of freeNames(g)) found.add(name);
  });
  return found ? [...found] : [];
}

function freeNames(g: Graph): Set<string> {
  const defined = new Set<string>([...g.inputs.map((i) => i.name), ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) if (o) defined.add(o);
  const free = new Set<string>();
  for (const n of g.nodes) {
    for (const i of [...n.inputs, ...implicitInputs(n)]) if (i && !defined.has(i)) free.add(i);
  }
  for (const o of g.outputs) if (!defined.has(o.name)) free.add(o.name);
  return free;
}
