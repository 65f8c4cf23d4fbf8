/**
 * Function inlining: a node that calls a model-local function (FunctionProto) is replaced by the
 * function's body, with its values renamed apart and its attribute references (`ref_attr_name`)
 * bound to the caller's attributes or the function's defaults. Runs before kernel lookup, so a
 * function op needs no kernel. Nested calls expand recursively, up to MAX_FUNCTION_DEPTH.
 */
import { OnyxError } from '../core/errors.js';
import { MAX_FUNCTION_DEPTH } from '../core/limits.js';
import { Attributes, type AttrValue } from './attributes.js';
import { forEachSubgraph, functionKey, type FunctionDef, type Graph, type Node } from './graph.js';

export interface InlineOptions {
  functions: ReadonlyMap<string, FunctionDef>;
  /** Return true when a kernel exists for the node, so it is kept even if a function matches. */
  hasKernel: (node: Node) => boolean;
}

export function inlineFunctions(graph: Graph, opts: InlineOptions): void {
  let counter = 0;
  const expand = (node: Node, depth: number): Node[] => {
    forEachSubgraph(node, (g) => inlineFunctions(g, opts));
    const fn = opts.functions.get(functionKey(node.domain, node.opType, node.overload));
    if (!fn || opts.hasKernel(node)) return [node];
    if (depth >= MAX_FUNCTION_DEPTH) {
      throw new OnyxError(
        'LIMIT_EXCEEDED',
        `function calls nest deeper than ${MAX_FUNCTION_DEPTH} (recursive function?)`,
        {
          node: node.name,
          opType: node.opType,
          domain: node.domain,
        },
      );
    }
    const prefix = `${node.name}__${fn.name}_${counter++}/`;
    const rename = new Map<string, string>();
    fn.inputs.forEach((name, i) => rename.set(name, node.inputs[i] ?? ''));
    fn.outputs.forEach((name, i) => rename.set(name, node.outputs[i] ?? ''));
    const mapName = (n: string) => (n === '' ? '' : (rename.get(n) ?? prefix + n));
    const body: Node[] = fn.nodes.map((b) => ({
      ...b,
      name: prefix + b.name,
      inputs: b.inputs.map(mapName),
      outputs: b.outputs.map(mapName),
      attrs: bindAttributes(b.attrs, node.attrs, fn.attributeDefaults),
    }));
    return body.flatMap((b) => expand(b, depth + 1));
  };
  graph.nodes = graph.nodes.flatMap((n) => expand(n, 0));
}

/** Replaces `ref` attributes with the caller's value (or the default; dropped when neither exists). */
function bindAttributes(attrs: Attributes, caller: Attributes, defaults: Attributes): Attributes {
  let changed = false;
  const out = new Map<string, AttrValue>();
  for (const [name, a] of attrs.map) {
    if (a.kind !== 'ref') {
      out.set(name, a);
      continue;
    }
    changed = true;
    const bound = caller.raw(a.ref) ?? defaults.raw(a.ref);
    if (bound) out.set(name, bound);
  }
  return changed ? new Attributes(out, `inlined attributes`) : attrs;
}
