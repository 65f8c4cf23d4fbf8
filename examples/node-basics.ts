/**
 * Onyx in plain Node.js, no browser: create a session, read what the model expects, build typed input
 * tensors, run, and read typed outputs. Uses the bundled digits classifier (models/digits.onnx).
 *
 *   npx tsx examples/node-basics.ts
 */
import { readFileSync } from 'node:fs';
import { InferenceSession, OnyxError, Tensor } from '../src/index.js'; // 'onyx-onnx' when installed

const modelPath = new URL('../models/digits.onnx', import.meta.url).pathname;

// A session from a path (Node.js) — or from bytes, exactly the same model.
const session = await InferenceSession.create(modelPath, { graphOptimizationLevel: 'all' });
const fromBytes = await InferenceSession.create(new Uint8Array(readFileSync(modelPath)));

// What the model expects: names, element types, shapes (symbolic dims are strings).
for (const m of [...session.inputMetadata, ...session.outputMetadata]) {
  if (m.isTensor) console.log(`${m.name}: ${m.type}[${m.shape.join(', ')}]`);
}

// Typed inputs: a float32 tensor is a Float32Array plus dims. Two 8×8 images in one batch.
const batch = 2;
const pixels = new Float32Array(batch * 8 * 8);
for (let i = 0; i < 64; i++) pixels[i] = i % 8 === 3 || i % 8 === 4 ? 1 : 0; // a vertical bar: "1"-like
for (let i = 64; i < 128; i++) pixels[i] = (i - 64) % 9 === 0 ? 1 : 0; // a diagonal
const image = new Tensor('float32', pixels, [batch, 1, 8, 8]);

// Run; ask for the outputs by name. Results are Tensors whose `data` has the type's array class.
const { logits } = await session.run({ image }, ['logits']);
const scores = logits.data as Float32Array;
console.log(`logits: ${logits.type}[${logits.dims.join(', ')}] (${scores.constructor.name})`);
for (let b = 0; b < batch; b++) {
  const row = Array.from(scores.subarray(b * 10, b * 10 + 10));
  console.log(`image ${b}: digit ${row.indexOf(Math.max(...row))}`);
}

// The same feeds give the same answer through the session made from bytes.
const again = (await fromBytes.run({ image })).logits.data as Float32Array;
console.log(`same result from bytes: ${again.every((v, i) => v === scores[i])}`);

// Wrong feeds are OnyxErrors with a stable code and a message that says what the model expects.
try {
  await session.run({ image: new Tensor('int32', new Int32Array(64), [1, 1, 8, 8]) });
} catch (e) {
  if (!(e instanceof OnyxError)) throw e;
  console.log(`${e.code}: ${e.message}`);
}

await session.release();
await fromBytes.release();
