/**
 * The founding document's program, written with Onyx: load a pre-trained ResNet-50 ONNX model,
 * preprocess a photo (resize to 224×224, scale to [0, 1], HWC → CHW, add a batch axis), run it, and
 * print the predicted ImageNet label.
 *
 *   npx tsx examples/classify-seed.ts resnet50-v1-7.onnx pug.jpg
 *
 * With no arguments it runs ../shared's light ResNet-50 (constant weights: it runs, its answer means
 * nothing) on a bundled photo. `onyx classify --preprocess seed` is this program as a command;
 * `--preprocess imagenet` (the default) adds the resize-256/crop-224/mean-std steps that model-zoo
 * ResNets were trained with, and is more accurate.
 */
import { existsSync, readFileSync } from 'node:fs';
import { decodeImage, InferenceSession, Tensor, type RgbImage } from '../src/index.js'; // 'onyx-onnx' when installed

const root = new URL('..', import.meta.url).pathname;
const light = `${root}../shared/onnx-backend-tests/light/light_resnet50.onnx`;
const modelPath =
  process.argv[2] ?? (existsSync(light) ? light : `${root}test/models/classify/tiny_imagenet_cnn.onnx`);
const photoPath = process.argv[3] ?? `${root}test/models/classify/china.png`;
const labels = JSON.parse(readFileSync(`${root}data/imagenet-labels.json`, 'utf8')) as string[];

// 1. Load the model.
const session = await InferenceSession.create(modelPath);

// 2. Preprocess: decode to RGB bytes (height × width × 3), resize to 224×224, /255, HWC → CHW, batch of 1.
const SIZE = 224;
const photo = resize(decodeImage(readFileSync(photoPath), photoPath), SIZE, SIZE);
const chw = new Float32Array(3 * SIZE * SIZE);
for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    for (let c = 0; c < 3; c++)
      chw[c * SIZE * SIZE + y * SIZE + x] = photo.data[(y * SIZE + x) * 3 + c] / 255;
  }
}
const input = new Tensor('float32', chw, [1, 3, SIZE, SIZE]);

// 3. Run.
const results = await session.run({ [session.inputNames[0]]: input });
const scores = results[session.outputNames[0]].data as Float32Array;

// 4. The predicted label: the highest score (softmax keeps the order; it gives the probability).
let best = 0;
for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
const max = scores[best];
const sum = scores.reduce((s, v) => s + Math.exp(v - max), 0);
const isProbabilities =
  scores.every((v) => v >= 0 && v <= 1) && Math.abs(scores.reduce((s, v) => s + v, 0) - 1) < 1e-3;
const p = isProbabilities ? scores[best] : 1 / sum;
console.log(`${photoPath}: ${labels[best] ?? `class ${best}`} (class ${best}, p=${p.toFixed(4)})`);
await session.release();

/** Bilinear resize with half-pixel centers (no antialiasing: fine for a demo, see `onyx classify`). */
function resize(img: RgbImage, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => img.data[(yy * img.width + xx) * 3 + c];
        const top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * (fx - x0);
        const bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * (fx - x0);
        out[(y * width + x) * 3 + c] = Math.round(top + (bottom - top) * (fy - y0));
      }
    }
  }
  return { width, height, data: out };
}
