import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { heapRunContext, type NodeInfo } from './kernel.js';
import { ops } from './image-decoder.js';

const str = (value: string): AttrValue => ({ kind: 'string', value, bytes: new TextEncoder().encode(value) });

function build(attrs: Record<string, AttrValue> = {}) {
  const node: NodeInfo = {
    name: 'decode',
    opType: 'ImageDecoder',
    domain: '',
    opset: 20,
    sinceVersion: 20,
    attrs: new Attributes(new Map(Object.entries(attrs)), 'node ImageDecoder'),
    inputCount: 1,
    outputCount: 1,
    inputPresent: [true],
    outputPresent: [true],
  };
  return ops[0].build(node);
}

async function decode(bytes: Uint8Array, pixelFormat?: string): Promise<Tensor> {
  const kernel = build(pixelFormat ? { pixel_format: str(pixelFormat) } : {});
  const [out] = await kernel([new Tensor('uint8', bytes, [bytes.length])], heapRunContext);
  return out as Tensor;
}

// 2×1 binary PPM: red, then (10, 20, 30).
const ppm = new Uint8Array([...new TextEncoder().encode('P6 2 1 255\n'), 255, 0, 0, 10, 20, 30]);

describe('ImageDecoder', () => {
  it('returns uint8 [H, W, 3] RGB by default, BGR on request', async () => {
    const rgb = await decode(ppm);
    assert.equal(rgb.type, 'uint8');
    assert.deepEqual(rgb.dims, [1, 2, 3]);
    assert.deepEqual(Array.from(rgb.data as Uint8Array), [255, 0, 0, 10, 20, 30]);
    const bgr = await decode(ppm, 'BGR');
    assert.deepEqual(Array.from(bgr.data as Uint8Array), [0, 0, 255, 30, 20, 10]);
  });

  it("Grayscale has one channel, PIL's convert('L')", async () => {
    const gray = await decode(ppm, 'Grayscale');
    assert.deepEqual(gray.dims, [1, 2, 1]);
    // (19595·R + 38470·G + 7471·B + 32768) >> 16
    assert.deepEqual(Array.from(gray.data as Uint8Array), [76, 18]);
  });

  it('rejects an unknown pixel_format when the model loads', () => {
    assert.throws(
      () => build({ pixel_format: str('RGBA') }),
      /pixel_format must be one of 'RGB', 'BGR', 'Grayscale', got 'RGBA'/,
    );
  });

  it('rejects inputs that are not 1-D uint8', async () => {
    const kernel = build();
    await assert.rejects(
      Promise.resolve().then(() => kernel([new Tensor('uint8', new Uint8Array(4), [2, 2])], heapRunContext)),
      /1-D uint8 tensor/,
    );
    await assert.rejects(
      Promise.resolve().then(() => kernel([new Tensor('float32', new Float32Array(4), [4])], heapRunContext)),
      /got float32 \[4\]/,
    );
  });

  it('fails with INVALID_IMAGE for bytes that are not an image, including an empty stream', async () => {
    for (const bytes of [new Uint8Array(0), new TextEncoder().encode('not an image at all')]) {
      await assert.rejects(
        decode(bytes),
        (e: unknown) => e instanceof OnyxError && e.code === 'INVALID_IMAGE',
      );
    }
  });
});
