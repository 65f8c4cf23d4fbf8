/**
 * Normalizations: BatchNormalization (inference and training mode, every version's attributes),
 * InstanceNormalization, LayerNormalization, GroupNormalization (18: per-group, 21: per-channel
 * affine), RMSNormalization, LRN, MeanVarianceNormalization, LpNormalization.
 *
 * Statistics are accumulated in float64 whatever the element type; data is read and written through
 * the compute arrays of util/compute-array.ts.
 */
import { dtypeFromCode, type TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { Tensor, shapeSize, type Dims } from '../core/tensor.js';
import { constantInput, type Kernel, type KernelInputs, type NodeInfo, type OpDef } from './kernel.js';
import { normalizeAxes, normalizeAxis } from './util/axes.js';
import { broadcastOffsets } from './util/broadcast.js';
import {
  computeArray,
  computeOf,
  float64Of,
  float64Params,
  tensorFromCompute,
} from './util/compute-array.js';
import type { FloatArray } from './util/gemm.js';
import { tensorInput, fmt } from './util/numeric.js';
import { fastFloat32, schannelAffine, slrn075, snormRows } from './util/dispatch.js';

function requireFloat(t: Tensor, what: string): void {
  if (!['float32', 'float64', 'float16', 'bfloat16'].includes(t.type)) {
    throw new OnyxError('TYPE_MISMATCH', `${what} must be a float tensor, got tensor(${t.type})`);
  }
}

function optionalTensor(v: KernelInputs[number]): Tensor | undefined {
  return v instanceof Tensor ? v : undefined;
}

/** The element type named by a `stash_type` attribute (a TensorProto data type code). */
function stashType(code: number, what: string): TensorType {
  const info = dtypeFromCode(code);
  if (!info || !['float32', 'float64', 'float16', 'bfloat16'].includes(info.name)) {
    throw new OnyxError('INVALID_MODEL', `${what}: stash_type ${code} is not a float type`);
  }
  return info.name;
}

/**
 * For a parameter tensor `p` that broadcasts to `target` (right-aligned), a function giving the
 * parameter value for element i of a tensor of dims `target`.
 */
function paramReader(p: Tensor, target: Dims, what: string): (i: number) => number {
  const P = float64Of(p);
  if (P.length === 1) return () => P[0];
  const core = [...p.dims];
  while (core.length > 0 && core[0] === 1) core.shift();
  const tail = target.slice(target.length - core.length);
  if (core.length <= target.length && core.every((d, i) => d === tail[i])) {
    const n = P.length;
    return (i) => P[i % n];
  }
  if (
    p.dims.length > target.length ||
    p.dims.some((d, i) => d !== 1 && d !== target[target.length - p.dims.length + i])
  ) {
    throw new OnyxError('SHAPE_MISMATCH', `${what} ${fmt(p.dims)} does not broadcast to ${fmt(target)}`);
  }
  const [off] = broadcastOffsets([p.dims], target);
  return (i) => P[off![i]];
}

// ---------------------------------------------------------------------------------------------
// BatchNormalization

/** Y = X·a[c] + b[c] per channel (or per channel and position when `perElem`), any compute array. */
function applyScaleShift(
  X: FloatArray,
  Y: FloatArray,
  N: number,
  C: number,
  S: number,
  perElem: boolean,
  a: Float64Array,
  b: Float64Array,
): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * S;
      if (perElem) {
        for (let s = 0; s < S; s++) Y[base + s] = X[base + s] * a[c * S + s] + b[c * S + s];
      } else {
        const ac = a[c];
        const bc = b[c];
        for (let s = 0; s < S; s++) Y[base + s] = X[base + s] * ac + bc;
      }
    }
  }
}

/** Float32 inference BatchNormalization: one monomorphic pass per (image, channel), y = x·s + t. */
function batchNormApplyF32(
  X: Float32Array,
  Y: Float32Array,
  N: number,
  C: number,
  S: number,
  a: Float64Array,
  b: Float64Array,
): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * S;
      const end = base + S;
      const ac = a[c];
      const bc = b[c];
      for (let i = base; i < end; i++) Y[i] = X[i] * ac + bc;
    }
  }
}

/**
 * BatchNormalization's per-channel (or, spatial=0, per-position) scale a and shift b, y = x·a + b,
 * from its parameters — and in training, from the batch statistics of X, returned too.
 */
function statistics(
  params: Tensor[],
  X: FloatArray,
  training: boolean,
  perElem: boolean,
  N: number,
  C: number,
  S: number,
  P: number,
  eps: number,
) {
  const [scale, bias, runMean, runVar] = params.map(float64Of);
  let mean = runMean;
  let variance = runVar;
  if (training) {
    // Batch statistics over N and (for spatial=1) the spatial dims; population variance.
    mean = new Float64Array(P);
    variance = new Float64Array(P);
    const count = perElem ? N : N * S;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const base = (n * C + c) * S;
        for (let s = 0; s < S; s++) mean[perElem ? c * S + s : c] += X[base + s];
      }
    }
    for (let p = 0; p < P; p++) mean[p] /= count;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const base = (n * C + c) * S;
        for (let s = 0; s < S; s++) {
          const k = perElem ? c * S + s : c;
          const d = X[base + s] - mean[k];
          variance[k] += d * d;
        }
      }
    }
    for (let p = 0; p < P; p++) variance[p] /= count;
  }
  const a = new Float64Array(P);
  const b = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    a[p] = scale[p] / Math.sqrt(variance[p] + eps);
    b[p] = bias[p] - mean[p] * a[p];
  }
  return { a, b, mean, variance, runMean, runVar };
}

const batchNorm: OpDef = {
  opType: 'BatchNormalization',
  versions: [1, 6, 7, 9, 14, 15],
  build(node: NodeInfo) {
    const v = node.sinceVersion;
    const eps = node.attrs.float('epsilon', 1e-5);
    const momentum = node.attrs.float('momentum', 0.9);
    // spatial=0 (versions 1–7): parameters per (channel, spatial position).
    const spatial = v < 9 ? node.attrs.int('spatial', 1) !== 0 : true;
    // Training: training_mode (14+); before that, is_test=0 (1, 6) or requested statistics outputs (7, 9).
    const extraOutputs = node.outputPresent.slice(1).some(Boolean);
    const training =
      v >= 14
        ? node.attrs.int('training_mode', 0) !== 0
        : v < 7
          ? node.attrs.int('is_test', 0) === 0 && extraOutputs
          : extraOutputs;
    // Inference with constant parameters (initializers): the per-channel scale and shift are the
    // same every run, computed once (DenseNet-121 spent ~5 ms per run converting and combining them).
    const constants = [1, 2, 3, 4].map((i) => constantInput(node, i));
    let affine: { a: Float64Array; b: Float64Array } | undefined;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'BatchNormalization input X');
      requireFloat(x, 'BatchNormalization input X');
      const names = ['scale', 'B', 'mean', 'var'];
      const params = [1, 2, 3, 4].map((i) =>
        tensorInput(inputs[i], `BatchNormalization input ${names[i - 1]}`),
      );
      if (x.dims.length < 2) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `BatchNormalization: X must be [N, C, ...], got ${fmt(x.dims)}`,
        );
      }
      const [N, C] = x.dims;
      const S = shapeSize(x.dims.slice(2));
      const perElem = !spatial;
      const P = perElem ? C * S : C;
      params.forEach((p, i) => {
        if (p.size !== P) {
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `BatchNormalization: ${names[i]} must hold ${P} values (${perElem ? 'C × spatial, spatial=0' : 'one per channel C'}), got ${fmt(p.dims)}`,
          );
        }
      });
      const X = computeOf(x);
      const Y = computeArray(x.type, x.size, false); // every path below writes every element
      const fixed = !training && node.outputCount === 1 && params.every((p, i) => p === constants[i]);
      const stats = fixed && affine ? undefined : statistics(params, X, training, perElem, N, C, S, P, eps);
      const { a, b } = stats ?? affine!;
      if (fixed) affine ??= stats;
      if (!perElem && X instanceof Float32Array && Y instanceof Float32Array) {
        if (fastFloat32()) schannelAffine(X, Y, N, C, S, a, b, false);
        else batchNormApplyF32(X, Y, N, C, S, a, b);
      } else {
        applyScaleShift(X, Y, N, C, S, perElem, a, b);
      }
      const y = tensorFromCompute(x.type, Y, x.dims);
      const outs: (Tensor | null)[] = [y];
      if (node.outputCount > 1 && stats) {
        const { runMean, runVar, mean, variance } = stats;
        const mType = params[2].type;
        const pDims = params[2].dims;
        const runM = new Float64Array(P);
        const runV = new Float64Array(P);
        for (let p = 0; p < P; p++) {
          runM[p] = training ? runMean[p] * momentum + mean[p] * (1 - momentum) : runMean[p];
          runV[p] = training ? runVar[p] * momentum + variance[p] * (1 - momentum) : runVar[p];
        }
        outs.push(tensorFromCompute(mType, runM, pDims), tensorFromCompute(mType, runV, pDims));
        // Versions before 14 also had saved_mean / saved_var (the batch statistics).
        if (node.outputCount > 3) outs.push(tensorFromCompute(mType, Float64Array.from(mean), pDims));
        if (node.outputCount > 4) outs.push(tensorFromCompute(mType, Float64Array.from(variance), pDims));
      }
      return outs;
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Shared: normalize contiguous groups of `inner` elements (outer × inner layout).

interface GroupStats {
  mean: Float64Array;
  invStd: Float64Array;
}

function groupStats(X: FloatArray, outer: number, inner: number, eps: number, rms = false): GroupStats {
  const mean = new Float64Array(outer);
  const invStd = new Float64Array(outer);
  for (let g = 0; g < outer; g++) {
    const base = g * inner;
    let s = 0;
    if (!rms) {
      for (let i = 0; i < inner; i++) s += X[base + i];
      s /= inner;
    }
    let q = 0;
    for (let i = 0; i < inner; i++) {
      const d = X[base + i] - s;
      q += d * d;
    }
    mean[g] = s;
    invStd[g] = 1 / Math.sqrt(q / inner + eps);
  }
  return { mean, invStd };
}

// ---------------------------------------------------------------------------------------------
// InstanceNormalization

const instanceNorm: OpDef = {
  opType: 'InstanceNormalization',
  versions: [1, 6, 22],
  build(node) {
    const eps = node.attrs.float('epsilon', 1e-5);
    return (inputs) => {
      const x = tensorInput(inputs[0], 'InstanceNormalization input');
      const scale = tensorInput(inputs[1], 'InstanceNormalization scale');
      const bias = tensorInput(inputs[2], 'InstanceNormalization B');
      requireFloat(x, 'InstanceNormalization input');
      if (x.dims.length < 3) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `InstanceNormalization: input must be [N, C, spatial...], got ${fmt(x.dims)}`,
        );
      }
      const [N, C] = x.dims;
      if (scale.size !== C || bias.size !== C) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `InstanceNormalization: scale ${fmt(scale.dims)} and B ${fmt(bias.dims)} must hold C=${C} values`,
        );
      }
      const S = shapeSize(x.dims.slice(2));
      const X = computeOf(x);
      const Y = computeArray(x.type, x.size);
      const sc = float64Of(scale);
      const bi = float64Of(bias);
      const { mean, invStd } = groupStats(X, N * C, S, eps);
      for (let g = 0; g < N * C; g++) {
        const c = g % C;
        const a = invStd[g] * sc[c];
        const b = bi[c] - mean[g] * a;
        for (let i = g * S; i < (g + 1) * S; i++) Y[i] = X[i] * a + b;
      }
      return [tensorFromCompute(x.type, Y, x.dims)];
    };
  },
};

// ---------------------------------------------------------------------------------------------
// LayerNormalization and RMSNormalization: normalize over dims [axis, rank).

function tailNorm(node: NodeInfo, rms: boolean): Kernel {
  const what = rms ? 'RMSNormalization' : 'LayerNormalization';
  const axisAttr = node.attrs.int('axis', -1);
  const eps = node.attrs.float('epsilon', 1e-5);
  const stash = stashType(node.attrs.int('stash_type', 1), what);
  const float64Param = float64Params(node, rms ? [1] : [1, 2]);
  return (inputs) => {
    const x = tensorInput(inputs[0], `${what} input X`);
    const scale = tensorInput(inputs[1], `${what} input Scale`);
    const bias = rms ? undefined : optionalTensor(inputs[2]);
    requireFloat(x, `${what} input X`);
    const rank = x.dims.length;
    const axis = normalizeAxis(axisAttr, rank, `${what} axis`);
    const outer = shapeSize(x.dims.slice(0, axis));
    const inner = shapeSize(x.dims.slice(axis));
    const X = computeOf(x);
    const Y = computeArray(x.type, x.size, false);
    // Mean and InvStdDev only for LayerNormalization nodes that output them.
    const statsOut = !rms && node.outputCount > 1;
    let stats: GroupStats | undefined;
    // Scale and B over exactly the normalized axes (the usual case): on WASM, statistics included.
    const perPosition = (p: Tensor | undefined) => !p || sameTail(p.dims, x.dims.slice(axis));
    if (
      X instanceof Float32Array &&
      Y instanceof Float32Array &&
      fastFloat32() &&
      perPosition(scale) &&
      perPosition(bias)
    ) {
      const B = bias ? float64Param(bias) : new Float64Array(inner);
      if (statsOut) stats = { mean: new Float64Array(outer), invStd: new Float64Array(outer) };
      snormRows(X, Y, outer, inner, float64Param(scale), B, eps, rms, stats);
    } else {
      stats = groupStats(X, outer, inner, eps, rms);
      const { mean, invStd } = stats;
      const sc = paramReader(scale, x.dims, `${what}: Scale`);
      const bi = bias ? paramReader(bias, x.dims, `${what}: B`) : () => 0;
      for (let g = 0; g < outer; g++) {
        const m = mean[g];
        const s = invStd[g];
        for (let i = g * inner; i < (g + 1) * inner; i++) Y[i] = (X[i] - m) * s * sc(i) + bi(i);
      }
    }
    const y = tensorFromCompute(x.type, Y, x.dims);
    if (!statsOut || !stats) return [y];
    const statDims = x.dims.map((d, i) => (i < axis ? d : 1));
    return [
      y,
      tensorFromCompute(stash, stats.mean, statDims),
      tensorFromCompute(stash, stats.invStd, statDims),
    ];
  };
}

/** `dims` and `tail` list the same elements in the same order: equal once leading 1s are dropped. */
function sameTail(dims: Dims, tail: Dims): boolean {
  const strip = (d: Dims) => {
    let i = 0;
    while (i < d.length && d[i] === 1) i++;
    return d.slice(i);
  };
  const [a, b] = [strip(dims), strip(tail)];
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const layerNorm: OpDef = { opType: 'LayerNormalization', versions: [17], build: (n) => tailNorm(n, false) };
const rmsNorm: OpDef = { opType: 'RMSNormalization', versions: [23], build: (n) => tailNorm(n, true) };

// ---------------------------------------------------------------------------------------------
// GroupNormalization

const groupNorm: OpDef = {
  opType: 'GroupNormalization',
  versions: [18, 21],
  build(node) {
    const eps = node.attrs.float('epsilon', 1e-5);
    const G = node.attrs.int('num_groups');
    // 18: scale/bias per group; 21: per channel.
    const perChannel = node.sinceVersion >= 21;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'GroupNormalization input X');
      const scale = tensorInput(inputs[1], 'GroupNormalization scale');
      const bias = tensorInput(inputs[2], 'GroupNormalization bias');
      requireFloat(x, 'GroupNormalization input X');
      if (x.dims.length < 2) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `GroupNormalization: X must be [N, C, ...], got ${fmt(x.dims)}`,
        );
      }
      const [N, C] = x.dims;
      if (!(G > 0) || C % G !== 0) {
        throw new OnyxError(
          'INVALID_MODEL',
          `GroupNormalization: C=${C} is not divisible by num_groups=${G}`,
        );
      }
      const P = perChannel ? C : G;
      if (scale.size !== P || bias.size !== P) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `GroupNormalization-${node.sinceVersion}: scale ${fmt(scale.dims)} and bias ${fmt(bias.dims)} must hold ${P} values (one per ${perChannel ? 'channel' : 'group'})`,
        );
      }
      const S = shapeSize(x.dims.slice(2));
      const Cg = C / G;
      const X = computeOf(x);
      const Y = computeArray(x.type, x.size);
      const sc = float64Of(scale);
      const bi = float64Of(bias);
      const { mean, invStd } = groupStats(X, N * G, Cg * S, eps);
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const grp = n * G + Math.floor(c / Cg);
          const p = perChannel ? c : Math.floor(c / Cg);
          const a = invStd[grp] * sc[p];
          const b = bi[p] - mean[grp] * a;
          const base = (n * C + c) * S;
          for (let i = base; i < base + S; i++) Y[i] = X[i] * a + b;
        }
      }
      return [tensorFromCompute(x.type, Y, x.dims)];
    };
  },
};

// ---------------------------------------------------------------------------------------------
// LRN: y = x / (bias + alpha/size · Σ_{nearby channels} x²)^beta

const lrn: OpDef = {
  opType: 'LRN',
  versions: [1, 13],
  build(node) {
    const alpha = node.attrs.float('alpha', 1e-4);
    const beta = node.attrs.float('beta', 0.75);
    const bias = node.attrs.float('bias', 1);
    const size = node.attrs.int('size');
    if (!(size > 0)) throw new OnyxError('INVALID_MODEL', `LRN: size must be positive, got ${size}`);
    const before = Math.floor((size - 1) / 2);
    const after = Math.ceil((size - 1) / 2);
    // t^beta; AlexNet's and GoogLeNet's 0.75 as √(t·√t), several times faster than Math.pow.
    const powBeta =
      beta === 0.75 ? (t: number) => Math.sqrt(t * Math.sqrt(t)) : (t: number) => Math.pow(t, beta);
    return (inputs) => {
      const x = tensorInput(inputs[0], 'LRN input X');
      requireFloat(x, 'LRN input X');
      if (x.dims.length < 2)
        throw new OnyxError('SHAPE_MISMATCH', `LRN: X must be [N, C, ...], got ${fmt(x.dims)}`);
      const [N, C] = x.dims;
      const S = shapeSize(x.dims.slice(2));
      const X = computeOf(x);
      const Y = computeArray(x.type, x.size);
      const k = alpha / size;
      if (beta === 0.75 && X instanceof Float32Array && Y instanceof Float32Array && fastFloat32()) {
        slrn075(X, Y, N, C, S, { before, after, k, bias });
        return [tensorFromCompute(x.type, Y, x.dims)];
      }
      const sq = new Float64Array(S);
      // The window's sum of squares slides along the channels: one channel enters, one leaves.
      const addSquares = (n: number, c: number, sign: number) => {
        if (c < 0 || c >= C) return;
        const b = (n * C + c) * S;
        for (let s = 0; s < S; s++) sq[s] += sign * X[b + s] * X[b + s];
      };
      for (let n = 0; n < N; n++) {
        sq.fill(0);
        for (let c = 0; c <= after; c++) addSquares(n, c, 1);
        for (let c = 0; c < C; c++) {
          const b = (n * C + c) * S;
          for (let s = 0; s < S; s++) Y[b + s] = X[b + s] / powBeta(bias + k * sq[s]);
          addSquares(n, c + after + 1, 1);
          addSquares(n, c - before, -1);
        }
      }
      return [tensorFromCompute(x.type, Y, x.dims)];
    };
  },
};

// ---------------------------------------------------------------------------------------------
// MeanVarianceNormalization: (x − mean) / (std + 1e-9) over `axes`.

/** For each element of `dims`, the index of its group when `axes` are reduced. */
function groupIndex(dims: Dims, axes: number[]): { groupOf: Int32Array; groups: number } {
  const keep = dims.map((_, i) => !axes.includes(i));
  const keptDims = dims.filter((_, i) => keep[i]);
  const groups = shapeSize(keptDims);
  const n = shapeSize(dims);
  const groupOf = new Int32Array(n);
  const strides = new Array<number>(dims.length).fill(0);
  for (let i = dims.length - 1, s = 1; i >= 0; i--) {
    if (keep[i]) {
      strides[i] = s;
      s *= dims[i];
    }
  }
  const counter = new Array<number>(dims.length).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    groupOf[i] = off;
    for (let ax = dims.length - 1; ax >= 0; ax--) {
      counter[ax]++;
      off += strides[ax];
      if (counter[ax] < dims[ax]) break;
      off -= strides[ax] * counter[ax];
      counter[ax] = 0;
    }
  }
  return { groupOf, groups };
}

const mvn: OpDef = {
  opType: 'MeanVarianceNormalization',
  versions: [1, 9, 13],
  build(node) {
    const v = node.sinceVersion;
    const axesAttr = v >= 9 ? node.attrs.ints('axes', [0, 2, 3]) : undefined;
    const acrossChannels = v < 9 && node.attrs.int('across_channels', 0) !== 0;
    const normalizeVariance = v < 9 ? node.attrs.int('normalize_variance', 1) !== 0 : true;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'MeanVarianceNormalization input');
      requireFloat(x, 'MeanVarianceNormalization input');
      const rank = x.dims.length;
      const axes = axesAttr
        ? normalizeAxes(axesAttr, rank, 'MeanVarianceNormalization axes')
        : Array.from(
            { length: Math.max(0, rank - (acrossChannels ? 1 : 2)) },
            (_, i) => i + (acrossChannels ? 1 : 2),
          );
      const X = computeOf(x);
      const Y = computeArray(x.type, x.size);
      const { groupOf, groups } = groupIndex(x.dims, axes);
      const count = new Float64Array(groups);
      const sum = new Float64Array(groups);
      const sq = new Float64Array(groups);
      for (let i = 0; i < X.length; i++) {
        const g = groupOf[i];
        count[g]++;
        sum[g] += X[i];
        sq[g] += X[i] * X[i];
      }
      for (let g = 0; g < groups; g++) {
        sum[g] /= count[g];
        sq[g] = Math.sqrt(Math.max(0, sq[g] / count[g] - sum[g] * sum[g])) + 1e-9;
      }
      for (let i = 0; i < X.length; i++) {
        const g = groupOf[i];
        Y[i] = normalizeVariance ? (X[i] - sum[g]) / sq[g] : X[i] - sum[g];
      }
      return [tensorFromCompute(x.type, Y, x.dims)];
    };
  },
};

// ---------------------------------------------------------------------------------------------
// LpNormalization: x / ‖x‖_p along one axis (p = 1 or 2).

const lpNorm: OpDef = {
  opType: 'LpNormalization',
  versions: [1, 22],
  build(node) {
    const axisAttr = node.attrs.int('axis', -1);
    const p = node.attrs.int('p', 2);
    if (p !== 1 && p !== 2)
      throw new OnyxError('INVALID_MODEL', `LpNormalization: p must be 1 or 2, got ${p}`);
    return (inputs) => {
      const x = tensorInput(inputs[0], 'LpNormalization input');
      requireFloat(x, 'LpNormalization input');
      const axis = normalizeAxis(axisAttr, x.dims.length, 'LpNormalization axis');
      const len = x.dims[axis];
      const inner = shapeSize(x.dims.slice(axis + 1));
      const outer = shapeSize(x.dims.slice(0, axis));
      const X = computeOf(x);
      const Y = computeArray(x.type, x.size);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * len * inner + i;
          let s = 0;
          for (let k = 0; k < len; k++) {
            const v = X[base + k * inner];
            s += p === 1 ? Math.abs(v) : v * v;
          }
          const norm = p === 1 ? s : Math.sqrt(s);
          // A zero vector stays zero (as onnxruntime and the ONNX test data have it), not NaN.
          const inv = norm === 0 ? 0 : 1 / norm;
          for (let k = 0; k < len; k++) Y[base + k * inner] = X[base + k * inner] * inv;
        }
      }
      return [tensorFromCompute(x.type, Y, x.dims)];
    };
  },
};

export const ops: OpDef[] = [batchNorm, instanceNorm, layerNorm, groupNorm, lrn, rmsNorm, mvn, lpNorm];
