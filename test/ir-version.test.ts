/**
 * IR version rules that change what a model's inputs are.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InferenceSession, OnyxError, Tensor } from '../src/index.js';
import { buildModel } from './helpers/build-model.js';

const spec = (irVersion: number) => ({
  irVersion,
  nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
  inputs: [
    { name: 'x', type: 'float32', dims: [2] },
    { name: 'w', type: 'float32', dims: [2] },
  ],
  outputs: [{ name: 'y', type: 'float32', dims: [2] }],
  initializers: [{ name: 'w', tensor: new Tensor('float32', new Float32Array([1, 2]), [2]) }],
});
const x = new Tensor('float32', new Float32Array([10, 20]), [2]);

it('IR < 4: initializers listed as inputs are constants, not feedable inputs', async () => {
  const s = await InferenceSession.create(buildModel(spec(3)));
  assert.deepEqual(s.inputNames, ['x']);
  assert.deepEqual(Array.from((await s.run({ x })).y.data as Float32Array), [11, 22]);
  await assert.rejects(
    s.run({ x, w: x }),
    (e: unknown) => e instanceof OnyxError && e.code === 'INVALID_FEED',
  );
});

it('IR >= 4: an initializer that is also an input is a default the caller may override', async () => {
  const s = await InferenceSession.create(buildModel(spec(8)));
  assert.deepEqual(s.inputNames, ['x']);
  assert.deepEqual(Array.from((await s.run({ x })).y.data as Float32Array), [11, 22]);
  assert.deepEqual(Array.from((await s.run({ x, w: x })).y.data as Float32Array), [20, 40]);
});
