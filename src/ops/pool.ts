/**
 * Pooling: MaxPool (with Indices), AveragePool, LpPool, their Global variants, MaxUnpool, MaxRoiPool.
 *
 * Windowed pools share one engine over any number of spatial dims: per spatial dim and output index
 * the valid input coordinates are precomputed once (padding, strides, dilations, ceil_mode), and each
 * window is the cartesian product of those lists, so the inner loops never test bounds.
 */
import type { Attributes } from '../ir/attributes.js';
import { OnyxError } from '../core/errors.js';
import { Tensor, shapeSize } from '../core/tensor.js';
import type { Kernel, NodeInfo, OpDef } from './kernel.js';
import { computeArray, computeOf, tensorFromCompute } from './util/compute-array.js';
import type { FloatArray } from './util/gemm.js';
import { intsOf, tensorInput, fmt } from './util/numeric.js';
import { fastFloat32, parallelPool2d } from './util/dispatch.js';
import { readWindowAttrs, resolveWindow, type Window } from './util/window.js';

type PoolKind = 'max' | 'avg' | 'lp';

interface PoolOptions {
  kind: PoolKind;
  /** AveragePool: divide by the window size including padding. */
  countIncludePad: boolean;
  /** LpPool exponent. */
  p: number;
  /** MaxPool Indices: 0 row-major, 1 column-major. */
  storageOrder: number;
}

/** Per spatial dim: for each output index, the valid input coordinates and the padded-window count. */
interface DimPlan {
  coords: number[][];
  padCount: number[];
}

function planDim(size: number, w: Window, d: number): DimPlan {
  const out = w.outSpatial[d];
  const coords: number[][] = [];
  const padCount: number[] = [];
  for (let o = 0; o < out; o++) {
    const start = o * w.strides[d] - w.padBegin[d];
    const list: number[] = [];
    let withPad = 0;
    for (let k = 0; k < w.kernel[d]; k++) {
      const i = start + k * w.dilations[d];
      if (i >= 0 && i < size) list.push(i);
      if (i >= -w.padBegin[d] && i < size + w.padEnd[d]) withPad++;
    }
    coords.push(list);
    padCount.push(withPad);
  }
  return { coords, padCount };
}

/**
 * Pools `planes` planes of `spatial` dims from X into Y (and argmax offsets into `indices` for max).
 * `indices` receive the flat input index in row-major (or column-major within the plane) order.
 */
function poolPlanes(
  X: FloatArray,
  Y: FloatArray,
  indices: BigInt64Array | undefined,
  planes: number,
  spatial: number[],
  w: Window,
  o: PoolOptions,
): void {
  const n = spatial.length;
  const plans = spatial.map((s, d) => planDim(s, w, d));
  const inSize = shapeSize(spatial);
  const outSize = shapeSize(w.outSpatial);
  const inStrides = new Array<number>(n);
  const colStrides = new Array<number>(n);
  for (let i = n - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= spatial[i];
  }
  for (let i = 0, s = 1; i < n; i++) {
    colStrides[i] = s;
    s *= spatial[i];
  }
  // Per output position: the list of flat in-plane offsets of its window, built once for all planes.
  const winOffsets: Int32Array[] = new Array(outSize);
  const winCounts = new Float64Array(outSize);
  const oIdx = new Array<number>(n).fill(0);
  for (let p = 0; p < outSize; p++) {
    const lists = oIdx.map((oi, d) => plans[d].coords[oi]);
    const total = lists.reduce((a, l) => a * l.length, 1);
    const offs = new Int32Array(total);
    const kIdx = new Array<number>(n).fill(0);
    for (let t = 0; t < total; t++) {
      let off = 0;
      for (let d = 0; d < n; d++) off += lists[d][kIdx[d]] * inStrides[d];
      offs[t] = off;
      for (let d = n - 1; d >= 0; d--) {
        if (++kIdx[d] < lists[d].length) break;
        kIdx[d] = 0;
      }
    }
    winOffsets[p] = offs;
    winCounts[p] = o.countIncludePad ? oIdx.reduce((a, oi, d) => a * plans[d].padCount[oi], 1) : total;
    for (let d = n - 1; d >= 0; d--) {
      if (++oIdx[d] < w.outSpatial[d]) break;
      oIdx[d] = 0;
    }
  }
  const toColMajor = (off: number) => {
    let r = 0;
    for (let d = 0; d < n; d++) {
      const c = Math.floor(off / inStrides[d]) % spatial[d];
      r += c * colStrides[d];
    }
    return r;
  };
  for (let pl = 0; pl < planes; pl++) {
    const xb = pl * inSize;
    const yb = pl * outSize;
    for (let p = 0; p < outSize; p++) {
      const offs = winOffsets[p];
      const m = offs.length;
      if (o.kind === 'max') {
        let best = -Infinity;
        let arg = -1;
        for (let t = 0; t < m; t++) {
          const v = X[xb + offs[t]];
          // A NaN in the window wins (numpy's max, GlobalMaxPool, the WASM f32x4.max); its index is
          // the first NaN's.
          if (v > best || (v !== v && best === best)) {
            best = v;
            arg = offs[t];
          }
        }
        Y[yb + p] = best;
        if (indices) {
          const a = arg < 0 ? 0 : o.storageOrder === 1 ? toColMajor(arg) : arg;
          indices[yb + p] = BigInt(xb + a);
        }
      } else if (o.kind === 'avg') {
        let s = 0;
        for (let t = 0; t < m; t++) s += X[xb + offs[t]];
        Y[yb + p] = s / winCounts[p];
      } else {
        let s = 0;
        const pw = o.p;
        for (let t = 0; t < m; t++) s += Math.pow(Math.abs(X[xb + offs[t]]), pw);
        Y[yb + p] = Math.pow(s, 1 / pw);
      }
    }
  }
}

/** Tuning knobs (tests turn the 2-D fast path off to compare it with the general engine). */
export const poolTuning = {
  /**
   * Float32 2-D MaxPool/AveragePool without Indices or dilation take the WASM kernel (fast mode) or
   * `pool2dF32` (reference mode).
   */
  fast2d: true,
};

/** Per output index of one spatial dim: the valid input range [lo, hi) (dilation 1). */
function rangesOf(plan: DimPlan): { lo: Int32Array; hi: Int32Array } {
  const n = plan.coords.length;
  const lo = new Int32Array(n);
  const hi = new Int32Array(n);
  for (let o = 0; o < n; o++) {
    const l = plan.coords[o];
    lo[o] = l.length > 0 ? l[0] : 0;
    hi[o] = l.length > 0 ? l[l.length - 1] + 1 : lo[o];
  }
  return { lo, hi };
}

/**
 * The valid input rows and columns of each 2-D output position, and each position's divisor for
 * the average: the padded-window or the valid-window size (count_include_pad; ceil_mode's overhang
 * is never counted).
 */
function windows2d(spatial: number[], w: Window, o: PoolOptions) {
  const [oh, ow] = w.outSpatial;
  const py = planDim(spatial[0], w, 0);
  const px = planDim(spatial[1], w, 1);
  const r = rangesOf(py);
  const c = rangesOf(px);
  const div = new Float64Array(oh * ow);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      div[oy * ow + ox] = o.countIncludePad
        ? py.padCount[oy] * px.padCount[ox]
        : (r.hi[oy] - r.lo[oy]) * (c.hi[ox] - c.lo[ox]);
    }
  }
  return { r, c, div };
}

/**
 * Float32 2-D max/average pooling (no dilation, no Indices): each output's window is a rectangle
 * [rows) × [cols) found up front, visited in the same row-major order as the general engine, so
 * results match it exactly.
 */
function pool2dF32(
  X: Float32Array,
  Y: Float32Array,
  planes: number,
  spatial: number[],
  w: Window,
  o: PoolOptions,
): void {
  const [H, W] = spatial;
  const [oh, ow] = w.outSpatial;
  const { r, c, div } = windows2d(spatial, w, o);
  const max = o.kind === 'max';
  const inSize = H * W;
  const outSize = oh * ow;
  const clo = c.lo;
  const chi = c.hi;
  for (let pl = 0; pl < planes; pl++) {
    const xb = pl * inSize;
    const yb = pl * outSize;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = xb + r.lo[oy] * W;
      const y1 = xb + r.hi[oy] * W;
      const d = yb + oy * ow;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = clo[ox];
        const x1 = chi[ox];
        if (max) {
          let best = -Infinity;
          for (let row = y0; row < y1; row += W) {
            for (let i = row + x0; i < row + x1; i++) {
              const v = X[i];
              if (v > best || v !== v) best = v;
            }
          }
          Y[d + ox] = best;
        } else {
          let s = 0;
          for (let row = y0; row < y1; row += W) for (let i = row + x0; i < row + x1; i++) s += X[i];
          Y[d + ox] = s / div[oy * ow + ox];
        }
      }
    }
  }
}

function checkPoolInput(x: Tensor, what: string): void {
  if (x.dims.length < 3) {
    throw new OnyxError('SHAPE_MISMATCH', `${what}: input must be [N, C, spatial...], got ${fmt(x.dims)}`);
  }
  if (x.type === 'string' || x.type === 'bool' || x.type.startsWith('complex')) {
    throw new OnyxError('TYPE_MISMATCH', `${what}: input must be numeric, got tensor(${x.type})`);
  }
}

/** `p` was a float attribute in LpPool-1/GlobalLpPool-1 and an int from version 2. */
function readP(attrs: Attributes): number {
  const raw = attrs.raw('p');
  if (raw === undefined) return 2;
  if (raw.kind === 'int' || raw.kind === 'float') return raw.value;
  throw new OnyxError('INVALID_MODEL', `attribute 'p' should be a number, got ${raw.kind}`);
}

function windowedPool(node: NodeInfo, kind: PoolKind, what: string): Kernel {
  const v = node.sinceVersion;
  const a = readWindowAttrs(node.attrs, what);
  // ceil_mode and dilations arrived later in each op's history; older versions ignore stray attributes.
  if (kind === 'max' && v < 10) {
    a.ceilMode = false;
    a.dilations = undefined;
  }
  if (kind === 'avg') {
    if (v < 10) a.ceilMode = false;
    if (v < 19) a.dilations = undefined;
  }
  if (kind === 'lp' && v < 18) {
    a.ceilMode = false;
    a.dilations = undefined;
  }
  const opts: PoolOptions = {
    kind,
    countIncludePad: kind === 'avg' && v >= 7 && node.attrs.int('count_include_pad', 0) !== 0,
    p: kind === 'lp' ? readP(node.attrs) : 2,
    storageOrder: node.attrs.int('storage_order', 0),
  };
  if (!a.kernelShape)
    throw new OnyxError('INVALID_MODEL', `${what}: required attribute 'kernel_shape' is missing`);
  const wantIndices = kind === 'max' && node.outputCount > 1 && node.outputPresent[1];
  return (inputs, ctx) => {
    const x = tensorInput(inputs[0], `${what} input X`);
    checkPoolInput(x, what);
    const spatial = x.dims.slice(2);
    const w = resolveWindow(a, spatial, undefined, what);
    const outDims = [x.dims[0], x.dims[1], ...w.outSpatial];
    const n = shapeSize(outDims);
    const Y = computeArray(x.type, n);
    const I = wantIndices ? new BigInt64Array(n) : undefined;
    const X = computeOf(x);
    const planes = x.dims[0] * x.dims[1];
    if (
      poolTuning.fast2d &&
      !I &&
      kind !== 'lp' &&
      spatial.length === 2 &&
      w.dilations.every((d) => d === 1) &&
      X instanceof Float32Array &&
      Y instanceof Float32Array
    ) {
      if (fastFloat32()) {
        const [H, W] = spatial;
        const [kh, kw] = w.kernel;
        const [sh, sw] = w.strides;
        const [oh, ow] = w.outSpatial;
        const geo = {
          C: planes,
          H,
          W,
          kh,
          kw,
          sh,
          sw,
          dh: 1,
          dw: 1,
          padTop: w.padBegin[0],
          padLeft: w.padBegin[1],
          oh,
          ow,
        };
        const div = kind === 'avg' ? Float32Array.from(windows2d(spatial, w, opts).div) : undefined;
        const poolKind = kind === 'max' ? 'max' : 'average';
        parallelPool2d(ctx.threads, { X, xOff: 0, geo, Y, yOff: 0, kind: poolKind, divisors: div });
      } else {
        pool2dF32(X, Y, planes, spatial, w, opts);
      }
    } else {
      poolPlanes(X, Y, I, planes, spatial, w, opts);
    }
    const y = tensorFromCompute(x.type, Y, outDims);
    return I
      ? [y, new Tensor('int64', I, outDims)]
      : kind === 'max' && node.outputCount > 1
        ? [y, null]
        : [y];
  };
}

const maxPool: OpDef = {
  opType: 'MaxPool',
  versions: [1, 8, 10, 11, 12, 22],
  build: (node) => windowedPool(node, 'max', 'MaxPool'),
};

const averagePool: OpDef = {
  opType: 'AveragePool',
  versions: [1, 7, 10, 11, 19, 22],
  build: (node) => windowedPool(node, 'avg', 'AveragePool'),
};

const lpPool: OpDef = {
  opType: 'LpPool',
  versions: [1, 2, 11, 18, 22],
  build: (node) => windowedPool(node, 'lp', 'LpPool'),
};

// ---------------------------------------------------------------------------------------------
// Global pools: reduce every spatial dim.

/**
 * Σ X[from…to) in float64 with four partial sums: one running sum is a chain of dependent adds
 * (GlobalAveragePool over SqueezeNet's 1000 × 13 × 13 took ~1.4 ms).
 */
function sumOf(X: FloatArray, from: number, to: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    s0 += X[i];
    s1 += X[i + 1];
    s2 += X[i + 2];
    s3 += X[i + 3];
  }
  for (; i < to; i++) s0 += X[i];
  return s0 + s1 + (s2 + s3);
}

function globalPool(kind: PoolKind, what: string): OpDef['build'] {
  return (node) => {
    const p = kind === 'lp' ? readP(node.attrs) : 2;
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], `${what} input X`);
      checkPoolInput(x, what);
      const planes = x.dims[0] * x.dims[1];
      const size = shapeSize(x.dims.slice(2));
      const X = computeOf(x);
      const Y = computeArray(x.type, planes);
      const outDims = [x.dims[0], x.dims[1], ...x.dims.slice(2).map(() => 1)];
      if (
        poolTuning.fast2d &&
        kind !== 'lp' &&
        x.dims.length === 4 &&
        size > 0 &&
        X instanceof Float32Array &&
        Y instanceof Float32Array &&
        fastFloat32()
      ) {
        // One window the size of the image on the WASM pool kernel (a 2048 × 7 × 7 average: ~160 µs
        // in the loop below, ~45 on the kernel; SqueezeNet's 1000 × 13 × 13 ~33).
        const [H, W] = x.dims.slice(2);
        const geo = {
          C: planes,
          H,
          W,
          kh: H,
          kw: W,
          sh: 1,
          sw: 1,
          dh: 1,
          dw: 1,
          padTop: 0,
          padLeft: 0,
          oh: 1,
          ow: 1,
        };
        const divisors = kind === 'avg' ? Float32Array.of(size) : undefined;
        parallelPool2d(ctx.threads, {
          X,
          xOff: 0,
          geo,
          Y,
          yOff: 0,
          kind: kind === 'max' ? 'max' : 'average',
          divisors,
        });
        return [tensorFromCompute(x.type, Y, outDims)];
      }
      for (let pl = 0; pl < planes; pl++) {
        const b = pl * size;
        if (kind === 'max') {
          let m = -Infinity;
          for (let i = 0; i < size; i++) {
            const v = X[b + i];
            if (v > m || v !== v) m = v;
            if (m !== m) break;
          }
          Y[pl] = m;
        } else if (kind === 'avg') {
          Y[pl] = sumOf(X, b, b + size) / size;
        } else {
          let s = 0;
          for (let i = 0; i < size; i++) s += Math.pow(Math.abs(X[b + i]), p);
          Y[pl] = Math.pow(s, 1 / p);
        }
      }
      return [tensorFromCompute(x.type, Y, outDims)];
    };
  };
}

const globalAveragePool: OpDef = {
  opType: 'GlobalAveragePool',
  versions: [1, 22],
  build: globalPool('avg', 'GlobalAveragePool'),
};
const globalMaxPool: OpDef = {
  opType: 'GlobalMaxPool',
  versions: [1, 22],
  build: globalPool('max', 'GlobalMaxPool'),
};
const globalLpPool: OpDef = {
  opType: 'GlobalLpPool',
  versions: [1, 2, 22],
  build: globalPool('lp', 'GlobalLpPool'),
};

// ---------------------------------------------------------------------------------------------
// MaxUnpool: scatter X into zeros at the (flat) indices MaxPool produced.

const maxUnpool: OpDef = {
  opType: 'MaxUnpool',
  versions: [9, 11, 22],
  build(node) {
    const a = readWindowAttrs(node.attrs, 'MaxUnpool');
    if (!a.kernelShape)
      throw new OnyxError('INVALID_MODEL', `MaxUnpool: required attribute 'kernel_shape' is missing`);
    const kernel = a.kernelShape;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'MaxUnpool input X');
      const ind = tensorInput(inputs[1], 'MaxUnpool input I');
      checkPoolInput(x, 'MaxUnpool');
      if (ind.dims.length !== x.dims.length || ind.dims.some((d, i) => d !== x.dims[i])) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `MaxUnpool: indices I ${fmt(ind.dims)} must have X's shape ${fmt(x.dims)}`,
        );
      }
      const n = x.dims.length - 2;
      const strides = a.strides ?? new Array<number>(n).fill(1);
      const pads = a.pads ?? new Array<number>(2 * n).fill(0);
      if (kernel.length !== n || strides.length !== n || pads.length !== 2 * n) {
        throw new OnyxError(
          'INVALID_MODEL',
          `MaxUnpool: kernel_shape, strides and pads must describe ${n} spatial dim(s)`,
        );
      }
      // Indices address the default output shape; an explicit output_shape re-places them by coordinates.
      const inferred = x.dims
        .slice(2)
        .map((s, i) => (s - 1) * strides[i] + kernel[i] - pads[i] - pads[i + n]);
      let outSpatial = inferred;
      const shapeIn = inputs[2] instanceof Tensor ? inputs[2] : undefined;
      if (shapeIn) {
        const want = intsOf(shapeIn, 'MaxUnpool output_shape');
        if (want.length !== x.dims.length || want[0] !== x.dims[0] || want[1] !== x.dims[1]) {
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `MaxUnpool: output_shape [${want.join(', ')}] must be [${x.dims[0]}, ${x.dims[1]}, spatial...] (rank ${x.dims.length})`,
          );
        }
        outSpatial = want.slice(2);
      }
      const outDims = [x.dims[0], x.dims[1], ...outSpatial];
      const total = shapeSize(outDims);
      const inPlane = shapeSize(inferred);
      const outPlane = shapeSize(outSpatial);
      const same = inferred.every((d, i) => d === outSpatial[i]);
      const X = computeOf(x);
      const Y = computeArray(x.type, total);
      const I = intsOf(ind, 'MaxUnpool indices');
      for (let i = 0; i < I.length; i++) {
        let t = I[i];
        if (!same) {
          const plane = Math.floor(t / inPlane);
          let r = t - plane * inPlane;
          let off = 0;
          let mul = 1;
          for (let d = n - 1; d >= 0; d--) {
            const c = r % inferred[d];
            r = Math.floor(r / inferred[d]);
            off += c * mul;
            mul *= outSpatial[d];
          }
          t = plane * outPlane + off;
        }
        if (!(t >= 0 && t < total)) {
          throw new OnyxError(
            'INVALID_ARGUMENT',
            `MaxUnpool: index ${I[i]} is outside the output ${fmt(outDims)}`,
          );
        }
        Y[t] = X[i];
      }
      return [tensorFromCompute(x.type, Y, outDims)];
    };
  },
};

// ---------------------------------------------------------------------------------------------
// MaxRoiPool (Caffe ROI pooling)

const maxRoiPool: OpDef = {
  opType: 'MaxRoiPool',
  versions: [1, 22],
  build(node) {
    const pooled = node.attrs.ints('pooled_shape');
    const scale = node.attrs.float('spatial_scale', 1);
    if (pooled.length !== 2 || pooled.some((p) => p <= 0)) {
      throw new OnyxError(
        'INVALID_MODEL',
        `MaxRoiPool: pooled_shape must be two positive ints, got [${pooled.join(', ')}]`,
      );
    }
    const [PH, PW] = pooled;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'MaxRoiPool input X');
      const rois = tensorInput(inputs[1], 'MaxRoiPool input rois');
      if (x.dims.length !== 4)
        throw new OnyxError('SHAPE_MISMATCH', `MaxRoiPool: X must be [N, C, H, W], got ${fmt(x.dims)}`);
      if (rois.dims.length !== 2 || rois.dims[1] !== 5) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `MaxRoiPool: rois must be [num_rois, 5], got ${fmt(rois.dims)}`,
        );
      }
      const [N, C, H, W] = x.dims;
      const R = rois.dims[0];
      const X = computeOf(x);
      const RO = computeOf(rois);
      const Y = computeArray(x.type, R * C * PH * PW);
      const round = (v: number) => Math.sign(v) * Math.round(Math.abs(v));
      for (let r = 0; r < R; r++) {
        const b = RO[r * 5];
        if (!(b >= 0 && b < N)) {
          throw new OnyxError(
            'INVALID_ARGUMENT',
            `MaxRoiPool: roi ${r} has batch index ${b}, outside [0, ${N})`,
          );
        }
        const x1 = round(RO[r * 5 + 1] * scale);
        const y1 = round(RO[r * 5 + 2] * scale);
        const x2 = round(RO[r * 5 + 3] * scale);
        const y2 = round(RO[r * 5 + 4] * scale);
        const rh = Math.max(y2 - y1 + 1, 1);
        const rw = Math.max(x2 - x1 + 1, 1);
        const bh = rh / PH;
        const bw = rw / PW;
        for (let c = 0; c < C; c++) {
          const plane = (b * C + c) * H * W;
          for (let ph = 0; ph < PH; ph++) {
            const hs = Math.min(Math.max(Math.floor(ph * bh) + y1, 0), H);
            const he = Math.min(Math.max(Math.ceil((ph + 1) * bh) + y1, 0), H);
            for (let pw = 0; pw < PW; pw++) {
              const ws = Math.min(Math.max(Math.floor(pw * bw) + x1, 0), W);
              const we = Math.min(Math.max(Math.ceil((pw + 1) * bw) + x1, 0), W);
              let m = he <= hs || we <= ws ? 0 : -Infinity;
              for (let h = hs; h < he; h++)
                for (let w = ws; w < we; w++) m = Math.max(m, X[plane + h * W + w]);
              Y[((r * C + c) * PH + ph) * PW + pw] = m;
            }
          }
        }
      }
      return [tensorFromCompute(x.type, Y, [R, C, PH, PW])];
    };
  },
};

export const ops: OpDef[] = [
  maxPool,
  averagePool,
  lpPool,
  globalAveragePool,
  globalMaxPool,
  globalLpPool,
  maxUnpool,
  maxRoiPool,
];
