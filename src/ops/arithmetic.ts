/**
 * Elementwise math: binary arithmetic (Add … Pow, Mod), unary math (Neg … Atanh, IsNaN, IsInf),
 * logic and bitwise ops, comparisons, Where, Clip and the variadic Min/Max/Sum/Mean.
 *
 * Every op is a row of a table driving the factory in `util/elementwise-op.ts`: its since-versions and
 * one scalar function per element class (float, ≤32-bit int, 64-bit bigint, bool, string). Floats are
 * computed in double and rounded once on store (float32 arrays and the minifloat encoder do that);
 * integers wrap like C on store; integer division truncates toward zero; int64 is exact via bigint.
 */
import { allocData, dtypeInfo } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { Tensor, shapeSize } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { NodeInfo, OpDef } from './kernel.js';
import { broadcastOffsets, broadcastShapes, broadcastStrides } from './util/broadcast.js';
import { binary, elementsOf, unary, type Element } from './util/elementwise.js';
import type { Float32BinaryOp } from './util/float32-binary.js';
import {
  elementwiseOp,
  numeric,
  pickFn,
  requireInputs,
  requireSameType,
  type ElementFns,
  type ElementwiseSpec,
} from './util/elementwise-op.js';
import { tensorInput } from './util/numeric.js';
import { bigPow, cPow, erf, intPow, roundHalfEven } from './util/special-functions.js';

// ---------------------------------------------------------------------------------------------
// Binary arithmetic

const BINARY_VERSIONS = [1, 6, 7, 13, 14];

/** Add, Sub, Mul, Div: legacy `broadcast`/`axis` attributes before opset 7. */
function arith(opType: string, fns: ElementFns, float32Op: Float32BinaryOp): OpDef {
  return elementwiseOp({
    opType,
    versions: BINARY_VERSIONS,
    arity: 2,
    fns: () => fns,
    legacyBroadcastBefore: 7,
    float32Op,
  });
}

/** Integer division truncating toward zero; x/0 gives 0 (numpy's answer) instead of trapping. */
const intDiv = (a: number, b: number) => (b === 0 ? 0 : Math.trunc(a / b));
const bigDiv = (a: bigint, b: bigint) => (b === 0n ? 0n : a / b);

/** Python/numpy remainder: the result takes the divisor's sign. */
function floorMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}
function bigFloorMod(a: bigint, b: bigint): bigint {
  if (b === 0n) return 0n;
  const r = a % b;
  return r !== 0n && r < 0n !== b < 0n ? r + b : r;
}

function powFns(): ElementFns {
  // Pow-12+ lets the exponent have another element type than the base; the output has the base's.
  const expNumber = (e: number | bigint) => (typeof e === 'bigint' ? Number(e) : e);
  return {
    float: (a: number, e: number | bigint) => cPow(a, expNumber(e)),
    int: (a: number, e: number | bigint) => {
      if (typeof e === 'bigint') return intPow(a, Number(e));
      return Number.isInteger(e) ? intPow(a, e) : Math.trunc(cPow(a, e));
    },
    bigint: (a: bigint, e: number | bigint) => {
      if (typeof e === 'bigint') return bigPow(a, e);
      if (Number.isInteger(e)) return bigPow(a, BigInt(e));
      const r = Math.trunc(cPow(Number(a), e));
      return Number.isFinite(r) ? BigInt(r) : 0n;
    },
  };
}

const arithmeticOps: OpDef[] = [
  arith(
    'Add',
    numeric(
      (a: number, b: number) => a + b,
      (a: bigint, b: bigint) => a + b,
    ),
    'add',
  ),
  arith(
    'Sub',
    numeric(
      (a: number, b: number) => a - b,
      (a: bigint, b: bigint) => a - b,
    ),
    'sub',
  ),
  arith(
    'Mul',
    {
      float: (a: number, b: number) => a * b,
      // Math.imul keeps the low 32 bits exactly (a plain product loses them above 2^53).
      int: (a: number, b: number) => Math.imul(a, b),
      bigint: (a: bigint, b: bigint) => a * b,
    },
    'mul',
  ),
  arith('Div', { float: (a: number, b: number) => a / b, int: intDiv, bigint: bigDiv }, 'div'),
  elementwiseOp({
    opType: 'Pow',
    versions: [1, 7, 12, 13, 15],
    arity: 2,
    fns: powFns,
    legacyBroadcastBefore: 7,
    mixedTypes: true,
  }),
  elementwiseOp({
    opType: 'Mod',
    versions: [10, 13],
    arity: 2,
    fns(node) {
      const fmod = node.attrs.int('fmod', 0);
      if (fmod !== 0 && fmod !== 1)
        throw new OnyxError('INVALID_MODEL', `Mod: fmod must be 0 or 1, got ${fmod}`);
      if (fmod) {
        // C fmod: the result takes the dividend's sign (JS % is exactly that).
        return {
          float: (a: number, b: number) => a % b,
          int: (a: number, b: number) => (b === 0 ? 0 : a % b),
          bigint: (a: bigint, b: bigint) => (b === 0n ? 0n : a % b),
        };
      }
      return {
        float: floorMod,
        int: (a: number, b: number) => (b === 0 ? 0 : floorMod(a, b)),
        bigint: bigFloorMod,
      };
    },
  }),
];

// ---------------------------------------------------------------------------------------------
// Unary math

interface UnaryRow {
  op: string;
  versions: number[];
  fns: ElementFns;
}

const V1_6_13 = [1, 6, 13];
const TRIG = [7, 22];
const HYPERBOLIC = [9, 22];
const float = (fn: (x: number) => number): ElementFns => ({ float: fn });

const UNARY: UnaryRow[] = [
  {
    op: 'Neg',
    versions: V1_6_13,
    fns: numeric(
      (x: number) => -x,
      (x: bigint) => -x,
    ),
  },
  {
    op: 'Abs',
    versions: V1_6_13,
    fns: numeric(Math.abs, (x: bigint) => (x < 0n ? -x : x)),
  },
  {
    op: 'Sign',
    versions: [9, 13],
    fns: numeric(Math.sign, (x: bigint) => (x > 0n ? 1n : x < 0n ? -1n : 0n)),
  },
  { op: 'Reciprocal', versions: V1_6_13, fns: float((x) => 1 / x) },
  { op: 'Floor', versions: V1_6_13, fns: float(Math.floor) },
  { op: 'Ceil', versions: V1_6_13, fns: float(Math.ceil) },
  { op: 'Round', versions: [11, 22], fns: float(roundHalfEven) },
  { op: 'Sqrt', versions: V1_6_13, fns: float(Math.sqrt) },
  { op: 'Exp', versions: V1_6_13, fns: float(Math.exp) },
  { op: 'Log', versions: V1_6_13, fns: float(Math.log) },
  { op: 'Erf', versions: [9, 13], fns: numeric(erf) },
  { op: 'Sin', versions: TRIG, fns: float(Math.sin) },
  { op: 'Cos', versions: TRIG, fns: float(Math.cos) },
  { op: 'Tan', versions: TRIG, fns: float(Math.tan) },
  { op: 'Asin', versions: TRIG, fns: float(Math.asin) },
  { op: 'Acos', versions: TRIG, fns: float(Math.acos) },
  { op: 'Atan', versions: TRIG, fns: float(Math.atan) },
  { op: 'Sinh', versions: HYPERBOLIC, fns: float(Math.sinh) },
  { op: 'Cosh', versions: HYPERBOLIC, fns: float(Math.cosh) },
  { op: 'Asinh', versions: HYPERBOLIC, fns: float(Math.asinh) },
  { op: 'Acosh', versions: HYPERBOLIC, fns: float(Math.acosh) },
  { op: 'Atanh', versions: HYPERBOLIC, fns: float(Math.atanh) },
];

const unaryOps: OpDef[] = [
  ...UNARY.map((r) => elementwiseOp({ opType: r.op, versions: r.versions, arity: 1, fns: () => r.fns })),
  elementwiseOp({
    opType: 'IsNaN',
    versions: [9, 13, 20],
    arity: 1,
    out: 'bool',
    fns: () => ({ float: (x: number) => (x !== x ? 1 : 0) }),
  }),
  elementwiseOp({
    opType: 'IsInf',
    versions: [10, 20],
    arity: 1,
    out: 'bool',
    fns(node) {
      const neg = node.attrs.int('detect_negative', 1) !== 0;
      const pos = node.attrs.int('detect_positive', 1) !== 0;
      return { float: (x: number) => ((pos && x === Infinity) || (neg && x === -Infinity) ? 1 : 0) };
    },
  }),
];

// ---------------------------------------------------------------------------------------------
// Logic, bitwise, comparisons

const bool = (fn: (a: number, b: number) => number): ElementFns => ({ bool: fn });

function logical(opType: string, fn: (a: number, b: number) => number): OpDef {
  return elementwiseOp({
    opType,
    versions: [1, 7],
    arity: 2,
    out: 'bool',
    fns: () => bool(fn),
    legacyBroadcastBefore: 7,
  });
}

function bitwise(
  opType: string,
  num: (a: number, b: number) => number,
  big: (a: bigint, b: bigint) => bigint,
): OpDef {
  return elementwiseOp({ opType, versions: [18], arity: 2, fns: () => ({ int: num, bigint: big }) });
}

/** Comparisons: every numeric class, bool and (for Equal-19) string; output bool. */
function comparison(
  opType: string,
  versions: number[],
  fn: (a: any, b: any) => boolean,
  extra: Partial<ElementwiseSpec> = {},
): OpDef {
  const f = (a: Element, b: Element) => (fn(a, b) ? 1 : 0);
  return elementwiseOp({
    opType,
    versions,
    arity: 2,
    out: 'bool',
    fns: () => ({ float: f, int: f, bigint: f, bool: f, string: f }),
    ...extra,
  });
}

function bitShift(node: NodeInfo): ElementFns {
  const direction = node.attrs.string('direction', '');
  if (direction === 'LEFT') {
    return {
      // Shifts of the bit width or more give 0 (JS masks the count to 5 bits).
      int: (a: number, b: number) => (b >= 32 ? 0 : (a << b) >>> 0),
      bigint: (a: bigint, b: bigint) => (b >= 64n ? 0n : a << b),
    };
  }
  if (direction === 'RIGHT') {
    return {
      int: (a: number, b: number) => (b >= 32 ? 0 : a >>> b),
      bigint: (a: bigint, b: bigint) => (b >= 64n ? 0n : a >> b),
    };
  }
  throw new OnyxError('INVALID_MODEL', `BitShift: direction must be "LEFT" or "RIGHT", got "${direction}"`);
}

const logicOps: OpDef[] = [
  logical('And', (a, b) => a & b),
  logical('Or', (a, b) => a | b),
  logical('Xor', (a, b) => a ^ b),
  elementwiseOp({
    opType: 'Not',
    versions: [1],
    arity: 1,
    fns: () => ({ bool: (a: number) => (a ? 0 : 1) }),
  }),
  bitwise(
    'BitwiseAnd',
    (a, b) => a & b,
    (a, b) => a & b,
  ),
  bitwise(
    'BitwiseOr',
    (a, b) => a | b,
    (a, b) => a | b,
  ),
  bitwise(
    'BitwiseXor',
    (a, b) => a ^ b,
    (a, b) => a ^ b,
  ),
  elementwiseOp({
    opType: 'BitwiseNot',
    versions: [18],
    arity: 1,
    fns: () => ({ int: (a: number) => ~a, bigint: (a: bigint) => ~a }),
  }),
  elementwiseOp({ opType: 'BitShift', versions: [11], arity: 2, fns: bitShift }),
  comparison('Equal', [1, 7, 11, 13, 19], (a, b) => a === b, { legacyBroadcastBefore: 7 }),
  comparison('Less', [1, 7, 9, 13], (a, b) => a < b, { legacyBroadcastBefore: 7 }),
  comparison('Greater', [1, 7, 9, 13], (a, b) => a > b, { legacyBroadcastBefore: 7 }),
  comparison('LessOrEqual', [12, 16], (a, b) => a <= b),
  comparison('GreaterOrEqual', [12, 16], (a, b) => a >= b),
];

// ---------------------------------------------------------------------------------------------
// Where, Clip

/** Where copies raw elements (any type, minifloat bits and strings included) by broadcast offsets. */
const whereOp: OpDef = {
  opType: 'Where',
  versions: [9, 16],
  build() {
    return (inputs) => {
      const [cond, x, y] = requireInputs('Where', inputs, 3);
      if (cond.type !== 'bool') {
        throw new OnyxError('TYPE_MISMATCH', `Where: condition must be a bool tensor, got ${cond.type}`);
      }
      requireSameType('Where', [x, y]);
      const dims = broadcastShapes(cond.dims, x.dims, y.dims);
      const n = shapeSize(dims);
      const lanes = dtypeInfo(x.type).lanes;
      if (lanes === 1) return [whereWalk(cond, x, y, dims, n)];
      const [oc, ox, oy] = broadcastOffsets([cond.dims, x.dims, y.dims], dims);
      const C = cond.data as Uint8Array;
      const X = x.data as ArrayLike<Element>;
      const Y = y.data as ArrayLike<Element>;
      const out = allocData(x.type, n) as unknown as Element[];
      for (let i = 0; i < n; i++) {
        const take = C[oc ? oc[i] : i];
        const src = take ? X : Y;
        const off = take ? (ox ? ox[i] : i) : oy ? oy[i] : i;
        if (lanes === 1) out[i] = src[off];
        else for (let l = 0; l < lanes; l++) out[i * lanes + l] = src[off * lanes + l];
      }
      return [new Tensor(x.type, out as unknown as Tensor['data'], dims)];
    };
  },
};

/**
 * Where over one-slot elements, walking the output once with each input's broadcast strides (an
 * odometer over the outer dims, the last dim innermost): no per-element offset tables — three fresh
 * Int32Arrays and a pass each, most of a small Where's time (a decoder's 512-element mask: ~22 µs).
 */
function whereWalk(cond: Tensor, x: Tensor, y: Tensor, dims: number[], n: number): Tensor {
  const C = cond.data as Uint8Array;
  const X = x.data as ArrayLike<Element>;
  const Y = y.data as ArrayLike<Element>;
  const out = allocData(x.type, n, false) as unknown as Element[]; // every element written below
  const r = dims.length;
  const [sc, sx, sy] = [cond.dims, x.dims, y.dims].map((d) => broadcastStrides(d, dims));
  const inner = r === 0 ? 1 : dims[r - 1];
  const [ic, ix, iy] = r === 0 ? [0, 0, 0] : [sc[r - 1], sx[r - 1], sy[r - 1]];
  const counter = new Array<number>(Math.max(r - 1, 0)).fill(0);
  let [pc, px, py] = [0, 0, 0];
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = C[pc + j * ic] ? X[px + j * ix] : Y[py + j * iy];
    for (let ax = r - 2; ax >= 0; ax--) {
      counter[ax]++;
      pc += sc[ax];
      px += sx[ax];
      py += sy[ax];
      if (counter[ax] < dims[ax]) break;
      pc -= sc[ax] * dims[ax];
      px -= sx[ax] * dims[ax];
      py -= sy[ax] * dims[ax];
      counter[ax] = 0;
    }
  }
  return new Tensor(x.type, out as unknown as Tensor['data'], dims);
}

/** A Clip bound from an optional input: one element of X's type, or undefined when omitted. */
function clipBound(v: Value | undefined, x: Tensor, what: string): Element | undefined {
  if (v === undefined || v === null) return undefined;
  const t = tensorInput(v, `Clip ${what}`);
  if (t.type !== x.type) {
    throw new OnyxError('TYPE_MISMATCH', `Clip: ${what} must have the input's type ${x.type}, got ${t.type}`);
  }
  if (t.size !== 1) {
    throw new OnyxError('SHAPE_MISMATCH', `Clip: ${what} must be a scalar, got dims [${t.dims.join(', ')}]`);
  }
  return elementsOf(t)[0];
}

const clipOp: OpDef = {
  opType: 'Clip',
  versions: [1, 6, 11, 12, 13],
  build(node) {
    const fromAttrs = node.sinceVersion < 11;
    const attrMin = fromAttrs ? node.attrs.float('min', -Infinity) : undefined;
    const attrMax = fromAttrs ? node.attrs.float('max', Infinity) : undefined;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'Clip input');
      const lo = fromAttrs ? attrMin : clipBound(inputs[1], x, 'min');
      const hi = fromAttrs ? attrMax : clipBound(inputs[2], x, 'max');
      // min(max(x, lo), hi): with lo > hi every element becomes hi, as in numpy.clip.
      const clip = (v: Element) => {
        let r = v;
        if (lo !== undefined && r < lo) r = lo;
        if (hi !== undefined && r > hi) r = hi;
        return r;
      };
      pickFn('Clip', { float: clip, int: clip, bigint: clip }, x.type);
      return [unary(x, x.type, clip)];
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Variadic Min, Max, Sum, Mean

const maxOf = (a: number, b: number) => (a > b || a !== a ? a : b);
const minOf = (a: number, b: number) => (a < b || a !== a ? a : b);
const bigMax = (a: bigint, b: bigint) => (a > b ? a : b);
const bigMin = (a: bigint, b: bigint) => (a < b ? a : b);

/** Folds the inputs left to right with a broadcasting binary step (rounding each step like numpy). */
function variadic(opType: string, versions: number[], fns: ElementFns, mean = false): OpDef {
  return {
    opType,
    versions,
    build() {
      return (inputs) => {
        if (inputs.length === 0) throw new OnyxError('INVALID_MODEL', `${opType} needs at least one input`);
        const ts = requireInputs(opType, inputs, inputs.length);
        requireSameType(opType, ts);
        if (opType === 'Sum' && ts.length > 1 && sameFloat32Shapes(ts)) return [sumFloat32(ts)];
        const fn = pickFn(opType, fns, ts[0].type);
        let acc = ts[0];
        for (let i = 1; i < ts.length; i++) acc = binary(acc, ts[i], acc.type, fn);
        if (mean && ts.length > 1) {
          const n = ts.length;
          acc = unary(acc, acc.type, (v: number) => v / n);
        }
        return [acc];
      };
    },
  };
}

function sameFloat32Shapes(ts: readonly Tensor[]): boolean {
  const d = ts[0].dims;
  return ts.every(
    (t) => t.type === 'float32' && t.dims.length === d.length && t.dims.every((x, i) => x === d[i]),
  );
}

/**
 * Sum of same-shape float32 tensors as direct loops (ResNet's residual adds): the generic path calls
 * a scalar function per element. Each step rounds to float32 like the generic fold.
 */
function sumFloat32(ts: readonly Tensor[]): Tensor {
  const out = (ts[0].data as Float32Array).slice();
  for (let k = 1; k < ts.length; k++) {
    const x = ts[k].data as Float32Array;
    for (let i = 0; i < out.length; i++) out[i] += x[i];
  }
  return new Tensor('float32', out, ts[0].dims);
}

const MIN_MAX_VERSIONS = [1, 6, 8, 12, 13];
const SUM_VERSIONS = [1, 6, 8, 13];

const variadicOps: OpDef[] = [
  variadic('Max', MIN_MAX_VERSIONS, { float: maxOf, int: maxOf, bigint: bigMax }),
  variadic('Min', MIN_MAX_VERSIONS, { float: minOf, int: minOf, bigint: bigMin }),
  variadic(
    'Sum',
    SUM_VERSIONS,
    numeric(
      (a: number, b: number) => a + b,
      (a: bigint, b: bigint) => a + b,
    ),
  ),
  variadic('Mean', SUM_VERSIONS, { float: (a: number, b: number) => a + b }, true),
];

export const ops: OpDef[] = [...arithmeticOps, ...unaryOps, ...logicOps, whereOp, clipOp, ...variadicOps];
