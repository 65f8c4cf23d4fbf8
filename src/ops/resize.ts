/**
 * Resize (opsets 10, 11, 13, 18, 19) and the deprecated Upsample (1, 7, 9, 10).
 *
 * Every mode is separable, so a resize is planned per axis: for each output index along an axis, a
 * short list of (input index, weight) taps — one tap for nearest, 2 for linear, 4 for cubic, wider
 * footprints for antialiased downsampling — computed once from the coordinate transformation. The
 * kernel then applies the axes one after another (only those whose taps are not the identity).
 * Nearest mode is pure data movement (a gather of elements, valid for every element type and exact
 * for minifloat bits); linear and cubic compute in float64 and round once into the output type.
 *
 * Semantics follow the ONNX reference implementation: out-of-range taps use the edge value (unless
 * `exclude_outside` drops them and renormalizes), `tf_crop_and_resize` returns `extrapolation_value`
 * for output coordinates outside the input, align_corners uses `scale · input_length` as the resized
 * length, and antialiasing widens the linear/cubic kernel by 1/scale when downsampling.
 */
import { allocData, dtypeInfo, type TensorData } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { Tensor, shapeSize } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { NodeInfo, OpDef } from './kernel.js';
import { normalizeAxes } from './util/axes.js';
import { floatsOf, tensorFromFloats } from './util/float-io.js';
import { intsOf, numbersOf, tensorInput, fmt } from './util/numeric.js';

type Mode = 'nearest' | 'linear' | 'cubic';
type CoordMode =
  | 'half_pixel'
  | 'half_pixel_symmetric'
  | 'pytorch_half_pixel'
  | 'align_corners'
  | 'asymmetric'
  | 'tf_half_pixel_for_nn'
  | 'tf_crop_and_resize';
/** 'simple' is Resize-10/Upsample behaviour: ceil when downsampling, floor otherwise. */
type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil' | 'simple';
type AspectPolicy = 'stretch' | 'not_larger' | 'not_smaller';

export interface ResizeParams {
  mode: Mode;
  coordMode: CoordMode;
  nearestMode: NearestMode;
  cubicA: number;
  excludeOutside: boolean;
  extrapolation: number;
  antialias: boolean;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new OnyxError(
    'INVALID_MODEL',
    `${what} '${value}' is not supported; expected one of ${allowed.map((a) => `'${a}'`).join(', ')}`,
  );
}

// ------------------------------------------------------------------------------------------------
// Per-axis tap planning

/** The taps of one axis: output index o reads `idx[o*n + t]` with weight `w[o*n + t]`. */
export interface AxisTaps {
  inLen: number;
  outLen: number;
  n: number;
  idx: Int32Array;
  w: Float64Array;
  /** Output indices that take `extrapolation_value` (tf_crop_and_resize outside the input). */
  outside: Uint8Array | null;
}

/** The input coordinate that output index `x` maps to (float64, may lie outside [0, inLen-1]). */
function originalCoordinate(
  mode: CoordMode,
  x: number,
  scale: number,
  outLen: number,
  inLen: number,
  roiStart: number,
  roiEnd: number,
): number {
  switch (mode) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const outF = scale * inLen;
      const adjustment = outLen / outF;
      const offset = (inLen / 2) * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel':
      return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners': {
      const outF = scale * inLen;
      return outF === 1 ? 0 : (x * (inLen - 1)) / (outF - 1);
    }
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
    case 'tf_crop_and_resize': {
      const outF = scale * inLen;
      if (outF === 1) return ((roiEnd + roiStart) * (inLen - 1)) / 2;
      return roiStart * (inLen - 1) + (x * (roiEnd - roiStart) * (inLen - 1)) / (outF - 1);
    }
  }
}

function nearestIndex(mode: NearestMode, x: number, scale: number): number {
  const f = Math.floor(x);
  if (x === f) return f;
  const r = x - f;
  switch (mode) {
    case 'round_prefer_floor':
      return r <= 0.5 ? f : f + 1;
    case 'round_prefer_ceil':
      return r < 0.5 ? f : f + 1;
    case 'floor':
      return f;
    case 'ceil':
      return f + 1;
    case 'simple':
      return scale < 1 ? Math.ceil(x) : Math.trunc(x);
  }
}

function cubicKernel(x: number, A: number): number {
  const ax = Math.abs(x);
  if (ax <= 1) return ((A + 2) * ax - (A + 3)) * ax * ax + 1;
  if (ax < 2) return ((A * ax - 5 * A) * ax + 8 * A) * ax - 4 * A;
  return 0;
}

/** Plans the taps of one axis. */
export function planAxis(
  p: ResizeParams,
  inLen: number,
  outLen: number,
  scale: number,
  roiStart: number,
  roiEnd: number,
): AxisTaps {
  const crop = p.coordMode === 'tf_crop_and_resize';
  const outside = crop ? new Uint8Array(outLen) : null;
  const last = inLen - 1;
  const clampIdx = (i: number) => (i < 0 ? 0 : i > last ? last : i);

  if (p.mode === 'nearest') {
    const idx = new Int32Array(outLen);
    const w = new Float64Array(outLen).fill(1);
    for (let o = 0; o < outLen; o++) {
      const x = originalCoordinate(p.coordMode, o, scale, outLen, inLen, roiStart, roiEnd);
      if (outside && (x < 0 || x > last)) outside[o] = 1;
      idx[o] = clampIdx(nearestIndex(p.nearestMode, x, scale));
    }
    return { inLen, outLen, n: 1, idx, w, outside };
  }

  // Linear and cubic: offsets k ∈ [1-m, m] around floor(x), weights from a kernel of the distance.
  // Without antialiasing (or when upsampling) m = 1 (linear) or 2 (cubic); antialiasing stretches the
  // kernel by 1/scale when downsampling.
  const aaScale = p.antialias ? Math.min(scale, 1) : 1;
  const support = p.mode === 'linear' ? 1 : 2;
  const m = p.antialias ? 1 - (Math.floor(-support / aaScale) + 1) : support;
  const n = 2 * m;
  const idx = new Int32Array(outLen * n);
  const w = new Float64Array(outLen * n);
  const A = p.cubicA;
  for (let o = 0; o < outLen; o++) {
    const x = originalCoordinate(p.coordMode, o, scale, outLen, inLen, roiStart, roiEnd);
    if (outside && (x < 0 || x > last)) outside[o] = 1;
    const f = Math.floor(x);
    const r = x - f;
    const base = o * n;
    let sum = 0;
    if (p.mode === 'cubic' && !p.antialias) {
      // The classic cubic convolution coefficients for offsets -1, 0, 1, 2 (they sum to 1).
      w[base] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
      w[base + 1] = ((A + 2) * r - (A + 3)) * r * r + 1;
      w[base + 2] = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1;
      w[base + 3] = ((A * (2 - r) - 5 * A) * (2 - r) + 8 * A) * (2 - r) - 4 * A;
      for (let t = 0; t < 4; t++) idx[base + t] = f + t - 1;
    } else {
      for (let t = 0; t < n; t++) {
        const k = t + 1 - m;
        const d = (k - r) * aaScale;
        const wt = p.mode === 'linear' ? Math.max(0, 1 - Math.abs(d)) : cubicKernel(d, A);
        w[base + t] = wt;
        idx[base + t] = f + k;
        sum += wt;
      }
    }
    if (p.antialias && sum !== 0) for (let t = 0; t < n; t++) w[base + t] /= sum;
    if (p.excludeOutside) {
      let s = 0;
      for (let t = 0; t < n; t++) {
        const i = idx[base + t];
        if (i < 0 || i > last) w[base + t] = 0;
        s += w[base + t];
      }
      if (s !== 0) for (let t = 0; t < n; t++) w[base + t] /= s;
    }
    for (let t = 0; t < n; t++) idx[base + t] = clampIdx(idx[base + t]);
  }
  return { inLen, outLen, n, idx, w, outside };
}

function isIdentity(t: AxisTaps): boolean {
  if (t.inLen !== t.outLen || t.outside?.some((v) => v !== 0)) return false;
  for (let o = 0; o < t.outLen; o++) {
    for (let k = 0; k < t.n; k++) {
      const wt = t.w[o * t.n + k];
      if (wt === 0) continue;
      if (wt !== 1 || t.idx[o * t.n + k] !== o) return false;
    }
  }
  return true;
}

// ------------------------------------------------------------------------------------------------
// Execution

/** Resizes `x` to `outDims` given per-axis scales and ROI (used by Resize and Upsample). */
export function resizeTensor(
  x: Tensor,
  outDims: readonly number[],
  scales: readonly number[],
  roi: readonly number[] | null,
  p: ResizeParams,
): Tensor {
  const rank = x.dims.length;
  if (rank === 0) return x;
  const plans: (AxisTaps | null)[] = [];
  for (let a = 0; a < rank; a++) {
    const inLen = x.dims[a];
    const outLen = outDims[a];
    if (outLen > 0 && inLen === 0)
      throw new OnyxError('SHAPE_MISMATCH', `cannot resize axis ${a} of length 0 to length ${outLen}`);
    if (outLen === 0 || inLen === 0) {
      plans.push(null);
      continue;
    }
    const t = planAxis(p, inLen, outLen, scales[a], roi ? roi[a] : 0, roi ? roi[rank + a] : 1);
    plans.push(isIdentity(t) ? null : t);
  }
  const outSize = shapeSize(outDims);
  if (outSize === 0) return new Tensor(x.type, allocData(x.type, 0), outDims);
  if (p.mode === 'nearest') return gatherNearest(x, outDims, plans, p.extrapolation);

  let cur: Float64Array | Float32Array = floatsOf(x, 'X');
  const dims = x.dims.slice();
  for (let a = 0; a < rank; a++) {
    const t = plans[a];
    if (!t) continue;
    cur = applyAxis(cur, dims, a, t, p.extrapolation);
    dims[a] = t.outLen;
  }
  return tensorFromFloats(x.type, cur, outDims);
}

/** One separable pass along `axis`. */
function applyAxis(
  src: Float32Array | Float64Array,
  dims: readonly number[],
  axis: number,
  t: AxisTaps,
  extrapolation: number,
): Float64Array {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i];
  let inner = 1;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i];
  const { inLen, outLen, n, idx, w, outside } = t;
  const dst = new Float64Array(outer * outLen * inner);
  for (let o = 0; o < outer; o++) {
    const sBase = o * inLen * inner;
    const dBase = o * outLen * inner;
    for (let j = 0; j < outLen; j++) {
      const d0 = dBase + j * inner;
      if (outside && outside[j]) {
        dst.fill(extrapolation, d0, d0 + inner);
        continue;
      }
      if (inner === 1) {
        let acc = 0;
        for (let k = 0; k < n; k++) {
          const wt = w[j * n + k];
          if (wt !== 0) acc += wt * src[sBase + idx[j * n + k]];
        }
        dst[d0] = acc;
        continue;
      }
      for (let k = 0; k < n; k++) {
        const wt = w[j * n + k];
        if (wt === 0) continue;
        const s0 = sBase + idx[j * n + k] * inner;
        for (let i = 0; i < inner; i++) dst[d0 + i] += wt * src[s0 + i];
      }
    }
  }
  return dst;
}

/** Nearest mode: every output element copies one input element (any element type). */
function gatherNearest(
  x: Tensor,
  outDims: readonly number[],
  plans: readonly (AxisTaps | null)[],
  extrapolation: number,
): Tensor {
  const rank = x.dims.length;
  const lanes = dtypeInfo(x.type).lanes;
  // Per axis: the input offset contribution of each output index (-1 marks extrapolation).
  const inStrides: number[] = new Array<number>(rank);
  let acc = 1;
  for (let a = rank - 1; a >= 0; a--) {
    inStrides[a] = acc;
    acc *= x.dims[a];
  }
  const offs: Float64Array[] = [];
  let anyOutside = false;
  for (let a = 0; a < rank; a++) {
    const t = plans[a];
    const o = new Float64Array(outDims[a]);
    for (let j = 0; j < outDims[a]; j++) {
      if (t && t.outside && t.outside[j]) {
        o[j] = -Infinity;
        anyOutside = true;
      } else o[j] = (t ? t.idx[j] : j) * inStrides[a];
    }
    offs.push(o);
  }
  const n = shapeSize(outDims);
  const src = x.data as unknown as ArrayLike<unknown> & { [i: number]: unknown };
  const out = allocData(x.type, n) as unknown as { [i: number]: unknown };
  const fill = anyOutside ? extrapolationElement(x, extrapolation) : undefined;
  // Odometer over the output rows (all axes but the last); the input offset is the sum of per-axis
  // contributions, and the last axis is a plain gather.
  const last = rank - 1;
  const rowLen = outDims[last];
  const lastOffs = offs[last];
  const counter = new Array<number>(Math.max(last, 0)).fill(0);
  for (let i = 0; i < n; i += rowLen) {
    let base = 0;
    for (let a = 0; a < last; a++) base += offs[a][counter[a]];
    for (let j = 0; j < rowLen; j++) {
      const off = base + lastOffs[j];
      const o = (i + j) * lanes;
      if (off === -Infinity) for (let l = 0; l < lanes; l++) out[o + l] = fill![l];
      else if (lanes === 1) out[o] = src[off];
      else for (let l = 0; l < lanes; l++) out[o + l] = src[off * lanes + l];
    }
    for (let a = last - 1; a >= 0; a--) {
      if (++counter[a] < outDims[a]) break;
      counter[a] = 0;
    }
  }
  return new Tensor(x.type, out as unknown as TensorData, outDims);
}

/** The storage lanes of `value` in `x`'s element type (for tf_crop_and_resize with nearest). */
function extrapolationElement(x: Tensor, value: number): unknown[] {
  const t = tensorFromFloats(x.type, [value], [1]);
  const lanes = dtypeInfo(x.type).lanes;
  const d = t.data as unknown as ArrayLike<unknown>;
  const res: unknown[] = [];
  for (let l = 0; l < lanes; l++) res.push(lanes > 1 ? (l === 0 ? d[0] : 0) : d[l]);
  return res;
}

// ------------------------------------------------------------------------------------------------
// Resize

function readResizeParams(node: NodeInfo): ResizeParams & { axes?: number[]; policy: AspectPolicy } {
  const a = node.attrs;
  const v = node.sinceVersion;
  const mode = oneOf<Mode>(a.string('mode', 'nearest'), ['nearest', 'linear', 'cubic'], 'mode');
  if (v < 11 && mode === 'cubic')
    throw new OnyxError('INVALID_MODEL', `mode 'cubic' needs Resize-11 or later (this is Resize-${v})`);
  const coordModes: CoordMode[] = [
    'half_pixel',
    'pytorch_half_pixel',
    'align_corners',
    'asymmetric',
    'tf_crop_and_resize',
  ];
  if (v === 11) coordModes.push('tf_half_pixel_for_nn');
  if (v >= 19) coordModes.push('half_pixel_symmetric');
  const coordMode =
    v >= 11
      ? oneOf<CoordMode>(
          a.string('coordinate_transformation_mode', 'half_pixel'),
          coordModes,
          'coordinate_transformation_mode',
        )
      : 'asymmetric';
  const nearestMode =
    v >= 11
      ? oneOf<NearestMode>(
          a.string('nearest_mode', 'round_prefer_floor'),
          ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'],
          'nearest_mode',
        )
      : 'simple';
  const antialias = v >= 18 && a.int('antialias', 0) !== 0;
  if (antialias && mode === 'nearest')
    throw new OnyxError('INVALID_MODEL', "antialias=1 needs mode 'linear' or 'cubic', got 'nearest'");
  const policy =
    v >= 18
      ? oneOf<AspectPolicy>(
          a.string('keep_aspect_ratio_policy', 'stretch'),
          ['stretch', 'not_larger', 'not_smaller'],
          'keep_aspect_ratio_policy',
        )
      : 'stretch';
  return {
    mode,
    coordMode,
    nearestMode,
    cubicA: v >= 11 ? a.float('cubic_coeff_a', -0.75) : -0.75,
    excludeOutside: v >= 11 && a.int('exclude_outside', 0) !== 0,
    extrapolation: v >= 11 ? a.float('extrapolation_value', 0) : 0,
    antialias,
    axes: v >= 18 && a.has('axes') ? a.ints('axes') : undefined,
    policy,
  };
}

/** An optional input that counts as absent when omitted, an empty optional, or an empty tensor. */
function optionalNonEmpty(v: Value | undefined, what: string): Tensor | undefined {
  if (v === undefined || v === null) return undefined;
  const t = tensorInput(v, what);
  return t.size === 0 ? undefined : t;
}

const resize: OpDef = {
  opType: 'Resize',
  versions: [10, 11, 13, 18, 19],
  build(node) {
    const v = node.sinceVersion;
    const p = readResizeParams(node);
    return (inputs) => {
      const x = tensorInput(inputs[0], 'X');
      const rank = x.dims.length;
      const axes = p.axes ? normalizeAxes(p.axes, rank, 'axes') : [...Array(rank).keys()];
      const na = axes.length;
      let roiIn: Tensor | undefined;
      let scalesIn: Tensor | undefined;
      let sizesIn: Tensor | undefined;
      if (v === 10) {
        scalesIn = tensorInput(inputs[1], 'scales');
      } else {
        roiIn = optionalNonEmpty(inputs[1], 'roi');
        scalesIn = optionalNonEmpty(inputs[2], 'scales');
        sizesIn = optionalNonEmpty(inputs[3], 'sizes');
      }
      if (scalesIn && sizesIn)
        throw new OnyxError('INVALID_MODEL', "only one of 'scales' and 'sizes' may be given, got both");
      if (!scalesIn && !sizesIn)
        throw new OnyxError('INVALID_MODEL', "one of 'scales' and 'sizes' must be given (non-empty)");

      const scales = new Array<number>(rank).fill(1);
      const outDims = x.dims.slice();
      if (scalesIn) {
        const s = numbersOf(scalesIn);
        if (s.length !== na)
          throw new OnyxError(
            'INVALID_MODEL',
            `scales has ${s.length} values but ${p.axes ? `axes has ${na}` : `X has rank ${rank}`}`,
          );
        for (let i = 0; i < na; i++) {
          if (!(s[i] > 0)) throw new OnyxError('INVALID_MODEL', `scales must be positive, got ${fmt(s)}`);
          scales[axes[i]] = s[i];
          // float32 product, as onnxruntime and the reference compute it (0.7f · 10 → 7, not 6).
          outDims[axes[i]] = Math.floor(Math.fround(s[i] * x.dims[axes[i]]));
        }
      } else {
        const sz = intsOf(sizesIn!, 'sizes');
        if (sz.length !== na)
          throw new OnyxError(
            'INVALID_MODEL',
            `sizes has ${sz.length} values but ${p.axes ? `axes has ${na}` : `X has rank ${rank}`}`,
          );
        if (sz.some((d) => d < 0))
          throw new OnyxError('INVALID_MODEL', `sizes must be non-negative, got ${fmt(sz)}`);
        for (let i = 0; i < na; i++) scales[axes[i]] = sz[i] / x.dims[axes[i]];
        if (p.policy !== 'stretch') {
          let s = p.policy === 'not_larger' ? Infinity : -Infinity;
          for (const ax of axes)
            s = p.policy === 'not_larger' ? Math.min(s, scales[ax]) : Math.max(s, scales[ax]);
          for (const ax of axes) {
            scales[ax] = s;
            outDims[ax] = Math.floor(s * x.dims[ax] + 0.5);
          }
        } else for (let i = 0; i < na; i++) outDims[axes[i]] = sz[i];
      }

      let roi: number[] | null = null;
      if (p.coordMode === 'tf_crop_and_resize') {
        if (!roiIn)
          throw new OnyxError(
            'INVALID_MODEL',
            "coordinate_transformation_mode 'tf_crop_and_resize' needs roi",
          );
        const r = numbersOf(roiIn);
        if (r.length !== 2 * na)
          throw new OnyxError(
            'INVALID_MODEL',
            `roi must hold 2 values per resized axis (${2 * na}), got ${r.length}`,
          );
        roi = [...new Array<number>(rank).fill(0), ...new Array<number>(rank).fill(1)];
        for (let i = 0; i < na; i++) {
          roi[axes[i]] = r[i];
          roi[rank + axes[i]] = r[na + i];
        }
      }
      return [resizeTensor(x, outDims, scales, roi, p)];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Upsample (deprecated since opset 10, still emitted by converters)

const upsample: OpDef = {
  opType: 'Upsample',
  versions: [1, 7, 9, 10],
  build(node) {
    const v = node.sinceVersion;
    let mode = node.attrs.string('mode', 'nearest');
    if (mode === 'bilinear') mode = 'linear';
    const p: ResizeParams = {
      mode: oneOf<Mode>(mode, ['nearest', 'linear'], 'mode'),
      coordMode: 'asymmetric',
      nearestMode: 'simple',
      cubicA: -0.75,
      excludeOutside: false,
      extrapolation: 0,
      antialias: false,
    };
    const attrScales =
      v === 1
        ? [1, 1, node.attrs.float('height_scale'), node.attrs.float('width_scale')]
        : v === 7
          ? node.attrs.floats('scales')
          : undefined;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'X');
      const s = attrScales ?? Array.from(numbersOf(tensorInput(inputs[1], 'scales')));
      if (s.length !== x.dims.length)
        throw new OnyxError(
          'INVALID_MODEL',
          `scales has ${s.length} values but X has rank ${x.dims.length}: ${fmt(s)}`,
        );
      if (s.some((k) => !(k >= 1)))
        throw new OnyxError('INVALID_MODEL', `Upsample scales must be >= 1, got ${fmt(s)}`);
      const outDims = x.dims.map((d, i) => Math.floor(Math.fround(d * s[i])));
      return [resizeTensor(x, outDims, s, null, p)];
    };
  },
};

export const ops: OpDef[] = [resize, upsample];
