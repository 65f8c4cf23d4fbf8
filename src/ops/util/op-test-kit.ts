/**
 * The one kit for kernel unit tests: resolve an op in a registry at an opset, build it from plain
 * attribute values and run it on tensors (no graph; see graph-harness.ts for ops that need one),
 * plus tensor builders, deterministic random data, approximate comparison and error matchers.
 *
 *   const y = await runOp1(ops, 'Gather', [x, i64([0, 2])], { axis: 1 }, { opset: 13 });
 *   const { run1 } = bindOps(ops, { opset: 25 }); // same, with the op list and defaults bound
 */
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { TensorType } from '../../core/dtype.js';
import { OnyxError } from '../../core/errors.js';
import { Tensor } from '../../core/tensor.js';
import type { Value } from '../../core/value.js';
import { Attributes, type AttrValue } from '../../ir/attributes.js';
import { Graph } from '../../ir/graph.js';
import { heapRunContext, type Kernel, type NodeInfo, type OpDef } from '../kernel.js';
import { OpRegistry } from '../registry.js';
import { numbersOf } from './numeric.js';
import { setKernelMode, type KernelMode } from './dispatch.js';

// ---------------------------------------------------------------------------------------------
// Attributes

/**
 * An attribute as a plain value: number → int, number[] → ints, string → string, string[] →
 * strings, `{ float }` / `{ floats }`, a Tensor, a Graph, or an AttrValue as is.
 */
export type AttrInit =
  | number
  | string
  | number[]
  | string[]
  | Graph
  | Tensor
  | { float: number }
  | { floats: number[] }
  | AttrValue;
/** Kept for older callers; the same as AttrInit. */
export type AttrLike = AttrInit;

/** The AttrValue the loader would produce for `v` (ints carry `exact`, as loaded ones do). */
export function toAttrValue(v: AttrInit): AttrValue {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { kind: 'int', value: v, exact: BigInt(v) } : { kind: 'int', value: v };
  }
  if (typeof v === 'string') return { kind: 'string', value: v, bytes: new TextEncoder().encode(v) };
  if (v instanceof Graph) return { kind: 'graph', value: v };
  if (v instanceof Tensor) return { kind: 'tensor', value: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { kind: 'strings', value: v as string[] };
    const ints = v as number[];
    return ints.every(Number.isInteger)
      ? { kind: 'ints', value: ints, exact: ints.map(BigInt) }
      : { kind: 'ints', value: ints };
  }
  if ('kind' in v) return v;
  if ('floats' in v) return { kind: 'floats', value: v.floats };
  return { kind: 'float', value: v.float };
}

/** Attributes from plain values. */
export function attributes(attrs: Record<string, AttrInit> = {}, where = 'test'): Attributes {
  return new Attributes(new Map(Object.entries(attrs).map(([k, v]) => [k, toAttrValue(v)])), where);
}

// ---------------------------------------------------------------------------------------------
// Running one op

export type OpSource = readonly OpDef[] | OpRegistry;
export type OpInputs = readonly (Value | undefined)[];

export interface RunOpOptions {
  /** The model's opset for `domain` (default 22); the op resolves to the largest since-version ≤ it. */
  opset?: number;
  domain?: string;
  /** Number of node outputs (default 1), all present. */
  outputCount?: number;
  /** Asserts that `opset` is itself one of the op's since-versions (not just ≥ one). */
  exact?: boolean;
}
/** Options, or just the opset. */
export type RunOpArg = number | RunOpOptions;

const registries = new WeakMap<readonly OpDef[], OpRegistry>();
function registryOf(source: OpSource): OpRegistry {
  if (source instanceof OpRegistry) return source;
  let r = registries.get(source);
  if (!r) registries.set(source, (r = new OpRegistry().register(...source)));
  return r;
}

function optionsOf(o: RunOpArg | undefined, defaults: RunOpOptions = {}): RunOpOptions {
  const given = Object.entries(typeof o === 'number' ? { opset: o } : (o ?? {}));
  return { ...defaults, ...Object.fromEntries(given.filter(([, v]) => v !== undefined)) };
}

/** Resolves `opType` and describes a node with the given inputs (or input count) and attributes. */
export function opNode(
  source: OpSource,
  opType: string,
  inputs: OpInputs | number,
  attrs: Record<string, AttrInit> = {},
  options: RunOpArg = {},
): { def: OpDef; node: NodeInfo } {
  const { opset = 22, domain = '', outputCount = 1, exact = false } = optionsOf(options);
  const r = registryOf(source).resolve(domain, opType, opset);
  if (!r) throw new Error(`${domain ? `${domain}.` : ''}${opType} is not registered at opset ${opset}`);
  if (exact) assert.equal(r.sinceVersion, opset, `${opType} lists since-version ${opset}`);
  const present =
    typeof inputs === 'number' ? new Array<boolean>(inputs).fill(true) : inputs.map((x) => x !== undefined);
  const node: NodeInfo = {
    name: 'n',
    opType,
    domain,
    opset,
    sinceVersion: r.sinceVersion,
    attrs: attributes(attrs, `node ${opType}`),
    inputCount: present.length,
    outputCount,
    inputPresent: present,
    outputPresent: new Array<boolean>(outputCount).fill(true),
  };
  return { def: r.def, node };
}

/** Builds the kernel (for build-time errors, or to run it several times). */
export function buildOp(
  source: OpSource,
  opType: string,
  inputs: OpInputs | number = 0,
  attrs: Record<string, AttrInit> = {},
  options: RunOpArg = {},
): Kernel {
  const { def, node } = opNode(source, opType, inputs, attrs, options);
  return def.build(node);
}

/**
 * Builds and runs one op; every output, typed as tensors for convenience (cast to `Value` for the
 * ops that return sequences, maps or optionals).
 */
export async function runOp(
  source: OpSource,
  opType: string,
  inputs: OpInputs,
  attrs: Record<string, AttrInit> = {},
  options: RunOpArg = {},
): Promise<Tensor[]> {
  return (await buildOp(source, opType, inputs, attrs, options)(inputs, heapRunContext)) as Tensor[];
}

/** Resolves and builds a node described by hand (for NodeInfo extensions such as a graph). */
export function buildNodeInfo(source: OpSource, node: NodeInfo): Kernel {
  const r = registryOf(source).resolve(node.domain, node.opType, node.opset);
  if (!r) throw new Error(`${node.opType} is not registered at opset ${node.opset}`);
  return r.def.build(node);
}

/** buildNodeInfo, then runs the kernel; every output. */
export async function runNodeInfo(source: OpSource, node: NodeInfo, inputs: OpInputs): Promise<Tensor[]> {
  return (await buildNodeInfo(source, node)(inputs, heapRunContext)) as Tensor[];
}

/** Builds and runs one op; its first output. */
export async function runOp1(...args: Parameters<typeof runOp>): Promise<Tensor> {
  return (await runOp(...args))[0];
}

/** Builds and runs one op whose kernel is synchronous (errors throw, not reject); every output. */
export function runOpSync(...args: Parameters<typeof runOp>): Tensor[] {
  const out = buildOp(...args)(args[2], heapRunContext);
  if (out instanceof Promise) throw new Error(`${args[1]}: kernel is asynchronous; use runOp`);
  return out as Tensor[];
}

/** runOpSync's first output. */
export function runOp1Sync(...args: Parameters<typeof runOp>): Tensor {
  return runOpSync(...args)[0];
}

type Bound<R, I = OpInputs> = (
  opType: string,
  inputs: I,
  attrs?: Record<string, AttrInit>,
  options?: RunOpArg,
) => R;

/** The runners with one op list and default options bound: `run1('Relu', [x], {}, 14)`. */
export function bindOps(
  source: OpSource,
  defaults: RunOpOptions = {},
): {
  run: Bound<Promise<Tensor[]>>;
  run1: Bound<Promise<Tensor>>;
  runSync: Bound<Tensor[]>;
  run1Sync: Bound<Tensor>;
  build: Bound<Kernel, OpInputs | number>;
} {
  const registry = registryOf(source);
  const bind =
    <R, I>(f: (s: OpSource, op: string, i: I, a: Record<string, AttrInit>, o: RunOpArg) => R): Bound<R, I> =>
    (opType, inputs, attrs = {}, options) =>
      f(registry, opType, inputs, attrs, optionsOf(options, defaults));
  return {
    run: bind(runOp),
    run1: bind(runOp1),
    runSync: bind(runOpSync),
    run1Sync: bind(runOp1Sync),
    build: bind(buildOp),
  };
}

/** Older form, `run('Conv', [x, w], { attrs: { pads: [1, 1, 1, 1] }, opset, outputs })`. */
export function opRunner(ops: OpDef[]) {
  return (
    opType: string,
    inputs: (Tensor | undefined)[],
    o: { opset?: number; attrs?: Record<string, AttrInit>; outputs?: number } = {},
  ): Promise<Tensor[]> => runOp(ops, opType, inputs, o.attrs, { opset: o.opset, outputCount: o.outputs });
}

// ---------------------------------------------------------------------------------------------
// Tensors

type Elements =
  ArrayLike<number | bigint | boolean | string> | readonly (number | bigint | boolean | string)[];

/** A tensor of `type` from plain elements (dims default to 1-D). */
export function t(type: TensorType, data: Elements, dims: readonly number[] = [data.length]): Tensor {
  const raw = type === 'string' || ArrayBuffer.isView(data) ? data : Array.from(data);
  return new Tensor(type, raw as number[], [...dims]);
}

export function f32(values: ArrayLike<number>, dims: readonly number[] = [values.length]): Tensor {
  return new Tensor('float32', Float32Array.from(values), [...dims]);
}

export function f64(values: ArrayLike<number>, dims: readonly number[] = [values.length]): Tensor {
  return new Tensor('float64', Float64Array.from(values), [...dims]);
}

export function i32(values: ArrayLike<number>, dims: readonly number[] = [values.length]): Tensor {
  return new Tensor('int32', Int32Array.from(values), [...dims]);
}

export function i64(values: ArrayLike<number | bigint>, dims: readonly number[] = [values.length]): Tensor {
  return new Tensor(
    'int64',
    BigInt64Array.from(values as ArrayLike<number>, (v) => BigInt(v)),
    [...dims],
  );
}

export function strs(values: string[], dims: readonly number[] = [values.length]): Tensor {
  return new Tensor('string', values, [...dims]);
}

/** A rank-0 boolean. */
export function bool(v: boolean): Tensor {
  return new Tensor('bool', Uint8Array.of(v ? 1 : 0), []);
}

/** A rank-0 tensor of `type`. */
export function scalar(type: TensorType, v: number | bigint | string): Tensor {
  return t(type, [v], []);
}

/** A tensor's raw elements as an array (bigints stay bigints). */
export function vals(x: Tensor): unknown[] {
  return Array.from(x.data as ArrayLike<unknown>);
}

/** A numeric tensor's elements as numbers (minifloats decoded, int64 converted). */
export function nums(x: Tensor): number[] {
  return Array.from(numbersOf(x));
}

/** A tensor's elements as a plain array (bigints become numbers) and its dims, for assertions. */
export function plain(v: Value | undefined): { dims: number[]; data: (number | string)[] } {
  if (!(v instanceof Tensor)) throw new Error(`expected a tensor, got ${String(v)}`);
  const data = Array.from(v.data as ArrayLike<number | bigint | string>, (x) =>
    typeof x === 'bigint' ? Number(x) : x,
  );
  return { dims: [...v.dims], data };
}

// ---------------------------------------------------------------------------------------------
// Random data

/** Deterministic pseudo-random numbers in [lo, hi) (mulberry32). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = s;
    r = Math.imul(r ^ (r >>> 15), r | 1);
    r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
    out[i] = lo + (((r ^ (r >>> 14)) >>> 0) / 2 ** 32) * (hi - lo);
  }
  return out;
}

/** Deterministic pseudo-random float32s in [-1, 1). */
export function randomFloats(n: number, seed: number): Float32Array {
  return Float32Array.from(randomArray(n, seed));
}

// ---------------------------------------------------------------------------------------------
// Assertions

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise (NaN matches NaN). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-4,
  atol = 1e-5,
  what = 'values',
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}: element ${i} is ${a}, expected ${e}`);
    }
  }
}

/** Asserts |a − b| ≤ tol·(1 + |b|) elementwise: `tol` relative for large values, absolute near 0. */
export function assertNear(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-5,
  what = 'values',
): void {
  assertClose(actual, expected, tol, tol, what);
}

/** Asserts every op lists its since-versions sorted and without repeats. */
export function assertVersionsSorted(ops: readonly OpDef[]): void {
  for (const def of ops) {
    assert.deepEqual(
      [...def.versions].sort((a, b) => a - b),
      def.versions,
      def.opType,
    );
    assert.equal(new Set(def.versions).size, def.versions.length, def.opType);
  }
}

function onyxMatcher(code: string, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof OnyxError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}

/** Asserts `fn` throws an OnyxError with `code` (and a message matching `message`). */
export function throwsOnyx(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, onyxMatcher(code, message));
}

/** Asserts `p` rejects with an OnyxError with `code` (and a message matching `message`). */
export async function rejectsOnyx(
  p: Promise<unknown> | (() => Promise<unknown>),
  code: string,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(p, onyxMatcher(code, message));
}

// ---------------------------------------------------------------------------------------------
// Kernel paths

/**
 * Declares the suites of `body` twice: on the fast kernels (WASM SIMD for float32, where the engine
 * has it) and on the plain-TS reference kernels (dispatch.ts's kernel mode), so one test file checks
 * both paths against the same expectations.
 */
export function describeKernelModes(body: (mode: KernelMode) => void): void {
  for (const mode of ['fast', 'reference'] as const) {
    describe(`${mode} kernels`, () => {
      let saved: KernelMode;
      before(() => (saved = setKernelMode(mode)));
      after(() => setKernelMode(saved));
      body(mode);
    });
  }
}
