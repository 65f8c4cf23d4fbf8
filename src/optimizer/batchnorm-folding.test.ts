import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import type { NodeSpec } from '../../test/helpers/build-model.js';
import { foldBatchNormMulAdd } from './batchnorm-folding.js';

const f32 = (xs: number[], dims: number[]) => new Tensor('float32', Float32Array.from(xs), dims);

const spec = (tail: NodeSpec[]) => ({
  opset: 17,
  nodes: [
    { op: 'Relu', inputs: ['x'], outputs: ['r'] },
    { op: 'BatchNormalization', inputs: ['r', 'gamma', 'beta', 'mean', 'var'], outputs: ['b'] },
    ...tail,
  ],
  inputs: [{ name: 'x', type: 'float32', dims: [2, 3, 4, 4] }],
  outputs: [{ name: 'y', type: 'float32' }],
  initializers: [
    { name: 'gamma', tensor: f32([1.5, 0.5, -1], [3]) },
    { name: 'beta', tensor: f32([0.1, 0.2, 0.3], [3]) },
    { name: 'mean', tensor: f32([0.05, -0.1, 0], [3]) },
    { name: 'var', tensor: f32([0.9, 1.1, 2], [3]) },
    { name: 'c', tensor: f32([2, -1, 0.5], [1, 3, 1, 1]) },
    { name: 'd', tensor: f32([0.3, 0.2, -0.4], [3, 1, 1]) },
    { name: 'k', tensor: f32([0.25], []) },
    { name: 'plane', tensor: randomTensor([1, 1, 4, 4], 3) },
  ],
});
const feeds = { x: randomTensor([2, 3, 4, 4], 9) };

describe('BatchNormalization + Mul/Add folding', () => {
  it('folds a per-channel Mul and Add (either side) and a scalar into γ and β', async () => {
    const m = await checkRewrite(
      spec([
        { op: 'Mul', inputs: ['c', 'b'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'd'], outputs: ['a'] },
        { op: 'Mul', inputs: ['a', 'k'], outputs: ['y'] },
      ]),
      (model) => {
        let any = false;
        while (foldBatchNormMulAdd(model.graph)) any = true;
        return any;
      },
      feeds,
    );
    assert.deepEqual(opTypes(m), ['Relu', 'BatchNormalization']);
  });

  it('leaves a constant that varies along other axes, a shared output and training mode', () => {
    const plane = spec([{ op: 'Mul', inputs: ['b', 'plane'], outputs: ['y'] }]);
    assert.equal(foldBatchNormMulAdd(load(plane).graph), false);
    const shared = spec([
      { op: 'Mul', inputs: ['b', 'c'], outputs: ['m'] },
      { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
    ]);
    assert.equal(foldBatchNormMulAdd(load(shared).graph), false);
    const training = spec([{ op: 'Mul', inputs: ['b', 'c'], outputs: ['y'] }]);
    training.nodes[1] = { ...training.nodes[1], attrs: { training_mode: 1 } } as never;
    assert.equal(foldBatchNormMulAdd(load(training).graph), false);
  });
});
