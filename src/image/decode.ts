/**
 * Image decoding (platform-neutral; used by the ImageDecoder op and the CLI) with well-kept decoders
 * and no native code, working offline:
 *   PNG        fast-png (pure JS)
 *   JPEG       libjpeg-turbo as WebAssembly (@jsquash/jpeg) once loaded — bit-exact with PIL/ONNX;
 *              jpeg-js (pure JS) in the synchronous `decodeImage` until then
 *   WebP       libwebp as WebAssembly (@jsquash/webp)
 *   JPEG 2000  OpenJPEG as WebAssembly (@cornerstonejs/codec-openjpeg), JP2 and J2K
 *   TIFF       `tiff` (pure TS), first page
 *   BMP, PNM   Onyx's own decoders (./bmp.ts, ./pnm.ts)
 * Decoded images are 8-bit, row-major, interleaved channels. Every decoder checks the size the
 * header declares against MAX_IMAGE_PIXELS before it allocates pixels, and every failure is an
 * OnyxError: INVALID_IMAGE for a damaged or unsupported file, LIMIT_EXCEEDED for an oversized one.
 *
 * The WebAssembly codecs load asynchronously: `decodeImageAsync` / `decodeImagePixels` load what they
 * need; the synchronous `decodeImage` uses them once `loadImageCodecs()` has resolved.
 */
import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { OnyxError } from '../core/errors.js';
import { decodeBmp } from './bmp.js';
import { checkSize, convertPixels, invalid, type PixelFormat, type Pixels } from './pixels.js';
import { decodePnm } from './pnm.js';
import { decodeTiff } from './tiff.js';
import {
  decodeJpeg2000Wasm,
  decodeJpegTurbo,
  decodeWebpWasm,
  loadWasmCodecs,
  wasmCodecReady,
  type WasmFormat,
} from './wasm-codecs.js';

export { MAX_IMAGE_PIXELS } from './pixels.js';
export type { PixelFormat } from './pixels.js';

export interface RgbImage {
  width: number;
  height: number;
  /** width·height·3 bytes, RGB. */
  data: Uint8Array;
}

/** An image in one pixel format: 3 channels for RGB/BGR, 1 for Grayscale. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** width·height·channels bytes, rows top to bottom. */
  data: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'bmp' | 'gif' | 'tiff' | 'pnm' | 'jpeg2000' | 'unknown';

const NAMES: Record<ImageFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  webp: 'WebP',
  bmp: 'BMP',
  gif: 'GIF',
  tiff: 'TIFF',
  pnm: 'PNM',
  jpeg2000: 'JPEG 2000',
  unknown: 'unknown',
};

const SUPPORTED = 'PNG, JPEG, WebP, BMP, TIFF, PNM (PBM/PGM/PPM) or JPEG 2000';

export function sniffFormat(bytes: Uint8Array): ImageFormat {
  const b = bytes;
  const ascii = (at: number, s: string) => [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
  if (b[0] === 0x89 && ascii(1, 'PNG')) return 'png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'BM')) return 'bmp';
  if (ascii(0, 'GIF8')) return 'gif';
  if ((ascii(0, 'II') && b[2] === 42 && b[3] === 0) || (ascii(0, 'MM') && b[2] === 0 && b[3] === 42))
    return 'tiff';
  if (b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 12 && ascii(4, 'jP  ')) return 'jpeg2000';
  if (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51) return 'jpeg2000';
  if (
    b[0] === 0x50 &&
    b[1] >= 0x31 &&
    b[1] <= 0x36 &&
    (b[2] === 0x23 || (b[2] >= 0x09 && b[2] <= 0x0d) || b[2] === 0x20)
  ) {
    return 'pnm';
  }
  return 'unknown';
}

const WASM_FORMAT: Partial<Record<ImageFormat, WasmFormat>> = {
  jpeg: 'jpeg',
  webp: 'webp',
  jpeg2000: 'jpeg2000',
};

/** Loads the WebAssembly codecs (JPEG, WebP, JPEG 2000) so that `decodeImage` can use them. */
export function loadImageCodecs(formats?: readonly WasmFormat[]): Promise<void> {
  return loadWasmCodecs(formats);
}

/**
 * Decodes synchronously to RGB. PNG, BMP, TIFF and PNM always work; JPEG uses libjpeg-turbo once
 * `loadImageCodecs()` has resolved and jpeg-js before that (which may differ from libjpeg-turbo by a
 * few levels near sharp color edges); WebP and JPEG 2000 need `loadImageCodecs()` first.
 */
export function decodeImage(bytes: Uint8Array, what = 'image'): RgbImage {
  const p = convertPixels(decodePixelsSync(bytes, what, true), 'RGB');
  return { width: p.width, height: p.height, data: p.data };
}

/** Decodes to RGB, loading the WebAssembly codec the format needs. */
export async function decodeImageAsync(bytes: Uint8Array, what = 'image'): Promise<RgbImage> {
  const p = await decodeImagePixels(bytes, 'RGB', what);
  return { width: p.width, height: p.height, data: p.data };
}

/**
 * Decodes to the given pixel format (what the ImageDecoder op returns: RGB and BGR with 3 channels,
 * Grayscale with 1, computed as PIL's convert('L')), loading the WebAssembly codec the format needs.
 */
export async function decodeImagePixels(
  bytes: Uint8Array,
  format: PixelFormat = 'RGB',
  what = 'image',
): Promise<DecodedImage> {
  const wasm = WASM_FORMAT[sniffFormat(bytes)];
  if (wasm && !wasmCodecReady(wasm)) {
    try {
      await loadWasmCodecs([wasm]);
    } catch (e) {
      throw new OnyxError(
        'RUNTIME_ERROR',
        `the ${NAMES[sniffFormat(bytes)]} decoder (WebAssembly) could not be loaded: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
  }
  const p = convertPixels(decodePixelsSync(bytes, what, false), format);
  return { width: p.width, height: p.height, channels: p.channels as 1 | 3, data: p.data };
}

function decodePixelsSync(bytes: Uint8Array, what: string, allowJpegFallback: boolean): Pixels {
  const format = sniffFormat(bytes);
  try {
    switch (format) {
      case 'png':
        return decodePngPixels(bytes, what);
      case 'jpeg': {
        const [w, h] = jpegSize(bytes, what);
        checkSize(w, h, what);
        if (wasmCodecReady('jpeg')) return decodeJpegTurbo(bytes, what);
        if (allowJpegFallback) return decodeJpegJs(bytes);
        break;
      }
      case 'webp': {
        const [w, h] = webpSize(bytes, what);
        checkSize(w, h, what);
        if (wasmCodecReady('webp')) return decodeWebpWasm(bytes, what);
        break;
      }
      case 'jpeg2000':
        if (wasmCodecReady('jpeg2000')) return decodeJpeg2000Wasm(bytes, what);
        break;
      case 'bmp':
        return decodeBmp(bytes, what);
      case 'tiff':
        return decodeTiff(bytes, what);
      case 'pnm':
        return decodePnm(bytes, what);
      case 'gif':
        throw new OnyxError(
          'INVALID_IMAGE',
          `${what} is GIF, which is not supported (${SUPPORTED} expected)`,
        );
      default:
        throw new OnyxError('INVALID_IMAGE', `${what} is not an image Onyx can read (${SUPPORTED} expected)`);
    }
  } catch (e) {
    if (e instanceof OnyxError) throw e;
    throw new OnyxError(
      'INVALID_IMAGE',
      `${what} could not be decoded as ${NAMES[format]}: ${(e as Error).message}`,
      {},
      { cause: e },
    );
  }
  throw new OnyxError(
    'INVALID_IMAGE',
    `${what} is ${NAMES[format]}, whose WebAssembly decoder is not loaded: await loadImageCodecs() first, ` +
      'or use decodeImageAsync()',
  );
}

function decodePngPixels(bytes: Uint8Array, what: string): Pixels {
  if (bytes.length < 24) throw invalid(what, 'PNG', 'the file is too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkSize(view.getUint32(16), view.getUint32(20), what);
  const png = decodePng(bytes);
  const { width, height, depth } = png;
  const channels = png.channels as Pixels['channels'];
  const n = width * height;
  const src = png.data;
  if (png.palette) {
    const out = new Uint8Array(n * 3);
    const index = unpackRow(src, width, height, depth, 1, false);
    for (let i = 0; i < n; i++) {
      const c = png.palette[index[i]] ?? [0, 0, 0];
      out[i * 3] = c[0];
      out[i * 3 + 1] = c[1];
      out[i * 3 + 2] = c[2];
    }
    return { width, height, channels: 3, data: out };
  }
  if (depth === 16) {
    // The high byte, as PIL reads 16-bit PNGs.
    const out = new Uint8Array(n * channels);
    for (let i = 0; i < out.length; i++) out[i] = src[i] >>> 8;
    return { width, height, channels, data: out };
  }
  return { width, height, channels, data: unpackRow(src, width, height, depth, channels, true) };
}

/** Expands 1/2/4-bit samples (rows padded to a byte) to one byte each, scaled to 0..255 if `scale`. */
function unpackRow(
  src: ArrayLike<number>,
  width: number,
  height: number,
  depth: number,
  channels: number,
  scale: boolean,
): Uint8Array {
  if (depth === 8) return src instanceof Uint8Array ? src : Uint8Array.from(src);
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const mask = (1 << depth) - 1;
  const factor = scale ? 255 / mask : 1;
  const out = new Uint8Array(perRow * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < perRow; x++) {
      const bit = x * depth;
      const v = (src[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
      out[y * perRow + x] = v * factor;
    }
  }
  return out;
}

function decodeJpegJs(bytes: Uint8Array): Pixels {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 4096 });
  return { width: img.width, height: img.height, channels: 4, data: img.data };
}

/** The frame size from a JPEG's SOFn marker, read before decoding. */
function jpegSize(b: Uint8Array, what: string): [number, number] {
  let p = 2;
  while (p + 3 < b.length) {
    if (b[p] !== 0xff) throw invalid(what, 'JPEG', `expected a marker at byte ${p}`);
    const m = b[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd8)) {
      p += 2;
      continue;
    }
    if (m === 0xda || m === 0xd9) break;
    const len = (b[p + 2] << 8) | b[p + 3];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (p + 8 >= b.length) break;
      return [(b[p + 7] << 8) | b[p + 8], (b[p + 5] << 8) | b[p + 6]];
    }
    p += 2 + len;
  }
  throw invalid(what, 'JPEG', 'no frame header (SOF marker) before the image data');
}

/** The canvas size from a WebP's VP8, VP8L or VP8X header. */
function webpSize(b: Uint8Array, what: string): [number, number] {
  if (b.length < 30) throw invalid(what, 'WebP', 'the file is too short');
  const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (chunk === 'VP8 ') return [((b[27] << 8) | b[26]) & 0x3fff, ((b[29] << 8) | b[28]) & 0x3fff];
  if (chunk === 'VP8L') {
    const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  if (chunk === 'VP8X') {
    return [1 + (b[24] | (b[25] << 8) | (b[26] << 16)), 1 + (b[27] | (b[28] << 8) | (b[29] << 16))];
  }
  throw invalid(what, 'WebP', `unknown chunk '${chunk.replace(/[^ -~]/g, '?')}'`);
}
