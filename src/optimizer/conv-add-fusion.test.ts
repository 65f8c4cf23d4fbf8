import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Tensor } from '../core/tensor.js';
import { modelToBytes } from '../ir/to-proto.js';
import type { Model } from '../ir/graph.js';
import {
  assertClose,
  checkRewrite,
  load,
  opTypes,
  randomTensor,
  run,
} from '../../test/helpers/optimizer-kit.js';
import type { NodeSpec } from '../../test/helpers/build-model.js';
import { describeKernelModes } from '../ops/util/op-test-kit.js';
import { fuseConvActivation } from './activation-fusion.js';
import { fuseConvAdd } from './conv-add-fusion.js';

/** x → Conv → c; r = Relu(s) (a computed addend of shape `sDims`); then `tail` nodes. */
const spec = (tail: NodeSpec[], sDims = [1, 3, 6, 6], stride = 1) => ({
  opset: 17,
  nodes: [
    {
      op: 'Conv',
      inputs: ['x', 'W', 'B'],
      outputs: ['c'],
      attrs: { pads: [1, 1, 1, 1], strides: [stride, stride] },
    },
    { op: 'Relu', inputs: ['s'], outputs: ['r'] },
    ...tail,
  ],
  inputs: [
    { name: 'x', type: 'float32', dims: [1, 2, 6, 6] },
    { name: 's', type: 'float32', dims: sDims },
  ],
  outputs: [{ name: 'y', type: 'float32' }],
  initializers: [
    { name: 'W', tensor: randomTensor([3, 2, 3, 3], 2) },
    { name: 'B', tensor: randomTensor([3], 3) },
    { name: 'K', tensor: randomTensor([1, 3, 6, 6], 5) },
  ],
});

const feeds = (sDims = [1, 3, 6, 6]) => ({ x: randomTensor([1, 2, 6, 6], 7), s: randomTensor(sDims, 8) });

const both = (m: Model) => {
  const a = fuseConvAdd(m);
  return fuseConvActivation(m) || a;
};

async function checkInOrt(m: Model, f: Record<string, Tensor>, want: Record<string, Tensor>) {
  const s = await ort.InferenceSession.create(modelToBytes(m), { graphOptimizationLevel: 'disabled' });
  const r = await s.run(
    Object.fromEntries(
      Object.entries(f).map(([k, t]) => [k, new ort.Tensor('float32', t.data as Float32Array, t.dims)]),
    ),
  );
  assertClose({ y: new Tensor('float32', r.y.data as Float32Array, r.y.dims) }, want, 1e-5);
  await s.release();
}

describeKernelModes(() => {
  describe('Conv + Add fusion', () => {
    it('Conv + Add → FusedConv with Z; a following Relu joins it; onnxruntime agrees', async () => {
      const m = await checkRewrite(
        spec([{ op: 'Add', inputs: ['c', 'r'], outputs: ['y'] }]),
        fuseConvAdd,
        feeds(),
      );
      assert.deepEqual(opTypes(m), ['Relu', 'com.microsoft.FusedConv']);
      assert.deepEqual(m.graph.nodes[1].inputs, ['x', 'W', 'B', 'r']);
      const withRelu = spec([
        { op: 'Sum', inputs: ['r', 'c'], outputs: ['a'] },
        { op: 'Relu', inputs: ['a'], outputs: ['y'] },
      ]);
      const fused = await checkRewrite(withRelu, both, feeds());
      assert.deepEqual(opTypes(fused), ['Relu', 'com.microsoft.FusedConv']);
      assert.equal(fused.graph.nodes[1].attrs.string('activation'), 'Relu');
      const { y } = await run(fused, feeds());
      await checkInOrt(fused, feeds(), { y });
    });

    it('a depthwise Conv + Add + Relu (the depthwise kernel adds Z itself)', async () => {
      const dw = {
        opset: 17,
        nodes: [
          { op: 'Conv', inputs: ['x', 'Wd', 'Bd'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], group: 2 } },
          { op: 'Relu', inputs: ['s'], outputs: ['r'] },
          { op: 'Add', inputs: ['c', 'r'], outputs: ['a'] },
          { op: 'Relu', inputs: ['a'], outputs: ['y'] },
        ],
        inputs: [
          { name: 'x', type: 'float32', dims: [1, 2, 6, 6] },
          { name: 's', type: 'float32', dims: [1, 2, 6, 6] },
        ],
        outputs: [{ name: 'y', type: 'float32' }],
        initializers: [
          { name: 'Wd', tensor: randomTensor([2, 1, 3, 3], 4) },
          { name: 'Bd', tensor: randomTensor([2], 6) },
        ],
      };
      const m = await checkRewrite(dw, both, {
        x: randomTensor([1, 2, 6, 6], 7),
        s: randomTensor([1, 2, 6, 6], 8),
      });
      assert.deepEqual(opTypes(m), ['Relu', 'com.microsoft.FusedConv']);
    });

    it('stride 2 and a Z that broadcasts (Add semantics kept by the kernel)', async () => {
      const strided = spec([{ op: 'Add', inputs: ['c', 'r'], outputs: ['y'] }], [1, 3, 3, 3], 2);
      await checkRewrite(strided, both, feeds([1, 3, 3, 3]));
      const bcast = spec(
        [
          { op: 'Add', inputs: ['c', 'r'], outputs: ['a'] },
          { op: 'Relu', inputs: ['a'], outputs: ['y'] },
        ],
        [1, 3, 1, 6],
      );
      const m = await checkRewrite(bcast, both, feeds([1, 3, 1, 6]));
      assert.deepEqual(opTypes(m), ['Relu', 'com.microsoft.FusedConv']);
    });

    it('leaves constant addends, shared Conv outputs, other ranks and old Add', () => {
      const constant = spec([{ op: 'Add', inputs: ['c', 'K'], outputs: ['y'] }]);
      assert.equal(fuseConvAdd(load(constant)), false, 'a constant addend is a bias');
      const shared = spec([
        { op: 'Add', inputs: ['c', 'r'], outputs: ['a'] },
        { op: 'Mul', inputs: ['a', 'c'], outputs: ['y'] },
      ]);
      assert.equal(fuseConvAdd(load(shared)), false, 'the Conv output has another reader');
      const rank3 = spec([{ op: 'Add', inputs: ['c', 'r'], outputs: ['y'] }], [3, 6, 6]);
      assert.equal(fuseConvAdd(load(rank3)), false, 'a rank-3 addend broadcasts');
      const old = { ...spec([{ op: 'Add', inputs: ['c', 'r'], outputs: ['y'] }]), opset: 6 };
      assert.equal(fuseConvAdd(load(old)), false, 'Add-6 has legacy broadcasting');
    });
  });
});
