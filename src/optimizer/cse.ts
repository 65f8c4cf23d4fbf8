/**
 * Common subexpression elimination: two nodes with the same op, the same inputs and equal attributes
 * compute the same values, so the later one is dropped and its readers read the earlier one's
 * outputs. Random ops, training-mode Dropout and nodes with subgraphs are never merged; a node whose
 * output is a graph output is kept (the output's name is part of the model's interface).
 */
import type { TypedArray } from '../core/dtype.js';
import type { AttrValue } from '../ir/attributes.js';
import { forEachSubgraph, type Graph, type Node } from '../ir/graph.js';
import { NON_DETERMINISTIC } from './constant-folding.js';
import { forEachGraph } from './graph-utils.js';
import { renameUses } from './rename.js';

/** Tensor attributes larger than this are not compared (they are rare: constants fold first). */
const MAX_TENSOR_KEY = 4096;

export function eliminateCommonSubexpressions(root: Graph): boolean {
  let changed = false;
  forEachGraph(root, (g) => (changed = cseGraph(g) || changed));
  return changed;
}

/**
 * Nodes of one op and the same inputs, the only ones that can be equal: the first, not keyed while it
 * is alone in its group (`unkeyed`), then every node by `nodeKey`, the first node of each key.
 */
interface Group {
  unkeyed?: Node;
  keyed?: Map<string, Node>;
}

function cseGraph(g: Graph): boolean {
  const outputs = new Set(g.outputs.map((o) => o.name));
  // Full keys (attributes serialized) only where op and inputs meet: most nodes meet none, and CSE
  // runs each optimizer round over every node, mostly in code V8 has not optimized yet.
  const groups = new Map<string, Group>();
  let changed = false;
  // Nodes are in topological order, so a node's inputs are already renamed when it is grouped, and
  // no later merge renames them.
  g.nodes = g.nodes.filter((n) => {
    const sig = `${n.domain}\0${n.opType}\0${n.inputs.join('\0')}`;
    const group = groups.get(sig);
    if (!group) {
      groups.set(sig, { unkeyed: n });
      return true;
    }
    const keyed = (group.keyed ??= new Map<string, Node>());
    if (group.unkeyed) {
      const k = nodeKey(group.unkeyed);
      if (k !== undefined) keyed.set(k, group.unkeyed);
      group.unkeyed = undefined;
    }
    const key = nodeKey(n);
    if (key === undefined) return true;
    const first = keyed.get(key);
    if (!first) {
      keyed.set(key, n);
      return true;
    }
    const mergeable = n.outputs.every((o, i) => !o || (!outputs.has(o) && first.outputs[i]));
    if (!mergeable || first.outputs.length < n.outputs.length) return true;
    n.outputs.forEach((o, i) => o && renameUses(g, o, first.outputs[i]));
    changed = true;
    return false;
  });
  return changed;
}

function nodeKey(n: Node): string | undefined {
  if (n.outputs.length === 0 || NON_DETERMINISTIC.has(n.opType)) return undefined;
  if (n.opType === 'Dropout' && n.inputs.length > 2 && n.inputs[2]) return undefined;
  let nested = false;
  forEachSubgraph(n, () => (nested = true));
  if (nested) return undefined;
  const attrs: unknown[] = [];
  for (const name of [...n.attrs.map.keys()].sort()) {
    const v = attrKey(n.attrs.map.get(name)!);
    if (v === undefined) return undefined;
    attrs.push(name, v);
  }
  return JSON.stringify([n.domain, n.opType, n.overload, n.inputs, n.outputs.map((o) => o !== ''), attrs]);
}

function attrKey(a: AttrValue): unknown {
  switch (a.kind) {
    case 'int':
    case 'ints':
      return [a.kind, String(a.exact ?? a.value)];
    case 'float':
    case 'floats':
      // Object.is tells -0 from 0 and NaN from null, which JSON would not.
      return [
        a.kind,
        String(
          Array.isArray(a.value)
            ? a.value.map((x) => (Object.is(x, -0) ? '-0' : String(x)))
            : Object.is(a.value, -0)
              ? '-0'
              : a.value,
        ),
      ];
    case 'string':
    case 'strings':
      return [a.kind, a.value];
    case 'tensor': {
      const t = a.value;
      if (t.size > MAX_TENSOR_KEY) return undefined;
      const data = t.type === 'string' ? (t.data as string[]) : Array.from(t.data as TypedArray, String);
      return [a.kind, t.type, t.dims, data];
    }
    default:
      return undefined;
  }
}
