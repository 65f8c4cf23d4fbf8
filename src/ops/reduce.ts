/**
 * The Reduce* family, on one engine: a reducer is (init, combine, finalize), applied to every group
 * of elements that the reduced axes collapse. Elements reach the reducer as `number` (floats,
 * minifloats decoded to float32 values, ≤32-bit integers, bool as 0/1) or as `bigint` for int64/uint64,
 * where the reducer has exact bigint arithmetic (Sum, Prod, Max, Min, L1, SumSquare, Mean); the other
 * reducers read 64-bit integers as numbers and truncate the result back.
 *
 * Versions: the axes are an attribute up to ReduceSum-11 / Reduce*-13 and an optional input from
 * ReduceSum-13 / Reduce*-18, which also brings `noop_with_empty_axes`. ReduceMax/ReduceMin-20 add bool.
 *
 * Empty groups (a reduced axis of length 0) give the reducer's identity: 0 for Sum, SumSquare, L1, L2;
 * 1 for Prod; -inf (the type's minimum for integers, false for bool) for Max; +inf (maximum, true) for
 * Min; -inf for LogSum and LogSumExp (log 0); NaN for Mean (0/0; integer types give 0).
 */
import { allocData, dtypeInfo, type TensorData, type TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { isMinifloat } from '../core/float-formats.js';
import { Tensor, type Dims } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { OpDef } from './kernel.js';
import { axesInput, normalizeAxes } from './util/axes.js';
import { stridedOffsets, stridesOf } from './util/broadcast.js';
import { numbersOf, tensorFromNumbers, tensorInput } from './util/numeric.js';

/** Arithmetic of one reducer over one element representation. */
interface Fold<T> {
  /** The accumulator's start value; `type` lets Max/Min pick the integer type's bounds. */
  init(type: TensorType): T;
  combine(acc: T, x: T): T;
  /** Turns the accumulator into the result; `count` is the group's size. */
  finalize(acc: T, count: number): T;
}

interface Reducer {
  readonly name: string;
  readonly num: Fold<number>;
  /** Exact int64/uint64 arithmetic; without it those types go through `num` (float) and truncate. */
  readonly big?: Fold<bigint>;
  /** Overrides `num.combine` for ≤32-bit integer types where float arithmetic would lose low bits. */
  readonly intCombine?: (acc: number, x: number) => number;
}

const id = <T>(acc: T): T => acc;
const zeroNum = () => 0;
const zeroBig = () => 0n;

function typeMin(type: TensorType): number {
  const m = dtypeInfo(type).min;
  return m === undefined ? -Infinity : Number(m);
}
function typeMax(type: TensorType): number {
  const m = dtypeInfo(type).max;
  return m === undefined ? Infinity : Number(m);
}

/** NaN-propagating max/min (numpy's `maximum`/`minimum`). */
const maxNum = (a: number, x: number) => (x > a || x !== x ? x : a);
const minNum = (a: number, x: number) => (x < a || x !== x ? x : a);

/** Streaming log(exp(a) + exp(x)), stable for large values. */
function logAddExp(a: number, x: number): number {
  if (a === -Infinity) return x;
  if (x === -Infinity) return a;
  const m = a > x ? a : x;
  return m + Math.log1p(Math.exp(-Math.abs(a - x)));
}

const REDUCERS: Record<string, Reducer> = {
  ReduceSum: {
    name: 'sum',
    num: { init: zeroNum, combine: (a, x) => a + x, finalize: id },
    big: { init: zeroBig, combine: (a, x) => a + x, finalize: id },
  },
  ReduceMean: {
    name: 'mean',
    num: { init: zeroNum, combine: (a, x) => a + x, finalize: (a, n) => a / n },
    big: { init: zeroBig, combine: (a, x) => a + x, finalize: (a, n) => (n === 0 ? 0n : a / BigInt(n)) },
  },
  ReduceMax: {
    name: 'max',
    num: { init: typeMin, combine: maxNum, finalize: id },
    big: {
      init: (t) => dtypeInfo(t).min as bigint,
      combine: (a, x) => (x > a ? x : a),
      finalize: id,
    },
  },
  ReduceMin: {
    name: 'min',
    num: { init: typeMax, combine: minNum, finalize: id },
    big: {
      init: (t) => dtypeInfo(t).max as bigint,
      combine: (a, x) => (x < a ? x : a),
      finalize: id,
    },
  },
  ReduceProd: {
    name: 'prod',
    num: { init: () => 1, combine: (a, x) => a * x, finalize: id },
    big: { init: () => 1n, combine: (a, x) => a * x, finalize: id },
    intCombine: (a, x) => Math.imul(a, x),
  },
  ReduceL1: {
    name: 'L1 norm',
    num: { init: zeroNum, combine: (a, x) => a + Math.abs(x), finalize: id },
    big: { init: zeroBig, combine: (a, x) => a + (x < 0n ? -x : x), finalize: id },
  },
  ReduceL2: {
    name: 'L2 norm',
    num: { init: zeroNum, combine: (a, x) => a + x * x, finalize: (a) => Math.sqrt(a) },
  },
  ReduceSumSquare: {
    name: 'sum of squares',
    num: { init: zeroNum, combine: (a, x) => a + x * x, finalize: id },
    big: { init: zeroBig, combine: (a, x) => a + x * x, finalize: id },
    intCombine: (a, x) => (a + Math.imul(x, x)) | 0,
  },
  ReduceLogSum: {
    name: 'log of sum',
    num: { init: zeroNum, combine: (a, x) => a + x, finalize: (a) => Math.log(a) },
  },
  ReduceLogSumExp: {
    name: 'log-sum-exp',
    num: { init: () => -Infinity, combine: logAddExp, finalize: id },
  },
};

/**
 * For reducing `dims` over `axes`: the flat offset of the first element of every group (in output
 * order) and the offsets of a group's elements relative to it.
 */
function groupOffsets(dims: Dims, axes: readonly number[]): { bases: Int32Array; inner: Int32Array } {
  const strides = stridesOf(dims);
  const reduced = new Set(axes);
  const offsetsOver = (which: number[]): Int32Array =>
    stridedOffsets(
      which.map((a) => dims[a]),
      which.map((a) => strides[a]),
    );
  const all = dims.map((_, i) => i);
  return {
    bases: offsetsOver(all.filter((a) => !reduced.has(a))),
    inner: offsetsOver(all.filter((a) => reduced.has(a))),
  };
}

/** The output dims of a reduction. */
function reducedDims(dims: Dims, axes: readonly number[], keepdims: boolean): number[] {
  const set = new Set(axes);
  const out: number[] = [];
  dims.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** The reduction engine: `reducer` over `axes` (normalized, distinct) of `x`. */
export function reduceTensor(
  x: Tensor,
  opType: keyof typeof REDUCERS | string,
  axes: readonly number[],
  keepdims: boolean,
): Tensor {
  const reducer = REDUCERS[opType];
  if (!reducer) throw new OnyxError('NOT_IMPLEMENTED', `unknown reduction ${opType}`);
  const info = dtypeInfo(x.type);
  if (info.numericClass === 'string' || info.numericClass === 'complex') {
    throw new OnyxError('TYPE_MISMATCH', `${opType} does not support ${info.onnxName} tensors`);
  }
  const outDims = reducedDims(x.dims, axes, keepdims);
  const { bases, inner } = groupOffsets(x.dims, axes);
  const K = bases.length;
  const R = inner.length;
  if (info.numericClass === 'bigint' && reducer.big) {
    const f = reducer.big;
    const src = x.data as BigInt64Array;
    const out = allocData(x.type, K) as BigInt64Array;
    const start = f.init(x.type);
    const wrap =
      x.type === 'uint64' ? (v: bigint) => BigInt.asUintN(64, v) : (v: bigint) => BigInt.asIntN(64, v);
    for (let k = 0; k < K; k++) {
      const base = bases[k];
      let acc = start;
      for (let r = 0; r < R; r++) acc = f.combine(acc, src[base + inner[r]]);
      out[k] = wrap(f.finalize(acc, R));
    }
    return new Tensor(x.type, out, outDims);
  }
  const f = reducer.num;
  const isInt = info.numericClass === 'int' || info.numericClass === 'bigint';
  const combine = info.numericClass === 'int' && reducer.intCombine ? reducer.intCombine : f.combine;
  const src = numbersOf(x);
  const res = new Float64Array(K);
  const start = f.init(x.type);
  for (let k = 0; k < K; k++) {
    const base = bases[k];
    let acc = start;
    for (let r = 0; r < R; r++) acc = combine(acc, src[base + inner[r]]);
    res[k] = f.finalize(acc, R);
  }
  if (isInt) {
    // Integer results truncate toward zero (Mean, L2, LogSum…); NaN (an empty Mean) becomes 0.
    for (let k = 0; k < K; k++) {
      const v = Math.trunc(res[k]);
      res[k] = Number.isFinite(v)
        ? v
        : v === Infinity
          ? typeMax(x.type)
          : v === -Infinity
            ? typeMin(x.type)
            : 0;
    }
  }
  if (isMinifloat(x.type) || info.numericClass !== 'int') return tensorFromNumbers(x.type, res, outDims);
  // ≤32-bit integers wrap modulo 2^bits (C semantics): the typed array store does it for 8/16/32 bits;
  // the sub-byte types (stored one per byte) are wrapped here.
  const out = allocData(x.type, K) as Exclude<TensorData, string[]>;
  if (info.bits < 8 && x.type !== 'bool') {
    const shift = 32 - info.bits;
    const signed = (info.min as number) < 0;
    for (let k = 0; k < K; k++) {
      const v = res[k] | 0;
      res[k] = signed ? (v << shift) >> shift : (v << shift) >>> shift;
    }
  }
  (out as Float64Array).set(res);
  return new Tensor(x.type, out, outDims);
}

function reduceOp(opType: string, versions: number[], inputAxesFrom: number, boolFrom?: number): OpDef {
  return {
    opType,
    versions,
    build(node) {
      const keepdims = node.attrs.int('keepdims', 1) !== 0;
      const axesAsInput = node.sinceVersion >= inputAxesFrom;
      const noop = axesAsInput && node.attrs.int('noop_with_empty_axes', 0) !== 0;
      const attrAxes = axesAsInput ? undefined : node.attrs.ints('axes', []);
      if (axesAsInput && node.attrs.has('axes')) {
        throw new OnyxError(
          'INVALID_MODEL',
          `${opType}-${node.sinceVersion} takes axes as its second input, not as an attribute`,
        );
      }
      return (inputs) => {
        const x = tensorInput(inputs[0], `${opType} data`);
        if (x.type === 'bool' && (boolFrom === undefined || node.sinceVersion < boolFrom)) {
          throw new OnyxError(
            'TYPE_MISMATCH',
            `${opType}-${node.sinceVersion} does not take bool input${boolFrom ? ` (it does from opset ${boolFrom})` : ''}`,
          );
        }
        const raw = attrAxes ?? axesInput(inputs[1] as Value | undefined) ?? [];
        if (raw.length === 0 && noop) return [new Tensor(x.type, x.data, x.dims)];
        const rank = x.dims.length;
        const axes = raw.length === 0 ? x.dims.map((_, i) => i) : normalizeAxes(raw, rank);
        return [reduceTensor(x, opType, axes, keepdims)];
      };
    },
  };
}

export const ops: OpDef[] = [
  reduceOp('ReduceSum', [1, 11, 13], 13),
  reduceOp('ReduceMean', [1, 11, 13, 18], 18),
  reduceOp('ReduceMax', [1, 11, 12, 13, 18, 20], 18, 20),
  reduceOp('ReduceMin', [1, 11, 12, 13, 18, 20], 18, 20),
  reduceOp('ReduceProd', [1, 11, 13, 18], 18),
  reduceOp('ReduceL1', [1, 11, 13, 18], 18),
  reduceOp('ReduceL2', [1, 11, 13, 18], 18),
  reduceOp('ReduceLogSum', [1, 11, 13, 18], 18),
  reduceOp('ReduceLogSumExp', [1, 11, 13, 18], 18),
  reduceOp('ReduceSumSquare', [1, 11, 13, 18], 18),
];
