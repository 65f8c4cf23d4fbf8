/**
 * Sequence ops (opset 11+, SequenceMap 17): sequences are plain JS arrays of Values, never mutated
 * in place — every op that changes a sequence returns a new array that shares the unchanged tensors.
 *
 * Also home of the generic "move blocks of elements along an axis" helpers (slice one index out of
 * an axis, concatenate, stack) that Loop/Scan in control-flow.ts share.
 */
import {
  dtypeFromCode,
  dtypeInfo,
  type TensorData,
  type TensorType,
  type TypedArray,
} from '../core/dtype.js';
import { OnyxError, check } from '../core/errors.js';
import { Tensor, type Dims } from '../core/tensor.js';
import { describeValue, type Value } from '../core/value.js';
import type { KernelInputs, OpDef, RunContext } from './kernel.js';
import { normalizeAxis } from './util/axes.js';
import { intsOf, scalarOf, tensorInput } from './util/numeric.js';

export type AllocFn = (type: TensorType, dims: Dims) => Tensor;

const heapAlloc: AllocFn = (type, dims) => Tensor.zeros(type, dims);

/** Copies `n` storage elements (lanes already folded in) from `src[sOff…]` to `dst[dOff…]`. */
export function copyStorage(dst: TensorData, dOff: number, src: TensorData, sOff: number, n: number): void {
  if (n <= 0) return;
  if (Array.isArray(dst)) {
    const s = src as string[];
    for (let i = 0; i < n; i++) dst[dOff + i] = s[sOff + i];
  } else if (n === 1) {
    (dst as TypedArray)[dOff] = (src as TypedArray)[sOff];
  } else {
    (dst as Float32Array).set((src as Float32Array).subarray(sOff, sOff + n), dOff);
  }
}

function dimsText(d: Dims): string {
  return `[${d.join(', ')}]`;
}

/**
 * `len` consecutive indices [start, start+len) of `axis`, as a new tensor. With `dropAxis` (len must
 * be 1) the axis is removed from the result's dims.
 */
export function sliceAxis(
  t: Tensor,
  axis: number,
  start: number,
  len: number,
  dropAxis = false,
  alloc: AllocFn = heapAlloc,
): Tensor {
  const dims = t.dims;
  const lanes = dtypeInfo(t.type).lanes;
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i];
  let inner = lanes;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i];
  const outDims = dims.slice();
  if (dropAxis) outDims.splice(axis, 1);
  else outDims[axis] = len;
  const out = alloc(t.type, outDims);
  const src = t.data;
  const dst = out.data;
  const block = len * inner;
  const srcStride = dims[axis] * inner;
  for (let o = 0; o < outer; o++) copyStorage(dst, o * block, src, o * srcStride + start * inner, block);
  return out;
}

/** Concatenates tensors of one type along an existing axis (all other dims must agree). */
export function concatAxis(ts: readonly Tensor[], axis: number, alloc: AllocFn = heapAlloc): Tensor {
  check(ts.length > 0, 'cannot concatenate zero tensors');
  const first = ts[0];
  const rank = first.dims.length;
  const outDims = first.dims.slice();
  outDims[axis] = 0;
  for (const t of ts) {
    if (t.type !== first.type) {
      throw new OnyxError('TYPE_MISMATCH', `cannot concatenate tensor(${t.type}) with tensor(${first.type})`);
    }
    if (t.dims.length !== rank || t.dims.some((d, i) => i !== axis && d !== first.dims[i])) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `cannot concatenate dims ${dimsText(t.dims)} with ${dimsText(first.dims)} along axis ${axis}`,
      );
    }
    outDims[axis] += t.dims[axis];
  }
  const lanes = dtypeInfo(first.type).lanes;
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= outDims[i];
  let inner = lanes;
  for (let i = axis + 1; i < rank; i++) inner *= outDims[i];
  const out = alloc(first.type, outDims);
  const dst = out.data;
  const outStride = outDims[axis] * inner;
  let offset = 0;
  for (const t of ts) {
    const block = t.dims[axis] * inner;
    const src = t.data;
    for (let o = 0; o < outer; o++) copyStorage(dst, o * outStride + offset, src, o * block, block);
    offset += block;
  }
  return out;
}

/** Stacks same-shaped tensors along a new axis (`axis` in [0, rank]). */
export function stackAxis(ts: readonly Tensor[], axis: number, alloc: AllocFn = heapAlloc): Tensor {
  check(ts.length > 0, 'cannot stack zero tensors');
  const base = ts[0].dims;
  for (const t of ts) {
    if (t.dims.length !== base.length || t.dims.some((d, i) => d !== base[i])) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `cannot stack dims ${dimsText(t.dims)} with ${dimsText(base)}: every element needs the same shape`,
      );
    }
  }
  const expanded = ts.map((t) => {
    const d = t.dims.slice();
    d.splice(axis, 0, 1);
    return new Tensor(t.type, t.data, d);
  });
  return concatAxis(expanded, axis, alloc);
}

/** The sequence an input holds, or a TYPE_MISMATCH error naming what came instead. */
export function sequenceInput(v: Value | undefined, what = 'input_sequence'): Value[] {
  if (Array.isArray(v)) return v;
  throw new OnyxError('TYPE_MISMATCH', `${what} must be a sequence, got ${describeValue(v)}`);
}

/** A position input (int32/int64 scalar), normalized against `[−n, n + extra)`. */
function position(v: Value | undefined, n: number, extra: number, what: string): number {
  const t = tensorInput(v, what);
  if (t.type !== 'int32' && t.type !== 'int64') {
    throw new OnyxError('TYPE_MISMATCH', `${what} must be int32 or int64, got ${t.type}`);
  }
  const p = scalarOf(t, what);
  if (p < -n || p >= n + extra) {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      `${what} ${p} is out of range for a sequence of ${n} (accepted: [${-n}, ${n + extra - 1}])`,
    );
  }
  return p < 0 ? p + n : p;
}

/** Checks that `t` can join a sequence whose elements are `seq` (same element type). */
function checkSameType(seq: readonly Value[], t: Tensor, what: string): void {
  const first = seq.find((x): x is Tensor => x instanceof Tensor);
  if (first && first.type !== t.type) {
    throw new OnyxError(
      'TYPE_MISMATCH',
      `${what} is tensor(${t.type}) but the sequence holds tensor(${first.type})`,
    );
  }
}

function splitToSequence(
  x: Tensor,
  split: Tensor | undefined,
  axisAttr: number,
  keepdims: boolean,
  ctx: RunContext,
): Tensor[] {
  check(x.dims.length > 0, 'SplitToSequence needs an input of rank ≥ 1, got a scalar');
  const axis = normalizeAxis(axisAttr, x.dims.length);
  const dim = x.dims[axis];
  const alloc: AllocFn = (type, dims) => ctx.alloc(type, dims);
  if (split === undefined) {
    const out: Tensor[] = [];
    for (let i = 0; i < dim; i++) out.push(sliceAxis(x, axis, i, 1, !keepdims, alloc));
    return out;
  }
  const sizes = intsOf(split, 'split');
  let lengths: number[];
  if (split.dims.length === 0) {
    const size = sizes[0];
    if (!(size > 0)) {
      throw new OnyxError('INVALID_ARGUMENT', `split must be a positive chunk size, got ${size}`);
    }
    lengths = [];
    for (let s = 0; s < dim; s += size) lengths.push(Math.min(size, dim - s));
  } else {
    check(split.dims.length === 1, `split must be a scalar or 1-D, got dims ${dimsText(split.dims)}`);
    lengths = sizes;
    const total = lengths.reduce((a, b) => a + b, 0);
    if (lengths.some((l) => l < 0) || total !== dim) {
      throw new OnyxError(
        'INVALID_ARGUMENT',
        `split lengths [${lengths.join(', ')}] must be non-negative and sum to ${dim} (axis ${axis} of dims ${dimsText(x.dims)})`,
      );
    }
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const len of lengths) {
    out.push(sliceAxis(x, axis, start, len, false, alloc));
    start += len;
  }
  return out;
}

export const ops: OpDef[] = [
  {
    opType: 'SequenceConstruct',
    versions: [11],
    build() {
      return (inputs) => {
        const ts = inputs.map((v, i) => tensorInput(v, `inputs[${i}]`));
        for (const t of ts) checkSameType(ts, t, 'every input');
        return [ts];
      };
    },
  },
  {
    opType: 'SequenceEmpty',
    versions: [11],
    build(node) {
      const code = node.attrs.int('dtype', 1);
      if (!dtypeFromCode(code)) {
        throw new OnyxError('INVALID_MODEL', `SequenceEmpty dtype ${code} is not a supported tensor type`);
      }
      return () => [[]];
    },
  },
  {
    opType: 'SequenceAt',
    versions: [11],
    build() {
      return (inputs) => {
        const seq = sequenceInput(inputs[0]);
        const p = position(inputs[1], seq.length, 0, 'position');
        return [seq[p]];
      };
    },
  },
  {
    opType: 'SequenceInsert',
    versions: [11],
    build() {
      return (inputs) => {
        const seq = sequenceInput(inputs[0]);
        const t = tensorInput(inputs[1], 'tensor');
        checkSameType(seq, t, 'tensor');
        const p = inputs[2] === undefined ? seq.length : position(inputs[2], seq.length, 1, 'position');
        const out = seq.slice();
        out.splice(p, 0, t);
        return [out];
      };
    },
  },
  {
    opType: 'SequenceErase',
    versions: [11],
    build() {
      return (inputs) => {
        const seq = sequenceInput(inputs[0]);
        if (seq.length === 0) throw new OnyxError('INVALID_ARGUMENT', 'cannot erase from an empty sequence');
        const p = inputs[1] === undefined ? seq.length - 1 : position(inputs[1], seq.length, 0, 'position');
        const out = seq.slice();
        out.splice(p, 1);
        return [out];
      };
    },
  },
  {
    opType: 'SequenceLength',
    versions: [11],
    build() {
      return (inputs) => {
        const seq = sequenceInput(inputs[0]);
        return [new Tensor('int64', BigInt64Array.of(BigInt(seq.length)), [])];
      };
    },
  },
  {
    opType: 'SplitToSequence',
    versions: [11, 24],
    build(node) {
      const axis = node.attrs.int('axis', 0);
      const keepdims = node.attrs.int('keepdims', 1) !== 0;
      return (inputs, ctx) => {
        const x = tensorInput(inputs[0], 'input');
        const split = inputs[1] === undefined ? undefined : tensorInput(inputs[1], 'split');
        return [splitToSequence(x, split, axis, keepdims, ctx)];
      };
    },
  },
  {
    opType: 'ConcatFromSequence',
    versions: [11],
    build(node) {
      const axisAttr = node.attrs.int('axis');
      const newAxis = node.attrs.int('new_axis', 0) === 1;
      return (inputs, ctx) => {
        const seq = sequenceInput(inputs[0]);
        if (seq.length === 0) {
          throw new OnyxError(
            'INVALID_ARGUMENT',
            'ConcatFromSequence got an empty sequence (nothing to concatenate)',
          );
        }
        const ts = seq.map((v, i) => tensorInput(v, `input_sequence[${i}]`));
        const rank = ts[0].dims.length;
        const alloc: AllocFn = (type, dims) => ctx.alloc(type, dims);
        if (newAxis) return [stackAxis(ts, normalizeAxis(axisAttr, rank + 1), alloc)];
        check(rank > 0, 'ConcatFromSequence cannot concatenate scalars without new_axis=1');
        return [concatAxis(ts, normalizeAxis(axisAttr, rank), alloc)];
      };
    },
  },
  {
    opType: 'SequenceMap',
    versions: [17],
    build(node) {
      const body = node.attrs.graph('body');
      check(
        body.inputs.length === node.inputCount,
        () => `SequenceMap body takes ${body.inputs.length} inputs but the node has ${node.inputCount}`,
      );
      check(
        body.outputs.length === node.outputCount,
        () => `SequenceMap body has ${body.outputs.length} outputs but the node has ${node.outputCount}`,
      );
      return async (inputs: KernelInputs, ctx: RunContext) => {
        const seq = sequenceInput(inputs[0]);
        const n = seq.length;
        const extras = inputs.slice(1).map((v, i) => {
          if (Array.isArray(v)) {
            if (v.length !== n) {
              throw new OnyxError(
                'SHAPE_MISMATCH',
                `additional input ${i + 1} is a sequence of ${v.length}, but input_sequence has ${n} elements`,
              );
            }
            return v;
          }
          return tensorInput(v, `additional input ${i + 1}`);
        });
        const outs: Value[][] = body.outputs.map(() => []);
        for (let i = 0; i < n; i++) {
          const args = [seq[i], ...extras.map((e) => (Array.isArray(e) ? e[i] : e))];
          const r = await ctx.runSubgraph(body, args);
          for (let k = 0; k < outs.length; k++) outs[k].push(r[k]);
        }
        return outs;
      };
    },
  },
];
