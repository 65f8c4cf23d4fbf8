/**
^ * Image decoding (platform-neutral, used by the ImageDecoder op and the CLI) with well-kept pure-JS decoders (fast-png for PNG, jpeg-js for JPEG):
 * no native code, works offline. Decoded images are 8-bit, row-major, interleaved channels.
 */
import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { OnyxError } from '../core/errors.js';

export interface RgbImage {
  width: number;
  height: number;
  /** width·height·3 bytes, RGB. */
  data: Uint8Array;
}

/** Largest image accepted, in pixels (a 16k × 16k photo); guards memory against hostile files. */
export const MAX_IMAGE_PIXELS = 16384 * 16384;

export function sniffFormat(bytes: Uint8Array): 'png' | 'jpeg' | 'webp' | 'bmp' | 'gif' | 'unknown' {
  const b = bytes;
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45)
    return 'webp';
  if (b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'gif';
  return 'unknown';
}

export function decodeImage(bytes: Uint8Array, what = 'image'): RgbImage {
  const format = sniffFormat(bytes);
  try {
    if (format === 'png') {
      const png = decodePng(bytes);
      checkSize(png.width, png.height, what);
      return toRgb(png.width, png.height, png.channels, png.data, png.depth === 16 ? 257 : 1, png.palette);
    }
    if (format === 'jpeg') {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 4096 });
      checkSize(img.width, img.height, what);
      return toRgb(img.width, img.height, 4, img.data, 1);
    }
  } catch (e) {
    if (e instanceof OnyxError) throw e;
    throw new OnyxError(
      'INVALID_IMAGE',
      `${what} could not be decoded as ${format.toUpperCase()}: ${(e as Error).message}`,
      {},
      { cause: e },
    );
  }
  throw new OnyxError(
    'INVALID_IMAGE',
    format === 'unknown'
      ? `${what} is not an image Onyx can read (PNG or JPEG expected)`
      : `${what} is ${format.toUpperCase()}, which is not supported yet (PNG or JPEG expected)`,
  );
}

function checkSize(w: number, h: number, what: string): void {
  if (!(w > 0 && h > 0) || w * h > MAX_IMAGE_PIXELS) {
    throw new OnyxError(
      'LIMIT_EXCEEDED',
      `${what} is ${w}×${h} pixels; at most ${MAX_IMAGE_PIXELS} are accepted`,
    );
  }
}

function toRgb(
  width: number,
  height: number,
  channels: number,
  src: ArrayLike<number>,
  divisor: number,
  palette?: number[][],
): RgbImage {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    if (palette) {
      const c = palette[src[i]] ?? [0, 0, 0];
      out.set([c[0], c[1], c[2]], i * 3);
    } else if (channels <= 2) {
      const v = Math.round(src[i * channels] / divisor);
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v;
    } else {
      for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(src[i * channels + c] / divisor);
    }
  }
  return { width, height, data: out };
}
