/**
 * The in-between form every image decoder returns (8-bit samples, interleaved, row-major, top row
 * first) and the conversions to the pixel formats Onyx hands out: RGB, BGR and Grayscale.
 */
import { OnyxError } from '../core/errors.js';

/** 1 = gray, 2 = gray + alpha, 3 = RGB, 4 = RGBA. */
export type Channels = 1 | 2 | 3 | 4;

export interface Pixels {
  width: number;
  height: number;
  channels: Channels;
  /** width·height·channels bytes. */
  data: Uint8Array;
}

export type PixelFormat = 'RGB' | 'BGR' | 'Grayscale';

/** Largest image accepted, in pixels (a 16k × 16k photo); guards memory against hostile files. */
export const MAX_IMAGE_PIXELS = 16384 * 16384;

/**
 * Rejects an empty or oversized image before its pixels are allocated. Decoders call it as soon as
 * the header gives the dimensions.
 */
export function checkSize(width: number, height: number, what: string): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new OnyxError('INVALID_IMAGE', `${what} declares an empty or invalid size (${width}×${height})`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new OnyxError(
      'LIMIT_EXCEEDED',
      `${what} is ${width}×${height} pixels; at most ${MAX_IMAGE_PIXELS} are accepted`,
    );
  }
}

/** An OnyxError('INVALID_IMAGE') naming the file and what is wrong with it. */
export function invalid(what: string, format: string, problem: string): OnyxError {
  return new OnyxError('INVALID_IMAGE', `${what} is not a valid ${format} image: ${problem}`);
}

/**
 * Converts to the requested pixel format. Color images lose their alpha (no compositing), as PIL's
 * convert('RGB') does; gray images are replicated into R, G and B. Grayscale uses PIL's convert('L')
 * (ITU-R 601-2 luma in 16-bit fixed point: L = (19595·R + 38470·G + 7471·B + 32768) >> 16), which the
 * ONNX reference implementation applies; gray sources pass through unchanged.
 */
export function convertPixels(p: Pixels, format: PixelFormat): Pixels {
  const { width, height, channels, data } = p;
  const n = width * height;
  if (format === 'Grayscale') {
    const out = new Uint8Array(n);
    if (channels <= 2) {
      for (let i = 0; i < n; i++) out[i] = data[i * channels];
    } else {
      for (let i = 0, s = 0; i < n; i++, s += channels) {
        out[i] = (19595 * data[s] + 38470 * data[s + 1] + 7471 * data[s + 2] + 0x8000) >>> 16;
      }
    }
    return { width, height, channels: 1, data: out };
  }
  if (channels === 3 && format === 'RGB') return p;
  const out = new Uint8Array(n * 3);
  const [r, b] = format === 'RGB' ? [0, 2] : [2, 0];
  if (channels <= 2) {
    for (let i = 0, s = 0; i < n; i++, s += channels) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = data[s];
  } else {
    for (let i = 0, s = 0, d = 0; i < n; i++, s += channels, d += 3) {
      out[d + r] = data[s];
      out[d + 1] = data[s + 1];
      out[d + b] = data[s + 2];
    }
  }
  return { width, height, channels: 3, data: out };
}
