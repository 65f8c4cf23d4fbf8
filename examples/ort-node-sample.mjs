// An onnxruntime-node program, exactly as its users write it. test/ort-compat.test.ts runs it as is
// and again with only the import line changed to Onyx, and requires identical output.
import * as ort from 'onnxruntime-node';

const modelPath = process.argv[2] ?? new URL('../models/digits.onnx', import.meta.url).pathname;
const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all' });

console.log('inputs:', session.inputNames.join(', '));
console.log('outputs:', session.outputNames.join(', '));
for (const m of [...session.inputMetadata, ...session.outputMetadata]) {
  console.log(`  ${m.name}: tensor=${m.isTensor} type=${m.type} shape=[${m.shape.join(', ')}]`);
}

const batch = 3;
const data = new Float32Array(batch * 64);
for (let i = 0; i < data.length; i++) data[i] = (Math.sin(i * 0.37) + 1) / 2;
const input = new ort.Tensor('float32', data, [batch, 1, 8, 8]);
const results = await session.run({ [session.inputNames[0]]: input });

const out = results[session.outputNames[0]];
console.log(`output type=${out.type} dims=[${out.dims.join(', ')}] size=${out.size}`);
for (let b = 0; b < batch; b++) {
  const row = Array.from(out.data.slice(b * 10, b * 10 + 10));
  const best = row.indexOf(Math.max(...row));
  console.log(`  image ${b}: class ${best}, logits ${row.map((v) => v.toFixed(3)).join(' ')}`);
}
const reshaped = out.reshape([batch * 10]);
console.log(`reshaped dims=[${reshaped.dims.join(', ')}]`);
await session.release();
