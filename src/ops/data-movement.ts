/**
 * Data-movement ops: Transpose, Concat, Split, Slice, Tile, Pad, DepthToSpace, SpaceToDepth,
 * ReverseSequence, Trilu, EyeLike, CenterCropPad.
 *
 * Every op here only moves elements, so each is written once for all element types: it computes a
 * strided view (dims, strides, offsets) and hands it to `stridedCopy` (or `axisGather` for Pad's
 * reflect/edge/wrap index maps). Complex types move as two lanes per element.
 */
import {
  allocData,
  dtypeFromCode,
  dtypeInfo,
  type TensorData,
  type TensorType,
  type TypedArray,
} from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { encodeMinifloats, isMinifloat } from '../core/float-formats.js';
import { shapeSize, Tensor, type Dims } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { OpDef, RunContext } from './kernel.js';
import { axesInput, normalizeAxes, normalizeAxis } from './util/axes.js';
import { stridesOf } from './util/broadcast.js';
import { fastFloat32, inWasmMemory, spermute } from './util/dispatch.js';
import { intsOf, scalarOf, tensorInput, fmt } from './util/numeric.js';
import { axisGather, copyElements, fillElements, stridedCopy } from './util/strided-copy.js';

function lanesOf(type: TensorType): number {
  return dtypeInfo(type).lanes;
}

function present(v: Value | undefined): boolean {
  return v !== undefined && v !== null;
}

/** One element of `type` holding `value` (0 → '' for strings; real part for complex). */
function elementOf(type: TensorType, value: number): TensorData {
  const info = dtypeInfo(type);
  if (info.numericClass === 'string') return [value === 0 ? '' : String(value)];
  if (isMinifloat(type)) return encodeMinifloats(type, [value]);
  const data = allocData(type, 1);
  if (info.numericClass === 'bigint') (data as BigInt64Array)[0] = BigInt(value);
  else (data as Float64Array)[0] = value;
  return data;
}

/** Copies `x` (viewed as contiguous `viewDims`) permuted by `perm` into a new tensor of `outDims`. */
function permuteView(
  x: Tensor,
  viewDims: Dims,
  perm: readonly number[],
  outDims: Dims,
  ctx: RunContext,
): Tensor {
  const viewStrides = stridesOf(viewDims);
  const dims = perm.map((p) => viewDims[p]);
  const out = ctx.alloc(x.type, outDims);
  stridedCopy(
    out.data,
    0,
    stridesOf(dims),
    x.data,
    0,
    perm.map((p) => viewStrides[p]),
    dims,
    lanesOf(x.type),
  );
  return out;
}

// ------------------------------------------------------------------------------------------------
// Transpose

/**
 * A permutation reduced to loops over output-order dims `n` with destination strides `ds` and
 * source strides `ss` (size-1 dims dropped, dims contiguous in both merged), plus the index `k` of
 * the dim that is contiguous in the source; the innermost output dim is strided in the source.
 */
export interface TiledTransposePlan {
  n: number[];
  ds: number[];
  ss: number[];
  k: number;
}

/**
 * Transpose of `dims` by `perm` as loops in output order: sizes `n`, destination strides `ds`, source
 * strides `ss` (elements), size-1 dims dropped and dims contiguous in both merged; undefined for an
 * empty tensor.
 */
export function permutePlan(
  dims: Dims,
  perm: readonly number[],
): { n: number[]; ds: number[]; ss: number[] } | undefined {
  const inStrides = stridesOf(dims);
  const outDims = perm.map((p) => dims[p]);
  const outStrides = stridesOf(outDims);
  let n: number[] = [];
  let ds: number[] = [];
  let ss: number[] = [];
  for (let i = 0; i < perm.length; i++) {
    const d = outDims[i];
    if (d === 0) return undefined;
    if (d === 1) continue;
    n.push(d);
    ds.push(outStrides[i]);
    ss.push(inStrides[perm[i]]);
  }
  for (let i = n.length - 2; i >= 0; i--) {
    if (ds[i] === ds[i + 1] * n[i + 1] && ss[i] === ss[i + 1] * n[i + 1]) {
      n[i] *= n[i + 1];
      ds[i] = ds[i + 1];
      ss[i] = ss[i + 1];
      n = [...n.slice(0, i + 1), ...n.slice(i + 2)];
      ds = [...ds.slice(0, i + 1), ...ds.slice(i + 2)];
      ss = [...ss.slice(0, i + 1), ...ss.slice(i + 2)];
    }
  }
  return { n, ds, ss };
}

/**
 * The plan for the float32 tiled transpose, or undefined where the generic strided copy is as good
 * (the innermost output run is contiguous in the source, or the tensor is empty).
 */
export function tiledTransposePlan(dims: Dims, perm: readonly number[]): TiledTransposePlan | undefined {
  const plan = permutePlan(dims, perm);
  if (!plan) return undefined;
  const { n, ds, ss } = plan;
  const r = n.length;
  if (r < 2 || ss[r - 1] === 1) return undefined;
  const k = ss.indexOf(1);
  if (k < 0) return undefined;
  return { n, ds, ss, k };
}

const TILE = 16;

/**
 * Copies `src` into `dst` along `plan`: the source-contiguous dim and the innermost output dim
 * are walked in TILE×TILE blocks (reads and writes both stay in a few cache lines), the other
 * dims by an odometer.
 */
export function tiledTranspose(dstF: Float32Array, srcF: Float32Array, plan: TiledTransposePlan): void {
  // Bit patterns move through 32-bit word views so NaN payloads pass through untouched.
  const dst = new Uint32Array(dstF.buffer, dstF.byteOffset, dstF.length);
  const src = new Uint32Array(srcF.buffer, srcF.byteOffset, srcF.length);
  const { n, ds, ss, k } = plan;
  const r = n.length;
  const j = r - 1;
  const nj = n[j];
  const nk = n[k];
  const sj = ss[j];
  const dk = ds[k];
  // Remaining dims, outermost first.
  const on: number[] = [];
  const ods: number[] = [];
  const oss: number[] = [];
  for (let i = 0; i < j; i++) {
    if (i === k) continue;
    on.push(n[i]);
    ods.push(ds[i]);
    oss.push(ss[i]);
  }
  const outer = on.length;
  const counter = new Array<number>(outer).fill(0);
  let d = 0;
  let s = 0;
  while (true) {
    for (let a0 = 0; a0 < nk; a0 += TILE) {
      const a1 = Math.min(a0 + TILE, nk);
      for (let b0 = 0; b0 < nj; b0 += TILE) {
        const b1 = Math.min(b0 + TILE, nj);
        for (let a = a0; a < a1; a++) {
          const dRow = d + a * dk;
          const sRow = s + a;
          for (let b = b0; b < b1; b++) dst[dRow + b] = src[sRow + b * sj];
        }
      }
    }
    let i = outer - 1;
    for (; i >= 0; i--) {
      counter[i]++;
      d += ods[i];
      s += oss[i];
      if (counter[i] < on[i]) break;
      d -= ods[i] * on[i];
      s -= oss[i] * on[i];
      counter[i] = 0;
    }
    if (i < 0) return;
  }
}

/** One-lane 4-byte element types (complex64's Float32Array holds two lanes per element). */
const FOUR_BYTE = new Set<TensorType>(['float32', 'int32', 'uint32']);

/** A float32 view of the storage of a 4-byte numeric typed array; undefined for other data. */
function asFloatWords(d: TensorData): Float32Array | undefined {
  if (d instanceof Float32Array) return d;
  if (d instanceof Int32Array || d instanceof Uint32Array)
    return new Float32Array(d.buffer, d.byteOffset, d.length);
  return undefined;
}

/** True when the axes of `dims` longer than 1 keep their order under `perm`. */
function keepsLayout(dims: Dims, perm: readonly number[]): boolean {
  let last = -1;
  for (const p of perm) {
    if (dims[p] === 1) continue;
    if (p < last) return false;
    last = p;
  }
  return true;
}

const transpose: OpDef = {
  opType: 'Transpose',
  versions: [1, 13, 21, 23, 24, 25],
  build(node) {
    const permAttr = node.attrs.has('perm') ? node.attrs.ints('perm') : undefined;
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'Transpose data');
      const r = x.dims.length;
      let perm: number[];
      if (permAttr === undefined) {
        perm = Array.from({ length: r }, (_, i) => r - 1 - i);
      } else {
        if (permAttr.length !== r) {
          throw new OnyxError(
            'INVALID_MODEL',
            `Transpose perm ${fmt(permAttr)} has ${permAttr.length} entries but the input ${fmt(x.dims)} has rank ${r}`,
          );
        }
        perm = normalizeAxes(permAttr, r, 'Transpose perm');
      }
      if (perm.every((p, i) => p === i)) return [x];
      const outDims = perm.map((p) => x.dims[p]);
      // Only axes of size 1 move (e.g. [S, 1, H] → [1, S, H] around an RNN): every element stays
      // where it was, so the output is the input's storage under new dims, as a Reshape's is.
      if (keepsLayout(x.dims, perm)) return [new Tensor(x.type, x.data, outDims)];
      const words = FOUR_BYTE.has(x.type) ? asFloatWords(x.data) : undefined;
      const plan = words && fastFloat32() ? permutePlan(x.dims, perm) : undefined;
      if (words && plan) {
        // 4-byte elements on the WASM kernels (a float view carries int32 bit for bit).
        const out = ctx.alloc(x.type, outDims, false);
        spermute(words, asFloatWords(out.data)!, plan);
        return [out];
      }
      if (x.type === 'float32' && x.data instanceof Float32Array) {
        const plan = tiledTransposePlan(x.dims, perm);
        if (plan) {
          const out = ctx.alloc(
            'float32',
            perm.map((p) => x.dims[p]),
          );
          tiledTranspose(out.data as Float32Array, x.data, plan);
          return [out];
        }
      }
      return [
        permuteView(
          x,
          x.dims,
          perm,
          perm.map((p) => x.dims[p]),
          ctx,
        ),
      ];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Concat

const concat: OpDef = {
  opType: 'Concat',
  // 1: axis optional (default 1); 4: axis required; 11: negative axis.
  versions: [1, 4, 11, 13],
  build(node) {
    const axis = node.sinceVersion < 4 ? node.attrs.int('axis', 1) : node.attrs.int('axis');
    return (inputs, ctx) => {
      const xs = inputs.filter(present).map((v, i) => tensorInput(v, `Concat input ${i}`));
      if (xs.length === 0) throw new OnyxError('INVALID_MODEL', 'Concat needs at least one input');
      const first = xs[0];
      const r = first.dims.length;
      if (r === 0) throw new OnyxError('SHAPE_MISMATCH', 'Concat cannot join scalars (rank 0)');
      const a = normalizeAxis(axis, r, 'Concat axis');
      let total = 0;
      for (const t of xs) {
        if (t.type !== first.type) {
          throw new OnyxError(
            'TYPE_MISMATCH',
            `Concat inputs must share one type, got ${first.type} and ${t.type}`,
          );
        }
        if (t.dims.length !== r || t.dims.some((d, k) => k !== a && d !== first.dims[k])) {
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `Concat on axis ${a}: input dims ${xs.map((q) => fmt(q.dims)).join(', ')} must agree on every other axis`,
          );
        }
        total += t.dims[a];
      }
      if (xs.length === 1) return [first];
      const dims = first.dims.slice();
      dims[a] = total;
      const out = ctx.alloc(first.type, dims, false); // the inputs' copies below fill it
      const outStrides = stridesOf(dims);
      const lanes = lanesOf(first.type);
      // Inputs and output of 4-byte elements in the WASM memory: each input is `outer` blocks of
      // its own, placed `total` axis steps apart, copied by the kernels (from the heap, a copy into
      // the memory first would cost what it saves).
      const words = FOUR_BYTE.has(first.type) ? asFloatWords(out.data) : undefined;
      const wasm = words !== undefined && inWasmMemory(words);
      const rest = outStrides[a];
      const outer = shapeSize(dims.slice(0, a));
      let offset = 0;
      for (const t of xs) {
        const src = wasm ? asFloatWords(t.data) : undefined;
        const block = t.dims[a] * rest;
        if (src && inWasmMemory(src)) {
          const plan = { n: [outer, block], ds: [total * rest, 1], ss: [block, 1] };
          if (block > 0 && outer > 0) spermute(src, words!.subarray(offset * rest), plan);
        } else {
          stridedCopy(out.data, offset * rest, outStrides, t.data, 0, stridesOf(t.dims), t.dims, lanes);
        }
        offset += t.dims[a];
      }
      return [out];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Split

/** Chunk sizes when no explicit split is given: ceil(dim / n) each, the last ones smaller. */
function chunkSizes(dim: number, n: number, allowUneven: boolean): number[] {
  if (!allowUneven && dim % n !== 0) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `Split cannot divide dim ${dim} into ${n} equal parts; give 'split' sizes (or use opset 18 num_outputs for an uneven last chunk)`,
    );
  }
  const chunk = Math.ceil(dim / n);
  const sizes: number[] = [];
  let left = dim;
  for (let i = 0; i < n; i++) {
    const s = Math.min(chunk, left);
    sizes.push(s);
    left -= s;
  }
  return sizes;
}

const split: OpDef = {
  opType: 'Split',
  // 1: split as attribute or 2nd input; 2: attribute; 11: negative axis; 13: split input;
  // 18: num_outputs with an uneven last chunk.
  versions: [1, 2, 11, 13, 18],
  build(node) {
    const v = node.sinceVersion;
    const axis = node.attrs.int('axis', 0);
    const splitAttr = v < 13 && node.attrs.has('split') ? node.attrs.ints('split') : undefined;
    const numOutputs = v >= 18 && node.attrs.has('num_outputs') ? node.attrs.int('num_outputs') : undefined;
    const n = node.outputCount;
    if (numOutputs !== undefined && numOutputs !== n) {
      throw new OnyxError('INVALID_MODEL', `Split num_outputs=${numOutputs} but the node has ${n} outputs`);
    }
    const splitFromInput = v === 1 || v >= 13;
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'Split input');
      const r = x.dims.length;
      const a = normalizeAxis(axis, r, 'Split axis');
      const dim = x.dims[a];
      let sizes: number[];
      const splitIn =
        splitFromInput && present(inputs[1]) ? intsOf(tensorInput(inputs[1], 'split'), 'split') : undefined;
      const given = splitAttr ?? splitIn;
      if (given !== undefined) {
        if (given.length !== n) {
          throw new OnyxError(
            'INVALID_MODEL',
            `Split sizes ${fmt(given)} must have one entry per output (${n})`,
          );
        }
        if (given.some((s) => s < 0) || given.reduce((p, s) => p + s, 0) !== dim) {
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `Split sizes ${fmt(given)} must be non-negative and sum to dim ${dim} of axis ${a} (input ${fmt(x.dims)})`,
          );
        }
        sizes = given;
      } else {
        sizes = chunkSizes(dim, n, v >= 18);
      }
      const inStrides = stridesOf(x.dims);
      const lanes = lanesOf(x.type);
      const outs: Tensor[] = [];
      let offset = 0;
      // Only size-1 dims before the axis: each output is a contiguous run of the input, handed out
      // as a view of its storage (counted with it, like a Reshape's), as a fused QKV is split.
      const contiguous = !Array.isArray(x.data) && x.dims.slice(0, a).every((d) => d === 1);
      for (const s of sizes) {
        const dims = x.dims.slice();
        dims[a] = s;
        if (contiguous) {
          const [from, to] = [offset * inStrides[a] * lanes, (offset + s) * inStrides[a] * lanes];
          outs.push(new Tensor(x.type, (x.data as TypedArray).subarray(from, to), dims));
          offset += s;
          continue;
        }
        const out = ctx.alloc(x.type, dims);
        stridedCopy(out.data, 0, stridesOf(dims), x.data, offset * inStrides[a], inStrides, dims, lanes);
        outs.push(out);
        offset += s;
      }
      return outs;
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Slice

/**
 * The strided view that Slice selects: output dims, the first element's offset and per-axis strides
 * (negative for negative steps). Starts/ends are clamped as the spec says; INT64_MAX/INT64_MIN arrive
 * clamped to ±2^53 by intsOf and behave as "to the end".
 */
export function sliceView(
  dims: Dims,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[] | undefined,
  steps: readonly number[] | undefined,
): { dims: number[]; offset: number; strides: number[] } {
  const r = dims.length;
  if (starts.length !== ends.length) {
    throw new OnyxError(
      'INVALID_MODEL',
      `Slice starts ${fmt(starts)} and ends ${fmt(ends)} differ in length`,
    );
  }
  const ax = axes === undefined ? starts.map((_, i) => i) : normalizeAxes(axes, r, 'Slice axes');
  if (ax.length !== starts.length) {
    throw new OnyxError('INVALID_MODEL', `Slice axes ${fmt(ax)} and starts ${fmt(starts)} differ in length`);
  }
  if (ax.some((a) => a >= r)) {
    throw new OnyxError('INVALID_MODEL', `Slice has ${starts.length} starts but the input has rank ${r}`);
  }
  if (steps !== undefined && steps.length !== starts.length) {
    throw new OnyxError(
      'INVALID_MODEL',
      `Slice steps ${fmt(steps)} and starts ${fmt(starts)} differ in length`,
    );
  }
  const inStrides = stridesOf(dims);
  const outDims = dims.slice();
  const strides = inStrides.slice();
  let offset = 0;
  for (let i = 0; i < ax.length; i++) {
    const a = ax[i];
    const d = dims[a];
    const step = steps === undefined ? 1 : steps[i];
    if (step === 0) throw new OnyxError('INVALID_MODEL', `Slice step for axis ${a} is 0`);
    let s = starts[i] < 0 ? starts[i] + d : starts[i];
    let e = ends[i] < 0 ? ends[i] + d : ends[i];
    let len: number;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      len = e > s ? Math.ceil((e - s) / step) : 0;
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      len = s > e ? Math.ceil((s - e) / -step) : 0;
    }
    outDims[a] = len;
    strides[a] = inStrides[a] * step;
    if (len > 0) offset += s * inStrides[a];
  }
  return { dims: outDims, offset, strides };
}

const slice: OpDef = {
  opType: 'Slice',
  // 1: starts/ends/axes attributes; 10: inputs and steps; 11: negative indices; 13: bfloat16.
  versions: [1, 10, 11, 13],
  build(node) {
    const attrForm = node.sinceVersion < 10;
    const aStarts = attrForm ? node.attrs.ints('starts') : undefined;
    const aEnds = attrForm ? node.attrs.ints('ends') : undefined;
    const aAxes = attrForm && node.attrs.has('axes') ? node.attrs.ints('axes') : undefined;
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'Slice data');
      let view;
      if (attrForm) {
        view = sliceView(x.dims, aStarts!, aEnds!, aAxes, undefined);
      } else {
        const starts = intsOf(tensorInput(inputs[1], 'Slice starts'), 'Slice starts');
        const ends = intsOf(tensorInput(inputs[2], 'Slice ends'), 'Slice ends');
        const axes = axesInput(inputs[3]);
        const steps = present(inputs[4])
          ? intsOf(tensorInput(inputs[4], 'Slice steps'), 'Slice steps')
          : undefined;
        view = sliceView(x.dims, starts, ends, axes, steps);
      }
      // A slice that keeps everything in order is the input itself.
      const unit = stridesOf(x.dims);
      if (
        view.offset === 0 &&
        view.dims.every((d, i) => d === x.dims[i] && (d <= 1 || view.strides[i] === unit[i]))
      ) {
        return [x];
      }
      const out = ctx.alloc(x.type, view.dims);
      stridedCopy(
        out.data,
        0,
        stridesOf(view.dims),
        x.data,
        view.offset,
        view.strides,
        view.dims,
        lanesOf(x.type),
      );
      return [out];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Tile

const tile: OpDef = {
  opType: 'Tile',
  // 1: (input, tiles, axis) scalars; 6: repeats per axis.
  versions: [1, 6, 13],
  build(node) {
    const legacy = node.sinceVersion < 6;
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'Tile input');
      const r = x.dims.length;
      let repeats: number[];
      if (legacy) {
        const tiles = scalarOf(tensorInput(inputs[1], 'Tile tiles'), 'Tile tiles');
        const axis = normalizeAxis(
          scalarOf(tensorInput(inputs[2], 'Tile axis'), 'Tile axis'),
          r,
          'Tile axis',
        );
        repeats = x.dims.map((_, i) => (i === axis ? tiles : 1));
      } else {
        repeats = intsOf(tensorInput(inputs[1], 'Tile repeats'), 'Tile repeats');
      }
      if (repeats.length !== r || repeats.some((q) => q < 0)) {
        throw new OnyxError(
          'INVALID_MODEL',
          `Tile repeats ${fmt(repeats)} must have one non-negative entry per input axis (input ${fmt(x.dims)})`,
        );
      }
      if (repeats.every((q) => q === 1)) return [x];
      const dims = x.dims.map((d, i) => d * repeats[i]);
      const out = ctx.alloc(x.type, dims);
      // View the output as [rep_0, d_0, rep_1, d_1, ...]: the rep axes read the input with stride 0.
      const outStrides = stridesOf(dims);
      const inStrides = stridesOf(x.dims);
      const vDims: number[] = [];
      const vDst: number[] = [];
      const vSrc: number[] = [];
      for (let i = 0; i < r; i++) {
        vDims.push(repeats[i], x.dims[i]);
        vDst.push(x.dims[i] * outStrides[i], outStrides[i]);
        vSrc.push(0, inStrides[i]);
      }
      stridedCopy(out.data, 0, vDst, x.data, 0, vSrc, vDims, lanesOf(x.type));
      return [out];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Pad

type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

/** Maps a position relative to the kept input range [0, n) to a position inside it. */
function padIndex(i: number, n: number, mode: PadMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'edge':
      return i < 0 ? 0 : n - 1;
    case 'wrap':
      return ((i % n) + n) % n;
    default: {
      // reflect (mirror without repeating the edge), periodic with period 2(n-1)
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      let m = ((i % period) + period) % period;
      if (m >= n) m = period - m;
      return m;
    }
  }
}

/**
 * Pads `x` with per-axis `begin`/`end` amounts (negative amounts crop). Non-constant modes read from
 * the input left after cropping, as onnxruntime does.
 */
export function padTensor(
  x: Tensor,
  begin: readonly number[],
  end: readonly number[],
  mode: PadMode,
  value: TensorData,
  ctx: RunContext,
): Tensor {
  const r = x.dims.length;
  const dims = x.dims.map((d, k) => d + begin[k] + end[k]);
  if (dims.some((d) => d < 0)) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `Pad amounts begin ${fmt(begin)} end ${fmt(end)} crop input ${fmt(x.dims)} below zero size`,
    );
  }
  const out = ctx.alloc(x.type, dims);
  const lanes = lanesOf(x.type);
  const inStrides = stridesOf(x.dims);
  const cropBegin = begin.map((b) => Math.max(0, -b));
  const kept = x.dims.map((d, k) => Math.max(0, d - cropBegin[k] - Math.max(0, -end[k])));
  if (mode === 'constant') {
    fillElements(out.data, 0, out.size, value, 0, lanes);
    const outStrides = stridesOf(dims);
    let dOff = 0;
    let sOff = 0;
    for (let k = 0; k < r; k++) {
      dOff += Math.max(0, begin[k]) * outStrides[k];
      sOff += cropBegin[k] * inStrides[k];
    }
    stridedCopy(out.data, dOff, outStrides, x.data, sOff, inStrides, kept, lanes);
    return out;
  }
  if (out.size === 0) return out;
  const tables = dims.map((n, k) => {
    if (kept[k] === 0) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `Pad mode '${mode}' cannot pad axis ${k}: no input elements remain on it (input ${fmt(x.dims)})`,
      );
    }
    const t = new Int32Array(n);
    const lead = Math.max(0, begin[k]);
    for (let o = 0; o < n; o++) t[o] = (cropBegin[k] + padIndex(o - lead, kept[k], mode)) * inStrides[k];
    return t;
  });
  axisGather(out.data, x.data, dims, tables, lanes);
  return out;
}

const pad: OpDef = {
  opType: 'Pad',
  // 1: `paddings`/`value` attributes; 2: `pads`; 11: pads and constant_value as inputs;
  // 13: bfloat16/string; 18: axes input; 19: wrap mode; later: element types.
  versions: [1, 2, 11, 13, 18, 19, 21, 23, 24, 25],
  build(node) {
    const v = node.sinceVersion;
    const mode = node.attrs.string('mode', 'constant') as PadMode;
    const modes: string[] =
      v >= 19 ? ['constant', 'reflect', 'edge', 'wrap'] : ['constant', 'reflect', 'edge'];
    if (!modes.includes(mode)) {
      throw new OnyxError(
        'INVALID_MODEL',
        `Pad mode '${mode}' is not one of ${modes.join(', ')} (opset ${node.opset})`,
      );
    }
    const attrPads = v < 11 ? node.attrs.ints(v < 2 ? 'paddings' : 'pads') : undefined;
    const attrValue = v < 11 ? node.attrs.float('value', 0) : undefined;
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'Pad data');
      const r = x.dims.length;
      const pads = attrPads ?? intsOf(tensorInput(inputs[1], 'Pad pads'), 'Pad pads');
      const axes = v >= 18 ? axesInput(inputs[3]) : undefined;
      const ax = axes === undefined ? x.dims.map((_, i) => i) : normalizeAxes(axes, r, 'Pad axes');
      if (pads.length !== 2 * ax.length) {
        throw new OnyxError(
          'INVALID_MODEL',
          `Pad pads ${fmt(pads)} must have 2 × ${ax.length} entries (begin values then end values) for input ${fmt(x.dims)}`,
        );
      }
      const begin = new Array<number>(r).fill(0);
      const end = new Array<number>(r).fill(0);
      ax.forEach((a, i) => {
        begin[a] = pads[i];
        end[a] = pads[i + ax.length];
      });
      let value: TensorData;
      if (attrValue !== undefined) {
        value = elementOf(x.type, attrValue);
      } else if (present(inputs[2])) {
        const c = tensorInput(inputs[2], 'Pad constant_value');
        if (c.type !== x.type) {
          throw new OnyxError('TYPE_MISMATCH', `Pad constant_value is ${c.type} but data is ${x.type}`);
        }
        if (c.size !== 1) {
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `Pad constant_value must hold one value, got dims ${fmt(c.dims)}`,
          );
        }
        value = c.data;
      } else {
        value = elementOf(x.type, 0);
      }
      if (begin.every((b) => b === 0) && end.every((e) => e === 0)) return [x];
      return [padTensor(x, begin, end, mode, value, ctx)];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// DepthToSpace, SpaceToDepth

function blocksizeOf(node: { attrs: { int(name: string): number } }, op: string): number {
  const b = node.attrs.int('blocksize');
  if (!Number.isInteger(b) || b < 1)
    throw new OnyxError('INVALID_MODEL', `${op} blocksize must be ≥ 1, got ${b}`);
  return b;
}

function rank4(x: Tensor, op: string): [number, number, number, number] {
  if (x.dims.length !== 4) {
    throw new OnyxError('SHAPE_MISMATCH', `${op} needs a 4-D input [N, C, H, W], got ${fmt(x.dims)}`);
  }
  return x.dims as unknown as [number, number, number, number];
}

const depthToSpace: OpDef = {
  opType: 'DepthToSpace',
  // 11: mode attribute (DCR/CRD).
  versions: [1, 11, 13],
  build(node) {
    const b = blocksizeOf(node, 'DepthToSpace');
    const mode = node.sinceVersion >= 11 ? node.attrs.string('mode', 'DCR') : 'DCR';
    if (mode !== 'DCR' && mode !== 'CRD') {
      throw new OnyxError('INVALID_MODEL', `DepthToSpace mode must be 'DCR' or 'CRD', got '${mode}'`);
    }
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'DepthToSpace input');
      const [n, c, h, w] = rank4(x, 'DepthToSpace');
      if (c % (b * b) !== 0) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `DepthToSpace channels ${c} are not divisible by blocksize² = ${b * b}`,
        );
      }
      const c2 = c / (b * b);
      const outDims = [n, c2, h * b, w * b];
      // DCR: [N, b, b, C', H, W] → [N, C', H, b, W, b]; CRD: [N, C', b, b, H, W] → same order.
      return [
        mode === 'DCR'
          ? permuteView(x, [n, b, b, c2, h, w], [0, 3, 4, 1, 5, 2], outDims, ctx)
          : permuteView(x, [n, c2, b, b, h, w], [0, 1, 4, 2, 5, 3], outDims, ctx),
      ];
    };
  },
};

const spaceToDepth: OpDef = {
  opType: 'SpaceToDepth',
  versions: [1, 13],
  build(node) {
    const b = blocksizeOf(node, 'SpaceToDepth');
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'SpaceToDepth input');
      const [n, c, h, w] = rank4(x, 'SpaceToDepth');
      if (h % b !== 0 || w % b !== 0) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `SpaceToDepth height ${h} and width ${w} must be multiples of blocksize ${b}`,
        );
      }
      // [N, C, H', b, W', b] → [N, b, b, C, H', W']
      return [
        permuteView(x, [n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4], [n, c * b * b, h / b, w / b], ctx),
      ];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// ReverseSequence

const reverseSequence: OpDef = {
  opType: 'ReverseSequence',
  versions: [10],
  build(node) {
    const batchAxis = node.attrs.int('batch_axis', 1);
    const timeAxis = node.attrs.int('time_axis', 0);
    if (![0, 1].includes(batchAxis) || ![0, 1].includes(timeAxis) || batchAxis === timeAxis) {
      throw new OnyxError(
        'INVALID_MODEL',
        `ReverseSequence batch_axis (${batchAxis}) and time_axis (${timeAxis}) must be 0 and 1 in some order`,
      );
    }
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'ReverseSequence input');
      if (x.dims.length < 2) {
        throw new OnyxError('SHAPE_MISMATCH', `ReverseSequence needs rank ≥ 2, got ${fmt(x.dims)}`);
      }
      const lens = intsOf(tensorInput(inputs[1], 'ReverseSequence sequence_lens'), 'sequence_lens');
      const batch = x.dims[batchAxis];
      const maxT = x.dims[timeAxis];
      if (lens.length !== batch) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `ReverseSequence sequence_lens has ${lens.length} entries, batch size is ${batch}`,
        );
      }
      const lanes = lanesOf(x.type);
      const out = ctx.alloc(x.type, x.dims);
      copyElements(out.data, 0, x.data, 0, x.size, lanes);
      const strides = stridesOf(x.dims);
      for (let b = 0; b < batch; b++) {
        const len = lens[b];
        if (len < 0 || len > maxT) {
          throw new OnyxError(
            'INVALID_ARGUMENT',
            `ReverseSequence sequence_lens[${b}] = ${len} is outside [0, ${maxT}]`,
          );
        }
        if (len < 2) continue;
        const dims = x.dims.slice();
        dims[batchAxis] = 1;
        dims[timeAxis] = len;
        const src = strides.slice();
        src[timeAxis] = -strides[timeAxis];
        const base = b * strides[batchAxis];
        stridedCopy(out.data, base, strides, x.data, base + (len - 1) * strides[timeAxis], src, dims, lanes);
      }
      return [out];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Trilu, EyeLike

const trilu: OpDef = {
  opType: 'Trilu',
  versions: [14],
  build(node) {
    const upper = node.attrs.int('upper', 1) !== 0;
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'Trilu input');
      const r = x.dims.length;
      if (r < 2) throw new OnyxError('SHAPE_MISMATCH', `Trilu needs rank ≥ 2, got ${fmt(x.dims)}`);
      const k = present(inputs[1]) ? scalarOf(tensorInput(inputs[1], 'Trilu k'), 'Trilu k') : 0;
      const rows = x.dims[r - 2];
      const cols = x.dims[r - 1];
      const lanes = lanesOf(x.type);
      const out = ctx.alloc(x.type, x.dims);
      fillElements(out.data, 0, x.size, elementOf(x.type, 0), 0, lanes);
      const mats = rows * cols === 0 ? 0 : x.size / (rows * cols);
      for (let m = 0; m < mats; m++) {
        for (let i = 0; i < rows; i++) {
          const row = (m * rows + i) * cols;
          // Keep j ≥ i + k (upper) or j ≤ i + k (lower).
          const from = upper ? Math.min(Math.max(i + k, 0), cols) : 0;
          const to = upper ? cols : Math.min(Math.max(i + k + 1, 0), cols);
          copyElements(out.data, row + from, x.data, row + from, to - from, lanes);
        }
      }
      return [out];
    };
  },
};

const eyeLike: OpDef = {
  opType: 'EyeLike',
  // 22: bfloat16.
  versions: [9, 22],
  build(node) {
    const k = node.attrs.int('k', 0);
    const code = node.attrs.has('dtype') ? node.attrs.int('dtype') : undefined;
    let outType: TensorType | undefined;
    if (code !== undefined) {
      const info = dtypeFromCode(code);
      if (!info || info.numericClass === 'string') {
        throw new OnyxError('INVALID_MODEL', `EyeLike dtype ${code} is not a numeric tensor type`);
      }
      outType = info.name;
    }
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'EyeLike input');
      if (x.dims.length !== 2)
        throw new OnyxError('SHAPE_MISMATCH', `EyeLike needs a 2-D input, got ${fmt(x.dims)}`);
      const type = outType ?? x.type;
      if (type === 'string') throw new OnyxError('TYPE_MISMATCH', 'EyeLike cannot make a string tensor');
      const [rows, cols] = x.dims;
      const lanes = lanesOf(type);
      const out = ctx.alloc(type, x.dims);
      fillElements(out.data, 0, out.size, elementOf(type, 0), 0, lanes);
      const one = elementOf(type, 1);
      for (let i = 0; i < rows; i++) {
        const j = i + k;
        if (j >= 0 && j < cols) copyElements(out.data, i * cols + j, one, 0, 1, lanes);
      }
      return [out];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// CenterCropPad

const centerCropPad: OpDef = {
  opType: 'CenterCropPad',
  versions: [18],
  build(node) {
    const axesAttr = node.attrs.has('axes') ? node.attrs.ints('axes') : undefined;
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'CenterCropPad input_data');
      const target = intsOf(tensorInput(inputs[1], 'CenterCropPad shape'), 'CenterCropPad shape');
      const r = x.dims.length;
      const axes =
        axesAttr === undefined ? x.dims.map((_, i) => i) : normalizeAxes(axesAttr, r, 'CenterCropPad axes');
      if (target.length !== axes.length || target.some((t) => t < 0)) {
        throw new OnyxError(
          'INVALID_MODEL',
          `CenterCropPad shape ${fmt(target)} must have one non-negative entry per axis (${axes.length})`,
        );
      }
      const dims = x.dims.slice();
      const srcStart = new Array<number>(r).fill(0);
      const dstStart = new Array<number>(r).fill(0);
      const kept = x.dims.slice();
      axes.forEach((a, i) => {
        const d = x.dims[a];
        const t = target[i];
        dims[a] = t;
        if (t < d) {
          srcStart[a] = Math.floor((d - t) / 2);
          kept[a] = t;
        } else if (t > d) {
          dstStart[a] = Math.floor((t - d) / 2);
        }
      });
      const out = ctx.alloc(x.type, dims);
      const lanes = lanesOf(x.type);
      fillElements(out.data, 0, out.size, elementOf(x.type, 0), 0, lanes);
      const outStrides = stridesOf(dims);
      const inStrides = stridesOf(x.dims);
      let dOff = 0;
      let sOff = 0;
      for (let k = 0; k < r; k++) {
        dOff += dstStart[k] * outStrides[k];
        sOff += srcStart[k] * inStrides[k];
      }
      stridedCopy(out.data, dOff, outStrides, x.data, sOff, inStrides, kept, lanes);
      return [out];
    };
  },
};

export const ops: OpDef[] = [
  transpose,
  concat,
  split,
  slice,
  tile,
  pad,
  depthToSpace,
  spaceToDepth,
  reverseSequence,
  trilu,
  eyeLike,
  centerCropPad,
];
