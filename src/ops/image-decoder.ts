/**
 * ImageDecoder (ai.onnx, since opset 20): an encoded image file (1-D uint8) to a uint8 image of dims
 * [height, width, channels] in `pixel_format` RGB (default), BGR or Grayscale (one channel).
 *
 * Decoding lives in src/image (PNG, JPEG, WebP, BMP, TIFF, PNM, JPEG 2000; JPEG through
 * libjpeg-turbo, whose ISLOW IDCT and fancy upsampling the spec prescribes). Grayscale is PIL's
 * convert('L'), as in the ONNX reference. A stream that cannot be decoded fails the run with
 * OnyxError('INVALID_IMAGE') — the spec's alternative, an empty image, would hide the error — and
 * an image over MAX_IMAGE_PIXELS with LIMIT_EXCEEDED.
 */
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { decodeImagePixels, type PixelFormat } from '../image/decode.js';
import type { OpDef } from './kernel.js';
import { tensorInput } from './util/numeric.js';

const PIXEL_FORMATS: readonly PixelFormat[] = ['RGB', 'BGR', 'Grayscale'];

const imageDecoder: OpDef = {
  opType: 'ImageDecoder',
  versions: [20],
  build(node) {
    const format = node.attrs.string('pixel_format', 'RGB') as PixelFormat;
    if (!PIXEL_FORMATS.includes(format)) {
      throw new OnyxError(
        'INVALID_MODEL',
        `pixel_format must be one of ${PIXEL_FORMATS.map((f) => `'${f}'`).join(', ')}, got '${format}'`,
      );
    }
    return async (inputs) => {
      const x = tensorInput(inputs[0], 'encoded_stream');
      if (x.type !== 'uint8' || x.dims.length !== 1) {
        throw new OnyxError(
          'TYPE_MISMATCH',
          `encoded_stream must be a 1-D uint8 tensor (the bytes of an image file), got ${x.type} [${x.dims.join(', ')}]`,
        );
      }
      const img = await decodeImagePixels(x.data as Uint8Array, format, 'the encoded_stream');
      return [new Tensor('uint8', img.data, [img.height, img.width, img.channels])];
    };
  },
};

export const ops: OpDef[] = [imageDecoder];
