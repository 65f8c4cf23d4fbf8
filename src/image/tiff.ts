/**
 * TIFF through the `tiff` package (image-js; pure TypeScript): the first page only, as PIL opens it.
 * Uncompressed, LZW and Deflate strips or tiles with the horizontal predictor; bilevel, gray, RGB and
 * palette images of 1, 8 or 16 bits per sample. The size is checked from the IFD before any pixel
 * data is decompressed.
 */
import { decode, type TiffIfd } from 'tiff';
import { OnyxError } from '../core/errors.js';
import { checkSize, invalid, type Channels, type Pixels } from './pixels.js';

export function decodeTiff(bytes: Uint8Array, what: string): Pixels {
  const fail = (problem: string) => invalid(what, 'TIFF', problem);
  let ifd: TiffIfd;
  try {
    const [header] = decode(bytes, { pages: [0], ignoreImageData: true });
    checkSize(header.width, header.height, what);
    if (header.planarConfiguration === 2)
      throw fail('planar (separate-plane) sample layout is not supported');
    if (header.sampleFormat === 3) throw fail('floating-point samples are not supported');
    [ifd] = decode(bytes, { pages: [0] });
  } catch (e) {
    if (e instanceof OnyxError) throw e;
    throw fail((e as Error).message);
  }
  const { width, height, bitsPerSample, samplesPerPixel, type } = ifd;
  const n = width * height;
  const src = ifd.data;
  if (src.length < n * samplesPerPixel) throw fail('the pixel data is truncated');
  const to8 =
    bitsPerSample === 1
      ? (v: number) => (v ? 255 : 0)
      : bitsPerSample === 16
        ? (v: number) => v >>> 8
        : (v: number) => v;
  if (bitsPerSample !== 1 && bitsPerSample !== 8 && bitsPerSample !== 16) {
    throw fail(`${bitsPerSample} bits per sample is not supported`);
  }
  if (type === 3) {
    const palette = ifd.palette;
    if (!palette || samplesPerPixel !== 1)
      throw fail('a palette image needs one sample per pixel and a ColorMap');
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      const c = palette[src[i]] ?? [0, 0, 0];
      out[i * 3] = c[0] >>> 8;
      out[i * 3 + 1] = c[1] >>> 8;
      out[i * 3 + 2] = c[2] >>> 8;
    }
    return { width, height, channels: 3, data: out };
  }
  const rgb = type === 2;
  if ((rgb && samplesPerPixel < 3) || (!rgb && type !== 0 && type !== 1)) {
    throw fail(`photometric interpretation ${type} with ${samplesPerPixel} samples is not supported`);
  }
  const channels: Channels = rgb ? (samplesPerPixel > 3 ? 4 : 3) : samplesPerPixel > 1 ? 2 : 1;
  const out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) out[i * channels + c] = to8(src[i * samplesPerPixel + c]);
  }
  return { width, height, channels, data: out };
}
