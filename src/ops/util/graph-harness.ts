/**
 * A small harness for unit tests of kernels that need a graph around them (control flow, bodies of
 * SequenceMap): builds IR graphs in code and runs them through the real planner and executor with
 * an op registry the test chooses, so a family's tests do not depend on other families' progress.
 * Attributes, tensor builders and assertions come from op-test-kit.ts.
 */
import { OnyxError } from '../../core/errors.js';
import { Tensor } from '../../core/tensor.js';
import type { Value } from '../../core/value.js';
import { Graph, forEachSubgraph, type Node } from '../../ir/graph.js';
import { validateGraph } from '../../ir/validate.js';
import { HeapAllocator } from '../../runtime/allocator.js';
import { Executor } from '../../runtime/executor.js';
import { MemoryTracker } from '../../runtime/memory.js';
import { buildPlans } from '../../runtime/plan.js';
import type { OpDef } from '../kernel.js';
import { OpRegistry } from '../registry.js';
import { attributes, type AttrInit, type RunOpArg } from './op-test-kit.js';

/** A node; attributes given as plain values (ints, strings, lists, graphs, tensors, {floats}). */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrInit> = {},
  domain = '',
): Node {
  return {
    name: `${opType}_${outputs.join('_')}`,
    opType,
    domain,
    overload: '',
    inputs,
    outputs,
    attrs: attributes(attrs, `node ${opType}`),
    opsets: new Map(),
  };
}

export function graph(
  inputs: string[],
  outputs: string[],
  nodes: Node[],
  initializers: Record<string, Tensor> = {},
): Graph {
  return new Graph(
    'g',
    nodes,
    inputs.map((name) => ({ name, type: null })),
    outputs.map((name) => ({ name, type: null })),
    new Map(Object.entries(initializers)),
    new Map(),
  );
}

function setOpsets(g: Graph, opsets: ReadonlyMap<string, number>): void {
  for (const n of g.nodes) {
    n.opsets = opsets;
    forEachSubgraph(n, (sub) => setOpsets(sub, opsets));
  }
}

/** Runs `g` with `feeds` (by graph input order) using only `ops`. */
export async function runGraph(
  g: Graph,
  feeds: Value[],
  ops: readonly OpDef[],
  opsets: Record<string, number> = { '': 21 },
): Promise<Value[]> {
  const registry = new OpRegistry().register(...ops);
  setOpsets(g, new Map(Object.entries(opsets)));
  validateGraph(g);
  const allocator = new HeapAllocator();
  const plans = buildPlans(g, [
    {
      name: 'test',
      allocator,
      getKernel(info) {
        const r = registry.resolve(info.domain, info.opType, info.opset);
        return r?.def.build({ ...info, sinceVersion: r.sinceVersion });
      },
    },
  ]);
  const exec = new Executor(plans, { allocator, memory: new MemoryTracker() });
  return exec.runGraph(g, new Map(g.inputs.map((inp, i) => [inp.name, feeds[i]])), null);
}

/** Runs one node (inputs named i0, i1…, outputs o0, o1…; '' entries stay omitted). */
export async function runNode(
  ops: readonly OpDef[],
  opType: string,
  inputs: (Value | undefined)[],
  attrs: Record<string, AttrInit> = {},
  options: RunOpArg = {},
): Promise<Value[]> {
  const { opset, domain = '', outputCount = 1 } = typeof options === 'number' ? { opset: options } : options;
  const names = inputs.map((v, i) => (v === undefined ? '' : `i${i}`));
  const outs = Array.from({ length: outputCount }, (_, i) => `o${i}`);
  const g = graph(
    names.filter((n) => n !== ''),
    outs,
    [node(opType, names, outs, attrs, domain)],
  );
  const feeds = inputs.filter((v): v is Value => v !== undefined);
  const opsets: Record<string, number> = { '': opset ?? 21 };
  if (domain) opsets[domain] = opset ?? 1;
  return runGraph(g, feeds, ops, opsets);
}

/** Minimal float32/int64 helper ops for bodies in tests (not the real kernels). */
export const helperOps: OpDef[] = [
  {
    opType: 'Identity',
    versions: [1],
    build: () => (inputs) => [inputs[0] as Value],
  },
  {
    opType: 'Add',
    versions: [1],
    build: () => (inputs) => {
      const [a, b] = inputs as Tensor[];
      if (a.type !== b.type || a.size !== b.size) {
        if (b.size !== 1) throw new OnyxError('SHAPE_MISMATCH', 'test Add: same shapes or scalar b only');
      }
      const out = Tensor.zeros(a.type, a.dims);
      const A = a.data as Float32Array;
      const B = b.data as Float32Array;
      const O = out.data as Float32Array;
      for (let i = 0; i < a.size; i++)
        (O as unknown as number[])[i] = (A[i] + B[b.size === 1 ? 0 : i]) as number;
      return [out];
    },
  },
  {
    opType: 'Less',
    versions: [1],
    build: () => (inputs) => {
      const [a, b] = inputs as Tensor[];
      return [new Tensor('bool', Uint8Array.of(a.data[0] < b.data[0] ? 1 : 0), [])];
    },
  },
  {
    opType: 'Shape',
    versions: [1],
    build: () => (inputs) => {
      const t = inputs[0] as Tensor;
      return [
        new Tensor(
          'int64',
          BigInt64Array.from(t.dims, (d) => BigInt(d)),
          [t.dims.length],
        ),
      ];
    },
  },
];
