import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { fuseLayerNorm } from './layernorm-fusion.js';

const scalar = (v: number) => new Tensor('float32', Float32Array.of(v), []);
const spec = (opset: number, withBias = true) => {
  // ReduceMean takes axes as an attribute before opset 18 and as an input from 18 on.
  const mean = (input: string, output: string) =>
    opset >= 18
      ? { op: 'ReduceMean', inputs: [input, 'axes'], outputs: [output] }
      : { op: 'ReduceMean', inputs: [input], outputs: [output], attrs: { axes: [-1] } };
  return {
    opset,
    nodes: [
      mean('x', 'mu'),
      { op: 'Sub', inputs: ['x', 'mu'], outputs: ['d'] },
      { op: 'Pow', inputs: ['d', 'two'], outputs: ['sq'] },
      mean('sq', 'var'),
      { op: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
      { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
      { op: 'Div', inputs: ['d', 'sd'], outputs: ['n'] },
      { op: 'Mul', inputs: ['n', 'scale'], outputs: [withBias ? 's' : 'y'] },
      ...(withBias ? [{ op: 'Add', inputs: ['s', 'bias'], outputs: ['y'] }] : []),
    ],
    inputs: [{ name: 'x', type: 'float32', dims: [2, 3, 8] }],
    outputs: [{ name: 'y', type: 'float32', dims: [2, 3, 8] }],
    initializers: [
      { name: 'two', tensor: scalar(2) },
      { name: 'eps', tensor: scalar(1e-5) },
      { name: 'axes', tensor: new Tensor('int64', BigInt64Array.of(-1n), [1]) },
      { name: 'scale', tensor: randomTensor([8], 2) },
      { name: 'bias', tensor: randomTensor([8], 3) },
    ],
  };
};
const feeds = { x: randomTensor([2, 3, 8], 5) };

describe('LayerNormalization fusion', () => {
  for (const opset of [17, 18]) {
    it(`fuses the decomposed layer norm at opset ${opset}`, async () => {
      const m = await checkRewrite(spec(opset), fuseLayerNorm, feeds, 1e-4);
      assert.deepEqual(opTypes(m), ['LayerNormalization']);
      const n = m.graph.nodes[0];
      assert.deepEqual(n.inputs, ['x', 'scale', 'bias']);
      assert.equal(Math.fround(n.attrs.float('epsilon')), Math.fround(1e-5));
    });
  }

  it('fuses the form without bias', async () => {
    const m = await checkRewrite(spec(17, false), fuseLayerNorm, feeds, 1e-4);
    assert.deepEqual(m.graph.nodes[0].inputs, ['x', 'scale']);
  });

  it('does not fuse below opset 17 or when an intermediate escapes', () => {
    assert.equal(fuseLayerNorm(load(spec(16))), false);
    const escaping = spec(17);
    escaping.outputs.push({ name: 'var', type: 'float32', dims: [2, 3, 1] });
    assert.equal(fuseLayerNorm(load(escaping)), false);
    assert.deepEqual(opTypes(load(escaping)).length, 9);
  });
});
