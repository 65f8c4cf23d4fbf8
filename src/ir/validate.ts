/**
 * Structural checks and topological ordering. A graph is valid when every value is produced once
 * (SSA), every node input is defined by a graph input, an initializer, another node or an enclosing
 * scope, and the nodes form no cycle. Nodes are re-ordered topologically (ONNX requires the order,
 * but real exporters sometimes break it). Subgraphs are checked against their enclosing scopes.
 */
import { OnyxError } from '../core/errors.js';
import { implicitInputs, forEachSubgraph, type Graph, type Node } from './graph.js';

export function validateGraph(graph: Graph, outer: ReadonlySet<string> = new Set()): void {
  const where = graph.name ? `graph '${graph.name}'` : 'graph';
  const available = new Set<string>(outer);
  const producers = new Map<string, Node>();
  for (const i of graph.inputs) available.add(i.name);
  for (const name of graph.initializers.keys()) available.add(name);
  for (const n of graph.nodes) {
    for (const o of n.outputs) {
      if (!o) continue;
      if (producers.has(o) || (graph.initializers.has(o) && !graph.input(o))) {
        throw new OnyxError('INVALID_MODEL', `${where}: value '${o}' is produced more than once`, {
          node: n.name,
          opType: n.opType,
        });
      }
      producers.set(o, n);
    }
  }
  graph.nodes = topologicalOrder(graph.nodes, producers, available, where);
  // Every name a subgraph may read: built only when some node has one (a copy of every name).
  let scope: Set<string> | undefined;
  for (const n of graph.nodes) {
    forEachSubgraph(n, (g) => validateGraph(g, (scope ??= new Set([...available, ...producers.keys()]))));
  }
  for (const o of graph.outputs) {
    if (!available.has(o.name) && !producers.has(o.name))
      throw new OnyxError('INVALID_MODEL', `${where}: output '${o.name}' is never produced`);
  }
}

/** Kahn's algorithm over explicit and implicit (subgraph) inputs; keeps the given order when valid. */
function topologicalOrder(
  nodes: Node[],
  producers: Map<string, Node>,
  available: ReadonlySet<string>,
  where: string,
): Node[] {
  // The usual case, a graph already in order (every node's producers before it), is recognised by
  // a first pass that checks every input and allocates nothing per node (this runs after every
  // changing optimizer pass, in code V8 has not optimized yet); the dependency lists are built only
  // for a graph out of order.
  const seen = new Set<Node>();
  let ordered = true;
  for (let k = 0; k < nodes.length; k++) {
    const n = nodes[k];
    for (let j = 0; j < n.inputs.length; j++) {
      const p = n.inputs[j] === '' ? undefined : producerOf(n.inputs[j], n, producers, available, where);
      if (p && !seen.has(p)) ordered = false;
    }
    if (n.attrs.subgraphs.length > 0) {
      for (const r of implicitInputs(n)) {
        const p = producerOf(r, n, producers, available, where);
        if (p && !seen.has(p)) ordered = false;
      }
    }
    seen.add(n);
  }
  if (ordered) return nodes;
  const deps = new Map<Node, Node[]>();
  for (const n of nodes) {
    const mine: Node[] = [];
    for (const r of n.inputs) if (r !== '') addProducer(mine, r, n, producers, available, where);
    for (const r of implicitInputs(n)) addProducer(mine, r, n, producers, available, where);
    deps.set(n, mine);
  }
  const waiting = new Map<Node, number>();
  for (const [n, ds] of deps) waiting.set(n, ds.length);
  const users = new Map<Node, Node[]>();
  for (const [n, ds] of deps) {
    for (const d of ds) {
      const list = users.get(d);
      if (list) list.push(n);
      else users.set(d, [n]);
    }
  }
  const order: Node[] = [];
  // Ready nodes leave in original order where possible, so well-formed parts keep their order: a
  // min-heap on the original position (a sorted array re-sorted per step was quadratic).
  const position = new Map(nodes.map((n, i) => [n, i]));
  const ready = new MinHeap<Node>((a, b) => position.get(a)! - position.get(b)!);
  for (const n of nodes) if (waiting.get(n) === 0) ready.push(n);
  while (ready.size > 0) {
    const n = ready.pop();
    order.push(n);
    for (const u of users.get(n) ?? []) {
      const left = waiting.get(u)! - 1;
      waiting.set(u, left);
      if (left === 0) ready.push(u);
    }
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((n) => !order.includes(n))!;
    throw new OnyxError('INVALID_MODEL', `${where}: the graph has a cycle`, {
      node: stuck.name,
      opType: stuck.opType,
    });
  }
  return order;
}

/** Adds to `deps` the node that makes `r` (read by n), if any; `r` must be defined somewhere. */
function addProducer(
  deps: Node[],
  r: string,
  n: Node,
  producers: Map<string, Node>,
  available: ReadonlySet<string>,
  where: string,
): void {
  const p = producerOf(r, n, producers, available, where);
  if (p) deps.push(p);
}

/** The node that makes `r` (read by n), or undefined for a graph input, initializer or outer value. */
function producerOf(
  r: string,
  n: Node,
  producers: Map<string, Node>,
  available: ReadonlySet<string>,
  where: string,
): Node | undefined {
  const p = producers.get(r);
  if (p === n) {
    throw new OnyxError('INVALID_MODEL', `${where}: node reads its own output '${r}'`, {
      node: n.name,
      opType: n.opType,
    });
  }
  if (!p && !available.has(r)) {
    throw new OnyxError(
      'INVALID_MODEL',
      `${where}: input '${r}' is not defined by any node, input or initializer`,
      {
        node: n.name,
        opType: n.opType,
      },
    );
  }
  return p;
}

/** A binary min-heap under `before` (negative when a goes first). */
class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(x: T): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (this.before(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): T {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < a.length && this.before(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.before(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
