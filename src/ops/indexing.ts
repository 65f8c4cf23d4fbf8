/**
 * Indexing and selection ops: Gather, GatherElements, GatherND, Scatter, ScatterElements, ScatterND,
 * TensorScatter, Compress, NonZero, OneHot, CumSum, CumProd, TopK, ArgMax, ArgMin, Unique.
 *
 * Data movement copies storage elements as they are (works for every dtype: minifloats move as bits,
 * strings and bigints as values, complex types as their 2 lanes). Arithmetic (scatter reductions,
 * cumulative ops) runs on the elements kernels compute on — numbers, bigints — and stores back into
 * the output's typed array, so integers wrap and float32 rounds as in C; minifloats are decoded to
 * float32 for it and re-encoded at the end.
 *
 * Index inputs may be negative (counting from the end of their axis); an index outside
 * [-dim, dim) is an INVALID_ARGUMENT error naming the op input, the index and the valid range.
 */
import { allocData, dtypeInfo, type TensorData, type TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { isMinifloat } from '../core/float-formats.js';
import { Tensor, shapeSize, type Dims } from '../core/tensor.js';
import type { OpDef } from './kernel.js';
import { normalizeAxis } from './util/axes.js';
import { stridedOffsets, stridesOf } from './util/broadcast.js';
import { intsOf, numbersOf, scalarOf, tensorFromNumbers, tensorInput } from './util/numeric.js';

// ---------------------------------------------------------------------------------------------------
// Shared helpers

/** Indexable storage of any dtype (typed arrays, bigint arrays, string[]). */
type Store = { [i: number]: any; length: number };

const lanesOf = (t: TensorType): number => dtypeInfo(t).lanes;

/** Copies `len` storage elements (not tensor elements: multiply by lanes first). */
function copyBlock(dst: TensorData, dOff: number, src: TensorData, sOff: number, len: number): void {
  if (len > 16 && !Array.isArray(src)) {
    (dst as Float32Array).set((src as Float32Array).subarray(sOff, sOff + len), dOff);
    return;
  }
  const d = dst as Store;
  const s = src as Store;
  for (let i = 0; i < len; i++) d[dOff + i] = s[sOff + i];
}

/** A copy of a tensor's storage (for ops that update a copy of their input). */
function cloneData(t: Tensor): TensorData {
  const d = t.data;
  return Array.isArray(d) ? d.slice() : (d.slice() as TensorData);
}

function checkIndex(i: number, dim: number, what: string): number {
  if (!(i >= -dim && i < dim)) {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      `${what} ${i} is out of range for an axis of size ${dim} (valid: ${-dim} to ${dim - 1})`,
    );
  }
  return i < 0 ? i + dim : i;
}

function dimsStr(d: Dims): string {
  return `[${d.join(', ')}]`;
}

/** Integer index values of an int32/int64 tensor. */
function indexValues(t: Tensor, what: string): number[] {
  const c = dtypeInfo(t.type).numericClass;
  if (c !== 'int' && c !== 'bigint') {
    throw new OnyxError('TYPE_MISMATCH', `${what} must be an int32 or int64 tensor, got ${t.type}`);
  }
  return intsOf(t, what);
}

/** Working elements for arithmetic: decoded numbers for minifloats, the storage itself otherwise. */
function workingCopy(t: Tensor): Store {
  return isMinifloat(t.type) ? Float32Array.from(numbersOf(t)) : (cloneData(t) as Store);
}
function workingView(t: Tensor): Store {
  return isMinifloat(t.type) ? numbersOf(t) : (t.data as Store);
}
/** A tensor of `type` from a working array made by `workingCopy`. */
function fromWorking(type: TensorType, data: Store, dims: Dims): Tensor {
  if (isMinifloat(type)) return tensorFromNumbers(type, data as Float32Array, dims);
  return new Tensor(type, data as TensorData, dims);
}

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';

function parseReduction(s: string, opType: string, sinceVersion: number): Reduction {
  const allowed: Reduction[] =
    sinceVersion >= 18
      ? ['none', 'add', 'mul', 'max', 'min']
      : sinceVersion >= 16
        ? ['none', 'add', 'mul']
        : ['none'];
  if (!(allowed as string[]).includes(s)) {
    throw new OnyxError(
      'INVALID_MODEL',
      `${opType}-${sinceVersion} reduction '${s}' is not supported (allowed: ${allowed.join(', ')})`,
    );
  }
  return s as Reduction;
}

/** The combine function of a scatter reduction for `type` (undefined for 'none'). */
function reductionFn(r: Reduction, type: TensorType): ((a: any, b: any) => any) | undefined {
  if (r === 'none') return undefined;
  const c = dtypeInfo(type).numericClass;
  if (c === 'string' || c === 'complex') {
    throw new OnyxError('TYPE_MISMATCH', `reduction '${r}' is not defined for ${type} tensors`);
  }
  const isBool = type === 'bool';
  switch (r) {
    case 'add':
      return isBool ? (a: number, b: number) => (a || b ? 1 : 0) : (a: any, b: any) => a + b;
    case 'mul':
      if (isBool) return (a: number, b: number) => (a && b ? 1 : 0);
      return c === 'int' ? (a: number, b: number) => Math.imul(a, b) : (a: any, b: any) => a * b;
    case 'max':
      return (a: any, b: any) => (b > a || b !== b ? b : a);
    case 'min':
      return (a: any, b: any) => (b < a || b !== b ? b : a);
  }
}

// ---------------------------------------------------------------------------------------------------
// Gather family

export function gather(data: Tensor, indices: Tensor, axisAttr: number): Tensor {
  const rank = data.dims.length;
  if (rank === 0) throw new OnyxError('INVALID_ARGUMENT', 'Gather data must have rank ≥ 1, got a scalar');
  const axis = normalizeAxis(axisAttr, rank);
  const dim = data.dims[axis];
  const idx = indexValues(indices, 'Gather indices');
  for (let j = 0; j < idx.length; j++) idx[j] = checkIndex(idx[j], dim, 'Gather index');
  const outDims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const outer = shapeSize(data.dims.slice(0, axis));
  const inner = shapeSize(data.dims.slice(axis + 1)) * lanesOf(data.type);
  // Every element is written below: no zero fill.
  const out = allocData(data.type, shapeSize(outDims), false);
  const src = data.data;
  const m = idx.length;
  for (let o = 0; o < outer; o++) {
    // Runs of consecutive indices (positions 0, 1, 2, … into an embedding table) in one copy each.
    for (let j = 0, end = 1; j < m; j = end, end = j + 1) {
      while (end < m && idx[end] === idx[end - 1] + 1) end++;
      copyBlock(out, (o * m + j) * inner, src, (o * dim + idx[j]) * inner, (end - j) * inner);
    }
  }
  return new Tensor(data.type, out, outDims);
}

function checkSameRank(a: Tensor, b: Tensor, what: string): void {
  if (a.dims.length !== b.dims.length) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${what}: indices must have the data's rank ${a.dims.length}, got dims ${dimsStr(b.dims)}`,
    );
  }
}

/** The normalized axis of GatherElements/ScatterElements; off it, indices may not exceed data. */
function elementsAxis(data: Tensor, indices: Tensor, axisAttr: number, what: string): number {
  const rank = data.dims.length;
  const axis = normalizeAxis(axisAttr, rank);
  for (let d = 0; d < rank; d++) {
    if (d !== axis && indices.dims[d] > data.dims[d]) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `${what}: indices dims ${dimsStr(indices.dims)} exceed data dims ${dimsStr(data.dims)} on axis ${d}`,
      );
    }
  }
  return axis;
}

function gatherElements(data: Tensor, indices: Tensor, axisAttr: number): Tensor {
  checkSameRank(data, indices, 'GatherElements');
  const axis = elementsAxis(data, indices, axisAttr, 'GatherElements');
  const strides = stridesOf(data.dims);
  const axisStride = strides[axis];
  const dim = data.dims[axis];
  const base = stridedOffsets(
    indices.dims,
    strides.map((s, d) => (d === axis ? 0 : s)),
  );
  const idx = indexValues(indices, 'GatherElements indices');
  const lanes = lanesOf(data.type);
  const out = allocData(data.type, idx.length) as Store;
  const src = data.data as Store;
  for (let i = 0; i < idx.length; i++) {
    const off = (base[i] + checkIndex(idx[i], dim, 'GatherElements index') * axisStride) * lanes;
    for (let l = 0; l < lanes; l++) out[i * lanes + l] = src[off + l];
  }
  return new Tensor(data.type, out as TensorData, indices.dims);
}

function gatherND(data: Tensor, indices: Tensor, batchDims: number): Tensor {
  const r = data.dims.length;
  const q = indices.dims.length;
  if (q < 1) throw new OnyxError('INVALID_ARGUMENT', 'GatherND indices must have rank ≥ 1');
  const k = indices.dims[q - 1];
  if (batchDims < 0 || batchDims >= Math.min(q, r)) {
    throw new OnyxError(
      'INVALID_MODEL',
      `GatherND batch_dims ${batchDims} must be in [0, min(rank(data), rank(indices))) = [0, ${Math.min(q, r)})`,
    );
  }
  for (let d = 0; d < batchDims; d++) {
    if (data.dims[d] !== indices.dims[d]) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `GatherND: the first ${batchDims} (batch) dims of data ${dimsStr(data.dims)} and indices ${dimsStr(indices.dims)} must match`,
      );
    }
  }
  if (k < 1 || k > r - batchDims) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `GatherND: the last dim of indices (${k}) must be in [1, ${r - batchDims}] for data of rank ${r} and batch_dims ${batchDims}`,
    );
  }
  const outDims = [...indices.dims.slice(0, q - 1), ...data.dims.slice(batchDims + k)];
  const strides = stridesOf(data.dims);
  const lanes = lanesOf(data.type);
  const slice = shapeSize(data.dims.slice(batchDims + k)) * lanes;
  const batches = shapeSize(data.dims.slice(0, batchDims));
  const batchStride = batchDims > 0 ? strides[batchDims - 1] : 0;
  const perBatch = shapeSize(indices.dims.slice(batchDims, q - 1));
  const idx = indexValues(indices, 'GatherND indices');
  const out = allocData(data.type, shapeSize(outDims));
  let t = 0;
  for (let b = 0; b < batches; b++) {
    for (let j = 0; j < perBatch; j++, t++) {
      let off = b * batchStride;
      for (let e = 0; e < k; e++) {
        const d = batchDims + e;
        off += checkIndex(idx[t * k + e], data.dims[d], `GatherND index (axis ${d})`) * strides[d];
      }
      copyBlock(out, t * slice, data.data, off * lanes, slice);
    }
  }
  return new Tensor(data.type, out, outDims);
}

// ---------------------------------------------------------------------------------------------------
// Scatter family

function scatterElements(
  data: Tensor,
  indices: Tensor,
  updates: Tensor,
  axisAttr: number,
  reduction: Reduction,
  opType: string,
): Tensor {
  checkSameRank(data, indices, opType);
  if (updates.type !== data.type) {
    throw new OnyxError('TYPE_MISMATCH', `${opType}: updates are ${updates.type} but data is ${data.type}`);
  }
  if (updates.dims.length !== indices.dims.length || updates.dims.some((d, i) => d !== indices.dims[i])) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${opType}: updates dims ${dimsStr(updates.dims)} must equal indices dims ${dimsStr(indices.dims)}`,
    );
  }
  const axis = elementsAxis(data, indices, axisAttr, opType);
  const strides = stridesOf(data.dims);
  const dim = data.dims[axis];
  const base = stridedOffsets(
    indices.dims,
    strides.map((s, d) => (d === axis ? 0 : s)),
  );
  const idx = indexValues(indices, `${opType} indices`);
  const target = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++)
    target[i] = base[i] + checkIndex(idx[i], dim, `${opType} index`) * strides[axis];
  const fn = reductionFn(reduction, data.type);
  if (!fn) {
    const lanes = lanesOf(data.type);
    const out = cloneData(data) as Store;
    const upd = updates.data as Store;
    for (let i = 0; i < idx.length; i++) {
      for (let l = 0; l < lanes; l++) out[target[i] * lanes + l] = upd[i * lanes + l];
    }
    return new Tensor(data.type, out as TensorData, data.dims);
  }
  const out = workingCopy(data);
  const upd = workingView(updates);
  for (let i = 0; i < idx.length; i++) out[target[i]] = fn(out[target[i]], upd[i]);
  return fromWorking(data.type, out, data.dims);
}

function scatterND(data: Tensor, indices: Tensor, updates: Tensor, reduction: Reduction): Tensor {
  const r = data.dims.length;
  const q = indices.dims.length;
  if (q < 1) throw new OnyxError('INVALID_ARGUMENT', 'ScatterND indices must have rank ≥ 1');
  const k = indices.dims[q - 1];
  if (k < 1 || k > r) {
    throw new OnyxError('SHAPE_MISMATCH', `ScatterND: the last dim of indices (${k}) must be in [1, ${r}]`);
  }
  if (updates.type !== data.type) {
    throw new OnyxError('TYPE_MISMATCH', `ScatterND: updates are ${updates.type} but data is ${data.type}`);
  }
  const wantUpd = [...indices.dims.slice(0, q - 1), ...data.dims.slice(k)];
  if (updates.dims.length !== wantUpd.length || updates.dims.some((d, i) => d !== wantUpd[i])) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `ScatterND: updates dims ${dimsStr(updates.dims)} must be ${dimsStr(wantUpd)} (indices.shape[:-1] + data.shape[k:])`,
    );
  }
  const strides = stridesOf(data.dims);
  const slice = shapeSize(data.dims.slice(k));
  const m = shapeSize(indices.dims.slice(0, q - 1));
  const idx = indexValues(indices, 'ScatterND indices');
  const offsets = new Int32Array(m);
  for (let t = 0; t < m; t++) {
    let off = 0;
    for (let e = 0; e < k; e++)
      off += checkIndex(idx[t * k + e], data.dims[e], `ScatterND index (axis ${e})`) * strides[e];
    offsets[t] = off;
  }
  const fn = reductionFn(reduction, data.type);
  if (!fn) {
    const lanes = lanesOf(data.type);
    const out = cloneData(data);
    for (let t = 0; t < m; t++)
      copyBlock(out, offsets[t] * lanes, updates.data, t * slice * lanes, slice * lanes);
    return new Tensor(data.type, out, data.dims);
  }
  const out = workingCopy(data);
  const upd = workingView(updates);
  for (let t = 0; t < m; t++) {
    const o = offsets[t];
    const u = t * slice;
    for (let i = 0; i < slice; i++) out[o + i] = fn(out[o + i], upd[u + i]);
  }
  return fromWorking(data.type, out, data.dims);
}

function tensorScatter(
  past: Tensor,
  update: Tensor,
  writeIndices: Tensor | undefined,
  axisAttr: number,
  circular: boolean,
): Tensor {
  const rank = past.dims.length;
  if (rank < 2)
    throw new OnyxError('INVALID_ARGUMENT', `TensorScatter past_cache must have rank ≥ 2, got ${rank}`);
  const axis = normalizeAxis(axisAttr, rank);
  if (axis === 0) throw new OnyxError('INVALID_MODEL', 'TensorScatter axis cannot be 0 (the batch axis)');
  if (update.type !== past.type) {
    throw new OnyxError(
      'TYPE_MISMATCH',
      `TensorScatter: update is ${update.type} but past_cache is ${past.type}`,
    );
  }
  if (update.dims.length !== rank || update.dims.some((d, i) => i !== axis && d !== past.dims[i])) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `TensorScatter: update dims ${dimsStr(update.dims)} must equal past_cache dims ${dimsStr(past.dims)} except on axis ${axis}`,
    );
  }
  const batch = past.dims[0];
  const maxSeq = past.dims[axis];
  const seq = update.dims[axis];
  if (seq > maxSeq) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `TensorScatter: update sequence length ${seq} exceeds the cache's ${maxSeq} on axis ${axis}`,
    );
  }
  let starts: number[];
  if (writeIndices) {
    starts = indexValues(writeIndices, 'TensorScatter write_indices');
    if (starts.length !== batch) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `TensorScatter write_indices must hold one index per batch (${batch}), got dims ${dimsStr(writeIndices.dims)}`,
      );
    }
  } else {
    starts = new Array<number>(batch).fill(0);
  }
  const lanes = lanesOf(past.type);
  const between = shapeSize(past.dims.slice(1, axis));
  const inner = shapeSize(past.dims.slice(axis + 1)) * lanes;
  const out = cloneData(past);
  for (let b = 0; b < batch; b++) {
    const s = starts[b];
    if (s < 0 || s >= maxSeq || (!circular && s + seq > maxSeq)) {
      throw new OnyxError(
        'INVALID_ARGUMENT',
        circular
          ? `TensorScatter write_indices[${b}] = ${s} must be in [0, ${maxSeq})`
          : `TensorScatter write_indices[${b}] = ${s} plus the update length ${seq} exceeds the cache length ${maxSeq} (linear mode)`,
      );
    }
    for (let p = 0; p < between; p++) {
      const row = b * between + p;
      for (let j = 0; j < seq; j++) {
        const pos = circular ? (s + j) % maxSeq : s + j;
        copyBlock(out, (row * maxSeq + pos) * inner, update.data, (row * seq + j) * inner, inner);
      }
    }
  }
  return new Tensor(past.type, out, past.dims);
}

// ---------------------------------------------------------------------------------------------------
// Selection

function compress(input: Tensor, condition: Tensor, axisAttr: number | undefined): Tensor {
  if (condition.dims.length !== 1) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `Compress condition must be 1-D, got dims ${dimsStr(condition.dims)}`,
    );
  }
  const cond = numbersOf(condition);
  const flat = axisAttr === undefined;
  const dims = flat ? [input.size] : input.dims;
  const axis = flat ? 0 : normalizeAxis(axisAttr, dims.length);
  const dim = dims[axis];
  for (let i = dim; i < cond.length; i++) {
    if (cond[i]) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `Compress condition selects index ${i}, beyond the axis length ${dim}`,
      );
    }
  }
  const picked: number[] = [];
  for (let i = 0; i < Math.min(dim, cond.length); i++) if (cond[i]) picked.push(i);
  const outDims = dims.slice();
  outDims[axis] = picked.length;
  const outer = shapeSize(dims.slice(0, axis));
  const inner = shapeSize(dims.slice(axis + 1)) * lanesOf(input.type);
  const out = allocData(input.type, shapeSize(outDims));
  const m = picked.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++)
      copyBlock(out, (o * m + j) * inner, input.data, (o * dim + picked[j]) * inner, inner);
  }
  return new Tensor(input.type, out, outDims);
}

/** Per element: is it non-zero (strings: non-empty; complex: either part non-zero). */
function nonZeroMask(x: Tensor): (i: number) => boolean {
  const c = dtypeInfo(x.type).numericClass;
  if (c === 'string') {
    const s = x.data as string[];
    return (i) => s[i] !== '';
  }
  if (c === 'bigint') {
    const b = x.data as BigInt64Array;
    return (i) => b[i] !== 0n;
  }
  if (c === 'complex') {
    const z = x.data as Float32Array;
    return (i) => z[2 * i] !== 0 || z[2 * i + 1] !== 0;
  }
  const v = numbersOf(x);
  return (i) => v[i] !== 0;
}

function nonZero(x: Tensor): Tensor {
  // A scalar is treated as a 1-D tensor of one element (onnxruntime's behaviour).
  const dims = x.dims.length === 0 ? [1] : x.dims;
  const rank = dims.length;
  const isNz = nonZeroMask(x);
  const hits: number[] = [];
  for (let i = 0; i < x.size; i++) if (isNz(i)) hits.push(i);
  const n = hits.length;
  const out = new BigInt64Array(rank * n);
  const strides = stridesOf(dims);
  for (let j = 0; j < n; j++) {
    let rem = hits[j];
    for (let d = 0; d < rank; d++) {
      const q = Math.floor(rem / strides[d]);
      rem -= q * strides[d];
      out[d * n + j] = BigInt(q);
    }
  }
  return new Tensor('int64', out, [rank, n]);
}

function oneHot(indices: Tensor, depthT: Tensor, values: Tensor, axisAttr: number): Tensor {
  const depthV = scalarOf(depthT, 'OneHot depth');
  const depth = Math.trunc(depthV);
  if (!(depth >= 1))
    throw new OnyxError('INVALID_ARGUMENT', `OneHot depth must be a positive number, got ${depthV}`);
  if (values.size !== 2) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `OneHot values must hold two elements [off_value, on_value], got dims ${dimsStr(values.dims)}`,
    );
  }
  const rank = indices.dims.length + 1;
  const axis = normalizeAxis(axisAttr, rank);
  const outDims = [...indices.dims.slice(0, axis), depth, ...indices.dims.slice(axis)];
  const outer = shapeSize(indices.dims.slice(0, axis));
  const inner = shapeSize(indices.dims.slice(axis));
  const lanes = lanesOf(values.type);
  const n = shapeSize(outDims);
  const out = allocData(values.type, n) as Store;
  const v = values.data as Store;
  for (let i = 0; i < n; i++) for (let l = 0; l < lanes; l++) out[i * lanes + l] = v[l];
  const idx = dtypeInfo(indices.type).numericClass === 'bigint' ? intsOf(indices) : numbersOf(indices);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let k = Math.trunc(idx[o * inner + i]);
      if (k < 0) k += depth;
      if (!(k >= 0 && k < depth)) continue; // out of range: the row stays off_value
      const pos = (o * depth + k) * inner + i;
      for (let l = 0; l < lanes; l++) out[pos * lanes + l] = v[lanes + l];
    }
  }
  return new Tensor(values.type, out as TensorData, outDims);
}

// ---------------------------------------------------------------------------------------------------
// Cumulative ops

function cumulative(
  x: Tensor,
  axisT: Tensor,
  exclusive: boolean,
  reverse: boolean,
  product: boolean,
  opType: string,
): Tensor {
  const c = dtypeInfo(x.type).numericClass;
  if (c === 'string' || c === 'complex' || x.type === 'bool') {
    throw new OnyxError('TYPE_MISMATCH', `${opType} does not support ${x.type} tensors`);
  }
  if (axisT.size !== 1) {
    throw new OnyxError('SHAPE_MISMATCH', `${opType} axis must be a scalar, got dims ${dimsStr(axisT.dims)}`);
  }
  const rank = x.dims.length;
  if (rank === 0) throw new OnyxError('INVALID_ARGUMENT', `${opType} input must have rank ≥ 1`);
  const axis = normalizeAxis(indexValues(axisT, `${opType} axis`)[0], rank);
  const dim = x.dims[axis];
  const outer = shapeSize(x.dims.slice(0, axis));
  const inner = shapeSize(x.dims.slice(axis + 1));
  const src = workingView(x);
  const minifloat = isMinifloat(x.type);
  // The accumulator lives in a one-element array of the computation type, so every step rounds
  // (float32) or wraps (integers) exactly as the output storage does.
  const out = (minifloat ? new Float32Array(x.size) : allocData(x.type, x.size)) as Store;
  const acc = (minifloat ? new Float32Array(1) : allocData(x.type, 1)) as Store;
  const big = c === 'bigint';
  const identity = product ? (big ? 1n : 1) : big ? 0n : 0;
  const op: (a: any, b: any) => any = product
    ? c === 'int'
      ? (a: number, b: number) => Math.imul(a, b)
      : (a: any, b: any) => a * b
    : (a: any, b: any) => a + b;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      acc[0] = identity;
      for (let s = 0; s < dim; s++) {
        const pos = base + (reverse ? dim - 1 - s : s) * inner;
        if (exclusive) {
          out[pos] = acc[0];
          acc[0] = op(acc[0], src[pos]);
        } else {
          acc[0] = op(acc[0], src[pos]);
          out[pos] = acc[0];
        }
      }
    }
  }
  return fromWorking(x.type, out, x.dims);
}

// ---------------------------------------------------------------------------------------------------
// Ordering: TopK, ArgMax/ArgMin, Unique

/** Elements in comparable form: numbers (minifloats decoded), bigints, strings. */
function comparable(x: Tensor, opType: string): Store {
  const c = dtypeInfo(x.type).numericClass;
  if (c === 'complex') throw new OnyxError('TYPE_MISMATCH', `${opType} does not support ${x.type} tensors`);
  if (c === 'minifloat') return numbersOf(x);
  return x.data as Store;
}

/** a > b, with NaN greater than every number (NaN sorts last ascending, first descending). */
function greater(a: any, b: any): boolean {
  return a > b || (a !== a && b === b);
}

function topK(x: Tensor, k: number, axisAttr: number, largest: boolean): [Tensor, Tensor] {
  const rank = x.dims.length;
  if (rank === 0) throw new OnyxError('INVALID_ARGUMENT', 'TopK input must have rank ≥ 1');
  const axis = normalizeAxis(axisAttr, rank);
  const dim = x.dims[axis];
  if (!Number.isInteger(k) || k < 0 || k > dim) {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      `TopK k = ${k} must be in [0, ${dim}] (the size of axis ${axis})`,
    );
  }
  const outDims = x.dims.slice();
  outDims[axis] = k;
  const outer = shapeSize(x.dims.slice(0, axis));
  const inner = shapeSize(x.dims.slice(axis + 1));
  const vals = comparable(x, 'TopK');
  const raw = x.data as Store;
  const lanes = lanesOf(x.type);
  const outV = allocData(x.type, shapeSize(outDims)) as Store;
  const outI = new BigInt64Array(shapeSize(outDims));
  const order = new Array<number>(dim);
  const sign = largest ? -1 : 1;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      for (let j = 0; j < dim; j++) order[j] = j;
      // Stable: equal values keep the lower index first.
      order.sort((p, q) => {
        const a = vals[base + p * inner];
        const b = vals[base + q * inner];
        if (greater(a, b)) return sign;
        if (greater(b, a)) return -sign;
        return p - q;
      });
      const obase = o * k * inner + i;
      for (let j = 0; j < k; j++) {
        const src = base + order[j] * inner;
        const dst = obase + j * inner;
        for (let l = 0; l < lanes; l++) outV[dst * lanes + l] = raw[src * lanes + l];
        outI[dst] = BigInt(order[j]);
      }
    }
  }
  return [new Tensor(x.type, outV as TensorData, outDims), new Tensor('int64', outI, outDims)];
}

function argExtreme(
  x: Tensor,
  axisAttr: number,
  keepdims: boolean,
  lastIndex: boolean,
  max: boolean,
): Tensor {
  const rank = x.dims.length;
  if (rank === 0)
    throw new OnyxError('INVALID_ARGUMENT', `${max ? 'ArgMax' : 'ArgMin'} input must have rank ≥ 1`);
  const axis = normalizeAxis(axisAttr, rank);
  const dim = x.dims[axis];
  if (dim === 0) {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      `${max ? 'ArgMax' : 'ArgMin'} over an empty axis ${axis} has no result`,
    );
  }
  const outer = shapeSize(x.dims.slice(0, axis));
  const inner = shapeSize(x.dims.slice(axis + 1));
  const vals = comparable(x, max ? 'ArgMax' : 'ArgMin');
  const out = new BigInt64Array(outer * inner);
  // `better(a, b)`: a strictly beats b; NaN beats everything (numpy's argmax/argmin).
  const better = max ? greater : (a: any, b: any) => a < b || (a !== a && b === b);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      let best = 0;
      let bv = vals[base];
      for (let j = 1; j < dim; j++) {
        const v = vals[base + j * inner];
        if (better(v, bv) || (lastIndex && !better(bv, v))) {
          best = j;
          bv = v;
        }
      }
      out[o * inner + i] = BigInt(best);
    }
  }
  const outDims = keepdims ? x.dims.map((d, i) => (i === axis ? 1 : d)) : x.dims.filter((_, i) => i !== axis);
  return new Tensor('int64', out, outDims);
}

/** Ascending comparison of elements (numbers with NaN last, bigints, strings). */
function compareElements(a: any, b: any): number {
  if (greater(a, b)) return 1;
  if (greater(b, a)) return -1;
  return 0;
}

function unique(x: Tensor, sorted: boolean, axisAttr: number | undefined): Tensor[] {
  const vals = comparable(x, 'Unique');
  const lanes = lanesOf(x.type);
  const flat = axisAttr === undefined;
  const dims = flat ? [x.size] : x.dims;
  const axis = flat ? 0 : normalizeAxis(axisAttr, dims.length);
  const dim = dims[axis];
  const outer = shapeSize(dims.slice(0, axis));
  const inner = shapeSize(dims.slice(axis + 1));
  // Slice s along the axis: elements (o·dim + s)·inner + i.
  const sliceKey = (s: number): unknown => {
    if (flat) return vals[s];
    const parts: string[] = [];
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const v = vals[(o * dim + s) * inner + i];
        parts.push(typeof v === 'string' ? JSON.stringify(v) : String(v === 0 ? 0 : v));
      }
    }
    return parts.join(',');
  };
  const ids = new Map<unknown, number>();
  const first: number[] = [];
  const counts: number[] = [];
  const inverse = new Array<number>(dim);
  for (let s = 0; s < dim; s++) {
    const key = sliceKey(s);
    let u = ids.get(key);
    if (u === undefined) {
      u = first.length;
      ids.set(key, u);
      first.push(s);
      counts.push(0);
    }
    counts[u]++;
    inverse[s] = u;
  }
  const U = first.length;
  const perm = Array.from({ length: U }, (_, i) => i);
  if (sorted) {
    perm.sort((p, q) => {
      const a = first[p];
      const b = first[q];
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const c = compareElements(vals[(o * dim + a) * inner + i], vals[(o * dim + b) * inner + i]);
          if (c !== 0) return c;
        }
      }
      return 0;
    });
  }
  const rankOf = new Array<number>(U);
  perm.forEach((u, p) => (rankOf[u] = p));
  const yDims = dims.slice();
  yDims[axis] = U;
  const y = allocData(x.type, shapeSize(yDims));
  const blk = inner * lanes;
  for (let o = 0; o < outer; o++) {
    for (let p = 0; p < U; p++)
      copyBlock(y, (o * U + p) * blk, x.data, (o * dim + first[perm[p]]) * blk, blk);
  }
  const i64 = (a: ArrayLike<number>) =>
    new Tensor(
      'int64',
      BigInt64Array.from(a as number[], (v) => BigInt(v)),
      [a.length],
    );
  return [
    new Tensor(x.type, y, yDims),
    i64(perm.map((u) => first[u])),
    i64(inverse.map((u) => rankOf[u])),
    i64(perm.map((u) => counts[u])),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Op definitions

function input(inputs: readonly unknown[], i: number, what: string): Tensor {
  return tensorInput(inputs[i] as Tensor | undefined, what);
}

function optionalInput(inputs: readonly unknown[], i: number): Tensor | undefined {
  const v = inputs[i];
  return v === undefined || v === null ? undefined : tensorInput(v as Tensor, `input ${i}`);
}

function scatterElementsOp(opType: string, versions: number[]): OpDef {
  return {
    opType,
    versions,
    build(node) {
      const axis = node.attrs.int('axis', 0);
      const reduction = parseReduction(node.attrs.string('reduction', 'none'), opType, node.sinceVersion);
      return (inputs) => [
        scatterElements(
          input(inputs, 0, `${opType} data`),
          input(inputs, 1, `${opType} indices`),
          input(inputs, 2, `${opType} updates`),
          axis,
          reduction,
          opType,
        ),
      ];
    },
  };
}

function argOp(opType: 'ArgMax' | 'ArgMin'): OpDef {
  return {
    opType,
    versions: [1, 11, 12, 13],
    build(node) {
      const axis = node.attrs.int('axis', 0);
      const keepdims = node.attrs.int('keepdims', 1) !== 0;
      const last = node.sinceVersion >= 12 && node.attrs.int('select_last_index', 0) !== 0;
      return (inputs) => [
        argExtreme(input(inputs, 0, `${opType} data`), axis, keepdims, last, opType === 'ArgMax'),
      ];
    },
  };
}

function cumulativeOp(opType: 'CumSum' | 'CumProd', versions: number[]): OpDef {
  return {
    opType,
    versions,
    build(node) {
      const exclusive = node.attrs.int('exclusive', 0) !== 0;
      const reverse = node.attrs.int('reverse', 0) !== 0;
      return (inputs) => [
        cumulative(
          input(inputs, 0, `${opType} x`),
          input(inputs, 1, `${opType} axis`),
          exclusive,
          reverse,
          opType === 'CumProd',
          opType,
        ),
      ];
    },
  };
}

export const ops: OpDef[] = [
  {
    opType: 'Gather',
    versions: [1, 11, 13],
    build(node) {
      const axis = node.attrs.int('axis', 0);
      return (inputs) => [gather(input(inputs, 0, 'Gather data'), input(inputs, 1, 'Gather indices'), axis)];
    },
  },
  {
    opType: 'GatherElements',
    versions: [11, 13],
    build(node) {
      const axis = node.attrs.int('axis', 0);
      return (inputs) => [
        gatherElements(
          input(inputs, 0, 'GatherElements data'),
          input(inputs, 1, 'GatherElements indices'),
          axis,
        ),
      ];
    },
  },
  {
    opType: 'GatherND',
    versions: [11, 12, 13],
    build(node) {
      const batchDims = node.sinceVersion >= 12 ? node.attrs.int('batch_dims', 0) : 0;
      return (inputs) => [
        gatherND(input(inputs, 0, 'GatherND data'), input(inputs, 1, 'GatherND indices'), batchDims),
      ];
    },
  },
  scatterElementsOp('Scatter', [9, 11]),
  scatterElementsOp('ScatterElements', [11, 13, 16, 18]),
  {
    opType: 'ScatterND',
    versions: [11, 13, 16, 18],
    build(node) {
      const reduction = parseReduction(
        node.attrs.string('reduction', 'none'),
        'ScatterND',
        node.sinceVersion,
      );
      return (inputs) => [
        scatterND(
          input(inputs, 0, 'ScatterND data'),
          input(inputs, 1, 'ScatterND indices'),
          input(inputs, 2, 'ScatterND updates'),
          reduction,
        ),
      ];
    },
  },
  {
    opType: 'TensorScatter',
    versions: [24],
    build(node) {
      const axis = node.attrs.int('axis', -2);
      const mode = node.attrs.string('mode', 'linear');
      if (mode !== 'linear' && mode !== 'circular') {
        throw new OnyxError('INVALID_MODEL', `TensorScatter mode '${mode}' is not 'linear' or 'circular'`);
      }
      return (inputs) => [
        tensorScatter(
          input(inputs, 0, 'TensorScatter past_cache'),
          input(inputs, 1, 'TensorScatter update'),
          optionalInput(inputs, 2),
          axis,
          mode === 'circular',
        ),
      ];
    },
  },
  {
    opType: 'Compress',
    versions: [9, 11],
    build(node) {
      const axis = node.attrs.has('axis') ? node.attrs.int('axis') : undefined;
      return (inputs) => [
        compress(input(inputs, 0, 'Compress input'), input(inputs, 1, 'Compress condition'), axis),
      ];
    },
  },
  {
    opType: 'NonZero',
    versions: [9, 13],
    build() {
      return (inputs) => [nonZero(input(inputs, 0, 'NonZero X'))];
    },
  },
  {
    opType: 'OneHot',
    versions: [9, 11],
    build(node) {
      const axis = node.attrs.int('axis', -1);
      return (inputs) => [
        oneHot(
          input(inputs, 0, 'OneHot indices'),
          input(inputs, 1, 'OneHot depth'),
          input(inputs, 2, 'OneHot values'),
          axis,
        ),
      ];
    },
  },
  cumulativeOp('CumSum', [11, 14]),
  cumulativeOp('CumProd', [26]),
  {
    opType: 'TopK',
    versions: [1, 10, 11, 24],
    build(node) {
      const axis = node.attrs.int('axis', -1);
      const largest = node.sinceVersion >= 11 ? node.attrs.int('largest', 1) !== 0 : true;
      const kAttr = node.sinceVersion < 10 ? node.attrs.int('k') : undefined;
      return (inputs) => {
        const x = input(inputs, 0, 'TopK X');
        let k = kAttr;
        if (k === undefined) {
          const kt = input(inputs, 1, 'TopK K');
          if (kt.size !== 1) {
            throw new OnyxError('SHAPE_MISMATCH', `TopK K must hold one value, got dims ${dimsStr(kt.dims)}`);
          }
          k = indexValues(kt, 'TopK K')[0];
        }
        return topK(x, k, axis, largest);
      };
    },
  },
  argOp('ArgMax'),
  argOp('ArgMin'),
  {
    opType: 'Unique',
    versions: [11],
    build(node) {
      const sorted = node.attrs.int('sorted', 1) !== 0;
      const axis = node.attrs.has('axis') ? node.attrs.int('axis') : undefined;
      return (inputs) => unique(input(inputs, 0, 'Unique X'), sorted, axis);
    },
  },
];
