import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import type { Model } from '../ir/graph.js';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { foldConvBatchNorm, foldConvMulAdd } from './conv-folding.js';
import { eliminateDeadCode } from './dead-code.js';
import { optimizeModel } from './optimize.js';
import { setKernelMode } from '../ops/util/dispatch.js';

const f32 = (xs: number[], dims = [xs.length]) => new Tensor('float32', Float32Array.from(xs), dims);
const conv = (bias: boolean) => ({
  inputs: [{ name: 'x', type: 'float32', dims: [1, 2, 5, 5] }],
  outputs: [{ name: 'y', type: 'float32', dims: [1, 3, 5, 5] }],
  initializers: [
    { name: 'W', tensor: randomTensor([3, 2, 3, 3], 5) },
    ...(bias ? [{ name: 'B', tensor: f32([0.1, -0.2, 0.3]) }] : []),
    { name: 'gamma', tensor: f32([1.5, 0.5, -1]) },
    { name: 'beta', tensor: f32([0.1, 0.2, 0.3]) },
    { name: 'mean', tensor: f32([0.05, -0.1, 0]) },
    { name: 'var', tensor: f32([0.9, 1.1, 2]) },
    { name: 'c', tensor: f32([2, -1, 0.5], [3, 1, 1]) },
    { name: 'k', tensor: f32([0.25]) },
  ],
});
const convNode = (bias: boolean) => ({
  op: 'Conv',
  inputs: bias ? ['x', 'W', 'B'] : ['x', 'W'],
  outputs: ['c0'],
  attrs: { pads: [1, 1, 1, 1] },
});
const feeds = { x: randomTensor([1, 2, 5, 5], 9) };
const withDce = (pass: (g: Model['graph']) => boolean) => (m: Model) => {
  const changed = pass(m.graph);
  eliminateDeadCode(m.graph);
  return changed;
};

describe('Conv folding', () => {
  it('folds an inference BatchNormalization into the Conv weights and bias', async () => {
    for (const bias of [true, false]) {
      const m = await checkRewrite(
        {
          ...conv(bias),
          nodes: [
            convNode(bias),
            {
              op: 'BatchNormalization',
              inputs: ['c0', 'gamma', 'beta', 'mean', 'var'],
              outputs: ['y'],
              attrs: { epsilon: 0.001 },
            },
          ],
        },
        withDce(foldConvBatchNorm),
        feeds,
        1e-4,
      );
      assert.deepEqual(opTypes(m), ['Conv']);
      assert.equal(m.graph.nodes[0].outputs[0], 'y');
      assert.equal(m.graph.initializers.has('gamma'), false);
    }
  });

  it('scales weights the Conv alone owns in place, and copies shared ones', async () => {
    const bn = (conv: string, out: string) => ({
      op: 'BatchNormalization',
      inputs: [conv, 'gamma', 'beta', 'mean', 'var'],
      outputs: [out],
    });
    // One Conv: W's storage is reused. Two Convs on the same W: each fold gets its own copy (were
    // the first scaled in place, the second Conv would compute with it: checkRewrite compares).
    const single = load({ ...conv(true), nodes: [convNode(true), bn('c0', 'y')] });
    const w = single.graph.initializers.get('W')!;
    assert.equal(foldConvBatchNorm(single.graph), true);
    assert.equal(single.graph.initializers.get(single.graph.nodes[0].inputs[1])!.data, w.data);
    const shared = {
      ...conv(true),
      nodes: [
        convNode(true),
        bn('c0', 'b0'),
        { ...convNode(true), outputs: ['c1'] },
        bn('c1', 'b1'),
        { op: 'Add', inputs: ['b0', 'b1'], outputs: ['y'] },
      ],
    };
    const m = await checkRewrite(shared, withDce(foldConvBatchNorm), feeds, 1e-4);
    const datas = m.graph.nodes
      .filter((n) => n.opType === 'Conv')
      .map((n) => m.graph.initializers.get(n.inputs[1])!.data);
    assert.notEqual(datas[0], datas[1]);
  });

  it('folds per-channel Mul and scalar Add constants', async () => {
    const m = await checkRewrite(
      {
        ...conv(true),
        nodes: [
          convNode(true),
          { op: 'Mul', inputs: ['c', 'c0'], outputs: ['m'] },
          { op: 'Add', inputs: ['m', 'k'], outputs: ['y'] },
        ],
      },
      withDce(foldConvMulAdd),
      feeds,
      1e-4,
    );
    assert.deepEqual(opTypes(m), ['Conv']);
  });

  it('folds Conv → BatchNormalization → Mul → Add into one Conv whose owned weights are scaled once', async () => {
    const spec = {
      ...conv(true),
      nodes: [
        convNode(true),
        { op: 'BatchNormalization', inputs: ['c0', 'gamma', 'beta', 'mean', 'var'], outputs: ['b'] },
        { op: 'Mul', inputs: ['b', 'c'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'k'], outputs: ['y'] },
      ],
    };
    let before: Float32Array | undefined;
    const m = await checkRewrite(
      spec,
      async (m) => {
        const wm = m.graph.initializers.get('W')!;
        before = Float32Array.from(wm.data as Float32Array);
        await optimizeModel(m, 'basic', { foldKernel: () => undefined });
        // The BatchNormalization took the Mul and Add, and the Conv took it: W was written once,
        // in place, by the product of both scales (not scaled, copied and scaled again).
        const folded = m.graph.initializers.get(m.graph.nodes[0].inputs[1])!;
        assert.equal(folded.data, wm.data);
        return true;
      },
      feeds,
      1e-4,
    );
    assert.deepEqual(opTypes(m), ['Conv']);
    assert.notDeepEqual(before, m.graph.initializers.get(m.graph.nodes[0].inputs[1])!.data);
  });

  it("folds float32 weights on the WASM kernels to the TypeScript fold's floats, bit for bit", () => {
    // Channel counts and per-channel sizes around the kernel's 4-wide steps (tails of 1–3, one
    // channel, fewer than 4 weights), with and without a bias, weights owned (scaled in place) or
    // shared (copied).
    const shapes = [
      [1, 1, 1, 1],
      [3, 1, 1, 3],
      [5, 2, 3, 3],
      [8, 4, 1, 1],
      [7, 3, 2, 5],
    ];
    for (const [i, dims] of shapes.entries()) {
      for (const bias of [true, false]) {
        for (const shared of [false, true]) {
          const M = dims[0];
          const vec = (seed: number, lo: number) =>
            new Tensor(
              'float32',
              (randomTensor([M], seed).data as Float32Array).map((v) => v + lo),
              [M],
            );
          const spec = {
            inputs: [{ name: 'x', type: 'float32', dims: [1, dims[1], 6, 6] }],
            outputs: [{ name: 'y', type: 'float32' }],
            initializers: [
              { name: 'W', tensor: randomTensor(dims, 11 + i) },
              ...(bias ? [{ name: 'B', tensor: vec(3 + i, 0) }] : []),
              { name: 'gamma', tensor: vec(5 + i, 0) },
              { name: 'beta', tensor: vec(7 + i, 0) },
              { name: 'mean', tensor: vec(9 + i, 0) },
              { name: 'var', tensor: vec(13 + i, 1.5) },
            ],
            nodes: [
              { op: 'Conv', inputs: bias ? ['x', 'W', 'B'] : ['x', 'W'], outputs: ['c0'] },
              {
                op: 'BatchNormalization',
                inputs: ['c0', 'gamma', 'beta', 'mean', 'var'],
                outputs: [shared ? 'b0' : 'y'],
                attrs: { epsilon: 1e-3 },
              },
              ...(shared
                ? [
                    { op: 'Conv', inputs: ['x', 'W'], outputs: ['c1'] },
                    { op: 'Add', inputs: ['b0', 'c1'], outputs: ['y'] },
                  ]
                : []),
            ],
          };
          const folds = (['fast', 'reference'] as const).map((mode) => {
            const m = load(spec);
            const prev = setKernelMode(mode);
            try {
              assert.equal(foldConvBatchNorm(m.graph), true);
            } finally {
              setKernelMode(prev);
            }
            const conv = m.graph.nodes.find(
              (n) => n.opType === 'Conv' && n.outputs[0] === (shared ? 'b0' : 'y'),
            )!;
            return conv.inputs.slice(1).map((name) => m.graph.initializers.get(name)!);
          });
          const [fast, reference] = folds;
          const where = `${dims.join('×')} bias ${bias} shared ${shared}`;
          for (const k of [0, 1]) {
            assert.equal(fast[k].type, 'float32', where);
            assert.deepEqual(fast[k].dims, reference[k].dims, where);
            assert.deepEqual(
              new Uint32Array((fast[k].data as Float32Array).slice().buffer),
              new Uint32Array((reference[k].data as Float32Array).slice().buffer),
              where,
            );
          }
        }
      }
    }
  });

  it('leaves a Conv whose output has another reader, and non-constant operands', () => {
    const m = load({
      ...conv(true),
      inputs: [...conv(true).inputs, { name: 's', type: 'float32', dims: [3, 1, 1] }],
      nodes: [
        convNode(true),
        { op: 'Mul', inputs: ['c0', 's'], outputs: ['m'] },
        { op: 'Add', inputs: ['c0', 'k'], outputs: ['a'] },
        { op: 'Add', inputs: ['m', 'a'], outputs: ['y'] },
      ],
    });
    assert.equal(foldConvMulAdd(m.graph), false);
  });
});
