/**
 * A Netpbm decoder: P1/P4 (bitmap; 1 is black), P2/P5 (graymap), P3/P6 (pixmap), ASCII and binary,
 * with any maxval from 1 to 65535 (16-bit samples are big-endian). Samples are scaled to 0..255 by
 * round(v·255 / maxval), as PIL does; a maxval of 255 leaves them unchanged.
 */
import { checkSize, invalid, type Pixels } from './pixels.js';

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

export function decodePnm(bytes: Uint8Array, what: string): Pixels {
  const fail = (problem: string) => invalid(what, 'PNM', problem);
  if (bytes.length < 3 || bytes[0] !== 0x50 || bytes[1] < 0x31 || bytes[1] > 0x36) {
    throw fail('the file does not start with P1…P6');
  }
  const kind = bytes[1] - 0x30;
  let p = 2;

  /** The next header integer, skipping whitespace and # comments. */
  const headerInt = (name: string): number => {
    for (;;) {
      while (p < bytes.length && isSpace(bytes[p])) p++;
      if (bytes[p] !== 0x23) break;
      while (p < bytes.length && bytes[p] !== 0x0a && bytes[p] !== 0x0d) p++;
    }
    const start = p;
    let v = 0;
    while (p < bytes.length && bytes[p] >= 0x30 && bytes[p] <= 0x39 && p - start < 10)
      v = v * 10 + bytes[p++] - 0x30;
    if (p === start) throw fail(`the header has no ${name}`);
    if (p < bytes.length && !isSpace(bytes[p]) && bytes[p] !== 0x23)
      throw fail(`the ${name} is not a number`);
    return v;
  };

  const width = headerInt('width');
  const height = headerInt('height');
  const bitmap = kind === 1 || kind === 4;
  const maxval = bitmap ? 1 : headerInt('maxval');
  if (maxval < 1 || maxval > 65535) throw fail(`maxval must be 1…65535, got ${maxval}`);
  checkSize(width, height, what);
  const channels = kind === 3 || kind === 6 ? 3 : 1;
  const count = width * height * channels;
  const out = new Uint8Array(count);
  const lut = new Uint8Array(maxval + 1);
  for (let v = 0; v <= maxval; v++) lut[v] = bitmap ? (v ? 0 : 255) : Math.round((v * 255) / maxval);

  if (kind >= 4) {
    p++; // the single whitespace character after the header
    if (kind === 4) {
      const rowBytes = Math.ceil(width / 8);
      if (p + rowBytes * height > bytes.length) throw fail('the bitmap is truncated');
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          out[y * width + x] = (bytes[p + y * rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1 ? 0 : 255;
        }
      }
    } else if (maxval < 256) {
      if (p + count > bytes.length) throw fail('the raster is truncated');
      for (let i = 0; i < count; i++) {
        const v = bytes[p + i];
        if (v > maxval) throw fail(`sample ${v} exceeds maxval ${maxval}`);
        out[i] = lut[v];
      }
    } else {
      if (p + 2 * count > bytes.length) throw fail('the raster is truncated');
      for (let i = 0; i < count; i++) {
        const v = (bytes[p + 2 * i] << 8) | bytes[p + 2 * i + 1];
        if (v > maxval) throw fail(`sample ${v} exceeds maxval ${maxval}`);
        out[i] = lut[v];
      }
    }
  } else {
    for (let i = 0; i < count; i++) {
      while (p < bytes.length && (isSpace(bytes[p]) || bytes[p] === 0x23)) {
        if (bytes[p] === 0x23) while (p < bytes.length && bytes[p] !== 0x0a && bytes[p] !== 0x0d) p++;
        else p++;
      }
      if (p >= bytes.length) throw fail(`the raster ends after ${i} of ${count} samples`);
      let v = 0;
      const start = p;
      // P1 digits need no separators; other samples run to the next whitespace.
      while (p < bytes.length && bytes[p] >= 0x30 && bytes[p] <= 0x39 && (kind !== 1 || p === start)) {
        v = v * 10 + bytes[p++] - 0x30;
        if (v > maxval) throw fail(`a sample exceeds maxval ${maxval}`);
      }
      if (p === start) throw fail(`unexpected byte 0x${bytes[p].toString(16)} in the ASCII raster`);
      out[i] = lut[v];
    }
  }
  return { width, height, channels, data: out };
}
