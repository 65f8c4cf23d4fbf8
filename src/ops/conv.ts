/**
 * Convolutions: Conv, ConvTranspose, ConvInteger, DeformConv.
 *
 * Conv runs per (image, group) as a GEMM: Y_g[Mg × P] = W_g[Mg × Cg·k] · col[Cg·k × P], with
 * - a 1×1 / stride 1 / no-pad fast path that multiplies the input directly (no im2col),
 * - a direct loop for depthwise convolutions (one input channel per group),
 * - im2col in chunks of output rows otherwise (bounded scratch memory, cache-friendly).
 * 1-D convolutions run as 2-D ones of height 1; 3-D and higher use a general im2col.
 * ConvTranspose is the adjoint: col = W_gᵀ · X_g, then col2im scatters into the output.
 */
import { OnyxError } from '../core/errors.js';
import { Tensor, sameDims, shapeSize, type Dims } from '../core/tensor.js';
import type { ThreadPool } from '../runtime/thread-pool.js';
import { constantInput, type Kernel, type NodeInfo, type OpDef } from './kernel.js';
import {
  computeArray,
  computeArrayType,
  computeOf,
  tensorFromCompute,
  type ComputeArrayType,
} from './util/compute-array.js';
import type { FloatArray } from './util/gemm.js';
import {
  applyEpilogue,
  fastFloat32,
  operandScratch,
  ownPacked,
  packConstant,
  parallelConvolve,
  parallelDepthwise,
  parallelWinograd,
  sgemm,
  winogradFits,
  parallelSgemmWithPacked,
  parallelSgemmGroups,
  inWasmMemory,
  type GemmEpilogue,
  type Window2D,
  type PackedWeights,
} from './util/dispatch.js';
import { binary, unary } from './util/elementwise.js';
import { tensorInput, fmt } from './util/numeric.js';
import { as2d, im2col, im2col2d, validRange } from './util/im2col.js';
import { integerConv } from './util/integer-conv.js';
import { readWindowAttrs, resolveWindow, type Window, type WindowAttrs } from './util/window.js';
import { winogradApplies, winogradWeights } from './winograd.js';
import { minusZeroPoint, zeroPoints } from './util/zero-point.js';

/** Everything one forward convolution needs to know about its shapes. */
export interface ConvGeometry {
  N: number;
  C: number;
  M: number;
  group: number;
  /** Input spatial dims. */
  spatial: number[];
  win: Window;
}

/** Checks X/W shapes against group and resolves the window. */
export function convGeometry(
  xDims: Dims,
  wDims: Dims,
  group: number,
  attrs: WindowAttrs,
  what: string,
): ConvGeometry {
  if (xDims.length < 3) {
    throw new OnyxError('SHAPE_MISMATCH', `${what}: input X must be [N, C, spatial...], got ${fmt(xDims)}`);
  }
  if (wDims.length !== xDims.length) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${what}: weights W ${fmt(wDims)} must have the rank of X ${fmt(xDims)}`,
    );
  }
  const [N, C] = xDims;
  const M = wDims[0];
  if (!(group >= 1) || C % group !== 0 || wDims[1] * group !== C || M % group !== 0) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${what}: X ${fmt(xDims)} and W ${fmt(wDims)} do not fit group=${group} (need C = W[1]·group and W[0] divisible by group)`,
    );
  }
  const spatial = xDims.slice(2);
  const win = resolveWindow(attrs, spatial, wDims.slice(2), what);
  for (let i = 0; i < spatial.length; i++) {
    if (win.kernel[i] !== wDims[2 + i]) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `${what}: kernel_shape [${win.kernel.join(', ')}] does not match W ${fmt(wDims)}`,
      );
    }
  }
  return { N, C, M, group, spatial, win };
}

// Scratch for im2col, reused between calls (grown on demand).
const scratch = { f32: new Float32Array(0), f64: new Float64Array(0) };
function scratchLike(like: FloatArray, n: number): FloatArray {
  if (like instanceof Float32Array) {
    if (scratch.f32.length < n) scratch.f32 = new Float32Array(n);
    return scratch.f32;
  }
  if (scratch.f64.length < n) scratch.f64 = new Float64Array(n);
  return scratch.f64;
}

/** Tuning knobs (tests shrink the chunk to exercise chunking on small inputs). */
export const convTuning = {
  /** Target size (elements) of one im2col chunk. */
  chunkElements: 1 << 19,
  /** Float32 2-D depthwise convolutions take the bounds-precomputed direct loop (tests turn it off). */
  depthwiseFast: true,
  /** Eligible 3×3 convolutions built from now on take Winograd (ops/winograd.ts); tests compare. */
  winograd: true,
};

/** Depthwise (one input channel per group) 2-D convolution, accumulating into Y. */
function depthwise2d(
  X: FloatArray,
  xOff: number,
  Wt: FloatArray,
  wOff: number,
  Y: FloatArray,
  yOff: number,
  g: Window2D,
): void {
  const { H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow } = g;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const wv = Wt[wOff + ky * kw + kx];
      const ixOff = kx * dw - padLeft;
      const [lo, hi] = validRange(ixOff, sw, W, ow);
      for (let oy = 0; oy < oh; oy++) {
        const iy = oy * sh - padTop + ky * dh;
        if (iy < 0 || iy >= H) continue;
        const src = xOff + iy * W + ixOff;
        const d = yOff + oy * ow;
        if (sw === 1) for (let ox = lo; ox < hi; ox++) Y[d + ox] += wv * X[src + ox];
        else for (let ox = lo; ox < hi; ox++) Y[d + ox] += wv * X[src + ox * sw];
      }
    }
  }
}

/** Per output row / column of a 2-D window: the kernel taps [lo, hi) that land inside the input. */
interface TapRanges {
  lo: Int32Array;
  hi: Int32Array;
}

function tapRanges(out: number, size: number, k: number, s: number, d: number, p: number): TapRanges {
  const lo = new Int32Array(out);
  const hi = new Int32Array(out);
  for (let o = 0; o < out; o++) {
    const i0 = o * s - p;
    const a = i0 >= 0 ? 0 : Math.ceil(-i0 / d);
    const b = size - 1 - i0 < 0 ? 0 : Math.floor((size - 1 - i0) / d) + 1;
    lo[o] = Math.min(a, k);
    hi[o] = Math.max(Math.min(b, k), lo[o]);
  }
  return { lo, hi };
}

/** Tap ranges of a 2-D depthwise convolution, plus the output columns whose whole row of taps is inside. */
interface DepthwisePlan {
  rows: TapRanges;
  cols: TapRanges;
  /** Interior output columns [in0, in1): every kx tap valid. */
  in0: number;
  in1: number;
}

function depthwisePlan(g: Window2D): DepthwisePlan {
  const rows = tapRanges(g.oh, g.H, g.kh, g.sh, g.dh, g.padTop);
  const cols = tapRanges(g.ow, g.W, g.kw, g.sw, g.dw, g.padLeft);
  let in0 = 0;
  while (in0 < g.ow && !(cols.lo[in0] === 0 && cols.hi[in0] === g.kw)) in0++;
  let in1 = in0;
  while (in1 < g.ow && cols.lo[in1] === 0 && cols.hi[in1] === g.kw) in1++;
  return { rows, cols, in0, in1 };
}

/** Output columns [ox0, ox1) of row oy of a float32 depthwise convolution, taps bounded by the plan. */
function depthwiseRowF32(
  X: Float32Array,
  xOff: number,
  Wt: Float32Array,
  wOff: number,
  Y: Float32Array,
  yOff: number,
  g: Window2D,
  plan: DepthwisePlan,
  oy: number,
  ox0: number,
  ox1: number,
): void {
  const { W, kw, sw, dh, dw, padLeft, ow } = g;
  const ky0 = plan.rows.lo[oy];
  const ky1 = plan.rows.hi[oy];
  const clo = plan.cols.lo;
  const chi = plan.cols.hi;
  const iyBase = oy * g.sh - g.padTop;
  const d = yOff + oy * ow;
  for (let ox = ox0; ox < ox1; ox++) {
    const kx0 = clo[ox];
    const kx1 = chi[ox];
    const ixBase = ox * sw - padLeft;
    let s = 0;
    for (let ky = ky0; ky < ky1; ky++) {
      const row = xOff + (iyBase + ky * dh) * W + ixBase;
      const wr = wOff + ky * kw;
      for (let kx = kx0; kx < kx1; kx++) s += Wt[wr + kx] * X[row + kx * dw];
    }
    Y[d + ox] = s;
  }
}

/**
 * Float32 2-D depthwise convolution of one channel: Y (written, not accumulated) from the taps that
 * fall inside the input, found per output row and column up front so the inner loops test nothing.
 * 3×3 windows with stride 1 or 2 and no dilation run their interior unrolled.
 */
function depthwise2dF32(
  X: Float32Array,
  xOff: number,
  Wt: Float32Array,
  wOff: number,
  Y: Float32Array,
  yOff: number,
  g: Window2D,
  plan: DepthwisePlan,
): void {
  const { W, oh, ow, sw } = g;
  const k3 = g.kh === 3 && g.kw === 3 && g.dh === 1 && g.dw === 1 && (sw === 1 || sw === 2) && g.sh === sw;
  if (!k3) {
    for (let oy = 0; oy < oh; oy++) depthwiseRowF32(X, xOff, Wt, wOff, Y, yOff, g, plan, oy, 0, ow);
    return;
  }
  const { in0, in1 } = plan;
  const w0 = Wt[wOff];
  const w1 = Wt[wOff + 1];
  const w2 = Wt[wOff + 2];
  const w3 = Wt[wOff + 3];
  const w4 = Wt[wOff + 4];
  const w5 = Wt[wOff + 5];
  const w6 = Wt[wOff + 6];
  const w7 = Wt[wOff + 7];
  const w8 = Wt[wOff + 8];
  const rlo = plan.rows.lo;
  const rhi = plan.rows.hi;
  for (let oy = 0; oy < oh; oy++) {
    if (rlo[oy] !== 0 || rhi[oy] !== 3 || in1 <= in0) {
      depthwiseRowF32(X, xOff, Wt, wOff, Y, yOff, g, plan, oy, 0, ow);
      continue;
    }
    depthwiseRowF32(X, xOff, Wt, wOff, Y, yOff, g, plan, oy, 0, in0);
    const r0 = xOff + (oy * g.sh - g.padTop) * W - g.padLeft;
    const r1 = r0 + W;
    const r2 = r1 + W;
    const d = yOff + oy * ow;
    if (sw === 1) {
      for (let ox = in0; ox < in1; ox++) {
        Y[d + ox] =
          w0 * X[r0 + ox] +
          w1 * X[r0 + ox + 1] +
          w2 * X[r0 + ox + 2] +
          w3 * X[r1 + ox] +
          w4 * X[r1 + ox + 1] +
          w5 * X[r1 + ox + 2] +
          w6 * X[r2 + ox] +
          w7 * X[r2 + ox + 1] +
          w8 * X[r2 + ox + 2];
      }
    } else {
      for (let ox = in0; ox < in1; ox++) {
        const i = 2 * ox;
        Y[d + ox] =
          w0 * X[r0 + i] +
          w1 * X[r0 + i + 1] +
          w2 * X[r0 + i + 2] +
          w3 * X[r1 + i] +
          w4 * X[r1 + i + 1] +
          w5 * X[r1 + i + 2] +
          w6 * X[r2 + i] +
          w7 * X[r2 + i + 1] +
          w8 * X[r2 + i + 2];
      }
    }
    depthwiseRowF32(X, xOff, Wt, wOff, Y, yOff, g, plan, oy, in1, ow);
  }
}

/** How a convolution runs beyond its operands: pre-packed weights, a fused clamp, threads. */
export interface ConvRunOptions {
  /** W_g (Mg × Kg) of each group packed by `packConvWeights`; used only while `fastFloat32()`. */
  packed?: readonly PackedWeights[];
  /**
   * W transformed by `winogradWeights`, each group's 16 matrices (a 3×3 stride-1 convolution); used
   * only while `fastFloat32()`.
   */
  winograd?: readonly (readonly PackedWeights[])[];
  /** Fused Relu/Clip: the output is clamped to [min, max] after the bias (and the sum). */
  clip?: { min: number; max: number };
  /** FusedConv's Z: added to the convolution (N × M × P, Y's layout) before the clamp. */
  sum?: FloatArray;
  pool?: ThreadPool;
}

/** True when a convolution of these arrays (Y's compute type given) runs on the WASM kernels. */
function fastFloat32Conv(X: FloatArray, Wt: FloatArray, yType: ComputeArrayType): boolean {
  return X instanceof Float32Array && Wt instanceof Float32Array && yType === Float32Array && fastFloat32();
}

function isUnitStep(g: Window2D): boolean {
  return g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1;
}

function isPointwise(win: Window): boolean {
  return (
    shapeSize(win.kernel) === 1 &&
    win.strides.every((s) => s === 1) &&
    win.padBegin.every((p) => p === 0) &&
    win.padEnd.every((p) => p === 0)
  );
}

/**
 * True when `convForward` runs this convolution as one WASM depthwise call per image (2-D, one input
 * and one output channel per group, float32 on the WASM kernels), which writes every output element.
 */
export function wasmDepthwise(
  geo: ConvGeometry,
  X: FloatArray,
  Wt: FloatArray,
  yType: ComputeArrayType,
): boolean {
  const { C, M, group, spatial, win } = geo;
  return (
    C === group &&
    M === group &&
    !isPointwise(win) &&
    as2d(spatial, win) !== undefined &&
    fastFloat32Conv(X, Wt, yType)
  );
}

/**
 * Y (N × M × P; zero-filled, unless `wasmDepthwise`) = clip(conv(X, W) + bias + sum). Each (image,
 * group) block is one GEMM (or the depthwise loop), with bias and clip fused as its epilogue on either
 * GEMM path. A sum is added by the WASM GEMMs' epilogue; the grouped 1×1 call, the depthwise loops
 * and the reference path copy it into Y first and accumulate onto it (beta = 1) — a copy on the
 * calling thread alone, ~2–5 ms of ResNet-50's runs for its 16 residual sums. Float32 2-D
 * convolutions on the WASM kernels unfold im2col inside the kernel (`parallelConvolve`); the im2col
 * chunks here are the reference path.
 */
export function convForward(
  X: FloatArray,
  Wt: FloatArray,
  bias: FloatArray | undefined,
  geo: ConvGeometry,
  Y: FloatArray,
  opts: ConvRunOptions = {},
): void {
  const { N, C, M, group, spatial, win } = geo;
  const Cg = C / group;
  const Mg = M / group;
  const kSize = shapeSize(win.kernel);
  const Kg = Cg * kSize;
  const P = shapeSize(win.outSpatial);
  const inSize = shapeSize(spatial);
  const pointwise = isPointwise(win);
  const g2 = as2d(spatial, win, Cg);
  if (P <= 0 || Mg <= 0) return;
  const { clip, pool, sum } = opts;
  const yType = Y instanceof Float32Array ? Float32Array : Float64Array;
  const fast = fastFloat32Conv(X, Wt, yType);
  const packed = opts.packed && fast ? opts.packed : undefined;
  const groupedPointwise = pointwise && packed !== undefined && group > 1;
  const depthwiseLoop = Cg === 1 && g2 !== undefined && !pointwise;
  // The sum rides in the GEMM epilogue (float32 WASM GEMMs), or is copied into Y first.
  const sumInEpilogue = sum instanceof Float32Array && fast && !groupedPointwise && !depthwiseLoop;
  const beta = sum && !sumInEpilogue ? 1 : 0;
  /** W_g · B (Mg × cols, B's rows `ldb` apart) into Y at yOff, rows P apart, with the epilogue. */
  const product = (
    g: number,
    cols: number,
    K: number,
    B: FloatArray,
    bOff: number,
    ldb: number,
    yOff: number,
  ) => {
    const epilogue = epilogueOf(g, yOff);
    if (packed) {
      parallelSgemmWithPacked(
        pool,
        packed[g],
        false,
        Mg,
        cols,
        K,
        1,
        B as Float32Array,
        bOff,
        ldb,
        beta,
        Y as Float32Array,
        yOff,
        P,
        epilogue,
      );
    } else {
      sgemm(
        false,
        false,
        Mg,
        cols,
        K,
        1,
        Wt,
        g * Mg * Kg,
        Kg,
        B,
        bOff,
        ldb,
        beta,
        Y,
        yOff,
        P,
        epilogue,
        pool,
      );
    }
  };
  /**
   * Group g's epilogue; for a GEMM writing Y from `yOff`, with the sum there when the epilogue adds
   * it (the depthwise and Winograd kernels add the sum themselves).
   */
  const epilogueOf = (g: number, yOff?: number): GemmEpilogue => {
    const epilogue: GemmEpilogue = { clip };
    if (bias) epilogue.bias = { data: bias as Float32Array, offset: g * Mg, axis: 'row' };
    if (sumInEpilogue && yOff !== undefined) epilogue.sum = { data: sum, offset: yOff };
    return epilogue;
  };
  if (g2 && wasmDepthwise(geo, X, Wt, yType)) {
    // Depthwise with one output per channel: all channels of an image in one WASM call, which adds
    // the sum itself (so Y is not pre-filled with it).
    const epilogue = epilogueOf(0);
    const geoAll = as2d(spatial, win, C)!;
    for (let n = 0; n < N; n++) {
      const [xOff, yOff] = [n * C * inSize, n * M * P];
      const s = sum as Float32Array | undefined;
      const [x, w, y] = [X as Float32Array, Wt as Float32Array, Y as Float32Array];
      parallelDepthwise(pool, { X: x, xOff, W: w, wOff: 0, geo: geoAll, Y: y, yOff, epilogue, sum: s });
    }
    return;
  }
  const winograd = opts.winograd && fast ? opts.winograd : undefined;
  const winogradRuns = winograd?.length === group && g2 && g2.kh === 3 && g2.kw === 3;
  if (winogradRuns && isUnitStep(g2) && winogradFits(g2.ow)) {
    // Winograd F(2×2, 3×3), one image and group at a time; it adds the sum itself.
    const [x, y, s] = [X as Float32Array, Y as Float32Array, sum as Float32Array | undefined];
    for (let g = 0; g < group; g++) {
      const [weights, epilogue] = [winograd[g], epilogueOf(g)];
      for (let n = 0; n < N; n++) {
        const [xOff, yOff] = [(n * group + g) * Cg * inSize, (n * group + g) * Mg * P];
        parallelWinograd(pool, { X: x, xOff, weights, M: Mg, geo: g2, Y: y, yOff, epilogue, sum: s });
      }
    }
    return;
  }
  // The paths without the sum in their epilogue accumulate onto it (beta = 1).
  if (sum && !sumInEpilogue) Y.set(sum);
  const inPlace = !sum || (Y instanceof Float32Array && inWasmMemory(Y)); // beta = 1 reads Y there
  if (groupedPointwise && X instanceof Float32Array && Y instanceof Float32Array && inPlace) {
    // A grouped 1×1 convolution (ShuffleNet's): all groups of an image in one call, threads
    // taking whole groups — each group's product is small, and splitting it cost a job each.
    for (let n = 0; n < N; n++) {
      const [xOff, yOff, epilogue] = [n * C * inSize, n * M * P, epilogueOf(0)];
      // Fields spelled out (no object spread: ~10 µs in Node 20's V8, see WasmKernels.sgemmWithPacked).
      parallelSgemmGroups(pool, {
        weights: packed,
        M: Mg,
        N: P,
        K: Cg,
        X,
        xOff,
        ldx: inSize,
        strideX: Cg * inSize,
        Y,
        yOff,
        strideY: Mg * P,
        beta,
        epilogue,
      });
    }
    return;
  }
  const dwPlan =
    Cg === 1 && g2 && !pointwise && convTuning.depthwiseFast && X instanceof Float32Array
      ? depthwisePlan(g2)
      : undefined;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      const xOff = (n * C + g * Cg) * inSize;
      const yOff = (n * M + g * Mg) * P;
      const wOff = g * Mg * Kg;
      if (pointwise) {
        product(g, P, Cg, X, xOff, inSize, yOff);
      } else if (Cg === 1 && g2) {
        if (dwPlan && X instanceof Float32Array && Wt instanceof Float32Array && Y instanceof Float32Array) {
          for (let m = 0; m < Mg; m++)
            depthwise2dF32(X, xOff, Wt, wOff + m * Kg, Y, yOff + m * P, g2, dwPlan);
          if (sum) for (let i = yOff; i < yOff + Mg * P; i++) Y[i] += sum[i];
        } else {
          for (let m = 0; m < Mg; m++) depthwise2d(X, xOff, Wt, wOff + m * Kg, Y, yOff + m * P, g2);
        }
        applyEpilogue(Y, yOff, P, Mg, P, epilogueOf(g));
      } else if (g2 && fast) {
        const weights = packed ? packed[g] : { data: Wt as Float32Array, offset: wOff };
        parallelConvolve(pool, {
          weights,
          M: Mg,
          X: X as Float32Array,
          xOff,
          geo: g2,
          beta,
          Y: Y as Float32Array,
          yOff,
          epilogue: epilogueOf(g, yOff),
        });
      } else if (g2) {
        const rowsPerChunk = Math.max(
          1,
          Math.min(g2.oh, Math.floor(convTuning.chunkElements / Math.max(1, Kg * g2.ow))),
        );
        const need = Kg * rowsPerChunk * g2.ow;
        // In the WASM memory when the GEMM runs there: the kernel then reads im2col in place.
        const col = (X instanceof Float32Array ? operandScratch(need) : undefined) ?? scratchLike(X, need);
        for (let oy0 = 0; oy0 < g2.oh; oy0 += rowsPerChunk) {
          const oy1 = Math.min(g2.oh, oy0 + rowsPerChunk);
          const cols = (oy1 - oy0) * g2.ow;
          im2col2d(X, xOff, Cg, g2, oy0, oy1, col);
          product(g, cols, Kg, col, 0, cols, yOff + oy0 * g2.ow);
        }
      } else {
        const col =
          (X instanceof Float32Array ? operandScratch(Kg * P) : undefined) ??
          new (X instanceof Float32Array ? Float32Array : Float64Array)(Kg * P);
        im2col(X, xOff, Cg, spatial, win, col);
        product(g, P, Kg, col, 0, P, yOff);
      }
    }
  }
}

/**
 * W's per-group matrices W_g (Mg × Cg·k) packed for the WASM GEMM, when W is float32 and the
 * convolution is not depthwise 1-D/2-D (that runs its direct loop); undefined otherwise.
 */
export function packConvWeights(w: Tensor, group: number): PackedWeights[] | undefined {
  if (w.type !== 'float32' || w.dims.length < 3 || !(group >= 1) || w.dims[0] % group !== 0) return undefined;
  if (w.dims[1] === 1 && w.dims.length <= 4) return undefined;
  const Mg = w.dims[0] / group;
  const Kg = shapeSize(w.dims.slice(1));
  const data = w.data as Float32Array;
  const packs: PackedWeights[] = [];
  for (let g = 0; g < group; g++) {
    const p = packConstant('A', false, Mg, Kg, data, g * Mg * Kg, Kg);
    if (!p) return undefined;
    packs.push(p);
  }
  return packs;
}

function optionalTensor(v: unknown): Tensor | undefined {
  return v instanceof Tensor ? v : undefined;
}

function checkBias(b: Tensor | undefined, M: number, what: string): void {
  if (b && (b.dims.length !== 1 || b.dims[0] !== M)) {
    throw new OnyxError('SHAPE_MISMATCH', `${what}: bias B must be [${M}], got ${fmt(b.dims)}`);
  }
}

function requireFloat(t: Tensor, what: string): void {
  const ok = ['float32', 'float64', 'float16', 'bfloat16'].includes(t.type);
  if (!ok) throw new OnyxError('TYPE_MISMATCH', `${what} must be a float tensor, got tensor(${t.type})`);
}

// ---------------------------------------------------------------------------------------------
// Conv

/** What a fused Conv does beyond the convolution (the optimizer's FusedConv, ops/contrib.ts). */
export interface ConvFusion {
  /** A following Relu/Clip, clamped inside the GEMM epilogue. */
  clip?: { min: number; max: number };
  /** Input 3 (FusedConv's Z) is added before the clamp: a residual connection. */
  sum?: boolean;
}

/**
 * Conv's kernel for `node`. A constant W (an initializer) is packed once here for the WASM GEMM and
 * freed by the kernel's `dispose`. `fusion` folds a following residual Add and Relu/Clip into the
 * GEMM epilogue.
 */
export function buildConv(node: NodeInfo, fusion: ConvFusion = {}): Kernel {
  const attrs = readWindowAttrs(node.attrs, 'Conv');
  const group = node.attrs.int('group', 1);
  const wConst = constantInput(node, 1);
  const winograd =
    wConst && convTuning.winograd && winogradApplies(attrs, group, wConst)
      ? winogradWeights(wConst, group)
      : undefined;
  const packed = wConst && !winograd ? packConvWeights(wConst, group) : undefined;
  const kernel: Kernel = (inputs, ctx) => {
    const x = tensorInput(inputs[0], 'Conv input X');
    const w = tensorInput(inputs[1], 'Conv input W');
    const b = optionalTensor(inputs[2]);
    requireFloat(x, 'Conv input X');
    if (w.type !== x.type) {
      throw new OnyxError('TYPE_MISMATCH', `Conv: W must have X's type ${x.type}, got ${w.type}`);
    }
    const geo = convGeometry(x.dims, w.dims, group, attrs, 'Conv');
    checkBias(b, geo.M, 'Conv');
    const outDims = [geo.N, geo.M, ...geo.win.outSpatial];
    const z = fusion.sum ? tensorInput(inputs[3], 'FusedConv input Z') : undefined;
    if (z && z.type !== x.type) {
      throw new OnyxError(
        'TYPE_MISMATCH',
        `FusedConv node '${node.name}': Z must have X's type ${x.type}, got ${z.type}`,
      );
    }
    // Z of the output's shape is added in the epilogue; one that broadcasts (Add's rule), after.
    const zInside = z && sameDims(z.dims, outDims) ? z : undefined;
    // Every path of convForward writes every element, except the direct depthwise loops in
    // TypeScript (one input channel per group), which accumulate.
    const [X, Wt] = [computeOf(x), computeOf(w)];
    const accumulates = geo.C / geo.group === 1 && !wasmDepthwise(geo, X, Wt, computeArrayType(x.type));
    const Y = computeArray(x.type, shapeSize(outDims), accumulates);
    convForward(X, Wt, b ? computeOf(b) : undefined, geo, Y, {
      packed: w === wConst ? packed : undefined,
      winograd: w === wConst ? winograd : undefined,
      clip: z && !zInside ? undefined : fusion.clip,
      sum: zInside ? computeOf(zInside) : undefined,
      pool: ctx.threads,
    });
    const y = tensorFromCompute(x.type, Y, outDims);
    if (!z || zInside) return [y];
    const added = binary(y, z, x.type, (p: number, q: number) => p + q);
    const clip = fusion.clip;
    return [clip ? unary(added, x.type, (v: number) => Math.min(Math.max(v, clip.min), clip.max)) : added];
  };
  return ownPacked(kernel, [...(packed ?? []), ...(winograd ?? []).flat()]);
}

const conv: OpDef = {
  opType: 'Conv',
  versions: [1, 11, 22],
  build: (node) => buildConv(node),
};

// ---------------------------------------------------------------------------------------------
// ConvInteger

const convInteger: OpDef = {
  opType: 'ConvInteger',
  versions: [10],
  build(node) {
    const attrs = readWindowAttrs(node.attrs, 'ConvInteger');
    const group = node.attrs.int('group', 1);
    return (inputs) => {
      const x = tensorInput(inputs[0], 'ConvInteger input x');
      const w = tensorInput(inputs[1], 'ConvInteger input w');
      const geo = convGeometry(x.dims, w.dims, group, attrs, 'ConvInteger');
      const outDims = [geo.N, geo.M, ...geo.win.outSpatial];
      const [xZp, wZp] = [optionalTensor(inputs[2]), optionalTensor(inputs[3])];
      const fast = integerConv(
        x.data as Int8Array | Uint8Array,
        w.data as Int8Array | Uint8Array,
        zeroPoints('ConvInteger', 'x', x, xZp, 1, false)[0],
        zeroPoints('ConvInteger', 'w', w, wZp, geo.M, false),
        { ...geo, window: geo.win },
      );
      if (fast) return [new Tensor('int32', fast, outDims)];
      // Padding holds x_zero_point, i.e. zero once the zero point is subtracted.
      const X = minusZeroPoint('ConvInteger', 'x', x, xZp, 1, 1, false);
      const W = minusZeroPoint('ConvInteger', 'w', w, wZp, geo.M, shapeSize(w.dims.slice(1)), false);
      const Y = new Float64Array(shapeSize(outDims));
      convForward(X, W, undefined, geo, Y);
      return [new Tensor('int32', Int32Array.from(Y), outDims)];
    };
  },
};

// ---------------------------------------------------------------------------------------------
// ConvTranspose

const convTranspose: OpDef = {
  opType: 'ConvTranspose',
  versions: [1, 11, 22],
  build(node) {
    const a = readWindowAttrs(node.attrs, 'ConvTranspose');
    const group = node.attrs.int('group', 1);
    const outputPadding = node.attrs.has('output_padding') ? node.attrs.ints('output_padding') : undefined;
    const outputShape = node.attrs.has('output_shape') ? node.attrs.ints('output_shape') : undefined;
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'ConvTranspose input X');
      const w = tensorInput(inputs[1], 'ConvTranspose input W');
      const b = optionalTensor(inputs[2]);
      requireFloat(x, 'ConvTranspose input X');
      if (x.dims.length < 3 || w.dims.length !== x.dims.length) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `ConvTranspose: X ${fmt(x.dims)} must be [N, C, spatial...] and W ${fmt(w.dims)} of the same rank`,
        );
      }
      const [N, C] = x.dims;
      if (!(group >= 1) || w.dims[0] !== C || C % group !== 0) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `ConvTranspose: W ${fmt(w.dims)} must be [C, M/group, k...] with C = ${C} divisible by group=${group}`,
        );
      }
      const Mg = w.dims[1];
      const M = Mg * group;
      checkBias(b, M, 'ConvTranspose');
      const spatial = x.dims.slice(2);
      const n = spatial.length;
      const kernel = a.kernelShape ?? w.dims.slice(2);
      if (kernel.length !== n || kernel.some((k, i) => k !== w.dims[2 + i])) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `ConvTranspose: kernel_shape [${kernel.join(', ')}] does not match W ${fmt(w.dims)}`,
        );
      }
      const strides = a.strides ?? new Array<number>(n).fill(1);
      const dil = a.dilations ?? new Array<number>(n).fill(1);
      const opad = outputPadding ?? new Array<number>(n).fill(0);
      if (strides.length !== n || dil.length !== n || opad.length < n) {
        throw new OnyxError(
          'INVALID_MODEL',
          `ConvTranspose: strides, dilations and output_padding need ${n} value(s) each`,
        );
      }
      if (outputShape && outputShape.length !== n && outputShape.length !== n + 2) {
        throw new OnyxError(
          'INVALID_MODEL',
          `ConvTranspose: output_shape [${outputShape.join(', ')}] must give the ${n} spatial dim(s)`,
        );
      }
      const wantOut = outputShape ? outputShape.slice(outputShape.length - n) : undefined;
      const padBegin = new Array<number>(n).fill(0);
      const out = new Array<number>(n);
      const same = a.autoPad === 'SAME_UPPER' || a.autoPad === 'SAME_LOWER';
      for (let i = 0; i < n; i++) {
        const full = strides[i] * (spatial[i] - 1) + opad[i] + (kernel[i] - 1) * dil[i] + 1;
        if (a.pads && !same && a.autoPad !== 'VALID') {
          if (a.pads.length !== 2 * n) {
            throw new OnyxError(
              'INVALID_MODEL',
              `ConvTranspose: pads needs ${2 * n} values, got ${a.pads.length}`,
            );
          }
          padBegin[i] = a.pads[i];
          out[i] = wantOut ? wantOut[i] : full - a.pads[i] - a.pads[i + n];
        } else if (same) {
          const target = wantOut ? wantOut[i] : spatial[i] * strides[i];
          const total = full - target;
          const half = Math.floor(total / 2);
          padBegin[i] = a.autoPad === 'SAME_UPPER' ? half : total - half;
          out[i] = target;
        } else {
          out[i] = wantOut ? wantOut[i] : full;
        }
        if (out[i] < 0) {
          throw new OnyxError('SHAPE_MISMATCH', `ConvTranspose: computed output size ${out[i]} is negative`);
        }
      }
      const outDims = [N, M, ...out];
      const X = computeOf(x);
      const Wt = computeOf(w);
      const Y = computeArray(x.type, shapeSize(outDims));
      const Cg = C / group;
      const kSize = shapeSize(kernel);
      const rows = Mg * kSize;
      const Pin = shapeSize(spatial);
      const Pout = shapeSize(out);
      const col = computeArray(x.type, rows * Pin);
      // Per-dim map from (input index, kernel index) to output index (or -1).
      for (let img = 0; img < N; img++) {
        for (let g = 0; g < group; g++) {
          sgemm(
            true,
            false,
            rows,
            Pin,
            Cg,
            1,
            Wt,
            g * Cg * rows,
            rows,
            X,
            (img * C + g * Cg) * Pin,
            Pin,
            0,
            col,
            0,
            Pin,
            undefined,
            ctx.threads,
          );
          col2im(col, Mg, kernel, spatial, out, strides, dil, padBegin, Y, (img * M + g * Mg) * Pout);
        }
      }
      if (b) {
        const B = computeOf(b);
        for (let img = 0; img < N; img++) {
          for (let m = 0; m < M; m++) {
            const o = (img * M + m) * Pout;
            for (let p = 0; p < Pout; p++) Y[o + p] += B[m];
          }
        }
      }
      return [tensorFromCompute(x.type, Y, outDims)];
    };
  },
};

/** Y[m][o] += col[(m, k...)][i] where o = i·stride − padBegin + k·dilation (per dim), if inside. */
function col2im(
  col: FloatArray,
  Mg: number,
  kernel: number[],
  inSp: number[],
  outSp: number[],
  strides: number[],
  dil: number[],
  padBegin: number[],
  Y: FloatArray,
  yOff: number,
): void {
  const n = inSp.length;
  const kSize = shapeSize(kernel);
  const Pin = shapeSize(inSp);
  const Pout = shapeSize(outSp);
  const outStrides = new Array<number>(n);
  for (let i = n - 1, s = 1; i >= 0; i--) {
    outStrides[i] = s;
    s *= outSp[i];
  }
  // For each kernel position, the output offset of each input position (or -1), built per dim.
  const kk = new Array<number>(n).fill(0);
  const idx = new Array<number>(n).fill(0);
  const target = new Int32Array(Pin);
  for (let k = 0; k < kSize; k++) {
    idx.fill(0);
    for (let p = 0; p < Pin; p++) {
      let off = 0;
      for (let i = 0; i < n; i++) {
        const o = idx[i] * strides[i] - padBegin[i] + kk[i] * dil[i];
        if (o < 0 || o >= outSp[i]) {
          off = -1;
          break;
        }
        off += o * outStrides[i];
      }
      target[p] = off;
      for (let i = n - 1; i >= 0; i--) {
        if (++idx[i] < inSp[i]) break;
        idx[i] = 0;
      }
    }
    for (let m = 0; m < Mg; m++) {
      const src = (m * kSize + k) * Pin;
      const dst = yOff + m * Pout;
      for (let p = 0; p < Pin; p++) {
        const t = target[p];
        if (t >= 0) Y[dst + t] += col[src + p];
      }
    }
    for (let i = n - 1; i >= 0; i--) {
      if (++kk[i] < kernel[i]) break;
      kk[i] = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// DeformConv (2-D): bilinear sampling at offset positions, optional modulation mask.

const deformConv: OpDef = {
  opType: 'DeformConv',
  versions: [19, 22],
  build(node) {
    const a = readWindowAttrs(node.attrs, 'DeformConv');
    const group = node.attrs.int('group', 1);
    const offsetGroup = node.attrs.int('offset_group', 1);
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'DeformConv input X');
      const w = tensorInput(inputs[1], 'DeformConv input W');
      const offT = tensorInput(inputs[2], 'DeformConv input offset');
      const b = optionalTensor(inputs[3]);
      const maskT = optionalTensor(inputs[4]);
      requireFloat(x, 'DeformConv input X');
      if (x.dims.length !== 4) {
        throw new OnyxError(
          'NOT_IMPLEMENTED',
          `DeformConv supports 2-D inputs [N, C, H, W], got ${fmt(x.dims)}`,
        );
      }
      const geo = convGeometry(x.dims, w.dims, group, { ...a, autoPad: 'NOTSET' }, 'DeformConv');
      checkBias(b, geo.M, 'DeformConv');
      const { N, C, M } = geo;
      const [H, Wd] = geo.spatial;
      const [kh, kw] = geo.win.kernel;
      const [oh, ow] = geo.win.outSpatial;
      const kSize = kh * kw;
      if (C % offsetGroup !== 0) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `DeformConv: C=${C} is not divisible by offset_group=${offsetGroup}`,
        );
      }
      const wantOff = [N, offsetGroup * 2 * kSize, oh, ow];
      if (offT.dims.length !== 4 || offT.dims.some((d, i) => d !== wantOff[i])) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `DeformConv: offset must be ${fmt(wantOff)}, got ${fmt(offT.dims)}`,
        );
      }
      const wantMask = [N, offsetGroup * kSize, oh, ow];
      if (maskT && (maskT.dims.length !== 4 || maskT.dims.some((d, i) => d !== wantMask[i]))) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `DeformConv: mask must be ${fmt(wantMask)}, got ${fmt(maskT.dims)}`,
        );
      }
      const X = computeOf(x);
      const Wt = computeOf(w);
      const OFF = computeOf(offT);
      const MASK = maskT ? computeOf(maskT) : undefined;
      const P = oh * ow;
      const Cg = C / group;
      const Mg = M / group;
      const Kg = Cg * kSize;
      const cPerOg = C / offsetGroup;
      const outDims = [N, M, oh, ow];
      const Y = computeArray(x.type, shapeSize(outDims));
      const col = computeArray(x.type, Kg * P);
      const { strides, dilations, padBegin } = geo.win;
      for (let n = 0; n < N; n++) {
        for (let g = 0; g < group; g++) {
          for (let cg = 0; cg < Cg; cg++) {
            const c = g * Cg + cg;
            const og = Math.floor(c / cPerOg);
            const plane = (n * C + c) * H * Wd;
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const k = ky * kw + kx;
                const offY = ((n * offsetGroup + og) * 2 * kSize + 2 * k) * P;
                const offX = offY + P;
                const mOff = ((n * offsetGroup + og) * kSize + k) * P;
                const dst = (cg * kSize + k) * P;
                for (let oy = 0; oy < oh; oy++) {
                  for (let ox = 0; ox < ow; ox++) {
                    const p = oy * ow + ox;
                    const py = oy * strides[0] - padBegin[0] + ky * dilations[0] + OFF[offY + p];
                    const px = ox * strides[1] - padBegin[1] + kx * dilations[1] + OFF[offX + p];
                    let v = bilinear(X, plane, H, Wd, py, px);
                    if (MASK) v *= MASK[mOff + p];
                    col[dst + p] = v;
                  }
                }
              }
            }
          }
          sgemm(
            false,
            false,
            Mg,
            P,
            Kg,
            1,
            Wt,
            g * Mg * Kg,
            Kg,
            col,
            0,
            P,
            0,
            Y,
            (n * M + g * Mg) * P,
            P,
            undefined,
            ctx.threads,
          );
        }
      }
      if (b) {
        const B = computeOf(b);
        for (let n = 0; n < N; n++)
          for (let m = 0; m < M; m++) for (let p = 0; p < P; p++) Y[(n * M + m) * P + p] += B[m];
      }
      return [tensorFromCompute(x.type, Y, outDims)];
    };
  },
};

/** Bilinear sample of plane (H × W) at (y, x); pixels outside the plane count as 0. */
function bilinear(X: FloatArray, plane: number, H: number, W: number, y: number, x: number): number {
  if (!(y > -1 && y < H && x > -1 && x < W)) return 0;
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  const at = (yy: number, xx: number) =>
    yy >= 0 && yy < H && xx >= 0 && xx < W ? X[plane + yy * W + xx] : 0;
  return (
    (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
    fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1))
  );
}

export const ops: OpDef[] = [conv, convTranspose, convInteger, deformConv];
