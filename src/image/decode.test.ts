import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { OnyxError } from '../core/errors.js';
import { decodeImage, decodeImageAsync, decodeImagePixels, loadImageCodecs, sniffFormat } from './decode.js';
import { convertPixels, MAX_IMAGE_PIXELS, type Pixels } from './pixels.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: (Uint8Array | number[])[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const le = (v: number, n: number) => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 255);

/** A BMP with a 40-byte header; `rows` are the stored rows (already padded), first stored first. */
function bmp(o: {
  width: number;
  height: number;
  bpp: number;
  rows: number[][];
  palette?: number[][];
  compression?: number;
  masks?: number[];
}): Uint8Array {
  const pal = (o.palette ?? []).flatMap(([r, g, b]) => [b, g, r, 0]);
  const masks = (o.masks ?? []).flatMap((m) => le(m, 4));
  const pixels = o.rows.flat();
  const offset = 14 + 40 + masks.length + pal.length;
  const header = [
    ...ascii('BM'),
    ...le(offset + pixels.length, 4),
    ...le(0, 4),
    ...le(offset, 4),
    ...le(40, 4),
    ...le(o.width, 4),
    ...le(o.height, 4),
    ...le(1, 2),
    ...le(o.bpp, 2),
    ...le(o.compression ?? 0, 4),
    ...le(pixels.length, 4),
    ...le(2835, 4),
    ...le(2835, 4),
    ...le(o.palette?.length ?? 0, 4),
    ...le(0, 4),
  ];
  return concat(header, masks, pal, pixels);
}

const rgbOf = (img: { data: Uint8Array }) => Array.from(img.data);

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OnyxError, `expected an OnyxError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

async function rejectsCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof OnyxError, `expected an OnyxError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('sniffFormat', () => {
  it('recognizes every supported container by its signature', () => {
    assert.equal(sniffFormat(concat([0x89], ascii('PNG\r\n'))), 'png');
    assert.equal(sniffFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
    assert.equal(sniffFormat(concat(ascii('RIFF'), [0, 0, 0, 0], ascii('WEBPVP8 '))), 'webp');
    assert.equal(sniffFormat(ascii('BM\0\0')), 'bmp');
    assert.equal(sniffFormat(ascii('GIF89a')), 'gif');
    assert.equal(sniffFormat(new Uint8Array([0x49, 0x49, 42, 0])), 'tiff');
    assert.equal(sniffFormat(new Uint8Array([0x4d, 0x4d, 0, 42])), 'tiff');
    assert.equal(sniffFormat(ascii('P6\n1 1\n255\n')), 'pnm');
    assert.equal(sniffFormat(ascii('P1 # comment')), 'pnm');
    assert.equal(sniffFormat(concat([0, 0, 0, 12], ascii('jP  '), [13, 10, 0x87, 10])), 'jpeg2000');
    assert.equal(sniffFormat(new Uint8Array([0xff, 0x4f, 0xff, 0x51])), 'jpeg2000');
    assert.equal(sniffFormat(ascii('Pizza')), 'unknown');
    assert.equal(sniffFormat(new Uint8Array(0)), 'unknown');
  });
});

describe('convertPixels', () => {
  const px: Pixels = {
    width: 3,
    height: 1,
    channels: 4,
    data: new Uint8Array([255, 0, 0, 9, 0, 255, 0, 9, 0, 0, 255, 9]),
  };

  it("Grayscale is PIL's convert('L') (ITU-R 601-2 luma in 16-bit fixed point)", () => {
    assert.deepEqual(rgbOf(convertPixels(px, 'Grayscale')), [76, 150, 29]);
    const gray: Pixels = { width: 2, height: 1, channels: 2, data: new Uint8Array([7, 0, 200, 255]) };
    assert.deepEqual(rgbOf(convertPixels(gray, 'Grayscale')), [7, 200]);
  });

  it('RGB drops alpha, BGR swaps the ends, gray is replicated', () => {
    assert.deepEqual(rgbOf(convertPixels(px, 'RGB')), [255, 0, 0, 0, 255, 0, 0, 0, 255]);
    assert.deepEqual(rgbOf(convertPixels(px, 'BGR')), [0, 0, 255, 0, 255, 0, 255, 0, 0]);
    const gray: Pixels = { width: 1, height: 1, channels: 1, data: new Uint8Array([42]) };
    assert.deepEqual(rgbOf(convertPixels(gray, 'BGR')), [42, 42, 42]);
  });
});

describe('BMP', () => {
  it('24-bit, bottom-up rows padded to 4 bytes', () => {
    // 2×2: top row red, green; bottom row blue, white (stored bottom row first, BGR).
    const file = bmp({
      width: 2,
      height: 2,
      bpp: 24,
      rows: [
        [255, 0, 0, 255, 255, 255, 0, 0],
        [0, 0, 255, 0, 255, 0, 0, 0],
      ],
    });
    const img = decodeImage(file);
    assert.deepEqual([img.width, img.height], [2, 2]);
    assert.deepEqual(rgbOf(img), [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
  });

  it('top-down (negative height), 8-bit and 1-bit palettes', () => {
    const palette = [
      [10, 20, 30],
      [200, 100, 50],
    ];
    const top = bmp({
      width: 3,
      height: -2,
      bpp: 8,
      palette,
      rows: [
        [0, 1, 0, 0],
        [1, 1, 0, 0],
      ],
    });
    assert.deepEqual(
      rgbOf(decodeImage(top)),
      [10, 20, 30, 200, 100, 50, 10, 20, 30, 200, 100, 50, 200, 100, 50, 10, 20, 30],
    );
    const bits = bmp({ width: 10, height: 1, bpp: 1, palette, rows: [[0b10100000, 0b01000000, 0, 0]] });
    const idx = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1];
    assert.deepEqual(
      rgbOf(decodeImage(bits)),
      idx.flatMap((i) => palette[i]),
    );
  });

  it('16-bit 5-5-5 default and 5-6-5 bitfields scale like PIL (floor(v·255/max))', () => {
    const v555 = (16 << 10) | (31 << 5) | 1;
    const a = bmp({ width: 1, height: 1, bpp: 16, rows: [[...le(v555, 2), 0, 0]] });
    assert.deepEqual(rgbOf(decodeImage(a)), [131, 255, 8]);
    const v565 = (1 << 11) | (32 << 5) | 31;
    const b = bmp({
      width: 1,
      height: 1,
      bpp: 16,
      compression: 3,
      masks: [0xf800, 0x07e0, 0x001f],
      rows: [[...le(v565, 2), 0, 0]],
    });
    assert.deepEqual(rgbOf(decodeImage(b)), [8, 129, 255]);
  });

  it('32-bit BGRX ignores the fourth byte', () => {
    const file = bmp({ width: 1, height: 1, bpp: 32, rows: [[3, 2, 1, 77]] });
    assert.deepEqual(rgbOf(decodeImage(file)), [1, 2, 3]);
  });

  it('RLE8: runs, literal runs, end of line and end of bitmap', () => {
    const palette = [
      [0, 0, 0],
      [1, 1, 1],
      [2, 2, 2],
      [3, 3, 3],
    ];
    // bottom row: 2×index1, literal [2,3,2] (padded); end of line; top row: 4×index3; end of bitmap.
    const data = [2, 1, 0, 3, 2, 3, 2, 0, 0, 0, 4, 3, 0, 1];
    const file = bmp({ width: 4, height: 2, bpp: 8, compression: 1, palette, rows: [data] });
    assert.deepEqual(
      rgbOf(decodeImage(file)).filter((_, i) => i % 3 === 0),
      [3, 3, 3, 3, 1, 1, 2, 3],
    );
  });

  it('rejects truncated pixel data and hostile sizes with clear errors', () => {
    const ok = bmp({
      width: 2,
      height: 2,
      bpp: 24,
      rows: [
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
      ],
    });
    throwsCode(() => decodeImage(ok.subarray(0, ok.length - 3)), 'INVALID_IMAGE', /truncated/);
    throwsCode(() => decodeImage(ok.subarray(0, 20)), 'INVALID_IMAGE');
    const huge = bmp({ width: 1 << 20, height: 1 << 20, bpp: 24, rows: [] });
    throwsCode(() => decodeImage(huge), 'LIMIT_EXCEEDED', new RegExp(String(MAX_IMAGE_PIXELS)));
    const rle = bmp({ width: 4, height: 2, bpp: 8, compression: 1, palette: [[0, 0, 0]], rows: [[2, 0]] });
    throwsCode(() => decodeImage(rle), 'INVALID_IMAGE', /RLE/);
  });
});

describe('PNM', () => {
  it('P6 and P3 with comments, P5 with maxval 15 scaled to 0..255', () => {
    const p6 = concat(ascii('P6\n# made by hand\n2 1\n255\n'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(rgbOf(decodeImage(p6)), [1, 2, 3, 4, 5, 6]);
    const p3 = ascii('P3 2 1 255\n 1 2 3 # the first pixel\n 4 5 6\n');
    assert.deepEqual(rgbOf(decodeImage(p3)), [1, 2, 3, 4, 5, 6]);
    const p5 = concat(ascii('P5 3 1 15 '), [0, 7, 15]);
    assert.deepEqual(
      rgbOf(decodeImage(p5)).filter((_, i) => i % 3 === 0),
      [0, 119, 255],
    );
  });

  it('P1 and P4 bitmaps: 1 is black; 16-bit samples are big-endian', () => {
    const p1 = ascii('P1\n3 1\n101');
    assert.deepEqual(
      rgbOf(decodeImage(p1)).filter((_, i) => i % 3 === 0),
      [0, 255, 0],
    );
    const p4 = concat(ascii('P4\n9 1\n'), [0b01000000, 0b10000000]);
    assert.deepEqual(
      rgbOf(decodeImage(p4)).filter((_, i) => i % 3 === 0),
      [255, 0, 255, 255, 255, 255, 255, 255, 0],
    );
    const p5 = concat(ascii('P5 2 1 65535\n'), [0xff, 0xff, 0x80, 0x00]);
    assert.deepEqual(
      rgbOf(decodeImage(p5)).filter((_, i) => i % 3 === 0),
      [255, 128],
    );
  });

  it('rejects a short raster, a sample over maxval and a bad header', () => {
    throwsCode(() => decodeImage(concat(ascii('P6 2 2 255 '), [1, 2, 3])), 'INVALID_IMAGE', /truncated/);
    throwsCode(() => decodeImage(concat(ascii('P5 1 1 10 '), [11])), 'INVALID_IMAGE', /exceeds maxval/);
    throwsCode(() => decodeImage(ascii('P2 2 x 255')), 'INVALID_IMAGE', /height/);
    throwsCode(() => decodeImage(ascii('P3 1 1 255 1 2')), 'INVALID_IMAGE', /raster ends/);
    throwsCode(() => decodeImage(ascii('P5 70000 70000 255 ')), 'LIMIT_EXCEEDED');
  });
});

describe('PNG', () => {
  it('1-bit gray, palette and 16-bit images come out as 8-bit RGB', () => {
    const gray1 = encodePng({
      width: 3,
      height: 1,
      channels: 1,
      depth: 1,
      data: new Uint8Array([0b10100000]),
    });
    assert.deepEqual(
      rgbOf(decodeImage(gray1)).filter((_, i) => i % 3 === 0),
      [255, 0, 255],
    );
    const rgb16 = encodePng({
      width: 1,
      height: 1,
      channels: 3,
      depth: 16,
      data: new Uint16Array([0xffff, 0x80ff, 0x0100]),
    });
    assert.deepEqual(rgbOf(decodeImage(rgb16)), [255, 128, 1]);
  });

  it('refuses a header that declares more than MAX_IMAGE_PIXELS before inflating', () => {
    const png = encodePng({ width: 1, height: 1, channels: 3, depth: 8, data: new Uint8Array(3) });
    const big = png.slice();
    new DataView(big.buffer).setUint32(16, 1 << 30);
    throwsCode(() => decodeImage(big), 'LIMIT_EXCEEDED');
  });
});

describe('unsupported and damaged input', () => {
  it('names the format and what Onyx reads', () => {
    throwsCode(() => decodeImage(ascii('hello world')), 'INVALID_IMAGE', /not an image.*PNG, JPEG, WebP/);
    throwsCode(() => decodeImage(ascii('GIF89a....')), 'INVALID_IMAGE', /GIF, which is not supported/);
    throwsCode(
      () => decodeImage(new Uint8Array([0x49, 0x49, 42, 0, 8, 0, 0, 0, 0])),
      'INVALID_IMAGE',
      /TIFF/,
    );
  });
});

// 4×3 test pattern, encoded by libwebp (lossless) and MozJPEG (progressive, quality 95).
const PATTERN = [
  0, 20, 255, 37, 111, 242, 74, 202, 229, 111, 37, 216, 148, 128, 203, 185, 219, 190, 222, 54, 177, 3, 145,
  164, 40, 236, 151, 77, 71, 138, 114, 162, 125, 151, 253, 112,
];
const WEBP = 'UklGRjQAAABXRUJQVlA4TCgAAAAvA4AAAF8gEEgksttfZYYp+fz//CeXA0EAiUIsscwyyyyTRvQ/MN0B';
const JPEG =
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wCEAAICAgICAgICAgIDAwIDAwQDAwMDBAYEBAQEBAYJBQYFBQYFCQgJBwcHCQgOCwkJCw4QDQwNEBMRERMYFxgfHyoBAgICAgICAgICAgMDAgMDBAMDAwMEBgQEBAQEBgkFBgUFBgUJCAkHBwcJCA4LCQkLDhANDA0QExERExgXGB8fKv/CABEIAAMABAMBEQACEQEDEQH/xAAnAAEAAAAAAAAAAAAAAAAAAAAHAQEBAAAAAAAAAAAAAAAAAAAGCP/aAAwDAQACEAMQAAAAfys6f//EAB0QAAEEAwEBAAAAAAAAAAAAAAMBAgQFBgcRADH/2gAIAQEAAT8A1fqLW+c0FlNyfEock1beWdFAaFSQwxq+vOogAGKK4bERqfV51y9Vff/EAB0RAAICAwADAAAAAAAAAAAAAAIDAQQFBgcAEqH/2gAIAQIBAT8A6R27q+v7EtGJ3jIqC1j6mQsycg422bIe7GEbhIpmfkef/8QAHxEAAgMAAAcAAAAAAAAAAAAAAgMBBAUABhESFTEy/9oACAEDAQE/APM67MrliwjUt0WWcOhbsxlOPNB9iyuHNc0KUqE2ERfZR17YgfURx//Z';
const bytesOf = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

describe('WebAssembly codecs', () => {
  it('lossless WebP decodes exactly; the synchronous API needs the codec loaded', async () => {
    const webp = bytesOf(WEBP);
    const img = await decodeImageAsync(webp);
    assert.deepEqual([img.width, img.height], [4, 3]);
    assert.deepEqual(rgbOf(img), PATTERN);
    await loadImageCodecs(['webp']);
    assert.deepEqual(rgbOf(decodeImage(webp)), PATTERN);
  });

  it('progressive JPEG through libjpeg-turbo, close to the source pixels', async () => {
    const img = await decodeImagePixels(bytesOf(JPEG), 'RGB');
    assert.equal(img.channels, 3);
    const diff = Math.max(...PATTERN.map((v, i) => Math.abs(v - img.data[i])));
    assert.ok(diff < 48, `max difference ${diff}`);
    const gray = await decodeImagePixels(bytesOf(JPEG), 'Grayscale');
    assert.deepEqual(rgbOf(gray), rgbOf(convertPixels({ ...img, channels: 3 }, 'Grayscale')));
  });

  it('damaged or truncated streams fail with INVALID_IMAGE and the codec keeps working', async () => {
    const jpeg = bytesOf(JPEG);
    await rejectsCode(decodeImagePixels(jpeg.subarray(0, jpeg.length - 60)), 'INVALID_IMAGE', /JPEG/);
    await rejectsCode(decodeImagePixels(jpeg.subarray(0, 200)), 'INVALID_IMAGE', /JPEG/);
    const webp = bytesOf(WEBP).slice();
    webp.fill(0xab, 24);
    await rejectsCode(decodeImagePixels(webp), 'INVALID_IMAGE', /WebP/);
    const siz = [0, 41, 0, 0, ...[4, 4, 0, 0].flatMap((v) => [0, 0, 0, v])]; // 4×4, then garbage
    const j2k = new Uint8Array([0xff, 0x4f, 0xff, 0x51, ...siz, ...new Array<number>(40).fill(1)]);
    await rejectsCode(decodeImagePixels(j2k), 'INVALID_IMAGE', /JPEG 2000/);
    assert.deepEqual(rgbOf(await decodeImageAsync(bytesOf(WEBP))), PATTERN);
    assert.equal((await decodeImagePixels(jpeg)).width, 4);
  });

  const jp2Case = join(
    import.meta.dirname,
    '../../../shared/onnx-backend-tests/node/test_image_decoder_decode_jpeg2k_rgb',
  );
  it(
    'JPEG 2000 (JP2) decodes through OpenJPEG',
    { skip: !existsSync(jp2Case) && 'backend test data not present' },
    async () => {
      // The tensor protos hold the raw bytes after a short header; the file ends with the image.
      const input = readFileSync(join(jp2Case, 'test_data_set_0/input_0.pb'));
      const start = input.indexOf(Buffer.from([0, 0, 0, 12, 0x6a, 0x50, 0x20, 0x20]));
      const img = await decodeImagePixels(new Uint8Array(input.subarray(start)), 'BGR');
      assert.deepEqual([img.width, img.height, img.channels], [32, 32, 3]);
    },
  );
});
