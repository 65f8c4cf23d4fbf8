/**
 * A BMP decoder (Windows and OS/2 bitmaps): 1/2/4/8-bit palettes, 16/24/32-bit direct color with the
 * default or BI_BITFIELDS masks, RLE8 and RLE4, bottom-up and top-down rows. Alpha is dropped (the
 * outputs are RGB or gray). Every offset is checked against the file before it is read, so a damaged
 * or hostile file fails with INVALID_IMAGE rather than reading out of bounds.
 *
 * Channel scaling follows PIL, which produced the ONNX test data: an n-bit field v becomes
 * floor(v·255 / (2ⁿ−1)).
 */
import { checkSize, invalid, type Pixels } from './pixels.js';

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

interface Field {
  shift: number;
  max: number;
}

function field(mask: number): Field {
  mask >>>= 0;
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const bits = mask >>> shift;
  if ((bits & (bits + 1)) !== 0) return { shift, max: -1 }; // not contiguous
  return { shift, max: bits };
}

export function decodeBmp(bytes: Uint8Array, what: string): Pixels {
  const fail = (problem: string) => invalid(what, 'BMP', problem);
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw fail('the file is too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const pixelOffset = u32(10);
  const headerSize = u32(14);
  const core = headerSize === 12;
  if (!core && ![40, 52, 56, 64, 108, 124].includes(headerSize)) {
    throw fail(`unknown header size ${headerSize}`);
  }
  if (14 + headerSize > bytes.length) throw fail('the header is truncated');
  let width: number;
  let height: number;
  let bpp: number;
  let compression = BI_RGB;
  let colorsUsed = 0;
  if (core) {
    width = u16(18);
    height = u16(20);
    bpp = u16(24);
  } else {
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bpp = u16(28);
    compression = u32(30);
    colorsUsed = u32(46);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  checkSize(width, height, what);
  if (![1, 2, 4, 8, 16, 24, 32].includes(bpp)) throw fail(`${bpp} bits per pixel is not a BMP depth`);

  // Direct-color masks: in the header (v2+), after a 40-byte header for BI_BITFIELDS, or the defaults.
  let masks: number[] | undefined;
  let paletteStart = 14 + headerSize;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bpp !== 16 && bpp !== 32) throw fail(`BI_BITFIELDS needs 16 or 32 bits per pixel, got ${bpp}`);
    if (headerSize >= 52) {
      masks = [u32(54), u32(58), u32(62)];
    } else {
      const n = compression === BI_ALPHABITFIELDS ? 4 : 3;
      if (paletteStart + 4 * n > bytes.length) throw fail('the color masks are truncated');
      masks = [u32(paletteStart), u32(paletteStart + 4), u32(paletteStart + 8)];
      paletteStart += 4 * n;
    }
  } else if (
    compression === BI_RLE8 ? bpp !== 8 : compression === BI_RLE4 ? bpp !== 4 : compression !== BI_RGB
  ) {
    throw fail(`compression ${compression} with ${bpp} bits per pixel is not supported`);
  }
  if (!masks && bpp === 16) masks = [0x7c00, 0x03e0, 0x001f];
  if (!masks && bpp === 32) masks = [0xff0000, 0x00ff00, 0x0000ff];
  const fields = masks?.map(field);
  if (fields?.some((f) => f.max < 0)) throw fail('a color mask has non-contiguous bits');

  // Palette (BGR0 quads, or BGR triples in OS/2 1.x files).
  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const entry = core ? 3 : 4;
    const count = colorsUsed > 0 && colorsUsed < 1 << bpp ? colorsUsed : 1 << bpp;
    const available = Math.floor((Math.min(pixelOffset, bytes.length) - paletteStart) / entry);
    const n = Math.max(0, Math.min(count, available));
    if (n === 0) throw fail('the color table is missing');
    palette = new Uint8Array((1 << bpp) * 3); // unlisted indices are black
    for (let i = 0; i < n; i++) {
      const o = paletteStart + i * entry;
      palette[i * 3] = bytes[o + 2];
      palette[i * 3 + 1] = bytes[o + 1];
      palette[i * 3 + 2] = bytes[o];
    }
  }
  if (pixelOffset >= bytes.length) throw fail('the pixel data is missing');

  const out = new Uint8Array(width * height * 3);
  const rowOf = (y: number) => (topDown ? y : height - 1 - y);

  if (compression === BI_RLE8 || compression === BI_RLE4) {
    const index = new Uint8Array(width * height);
    decodeRle(bytes, pixelOffset, width, height, compression === BI_RLE4, index, rowOf, fail);
    for (let i = 0; i < index.length; i++) out.set(palette!.subarray(index[i] * 3, index[i] * 3 + 3), i * 3);
    return { width, height, channels: 3, data: out };
  }

  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (pixelOffset + stride * height > bytes.length) {
    throw fail(
      `the pixel data is truncated (${stride * height} bytes expected, ${bytes.length - pixelOffset} present)`,
    );
  }
  for (let y = 0; y < height; y++) {
    const src = pixelOffset + y * stride;
    let d = rowOf(y) * width * 3;
    if (palette) {
      const perByte = 8 / bpp;
      const mask = (1 << bpp) - 1;
      for (let x = 0; x < width; x++, d += 3) {
        const byte = bytes[src + Math.floor(x / perByte)];
        const idx = (byte >> (8 - bpp * ((x % perByte) + 1))) & mask;
        out[d] = palette[idx * 3];
        out[d + 1] = palette[idx * 3 + 1];
        out[d + 2] = palette[idx * 3 + 2];
      }
    } else if (bpp === 24) {
      for (let x = 0, s = src; x < width; x++, s += 3, d += 3) {
        out[d] = bytes[s + 2];
        out[d + 1] = bytes[s + 1];
        out[d + 2] = bytes[s];
      }
    } else {
      const [r, g, b] = fields!;
      const step = bpp / 8;
      for (let x = 0, s = src; x < width; x++, s += step, d += 3) {
        const v = step === 2 ? u16(s) : u32(s);
        out[d] = scale(v, r);
        out[d + 1] = scale(v, g);
        out[d + 2] = scale(v, b);
      }
    }
  }
  return { width, height, channels: 3, data: out };
}

function scale(v: number, f: Field): number {
  if (f.max === 0) return 0;
  const c = (v >>> f.shift) & f.max;
  return f.max === 255 ? c : Math.floor((c * 255) / f.max);
}

/** RLE8/RLE4 into palette indices; pixels the stream skips stay index 0. */
function decodeRle(
  bytes: Uint8Array,
  start: number,
  width: number,
  height: number,
  four: boolean,
  index: Uint8Array,
  rowOf: (y: number) => number,
  fail: (problem: string) => Error,
): void {
  let x = 0;
  let y = 0;
  let p = start;
  const put = (v: number) => {
    if (x < width && y < height) index[rowOf(y) * width + x] = v;
    x++;
  };
  while (y < height) {
    if (p + 1 >= bytes.length) throw fail('the RLE data ends before the end-of-bitmap code');
    const count = bytes[p];
    const value = bytes[p + 1];
    p += 2;
    if (count > 0) {
      for (let i = 0; i < count; i++) put(four ? (i & 1 ? value & 15 : value >> 4) : value);
    } else if (value === 0) {
      x = 0;
      y++;
    } else if (value === 1) {
      return;
    } else if (value === 2) {
      if (p + 1 >= bytes.length) throw fail('the RLE delta is truncated');
      x += bytes[p];
      y += bytes[p + 1];
      p += 2;
    } else {
      const n = value;
      const len = four ? Math.ceil(n / 2) : n;
      if (p + len > bytes.length) throw fail('an RLE literal run is truncated');
      for (let i = 0; i < n; i++)
        put(four ? (i & 1 ? bytes[p + (i >> 1)] & 15 : bytes[p + (i >> 1)] >> 4) : bytes[p + i]);
      p += len + (len & 1);
    }
  }
}
