/**
 * Test helpers for kernel unit tests that need no graph: build one op from a family's OpDefs at a
 * given opset and run it on tensors; deterministic random data; approximate comparison.
 */
import assert from 'node:assert/strict';
import type { Tensor } from '../../core/tensor.js';
import type { Value } from '../../core/value.js';
import { Attributes, type AttrValue } from '../../ir/attributes.js';
import { heapRunContext, type NodeInfo, type OpDef } from '../kernel.js';
import { OpRegistry } from '../registry.js';

export type AttrLike = number | number[] | string | { float: number } | { floats: number[] };

function toAttr(v: AttrLike): AttrValue {
  if (typeof v === 'number') return { kind: 'int', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v, bytes: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { kind: 'ints', value: v };
  if ('float' in v) return { kind: 'float', value: v.float };
  return { kind: 'floats', value: v.floats };
}

export interface RunOptions {
  opset?: number;
  attrs?: Record<string, AttrLike>;
  /** Number of node outputs (default 1); all present. */
  outputs?: number;
}

/** A runner over one family's ops: `run('Conv', [x, w], { attrs: { pads: [1, 1, 1, 1] } })`. */
export function opRunner(ops: OpDef[]) {
  const registry = new OpRegistry().register(...ops);
  return async (opType: string, inputs: (Tensor | undefined)[], o: RunOptions = {}): Promise<Value[]> => {
    const opset = o.opset ?? 22;
    const r = registry.resolve('', opType, opset);
    if (!r) throw new Error(`${opType} is not registered at opset ${opset}`);
    const outputs = o.outputs ?? 1;
    const attrs = new Map(Object.entries(o.attrs ?? {}).map(([k, v]) => [k, toAttr(v)]));
    const node: NodeInfo = {
      name: 'n',
      opType,
      domain: '',
      opset,
      sinceVersion: r.sinceVersion,
      attrs: new Attributes(attrs, `node ${opType}`),
      inputCount: inputs.length,
      outputCount: outputs,
      inputPresent: inputs.map((x) => x !== undefined),
      outputPresent: new Array<boolean>(outputs).fill(true),
    };
    return r.def.build(node)(inputs, heapRunContext);
  };
}

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32). */
export function randomFloats(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise (NaN matches NaN). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-4,
  atol = 1e-5,
  what = 'values',
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}: element ${i} is ${a}, expected ${e}`);
    }
  }
}
