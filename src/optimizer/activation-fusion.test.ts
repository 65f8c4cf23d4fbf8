import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Tensor } from '../core/tensor.js';
import { modelToBytes } from '../ir/to-proto.js';
import {
  assertClose,
  checkRewrite,
  load,
  opTypes,
  randomTensor,
  run,
} from '../../test/helpers/optimizer-kit.js';
import type { NodeSpec } from '../../test/helpers/build-model.js';
import { fuseConvActivation, fuseGemmActivation } from './activation-fusion.js';

const scalar = (v: number) => new Tensor('float32', Float32Array.of(v), []);
const convSpec = (act: NodeSpec, opset = 17) => ({
  opset,
  nodes: [{ op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } }, act],
  inputs: [{ name: 'x', type: 'float32', dims: [1, 2, 4, 4] }],
  outputs: [{ name: 'y', type: 'float32', dims: [1, 3, 4, 4] }],
  initializers: [
    { name: 'W', tensor: randomTensor([3, 2, 3, 3], 2) },
    { name: 'B', tensor: randomTensor([3], 3) },
    { name: 'lo', tensor: scalar(-0.2) },
    { name: 'hi', tensor: scalar(0.3) },
  ],
});
const gemmSpec = (act: NodeSpec) => ({
  nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { transB: 1, alpha: 0.5 } }, act],
  inputs: [{ name: 'x', type: 'float32', dims: [2, 4] }],
  outputs: [{ name: 'y', type: 'float32', dims: [2, 3] }],
  initializers: [
    { name: 'W', tensor: randomTensor([3, 4], 2) },
    { name: 'B', tensor: randomTensor([3], 3) },
  ],
});

/** onnxruntime-node loads the rewritten model and agrees. */
async function checkInOrt(m: Parameters<typeof modelToBytes>[0], x: Tensor, want: Record<string, Tensor>) {
  const s = await ort.InferenceSession.create(modelToBytes(m), { graphOptimizationLevel: 'disabled' });
  const r = await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, x.dims) });
  const got = { y: new Tensor('float32', r.y.data as Float32Array, r.y.dims) };
  assertClose(got, want, 1e-5);
  await s.release();
}

describe('Conv/Gemm + activation fusion', () => {
  const x4 = randomTensor([1, 2, 4, 4], 7);
  const convActs: [NodeSpec, number[]][] = [
    [{ op: 'Relu', inputs: ['c'], outputs: ['y'] }, []],
    [{ op: 'LeakyRelu', inputs: ['c'], outputs: ['y'], attrs: { alpha: 0.25 } }, [0.25]],
    [{ op: 'HardSigmoid', inputs: ['c'], outputs: ['y'] }, [0.2, 0.5]],
    [{ op: 'Clip', inputs: ['c', 'lo', 'hi'], outputs: ['y'] }, [-0.2, 0.3]],
    [{ op: 'Sigmoid', inputs: ['c'], outputs: ['y'] }, []],
  ];
  for (const [act, params] of convActs) {
    it(`Conv + ${act.op} → com.microsoft.FusedConv, which onnxruntime runs too`, async () => {
      const m = await checkRewrite(convSpec(act), fuseConvActivation, { x: x4 });
      assert.deepEqual(opTypes(m), ['com.microsoft.FusedConv']);
      const n = m.graph.nodes[0];
      assert.equal(n.attrs.string('activation'), act.op);
      assert.deepEqual(
        n.attrs.floats('activation_params', []).map((v) => Math.fround(v)),
        params.map(Math.fround),
      );
      assert.equal(m.opsets.get('com.microsoft'), 1);
      const { y } = await run(m, { x: x4 });
      await checkInOrt(m, x4, { y });
    });
  }

  it('Clip with bounds from an opset-6 attribute; Gemm + activation → FusedGemm', async () => {
    const clip6 = await checkRewrite(
      convSpec({ op: 'Clip', inputs: ['c'], outputs: ['y'], attrs: { min: -0.5, max: 0.5 } }, 10),
      fuseConvActivation,
      { x: x4 },
    );
    assert.deepEqual(clip6.graph.nodes[0].attrs.floats('activation_params'), [-0.5, 0.5]);
    const x2 = randomTensor([2, 4], 8);
    for (const op of ['Relu', 'Tanh', 'LeakyRelu']) {
      const m = await checkRewrite(gemmSpec({ op, inputs: ['c'], outputs: ['y'] }), fuseGemmActivation, {
        x: x2,
      });
      assert.deepEqual(opTypes(m), ['com.microsoft.FusedGemm']);
      const { y } = await run(m, { x: x2 });
      await checkInOrt(m, x2, { y });
    }
  });

  it('leaves activations onnxruntime cannot fuse and Conv outputs with other readers', () => {
    const softplusConv = load(convSpec({ op: 'Softplus', inputs: ['c'], outputs: ['y'] }));
    assert.equal(fuseConvActivation(softplusConv), false, 'FusedConv has no Softplus');
    const twoReaders = convSpec({ op: 'Relu', inputs: ['c'], outputs: ['r'] });
    twoReaders.nodes.push({ op: 'Add', inputs: ['r', 'c'], outputs: ['y'] } as never);
    assert.equal(fuseConvActivation(load(twoReaders)), false);
  });
});
