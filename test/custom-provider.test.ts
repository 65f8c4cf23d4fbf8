/**
 * A user-registered execution provider takes the nodes it supports; the rest fall back to 'cpu'.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InferenceSession, OnyxError, registerExecutionProvider, Tensor } from '../src/index.js';
import { makeCountingReluProvider } from '../examples/custom-provider.js';
import { buildModel } from './helpers/build-model.js';

const model = buildModel({
  nodes: [
    { op: 'Relu', inputs: ['x'], outputs: ['r'] },
    { op: 'Neg', inputs: ['r'], outputs: ['n'] },
    { op: 'Relu', inputs: ['n'], outputs: ['y'] },
  ],
  inputs: [{ name: 'x', type: 'float32', dims: [4] }],
  outputs: [{ name: 'y', type: 'float32', dims: [4] }],
});

it('runs the nodes a custom provider takes on it and falls back to cpu for the others', async () => {
  const ep = makeCountingReluProvider();
  registerExecutionProvider(ep);
  const session = await InferenceSession.create(model, { executionProviders: ['counting-relu'] });
  const out = await session.run({ x: new Tensor('float32', new Float32Array([-2, -1, 1, 2]), [4]) });
  assert.equal(ep.calls, 2);
  assert.deepEqual(Array.from(out.y.data as Float32Array), [0, 0, 0, 0]);
});

it('names an execution provider that was never registered', async () => {
  await assert.rejects(
    InferenceSession.create(model, { executionProviders: ['webgpu-someday'] }),
    (e: unknown) =>
      e instanceof OnyxError && /execution provider 'webgpu-someday' is not registered/.test(e.message),
  );
});

it('hands a kernel an omitted optional input as an undefined entry, not a hole', async () => {
  // A kernel may check its inputs with every/forEach/some, which skip holes.
  let seen: unknown[] | undefined;
  registerExecutionProvider({
    name: 'clip-spy',
    allocator: { alloc: (type, dims) => Tensor.zeros(type, dims), release: () => {} },
    getKernel: (node) =>
      node.opType === 'Clip'
        ? (inputs) => {
            seen = Array.from({ length: inputs.length }, (_, i) => i in inputs);
            return [inputs[0] as Tensor];
          }
        : undefined,
  });
  const clip = buildModel({
    opset: 13,
    nodes: [{ op: 'Clip', inputs: ['x', '', 'hi'], outputs: ['y'] }],
    inputs: [
      { name: 'x', type: 'float32', dims: [2] },
      { name: 'hi', type: 'float32', dims: [] },
    ],
    outputs: [{ name: 'y', type: 'float32', dims: [2] }],
  });
  const session = await InferenceSession.create(clip, { executionProviders: ['clip-spy'] });
  await session.run({
    x: new Tensor('float32', new Float32Array([1, 2]), [2]),
    hi: new Tensor('float32', new Float32Array([1]), []),
  });
  assert.deepEqual(seen, [true, true, true]);
});
