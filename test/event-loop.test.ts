/**
 * `run()` must not block the Node.js event loop for the whole inference: the executor yields
 * between nodes, so timers and I/O keep being served while a long model runs.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InferenceSession, Tensor } from '../src/index.js';
import { buildModel } from './helpers/build-model.js';

it('timers keep firing while a long inference runs', async () => {
  const steps = 60;
  const nodes = Array.from({ length: steps }, (_, i) => ({
    op: 'Sin',
    inputs: [i === 0 ? 'x' : `v${i - 1}`],
    outputs: [i === steps - 1 ? 'y' : `v${i}`],
  }));
  const model = buildModel({
    nodes,
    inputs: [{ name: 'x', type: 'float32', dims: [1 << 19] }],
    outputs: [{ name: 'y', type: 'float32', dims: [1 << 19] }],
  });
  const session = await InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
  const x = new Tensor('float32', new Float32Array(1 << 19).fill(0.5), [1 << 19]);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const start = performance.now();
  await session.run({ x });
  const elapsed = performance.now() - start;
  clearInterval(timer);
  // Only meaningful when the run is long enough to need yielding (≥ 4 yield periods of 16 ms).
  if (elapsed > 64) assert.ok(ticks >= 2, `only ${ticks} timer ticks during a ${elapsed.toFixed(0)} ms run`);
});
