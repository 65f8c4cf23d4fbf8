import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { wasmSimdVariant } from '../ep/cpu/wasm/kernels.js';
import { ops as contribOps } from './contrib.js';
import { convTuning, ops as convOps } from './conv.js';
import type { OpDef } from './kernel.js';
import { setKernelMode, winogradFits, type KernelMode } from './util/dispatch.js';
import { graph, node, runGraph } from './util/graph-harness.js';
import { randomTensor } from '../../test/helpers/optimizer-kit.js';
import { assertClose, attributes, type AttrInit } from './util/op-test-kit.js';
import { readWindowAttrs } from './util/window.js';
import { winogradApplies } from './winograd.js';

const skip = wasmSimdVariant ? false : 'this engine has no WebAssembly SIMD128';

const f32 = randomTensor;

/** One Conv-like node with x (and Z, when given) fed and its weights (and bias) as initializers. */
async function conv(
  ops: readonly OpDef[],
  opType: string,
  x: Tensor,
  consts: readonly Tensor[],
  attrs: Record<string, AttrInit>,
  mode: KernelMode,
  winograd: boolean,
  z?: Tensor,
): Promise<Float32Array> {
  const names = consts.map((_, i) => `c${i + 1}`);
  const inputs = ['x', ...names];
  if (z) inputs.push('z');
  const domain = opType === 'FusedConv' ? 'com.microsoft' : '';
  const inits = Object.fromEntries(names.map((n, i) => [n, consts[i]]));
  const g = graph(z ? ['x', 'z'] : ['x'], ['y'], [node(opType, inputs, ['y'], attrs, domain)], inits);
  const saved = [setKernelMode(mode), convTuning.winograd] as const;
  convTuning.winograd = winograd;
  try {
    const [y] = await runGraph(g, z ? [x, z] : [x], ops, domain ? { '': 21, [domain]: 1 } : { '': 21 });
    return (y as Tensor).data as Float32Array;
  } finally {
    setKernelMode(saved[0]);
    convTuning.winograd = saved[1];
  }
}

describe('Winograd F(2×2, 3×3) convolution against the reference kernels', { skip }, () => {
  const cases: [number[], number, Record<string, AttrInit>][] = [
    [[1, 16, 1, 1], 16, { pads: [1, 1, 1, 1] }],
    [[1, 16, 2, 2], 17, { pads: [1, 1, 1, 1] }],
    [[1, 16, 7, 7], 16, { pads: [1, 1, 1, 1] }],
    [[2, 17, 9, 11], 33, { pads: [1, 1, 1, 1] }],
    [[1, 16, 14, 14], 20, {}],
    [[1, 20, 8, 13], 18, { pads: [0, 2, 1, 0] }],
    [[1, 16, 10, 7], 16, { auto_pad: 'SAME_UPPER' }],
    [[1, 16, 5, 40], 24, { pads: [1, 1, 1, 1], kernel_shape: [3, 3], strides: [1, 1] }],
    [[1, 16, 3, 3], 16, { pads: [2, 2, 2, 2] }],
    // More tiles than one chunk holds: two chunks of tile rows.
    [[1, 32, 100, 100], 32, { pads: [1, 1, 1, 1] }],
    // Deeper than one packed block (KC = 256 channels), M not a multiple of the panel height, and
    // weights transformed from the JS heap in three slabs of whole panels.
    [[1, 300, 5, 6], 202, { pads: [1, 1, 1, 1] }],
    // Groups, each its own Winograd convolution (AlexNet's 3×3 layers have two): two images, and
    // three groups of 16 input channels with 17 outputs each.
    [[2, 32, 7, 9], 48, { group: 2, pads: [1, 1, 1, 1] }],
    [[1, 48, 6, 5], 51, { group: 3, pads: [0, 1, 1, 0] }],
  ];
  for (const [i, [xd, M, attrs]] of cases.entries()) {
    it(`x ${xd.join('×')}, M ${M}, ${JSON.stringify(attrs)}`, async () => {
      const x = f32(xd, i + 1);
      const group = typeof attrs.group === 'number' ? attrs.group : 1;
      const w = f32([M, xd[1] / group, 3, 3], i + 20);
      const b = f32([M], i + 40);
      const consts = i % 2 === 0 ? [w, b] : [w];
      const fast = await conv(convOps, 'Conv', x, consts, attrs, 'fast', true);
      const direct = await conv(convOps, 'Conv', x, consts, attrs, 'fast', false);
      const ref = await conv(convOps, 'Conv', x, consts, attrs, 'reference', true);
      assertClose(fast, ref, 1e-4, 1e-4, `Winograd ${xd} M ${M}`);
      assertClose(direct, ref, 1e-4, 1e-4, `direct ${xd} M ${M}`);
      // Winograd rounds differently from the direct sum: equal bits would mean it did not run.
      if (fast.length > 16) assert.notDeepEqual(fast, direct);
    });
  }

  it('FusedConv: bias, residual Z and Relu / Clip in the output transform', async () => {
    const x = f32([1, 32, 9, 10], 1);
    const w = f32([32, 16, 3, 3], 2);
    const b = f32([32], 3);
    const z = f32([1, 32, 9, 10], 4);
    const pads = [1, 1, 1, 1];
    const relu = { activation: 'Relu', pads, group: 2 };
    const clip = { activation: 'Clip', activation_params: { floats: [-0.2, 0.3] }, pads, group: 2 };
    for (const attrs of [relu, clip]) {
      for (const zIn of [undefined, z]) {
        const args = [contribOps, 'FusedConv', x, [w, b], attrs] as const;
        const fast = await conv(...args, 'fast', true, zIn);
        const ref = await conv(...args, 'reference', true, zIn);
        assertClose(fast, ref, 1e-4, 1e-4, `FusedConv ${attrs.activation} z=${zIn !== undefined}`);
      }
    }
  });

  it('leaves rows too wide for a thread workspace to the direct convolution', () => {
    assert.equal(winogradFits(224), true);
    assert.equal(winogradFits(100_000), true);
    assert.equal(winogradFits(150_000), false);
  });

  it('applies to 3×3, stride 1, dilation 1, float32, 16+ channels in and out per group only', () => {
    const w = (dims: number[]) => new Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b)), dims);
    const win = (a: Record<string, AttrInit> = {}) => readWindowAttrs(attributes(a, 'Conv'), 'Conv');
    assert.equal(winogradApplies(win(), 1, w([16, 16, 3, 3])), true);
    assert.equal(winogradApplies(win({ strides: [2, 2] }), 1, w([16, 16, 3, 3])), false);
    assert.equal(winogradApplies(win({ dilations: [1, 2] }), 1, w([16, 16, 3, 3])), false);
    assert.equal(winogradApplies(win({ group: 2 }), 2, w([16, 8, 3, 3])), false);
    assert.equal(winogradApplies(win({ group: 2 }), 2, w([32, 16, 3, 3])), true);
    assert.equal(winogradApplies(win({ group: 2 }), 2, w([30, 16, 3, 3])), false);
    assert.equal(winogradApplies(win({ group: 3 }), 3, w([33, 16, 3, 3])), false);
    assert.equal(winogradApplies(win(), 1, w([16, 16, 3, 5])), false);
    assert.equal(winogradApplies(win(), 1, w([16, 15, 3, 3])), false);
    assert.equal(winogradApplies(win(), 1, w([15, 16, 3, 3])), false);
    assert.equal(winogradApplies(win(), 1, w([16, 16, 3])), false);
  });
});
