/**
 * Image preprocessing for `onyx classify`: resize, center crop, scale, normalize, lay out as a tensor.
 *
 * The resize reproduces Pillow's `Image.resize(size, BILINEAR)` (what torchvision's `transforms.Resize`
 * calls on PIL images) bit for bit: a separable triangle filter whose support widens with the
 * downscale factor (so downscaling is antialiased, not point-sampled), coefficients in 22-bit fixed
 * point, a horizontal pass then a vertical pass, each rounded back to 8 bits. Models trained with
 * torchvision saw exactly these pixels, so matching them matters more than any "better" filter.
 */
import type { RgbImage } from '../index.js';

export type Layout = 'NCHW' | 'NHWC';
export type ChannelOrder = 'RGB' | 'BGR';
export type PresetName = 'imagenet' | 'seed' | 'custom';
export const PRESET_NAMES: readonly PresetName[] = ['imagenet', 'seed', 'custom'];

export interface Preprocess {
  preset: PresetName;
  /** Resize the shorter side to this many pixels (aspect kept), or to exactly [height, width]. */
  resize: number | [number, number];
  /** Center crop to [height, width] after resizing; null for none. */
  crop: [number, number] | null;
  /** Pixel values 0..255 are multiplied by this before normalization (1/255 → 0..1). */
  scale: number;
  /** Per-channel mean and std in RGB order, applied after scaling: (x·scale − mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
  layout: Layout;
  channelOrder: ChannelOrder;
}

/** Overrides from the command line; anything left out keeps the preset's value. */
export interface PreprocessOverrides {
  size?: [number, number];
  scale?: number;
  mean?: [number, number, number];
  std?: [number, number, number];
  layout?: Layout;
  channelOrder?: ChannelOrder;
}

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/**
 * Builds a preset for a model input of `size` = [height, width]:
 * - `imagenet`: shorter side to size·256/224 (256 for 224), center crop to size, ImageNet mean/std —
 *   torchvision's evaluation transform, which the ONNX model zoo's ResNets expect;
 * - `seed`: resize straight to size (aspect not kept), scale to 0..1, no normalization — the founding
 *   document's program;
 * - `custom`: like `seed`, a blank slate for --scale/--mean/--std/--layout/--channel-order.
 */
export function makePreprocess(
  preset: PresetName,
  size: [number, number],
  o: PreprocessOverrides = {},
): Preprocess {
  const [h, w] = o.size ?? size;
  const base: Preprocess =
    preset === 'imagenet'
      ? {
          preset,
          resize:
            h === w
              ? Math.floor((h * 256) / 224)
              : [Math.floor((h * 256) / 224), Math.floor((w * 256) / 224)],
          crop: [h, w],
          scale: 1 / 255,
          mean: IMAGENET_MEAN,
          std: IMAGENET_STD,
          layout: 'NCHW',
          channelOrder: 'RGB',
        }
      : {
          preset,
          resize: [h, w],
          crop: null,
          scale: 1 / 255,
          mean: [0, 0, 0],
          std: [1, 1, 1],
          layout: 'NCHW',
          channelOrder: 'RGB',
        };
  return {
    ...base,
    scale: o.scale ?? base.scale,
    mean: o.mean ?? base.mean,
    std: o.std ?? base.std,
    layout: o.layout ?? base.layout,
    channelOrder: o.channelOrder ?? base.channelOrder,
  };
}

export function describePreprocess(p: Preprocess): string {
  const resize =
    typeof p.resize === 'number' ? `shorter side to ${p.resize}` : `to ${p.resize[1]}×${p.resize[0]}`;
  const crop = p.crop ? `, center-crop ${p.crop[1]}×${p.crop[0]}` : '';
  const scale = p.scale === 1 / 255 ? '/255' : `×${p.scale}`;
  const norm =
    p.mean.some((m) => m !== 0) || p.std.some((s) => s !== 1)
      ? `, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]`
      : '';
  return `${p.preset}: resize ${resize}${crop}, ${scale}${norm}, ${p.layout} ${p.channelOrder}`;
}

/** Resizes, crops and normalizes one decoded image into `out` at `offset` (one batch slot). */
export function preprocessInto(img: RgbImage, p: Preprocess, out: Float32Array, offset: number): void {
  const [th, tw] = typeof p.resize === 'number' ? shorterSideSize(img.height, img.width, p.resize) : p.resize;
  let x = resizeBilinear(img, tw, th);
  if (p.crop) x = centerCrop(x, p.crop[1], p.crop[0]);
  writeTensor(x, p, out, offset);
}

/** torchvision's `Resize(int)`: the shorter side becomes `size`, the longer one is scaled and truncated. */
export function shorterSideSize(height: number, width: number, size: number): [number, number] {
  if (width <= height) return [Math.trunc((size * height) / width), size];
  return [size, Math.trunc((size * width) / height)];
}

/** Pillow-exact bilinear resize (see the file comment). Returns `img` itself when the size is unchanged. */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  let cur = img;
  if (width !== cur.width) {
    const { bounds, k, ksize } = coefficients(cur.width, width);
    const src = cur.data;
    const dst = new Uint8Array(width * cur.height * 3);
    for (let y = 0; y < cur.height; y++) {
      const row = y * cur.width * 3;
      for (let xx = 0; xx < width; xx++) {
        const xmin = bounds[xx * 2];
        const n = bounds[xx * 2 + 1];
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let i = 0; i < n; i++) {
          const c = k[xx * ksize + i];
          const p = row + (xmin + i) * 3;
          s0 += src[p] * c;
          s1 += src[p + 1] * c;
          s2 += src[p + 2] * c;
        }
        const o = (y * width + xx) * 3;
        dst[o] = clip8(s0);
        dst[o + 1] = clip8(s1);
        dst[o + 2] = clip8(s2);
      }
    }
    cur = { width, height: cur.height, data: dst };
  }
  if (height !== cur.height) {
    const { bounds, k, ksize } = coefficients(cur.height, height);
    const src = cur.data;
    const stride = cur.width * 3;
    const dst = new Uint8Array(cur.width * height * 3);
    for (let yy = 0; yy < height; yy++) {
      const ymin = bounds[yy * 2];
      const n = bounds[yy * 2 + 1];
      for (let j = 0; j < stride; j++) {
        let s = HALF;
        for (let i = 0; i < n; i++) s += src[(ymin + i) * stride + j] * k[yy * ksize + i];
        dst[yy * stride + j] = clip8(s);
      }
    }
    cur = { width: cur.width, height, data: dst };
  }
  return cur;
}

/** Pillow's fixed-point precision for 8-bit images: 32 bits − 8 for the value − 2 for overshoot. */
const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const HALF = ONE / 2;

function clip8(s: number): number {
  const v = Math.floor(s / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear (triangle, support 1) filter:
 * for each output pixel, the first contributing input pixel, how many contribute, and their weights.
 */
function coefficients(inSize: number, outSize: number): { bounds: Int32Array; k: Int32Array; ksize: number } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale; // the triangle filter's support is 1, stretched when downscaling
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const weights = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    // C's (int) casts truncate toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let i = 0; i < n; i++) {
      const t = Math.abs((i + xmin - center + 0.5) * ss);
      weights[i] = t < 1 ? 1 - t : 0;
      ww += weights[i];
    }
    for (let i = 0; i < n; i++) {
      const w = ww !== 0 ? weights[i] / ww : weights[i];
      k[xx * ksize + i] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = n;
  }
  return { bounds, k, ksize };
}

/**
 * torchvision's `CenterCrop`: offsets rounded with Python's round-half-to-even; an image smaller than
 * the crop is padded with black first, as torchvision does.
 */
export function centerCrop(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  const padL = width > img.width ? Math.floor((width - img.width) / 2) : 0;
  const padT = height > img.height ? Math.floor((height - img.height) / 2) : 0;
  const pw = Math.max(img.width, width);
  const ph = Math.max(img.height, height);
  const top = roundHalfEven((ph - height) / 2) - padT;
  const left = roundHalfEven((pw - width) / 2) - padL;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < width; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= img.width) continue;
      const s = (sy * img.width + sx) * 3;
      const d = (y * width + x) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  }
  return { width, height, data: out };
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Writes (x·scale − mean) / std per channel, in float32 steps as torchvision's ToTensor + Normalize
 * compute them (x / 255 is a division there, so it is here too), through a 256-entry table per channel.
 */
function writeTensor(img: RgbImage, p: Preprocess, out: Float32Array, offset: number): void {
  const f = Math.fround;
  const luts = [0, 1, 2].map((c) => {
    const lut = new Float32Array(256);
    const mean = f(p.mean[c]);
    const std = f(p.std[c]);
    for (let v = 0; v < 256; v++) {
      const scaled = p.scale === 1 / 255 ? f(v / 255) : f(v * p.scale);
      lut[v] = f(scaled - mean) / std;
    }
    return lut;
  });
  const plane = img.width * img.height;
  const order = p.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const src = order[c];
      const v = luts[src][img.data[i * 3 + src]];
      out[offset + (p.layout === 'NCHW' ? c * plane + i : i * 3 + c)] = v;
    }
  }
}
