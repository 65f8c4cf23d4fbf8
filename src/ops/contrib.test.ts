import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { InferenceSession } from '../index.js';
import { buildModel, modelObject, type NodeSpec } from '../../test/helpers/build-model.js';
import { encodeMessage } from '../onnx/proto.js';
import { assertClose, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { fusedActivation } from './contrib.js';
import { describeKernelModes } from './util/op-test-kit.js';

const MS = [{ domain: 'com.microsoft', version: 1 }];

/** Runs one-node-or-more models through the public API, optimization off. */
async function run(
  nodes: NodeSpec[],
  inits: { name: string; tensor: Tensor }[],
  x: Tensor,
  outDims: number[],
) {
  const bytes = buildModel({
    nodes,
    extraOpsets: MS,
    inputs: [{ name: 'x', type: 'float32', dims: x.dims as number[] }],
    outputs: [{ name: 'y', type: 'float32', dims: outDims }],
    initializers: inits,
  });
  const s = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  return s.run({ x });
}

describeKernelModes(() => {
  describe('com.microsoft contrib kernels', () => {
    const W = randomTensor([4, 3, 3, 3], 2);
    const B = randomTensor([4], 3);
    const x = randomTensor([1, 3, 5, 5], 4);
    const conv = { pads: [1, 1, 1, 1] };

    it('FusedConv = Conv then the activation, with activation_params', async () => {
      const inits = [
        { name: 'W', tensor: W },
        { name: 'B', tensor: B },
      ];
      const want = await run(
        [
          { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: conv },
          { op: 'LeakyRelu', inputs: ['c'], outputs: ['y'], attrs: { alpha: 0.3 } },
        ],
        inits,
        x,
        [1, 4, 5, 5],
      );
      // build-model writes number[] as ints, so the float list is added to the node by hand.
      const spec = {
        nodes: [
          {
            op: 'FusedConv',
            domain: 'com.microsoft',
            inputs: ['x', 'W', 'B'],
            outputs: ['y'],
            attrs: { ...conv, activation: 'LeakyRelu' },
          },
        ],
        extraOpsets: MS,
        inputs: [{ name: 'x', type: 'float32', dims: [1, 3, 5, 5] }],
        outputs: [{ name: 'y', type: 'float32', dims: [1, 4, 5, 5] }],
        initializers: inits,
      };
      const model = modelObject(spec) as { graph: { node: { attribute: object[] }[] } };
      model.graph.node[0].attribute.push({ name: 'activation_params', type: 6, floats: [0.3] });
      const s = await InferenceSession.create(encodeMessage('ModelProto', model), {
        graphOptimizationLevel: 'disabled',
      });
      assertClose(await s.run({ x }), want);
    });

    it('FusedGemm = Gemm then the activation (activation_alpha)', async () => {
      const gw = randomTensor([3, 5], 6);
      const x2 = randomTensor([2, 5], 7);
      const want = await run(
        [
          { op: 'Gemm', inputs: ['x', 'W'], outputs: ['c'], attrs: { transB: 1 } },
          { op: 'LeakyRelu', inputs: ['c'], outputs: ['y'], attrs: { alpha: 0.3 } },
        ],
        [{ name: 'W', tensor: gw }],
        x2,
        [2, 3],
      );
      const got = await run(
        [
          {
            op: 'FusedGemm',
            domain: 'com.microsoft',
            inputs: ['x', 'W'],
            outputs: ['y'],
            attrs: { transB: 1, activation: 'LeakyRelu', activation_alpha: 0.3 },
          },
        ],
        [{ name: 'W', tensor: gw }],
        x2,
        [2, 3],
      );
      assertClose(got, want);
    });

    it('com.microsoft.Gelu = ai.onnx Gelu', async () => {
      const xs = randomTensor([2, 6], 9);
      const got = await run(
        [{ op: 'Gelu', domain: 'com.microsoft', inputs: ['x'], outputs: ['y'] }],
        [],
        xs,
        [2, 6],
      );
      const d = xs.data as Float32Array;
      const y = got.y.data as Float32Array;
      for (let i = 0; i < d.length; i++) {
        const erf = (v: number) => {
          // Abramowitz–Stegun 7.1.26 is accurate to 1.5e-7, enough for this check.
          const t = 1 / (1 + 0.3275911 * Math.abs(v));
          const r =
            1 -
            ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
              t *
              Math.exp(-v * v);
          return v < 0 ? -r : r;
        };
        assert.ok(
          Math.abs(y[i] - 0.5 * d[i] * (1 + erf(d[i] / Math.SQRT2))) < 1e-5,
          'Math.abs(y[i] - 0.5 * d[i] * (1 + erf(d[i] / Math.SQRT2))) < 1e-5',
        );
      }
    });

    it('com.microsoft.FastGelu: the tanh GELU of X, or of X + bias', async () => {
      const xs = randomTensor([2, 6], 10);
      const bias = randomTensor([6], 11);
      const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      const d = xs.data as Float32Array;
      const b = bias.data as Float32Array;
      for (const withBias of [false, true]) {
        const inputs = withBias ? ['x', 'bias'] : ['x'];
        const inits = withBias ? [{ name: 'bias', tensor: bias }] : [];
        const node = { op: 'FastGelu', domain: 'com.microsoft', inputs, outputs: ['y'] };
        const got = (await run([node], inits, xs, [2, 6])).y.data as Float32Array;
        for (let i = 0; i < d.length; i++) {
          const want = gelu(withBias ? d[i] + b[i % 6] : d[i]);
          assert.ok(Math.abs(got[i] - want) < 1e-5, `element ${i}: ${got[i]} vs ${want}`);
        }
      }
      const badBias = [{ name: 'bias', tensor: randomTensor([5], 12) }];
      const bad = { op: 'FastGelu', domain: 'com.microsoft', inputs: ['x', 'bias'], outputs: ['y'] };
      await assert.rejects(run([bad], badBias, xs, [2, 6]), /bias must be float32 \[6\]/);
    });

    it('SkipLayerNormalization = LayerNorm of skip + (input + bias), bit for bit, with its optional outputs', async () => {
      // Small rows (TypeScript loops) and ones past the WASM kernels' thresholds.
      for (const [rows, hidden] of [
        [3, 8],
        [9, 160],
      ]) {
        const dims = [1, rows, hidden];
        const inits = [
          { name: 'gamma', tensor: randomTensor([hidden], 21) },
          { name: 'beta', tensor: randomTensor([hidden], 22) },
          { name: 'bias', tensor: randomTensor([hidden], 23) },
        ];
        const feeds = { x: randomTensor(dims, 24), skip: randomTensor(dims, 25) };
        const model = (nodes: NodeSpec[], outputs: string[]) =>
          InferenceSession.create(
            buildModel({
              nodes,
              extraOpsets: MS,
              inputs: [
                { name: 'x', type: 'float32', dims },
                { name: 'skip', type: 'float32', dims },
              ],
              outputs: outputs.map((name) => ({ name, type: 'float32' })),
              initializers: inits,
            }),
            { graphOptimizationLevel: 'disabled' },
          );
        const ln = { epsilon: 1e-3 };
        const unfused = await model(
          [
            { op: 'Add', inputs: ['x', 'bias'], outputs: ['t'] },
            { op: 'Add', inputs: ['skip', 't'], outputs: ['s'] },
            {
              op: 'LayerNormalization',
              inputs: ['s', 'gamma', 'beta'],
              outputs: ['y', 'mean', 'inv'],
              attrs: ln,
            },
          ],
          ['y', 'mean', 'inv', 's'],
        );
        const fused = await model(
          [
            {
              op: 'SkipLayerNormalization',
              domain: 'com.microsoft',
              inputs: ['x', 'skip', 'gamma', 'beta', 'bias'],
              outputs: ['y', 'mean', 'inv', 's'],
              attrs: ln,
            },
          ],
          ['y', 'mean', 'inv', 's'],
        );
        assertClose(await fused.run(feeds), await unfused.run(feeds), 0);
        // Without beta and bias, only the normalized output.
        const bare = await model(
          [
            {
              op: 'SkipLayerNormalization',
              domain: 'com.microsoft',
              inputs: ['x', 'skip', 'gamma'],
              outputs: ['y'],
              attrs: ln,
            },
          ],
          ['y'],
        );
        const plain = await model(
          [
            { op: 'Add', inputs: ['skip', 'x'], outputs: ['s'] },
            { op: 'LayerNormalization', inputs: ['s', 'gamma'], outputs: ['y'], attrs: ln },
          ],
          ['y'],
        );
        assertClose(await bare.run(feeds), await plain.run(feeds), 0);
      }
      const bad = buildModel({
        nodes: [
          { op: 'SkipLayerNormalization', domain: 'com.microsoft', inputs: ['x', 'x', 'g'], outputs: ['y'] },
        ],
        extraOpsets: MS,
        inputs: [{ name: 'x', type: 'float32', dims: [2, 6] }],
        outputs: [{ name: 'y', type: 'float32' }],
        initializers: [{ name: 'g', tensor: randomTensor([5], 26) }],
      });
      const s = await InferenceSession.create(bad, { graphOptimizationLevel: 'disabled' });
      await assert.rejects(s.run({ x: randomTensor([2, 6], 27) }), /gamma must be float32 \[6\]/);
    });

    it('the fused activations and their parameter checks', () => {
      const f = (name: string, p: number[] = []) => fusedActivation(name, p, 'test')!;
      assert.equal(fusedActivation('', [], 'test'), undefined);
      assert.equal(f('Relu')(-2), 0);
      assert.equal(f('LeakyRelu', [0.5])(-2), -1);
      assert.equal(f('Clip', [-1, 1])(3), 1);
      assert.equal(f('Clip', [-1, 1])(-3), -1);
      assert.equal(f('HardSigmoid', [0.2, 0.5])(0), 0.5);
      assert.equal(f('Elu', [1])(0), 0);
      assert.ok(Math.abs(f('Sigmoid')(0) - 0.5) < 1e-12, "Math.abs(f('Sigmoid')(0) - 0.5) < 1e-12");
      assert.throws(() => fusedActivation('Clip', [1], 'test'), /needs 2 parameter/);
      assert.throws(() => fusedActivation('Swish', [], 'test'), /unsupported fused activation/);
    });
  });
});
