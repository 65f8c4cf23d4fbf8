/**
 * Image-geometry ops: GridSample (16, 20, 22), AffineGrid (20), Col2Im (18).
 *
 * GridSample follows PyTorch's grid_sampler (as the ONNX reference does): the grid's last axis holds
 * normalized coordinates in reverse spatial order (x, y[, z]); they are denormalized per axis, then
 * sampled by nearest (rounding half to even), N-linear or N-cubic
 * (a = -0.75) interpolation, with zeros / border / reflection padding for taps outside the input.
 * Interpolation is separable, so each output point is a sum over the product of per-axis taps.
 */
import { OnyxError } from '../core/errors.js';
import { shapeSize } from '../core/tensor.js';
import type { OpDef } from './kernel.js';
import { floatsOf, tensorFromFloats } from './util/float-io.js';
import { intsOf, tensorInput, fmt } from './util/numeric.js';

// ------------------------------------------------------------------------------------------------
// GridSample

type GridMode = 'nearest' | 'linear' | 'cubic';
type PaddingMode = 'zeros' | 'border' | 'reflection';

/** Reflects `x` into [lo, hi] by bouncing off the borders (PyTorch's reflect_coordinates). */
function reflect(x: number, lo: number, hi: number): number {
  const rng = hi - lo;
  if (rng <= 0) return lo;
  if (x < lo) {
    const dx = lo - x;
    const n = Math.trunc(dx / rng);
    const r = dx - n * rng;
    return n % 2 === 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const dx = x - hi;
    const n = Math.trunc(dx / rng);
    const r = dx - n * rng;
    return n % 2 === 0 ? hi - r : lo + r;
  }
  return x;
}

/** Round half to even (C nearbyint in the default rounding mode). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function cubicCoeffs(t: number, out: Float64Array, o: number): void {
  const A = -0.75;
  const x = Math.abs(t);
  out[o] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  out[o + 1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  out[o + 2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  out[o + 3] = ((A * (2 - x) - 5 * A) * (2 - x) + 8 * A) * (2 - x) - 4 * A;
}

const gridSample: OpDef = {
  opType: 'GridSample',
  versions: [16, 20, 22],
  build(node) {
    const v = node.sinceVersion;
    const rawMode = node.attrs.string('mode', v >= 20 ? 'linear' : 'bilinear');
    const modeMap: Record<string, GridMode> =
      v >= 20
        ? { nearest: 'nearest', linear: 'linear', cubic: 'cubic' }
        : { nearest: 'nearest', bilinear: 'linear', bicubic: 'cubic' };
    const mode = modeMap[rawMode];
    if (!mode)
      throw new OnyxError(
        'INVALID_MODEL',
        `mode '${rawMode}' is not valid for GridSample-${v}; expected one of ${Object.keys(modeMap)
          .map((k) => `'${k}'`)
          .join(', ')}`,
      );
    const padding = node.attrs.string('padding_mode', 'zeros') as PaddingMode;
    if (!['zeros', 'border', 'reflection'].includes(padding))
      throw new OnyxError(
        'INVALID_MODEL',
        `padding_mode '${padding}' is not supported; expected 'zeros', 'border' or 'reflection'`,
      );
    const alignCorners = node.attrs.int('align_corners', 0) !== 0;

    return (inputs) => {
      const x = tensorInput(inputs[0], 'X');
      const grid = tensorInput(inputs[1], 'grid');
      const r = x.dims.length;
      const D = r - 2;
      if (r < 3)
        throw new OnyxError('INVALID_MODEL', `X must have rank >= 3 (N, C, spatial...), got [${x.dims}]`);
      if (v < 20 && r !== 4)
        throw new OnyxError('INVALID_MODEL', `GridSample-${v} supports 4-D X only, got [${x.dims}]`);
      if (grid.dims.length !== r || grid.dims[0] !== x.dims[0] || grid.dims[r - 1] !== D)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `grid must have dims [N, out spatial..., ${D}] with N = ${x.dims[0]}, got [${grid.dims}]`,
        );
      const N = x.dims[0];
      const C = x.dims[1];
      const inSp = x.dims.slice(2);
      const outSp = grid.dims.slice(1, r - 1);
      const outDims = [N, C, ...outSp];
      const inSize = shapeSize(inSp);
      const outSize = shapeSize(outSp);
      const X = floatsOf(x, 'X');
      const G = floatsOf(grid, 'grid');
      const Y = new Float64Array(N * C * outSize);
      if (Y.length === 0) return [tensorFromFloats(x.type, Y, outDims)];

      const inStr = new Array<number>(D);
      let acc = 1;
      for (let d = D - 1; d >= 0; d--) {
        inStr[d] = acc;
        acc *= inSp[d];
      }
      const T = mode === 'nearest' ? 1 : mode === 'linear' ? 2 : 4;
      const combos = T ** D;
      // Per spatial axis d: T tap offsets (into the input, or -1 for a zero pad) and weights.
      const tapOff = new Float64Array(D * T);
      const tapW = new Float64Array(D * T);
      const coeff = new Float64Array(4);
      const counter = new Int32Array(D);

      const pixelIndex = (i: number, d: number): number => {
        const len = inSp[d];
        if (i >= 0 && i < len) return i;
        if (padding === 'zeros') return -1;
        if (padding === 'border') return i < 0 ? 0 : len - 1;
        const lo = alignCorners ? 0 : -0.5;
        const hi = alignCorners ? len - 1 : len - 0.5;
        const k = Math.trunc(reflect(i, lo, hi));
        return k < 0 ? 0 : k >= len ? len - 1 : k;
      };

      for (let n = 0; n < N; n++) {
        for (let o = 0; o < outSize; o++) {
          const g0 = (n * outSize + o) * D;
          for (let d = 0; d < D; d++) {
            const len = inSp[d];
            // The grid lists coordinates innermost axis first.
            const nc = G[g0 + (D - 1 - d)];
            let c = alignCorners ? ((nc + 1) / 2) * (len - 1) : ((nc + 1) * len - 1) / 2;
            if (mode === 'nearest') c = roundHalfEven(c);
            const lo = alignCorners ? 0 : -0.5;
            const hi = alignCorners ? len - 1 : len - 0.5;
            if (c < lo || c > hi) {
              if (padding === 'border') c = c < 0 ? 0 : c > len - 1 ? len - 1 : c;
              else if (padding === 'reflection') c = reflect(c, lo, hi);
            }
            const b = d * T;
            if (mode === 'nearest') {
              const i = pixelIndex(Math.trunc(c), d);
              tapOff[b] = i < 0 ? -1 : i * inStr[d];
              tapW[b] = 1;
              continue;
            }
            const f = Math.floor(c);
            const t = c - f;
            if (mode === 'linear') {
              tapW[b] = 1 - t;
              tapW[b + 1] = t;
            } else {
              cubicCoeffs(t, coeff, 0);
              for (let k = 0; k < 4; k++) tapW[b + k] = coeff[k];
            }
            const first = mode === 'linear' ? f : f - 1;
            for (let k = 0; k < T; k++) {
              const i = pixelIndex(first + k, d);
              tapOff[b + k] = i < 0 ? -1 : i * inStr[d];
            }
          }
          for (let ch = 0; ch < C; ch++) {
            const xBase = (n * C + ch) * inSize;
            let s = 0;
            counter.fill(0);
            for (let q = 0; q < combos; q++) {
              let off = 0;
              let w = 1;
              for (let d = 0; d < D; d++) {
                const k = d * T + counter[d];
                const to = tapOff[k];
                if (to < 0) {
                  w = 0;
                  break;
                }
                off += to;
                w *= tapW[k];
              }
              if (w !== 0) s += w * X[xBase + off];
              for (let d = D - 1; d >= 0; d--) {
                if (++counter[d] < T) break;
                counter[d] = 0;
              }
            }
            Y[(n * C + ch) * outSize + o] = s;
          }
        }
      }
      return [tensorFromFloats(x.type, Y, outDims)];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// AffineGrid

const affineGrid: OpDef = {
  opType: 'AffineGrid',
  versions: [20],
  build(node) {
    const alignCorners = node.attrs.int('align_corners', 0) !== 0;
    return (inputs) => {
      const theta = tensorInput(inputs[0], 'theta');
      const size = intsOf(tensorInput(inputs[1], 'size'), 'size');
      if (size.length !== 4 && size.length !== 5)
        throw new OnyxError(
          'INVALID_MODEL',
          `size must be [N, C, H, W] or [N, C, D, H, W], got ${fmt(size)}`,
        );
      const D = size.length - 2;
      const N = size[0];
      if (theta.dims.length !== 3 || theta.dims[0] !== N || theta.dims[1] !== D || theta.dims[2] !== D + 1)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `theta must have dims [${N}, ${D}, ${D + 1}] for size ${fmt(size)}, got [${theta.dims}]`,
        );
      const sp = size.slice(2);
      if (sp.some((s) => s < 0))
        throw new OnyxError('INVALID_MODEL', `size must be non-negative, got ${fmt(size)}`);
      // Normalized base coordinates per spatial axis.
      const base = sp.map((len) => {
        const a = new Float64Array(len);
        for (let i = 0; i < len; i++) {
          a[i] = alignCorners ? (len > 1 ? -1 + (2 * i) / (len - 1) : -1) : (2 * i + 1) / len - 1;
        }
        return a;
      });
      const th = floatsOf(theta, 'theta');
      const pts = shapeSize(sp);
      const out = new Float64Array(N * pts * D);
      const hom = new Float64Array(D + 1);
      const counter = new Int32Array(D);
      for (let n = 0; n < N; n++) {
        counter.fill(0);
        for (let p = 0; p < pts; p++) {
          // Homogeneous point (x, y[, z], 1): innermost spatial axis first.
          for (let d = 0; d < D; d++) hom[d] = base[D - 1 - d][counter[D - 1 - d]];
          hom[D] = 1;
          const o = (n * pts + p) * D;
          for (let row = 0; row < D; row++) {
            let s = 0;
            const t0 = (n * D + row) * (D + 1);
            for (let k = 0; k <= D; k++) s += th[t0 + k] * hom[k];
            out[o + row] = s;
          }
          for (let d = D - 1; d >= 0; d--) {
            if (++counter[d] < sp[d]) break;
            counter[d] = 0;
          }
        }
      }
      return [tensorFromFloats(theta.type, out, [N, ...sp, D])];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Col2Im

const col2im: OpDef = {
  opType: 'Col2Im',
  versions: [18],
  build(node) {
    const attrDil = node.attrs.has('dilations') ? node.attrs.ints('dilations') : undefined;
    const attrPads = node.attrs.has('pads') ? node.attrs.ints('pads') : undefined;
    const attrStrides = node.attrs.has('strides') ? node.attrs.ints('strides') : undefined;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'input');
      const image = intsOf(tensorInput(inputs[1], 'image_shape'), 'image_shape');
      const block = intsOf(tensorInput(inputs[2], 'block_shape'), 'block_shape');
      const D = image.length;
      if (block.length !== D)
        throw new OnyxError(
          'INVALID_MODEL',
          `image_shape ${fmt(image)} and block_shape ${fmt(block)} must have the same length`,
        );
      const dil = attrDil ?? new Array<number>(D).fill(1);
      const pads = attrPads ?? new Array<number>(2 * D).fill(0);
      const strides = attrStrides ?? new Array<number>(D).fill(1);
      if (dil.length !== D || strides.length !== D || pads.length !== 2 * D)
        throw new OnyxError(
          'INVALID_MODEL',
          `dilations ${fmt(dil)}, strides ${fmt(strides)} need ${D} values and pads ${fmt(pads)} ${2 * D}`,
        );
      const blockSize = shapeSize(block);
      if (x.dims.length !== 3 || blockSize === 0 || x.dims[1] % blockSize !== 0)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `input must have dims [N, C·${blockSize} (block ${fmt(block)}), L], got [${x.dims}]`,
        );
      const N = x.dims[0];
      const C = x.dims[1] / blockSize;
      // Number of block positions along each axis.
      const nb = image.map((len, d) => {
        const eff = dil[d] * (block[d] - 1) + 1;
        return Math.floor((len + pads[d] + pads[D + d] - eff) / strides[d]) + 1;
      });
      const L = shapeSize(nb);
      if (x.dims[2] !== L)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `input has ${x.dims[2]} blocks but image_shape ${fmt(image)}, block_shape ${fmt(block)}, ` +
            `strides, pads and dilations give ${L}`,
        );
      const X = floatsOf(x, 'input');
      const imgSize = shapeSize(image);
      const Y = new Float64Array(N * C * imgSize);
      const imgStr = new Array<number>(D);
      let acc = 1;
      for (let d = D - 1; d >= 0; d--) {
        imgStr[d] = acc;
        acc *= image[d];
      }
      const bc = new Int32Array(D); // position inside the block
      const lc = new Int32Array(D); // block position
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const yBase = (n * C + c) * imgSize;
          bc.fill(0);
          for (let k = 0; k < blockSize; k++) {
            const xRow = ((n * C + c) * blockSize + k) * L;
            lc.fill(0);
            for (let l = 0; l < L; l++) {
              let off = 0;
              let inside = true;
              for (let d = 0; d < D; d++) {
                const pos = lc[d] * strides[d] - pads[d] + bc[d] * dil[d];
                if (pos < 0 || pos >= image[d]) {
                  inside = false;
                  break;
                }
                off += pos * imgStr[d];
              }
              if (inside) Y[yBase + off] += X[xRow + l];
              for (let d = D - 1; d >= 0; d--) {
                if (++lc[d] < nb[d]) break;
                lc[d] = 0;
              }
            }
            for (let d = D - 1; d >= 0; d--) {
              if (++bc[d] < block[d]) break;
              bc[d] = 0;
            }
          }
        }
      }
      return [tensorFromFloats(x.type, Y, [N, C, ...image])];
    };
  },
};

export const ops: OpDef[] = [gridSample, affineGrid, col2im];
