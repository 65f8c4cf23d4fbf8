import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import type { NodeSpec } from '../../test/helpers/build-model.js';
import { fuseGelu } from './gelu-fusion.js';

const scalar = (v: number) => new Tensor('float32', Float32Array.of(v), []);
const spec = (tail: NodeSpec[], opset = 17, divisor = 'sqrt2') => ({
  opset,
  nodes: [
    divisor === 'sqrt2'
      ? { op: 'Div', inputs: ['x', 'sqrt2'], outputs: ['d'] }
      : { op: 'Mul', inputs: ['rsqrt2', 'x'], outputs: ['d'] },
    { op: 'Erf', inputs: ['d'], outputs: ['e'] },
    { op: 'Add', inputs: ['e', 'one'], outputs: ['a'] },
    ...tail,
  ],
  inputs: [{ name: 'x', type: 'float32', dims: [2, 8] }],
  outputs: [{ name: 'y', type: 'float32', dims: [2, 8] }],
  initializers: [
    { name: 'sqrt2', tensor: scalar(Math.SQRT2) },
    { name: 'rsqrt2', tensor: scalar(Math.SQRT1_2) },
    { name: 'one', tensor: scalar(1) },
    { name: 'half', tensor: scalar(0.5) },
  ],
});
const feeds = {
  x: new Tensor(
    'float32',
    Float32Array.from({ length: 16 }, (_, i) => (i - 8) / 2),
    [2, 8],
  ),
};

describe('Gelu fusion', () => {
  const forms: [string, NodeSpec[]][] = [
    [
      'x·(1+erf)·0.5',
      [
        { op: 'Mul', inputs: ['x', 'a'], outputs: ['m'] },
        { op: 'Mul', inputs: ['m', 'half'], outputs: ['y'] },
      ],
    ],
    [
      '(0.5·x)·(1+erf)',
      [
        { op: 'Mul', inputs: ['x', 'half'], outputs: ['h'] },
        { op: 'Mul', inputs: ['h', 'a'], outputs: ['y'] },
      ],
    ],
    [
      'x·((1+erf)·0.5)',
      [
        { op: 'Mul', inputs: ['a', 'half'], outputs: ['t'] },
        { op: 'Mul', inputs: ['x', 't'], outputs: ['y'] },
      ],
    ],
  ];
  for (const [name, tail] of forms) {
    it(`fuses ${name} into com.microsoft.Gelu below opset 20`, async () => {
      const m = await checkRewrite(spec(tail), fuseGelu, feeds);
      assert.deepEqual(opTypes(m), ['com.microsoft.Gelu']);
      assert.deepEqual(m.graph.nodes[0].inputs, ['x']);
    });
  }

  it('emits ai.onnx Gelu from opset 20, and matches x·(1/√2)', async () => {
    const m = await checkRewrite(spec(forms[0][1], 20, 'rsqrt2'), fuseGelu, { x: randomTensor([2, 8]) });
    assert.deepEqual(opTypes(m), ['Gelu']);
    assert.equal(m.opsets.has('com.microsoft'), false);
  });

  it('leaves the pattern when an intermediate is read elsewhere or a constant is off', () => {
    const shared = spec(forms[0][1]);
    shared.outputs.push({ name: 'e', type: 'float32', dims: [2, 8] });
    assert.equal(fuseGelu(load(shared)), false);
    const wrong = spec(forms[0][1]);
    wrong.initializers[2] = { name: 'one', tensor: scalar(2) };
    assert.equal(fuseGelu(load(wrong)), false);
  });
});
