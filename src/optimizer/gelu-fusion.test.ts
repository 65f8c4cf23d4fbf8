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

  // GPT-2's tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
  const tanhSpec = (cube: NodeSpec[], tail: NodeSpec[], opset = 17) => ({
    opset,
    nodes: [
      ...cube,
      { op: 'Mul', inputs: ['c', 'k'], outputs: ['ck'] },
      { op: 'Add', inputs: ['x', 'ck'], outputs: ['s'] },
      { op: 'Mul', inputs: ['r', 's'], outputs: ['u'] },
      { op: 'Tanh', inputs: ['u'], outputs: ['e'] },
      { op: 'Add', inputs: ['one', 'e'], outputs: ['a'] },
      ...tail,
    ],
    inputs: [{ name: 'x', type: 'float32', dims: [2, 8] }],
    outputs: [{ name: 'y', type: 'float32', dims: [2, 8] }],
    initializers: [
      { name: 'k', tensor: scalar(0.044715) },
      { name: 'r', tensor: scalar(Math.sqrt(2 / Math.PI)) },
      { name: 'three', tensor: scalar(3) },
      { name: 'one', tensor: scalar(1) },
      { name: 'half', tensor: scalar(0.5) },
    ],
  });
  const cubes: [string, NodeSpec[]][] = [
    [
      'x·(x·x)',
      [
        { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
        { op: 'Mul', inputs: ['x', 'sq'], outputs: ['c'] },
      ],
    ],
    ['Pow(x, 3)', [{ op: 'Pow', inputs: ['x', 'three'], outputs: ['c'] }]],
  ];
  for (const [cubeName, cube] of cubes) {
    for (const [name, tail] of forms) {
      it(`fuses the tanh form with ${cubeName}, ${name.replace('erf', 'tanh')} into com.microsoft.FastGelu below opset 20`, async () => {
        const m = await checkRewrite(tanhSpec(cube, tail), fuseGelu, feeds);
        assert.deepEqual(opTypes(m), ['com.microsoft.FastGelu']);
        assert.deepEqual(m.graph.nodes[0].inputs, ['x']);
      });
    }
  }

  it('emits ai.onnx Gelu with approximate = "tanh" from opset 20', async () => {
    const m = await checkRewrite(tanhSpec(cubes[0][1], forms[1][1], 20), fuseGelu, {
      x: randomTensor([2, 8]),
    });
    assert.deepEqual(opTypes(m), ['Gelu']);
    assert.equal(m.graph.nodes[0].attrs.string('approximate', 'none'), 'tanh');
  });

  it("takes a MatMul's bias Add into FastGelu's bias input", async () => {
    const biased = tanhSpec(cubes[0][1], forms[0][1]);
    biased.nodes.unshift(
      { op: 'MatMul', inputs: ['v', 'w'], outputs: ['p'] },
      { op: 'Add', inputs: ['p', 'b'], outputs: ['x'] },
    );
    biased.inputs = [{ name: 'v', type: 'float32', dims: [2, 8] }];
    biased.initializers.push(
      { name: 'w', tensor: randomTensor([8, 8], 3) },
      { name: 'b', tensor: randomTensor([8], 4) },
    );
    const m = await checkRewrite(biased, fuseGelu, { v: randomTensor([2, 8], 5) });
    assert.deepEqual(opTypes(m), ['MatMul', 'com.microsoft.FastGelu']);
    assert.deepEqual(m.graph.nodes[1].inputs, ['p', 'b']);
  });

  it('leaves a tanh form whose constants are off', () => {
    const wrong = tanhSpec(cubes[0][1], forms[0][1]);
    wrong.initializers[0] = { name: 'k', tensor: scalar(0.05) };
    assert.equal(fuseGelu(load(wrong)), false);
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
