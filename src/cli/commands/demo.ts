/**
 * `onyx demo` (what `npm start` runs): classifies the bundled handwritten-digit samples with the
 * embedded default model, then measures accuracy on the held-out split and single-image latency.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from '../../index.js';
import { EXIT } from '../exit-codes.js';
import { decodeImage } from '../../index.js';

export const help = `onyx demo

Classifies the bundled handwritten-digit samples (models/samples/*.png) with the embedded default model
(models/digits.onnx, trained by scripts/train_digits.py on scikit-learn's digits), then prints the accuracy on
the held-out split next to the training script's own figure, and the single-image latency.`;

const MODELS = fileURLToPath(new URL('../../../models/', import.meta.url));
const SIDE = 8;

/** The model sees 8×8 ink maps in 0..1: average each block of the upscaled sample down to one pixel. */
function digitTensor(path: string): Tensor {
  const img = decodeImage(readFileSync(path), path);
  const out = new Float32Array(SIDE * SIDE);
  const bw = img.width / SIDE;
  const bh = img.height / SIDE;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const cell = Math.floor(y / bh) * SIDE + Math.floor(x / bw);
      out[cell] += img.data[(y * img.width + x) * 3] / 255 / (bw * bh);
    }
  }
  return new Tensor('float32', out, [1, 1, SIDE, SIDE]);
}

function softmax(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function argmax(xs: ArrayLike<number>, offset = 0, n = xs.length): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (xs[offset + i] > xs[offset + best]) best = i;
  return best;
}

export async function demo(): Promise<number> {
  const t0 = performance.now();
  const session = await InferenceSession.create(join(MODELS, 'digits.onnx'));
  console.log(
    `Onyx demo: handwritten digits (models/digits.onnx, loaded in ${(performance.now() - t0).toFixed(1)} ms)\n`,
  );

  const samples = readdirSync(join(MODELS, 'samples'))
    .filter((f) => f.endsWith('.png'))
    .sort();
  let right = 0;
  for (const file of samples) {
    const truth = Number(/digit-(\d)/.exec(file)?.[1]);
    const { logits } = await session.run({ image: digitTensor(join(MODELS, 'samples', file)) });
    const probs = softmax(logits.data as Float32Array);
    const guess = argmax(probs);
    if (guess === truth) right++;
    console.log(
      `  ${file.padEnd(16)} → ${guess}  (p=${probs[guess].toFixed(3)})${guess === truth ? '' : `  ✗ expected ${truth}`}`,
    );
  }
  console.log(`  ${right}/${samples.length} samples correct\n`);

  const heldout = JSON.parse(readFileSync(join(MODELS, 'digits-heldout.json'), 'utf8')) as {
    accuracy: number;
    images: number[][];
    labels: number[];
  };
  const n = heldout.labels.length;
  const batch = new Tensor('float32', Float32Array.from(heldout.images.flat()), [n, 1, SIDE, SIDE]);
  const { logits } = await session.run({ image: batch });
  const scores = logits.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < n; i++) if (argmax(scores, i * 10, 10) === heldout.labels[i]) correct++;
  const accuracy = correct / n;
  const agree = Math.abs(accuracy - heldout.accuracy) < 1e-9;
  console.log(
    `held-out accuracy: ${(accuracy * 100).toFixed(2)}% (${correct}/${n}); training script measured ${(heldout.accuracy * 100).toFixed(2)}% ${agree ? '— match' : '— MISMATCH'}`,
  );

  const one = new Tensor('float32', Float32Array.from(heldout.images[0]), [1, 1, SIDE, SIDE]);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) await session.run({ image: one }); // warm-up
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    await session.run({ image: one });
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  console.log(
    `latency (1 image, 50 runs): median ${times[25].toFixed(3)} ms, p90 ${times[45].toFixed(3)} ms`,
  );
  return agree && right === samples.length ? EXIT.OK : EXIT.FAILED;
}
