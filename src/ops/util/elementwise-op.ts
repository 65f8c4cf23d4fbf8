/**
 * One OpDef factory for every elementwise op that maps inputs to an output element by element
 * (unary math, binary arithmetic, comparisons, logic, bitwise, pointwise activations). An op is a
 * table row: its versions and, per element class of its first input, the scalar function to apply;
 * the factory does input checks, legacy (opset < 7) broadcasting, type checks and dispatch to the
 * broadcasting loops in `elementwise.ts`.
 */
import { dtypeInfo, type TensorType } from '../../core/dtype.js';
import { OnyxError } from '../../core/errors.js';
import { sameDims, type Tensor } from '../../core/tensor.js';
import type { KernelInputs, NodeInfo, OpDef } from '../kernel.js';
import { normalizeAxis } from './axes.js';
import { binary, unary, type Element } from './elementwise.js';
import type { Float32BinaryOp } from './float32-binary.js';
import { tensorInput } from './numeric.js';

/**
 * How kernels see an element type: `float` (float32/64 and the minifloats, as numbers), `int`
 * (≤ 32-bit integers, as numbers), `bigint` (int64/uint64), `bool` (0/1 numbers), `string`.
 */
export type ElemClass = 'float' | 'int' | 'bigint' | 'bool' | 'string';

export function elemClass(type: TensorType): ElemClass | undefined {
  if (type === 'bool') return 'bool';
  switch (dtypeInfo(type).numericClass) {
    case 'float':
    case 'minifloat':
      return 'float';
    case 'int':
      return 'int';
    case 'bigint':
      return 'bigint';
    case 'string':
      return 'string';
    default:
      return undefined;
  }
}

/** A scalar function; it gets elements of the class it is registered for (see `ElemClass`). */
export type ElemFn = (...args: any[]) => Element;

/** Scalar functions by element class of the op's first input; a missing class is a type error. */
export type ElementFns = Partial<Record<ElemClass, ElemFn>>;

const CLASS_NAMES: Record<ElemClass, string> = {
  float: 'float (float16, float32, float64, bfloat16)',
  int: '8- to 32-bit integer',
  bigint: '64-bit integer',
  bool: 'bool',
  string: 'string',
};

/** Picks the scalar function for `type`, or throws a TYPE_MISMATCH naming what the op accepts. */
export function pickFn(opType: string, fns: ElementFns, type: TensorType): ElemFn {
  const c = elemClass(type);
  const fn = c && fns[c];
  if (fn) return fn;
  const accepted = (Object.keys(fns) as ElemClass[]).map((k) => CLASS_NAMES[k]).join(', ');
  throw new OnyxError(
    'TYPE_MISMATCH',
    `${opType} does not accept ${type} tensors; it takes ${accepted} tensors`,
  );
}

/** Throws unless every tensor has the element type of the first. */
export function requireSameType(opType: string, ts: readonly Tensor[]): void {
  for (let i = 1; i < ts.length; i++) {
    if (ts[i].type !== ts[0].type) {
      throw new OnyxError(
        'TYPE_MISMATCH',
        `${opType} inputs must share one element type, got ${ts.map((t) => t.type).join(' and ')}`,
      );
    }
  }
}

/**
 * The limited broadcasting of opset 1–6 binary ops (`broadcast` and `axis` attributes): without
 * `broadcast=1` the shapes must match; with it, B's dims line up with A's starting at `axis`
 * (default: aligned to the end) and B is reshaped so numpy-style broadcasting does the rest.
 */
export function legacyBroadcast(
  opType: string,
  a: Tensor,
  b: Tensor,
  broadcast: number,
  axis?: number,
): Tensor {
  if (sameDims(a.dims, b.dims)) return b;
  if (!broadcast) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${opType} (before opset 7) needs equal shapes unless broadcast=1 is set, got [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`,
    );
  }
  const ra = a.dims.length;
  const rb = b.dims.length;
  if (b.size === 1 && rb <= ra) return b.reshape([]);
  const start = axis === undefined ? ra - rb : normalizeAxis(axis, ra, 'axis');
  const fits = start >= 0 && start + rb <= ra && b.dims.every((d, i) => d === a.dims[start + i] || d === 1);
  if (!fits) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${opType}: B of shape [${b.dims.join(', ')}] cannot be broadcast onto A of shape [${a.dims.join(', ')}]` +
        (axis === undefined ? ' (aligned to the trailing dims)' : ` at axis ${axis}`),
    );
  }
  const dims = new Array<number>(ra).fill(1);
  for (let i = 0; i < rb; i++) dims[start + i] = b.dims[i];
  return b.reshape(dims);
}

export interface ElementwiseSpec {
  readonly opType: string;
  readonly versions: readonly number[];
  readonly domain?: string;
  readonly arity: 1 | 2;
  /** Scalar functions by element class of input 0; called once per node with its attributes. */
  readonly fns: (node: NodeInfo) => ElementFns;
  /** Output element type: 'bool', or the type of input 0 (default). */
  readonly out?: 'bool';
  /** Binary ops: versions below this one read the legacy `broadcast`/`axis` attributes. */
  readonly legacyBroadcastBefore?: number;
  /** Binary ops whose inputs may differ in element type (Pow-12+). */
  readonly mixedTypes?: boolean;
  /** Arithmetic ops with a dedicated float32 broadcast loop (see float32-binary.ts). */
  readonly float32Op?: Float32BinaryOp;
}

export function requireInputs(opType: string, inputs: KernelInputs, n: number): Tensor[] {
  const ts: Tensor[] = [];
  for (let i = 0; i < n; i++) ts.push(tensorInput(inputs[i], `${opType} input ${i}`));
  return ts;
}

/** Builds the OpDef for one table row. */
export function elementwiseOp(spec: ElementwiseSpec): OpDef {
  const { opType, arity } = spec;
  return {
    opType,
    domain: spec.domain,
    versions: spec.versions,
    build(node) {
      const fns = spec.fns(node);
      const legacy =
        spec.legacyBroadcastBefore !== undefined && node.sinceVersion < spec.legacyBroadcastBefore;
      const broadcast = legacy ? node.attrs.int('broadcast', 0) : 1;
      const axis = legacy && node.attrs.has('axis') ? node.attrs.int('axis') : undefined;
      return (inputs) => {
        const ts = requireInputs(opType, inputs, arity);
        const fn = pickFn(opType, fns, ts[0].type);
        const outType: TensorType = spec.out ?? ts[0].type;
        if (arity === 1) return [unary(ts[0], outType, fn)];
        if (!spec.mixedTypes) requireSameType(opType, ts);
        const b = legacy ? legacyBroadcast(opType, ts[0], ts[1], broadcast, axis) : ts[1];
        return [binary(ts[0], b, outType, fn, spec.float32Op)];
      };
    },
  };
}

/** Shorthand for ops whose scalar function is the same for float and ≤32-bit int elements. */
export function numeric(fn: ElemFn, big?: ElemFn): ElementFns {
  return big ? { float: fn, int: fn, bigint: big } : { float: fn, int: fn };
}
