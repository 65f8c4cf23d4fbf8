import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeSpec } from '../../test/helpers/build-model.js';
import { Tensor } from '../core/tensor.js';
import { checkRewrite, load, opTypes, randomTensor } from '../../test/helpers/optimizer-kit.js';
import { fuseSkipLayerNorm } from './skip-layernorm-fusion.js';

const H = 8;
/**
 * mm = x·W; t = Add(bias, mm); s = Add(res, t); y = LayerNorm(s); z = s + y (the residual stream
 * read on). `nodes` rewrites the middle of that; `dims` are x's and res's.
 */
const spec = (middle: NodeSpec[], o: { dims?: number[]; lnAttrs?: Record<string, number> } = {}) => {
  const dims = o.dims ?? [2, 3, H];
  return {
    opset: 17,
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['mm'] },
      ...middle,
      { op: 'LayerNormalization', inputs: ['s', 'gamma', 'beta'], outputs: ['y'], attrs: o.lnAttrs ?? {} },
      { op: 'Add', inputs: ['s', 'y'], outputs: ['z'] },
    ],
    inputs: [
      { name: 'x', type: 'float32', dims },
      { name: 'res', type: 'float32', dims },
    ],
    outputs: [
      { name: 'y', type: 'float32', dims },
      { name: 'z', type: 'float32', dims },
    ],
    initializers: [
      { name: 'W', tensor: randomTensor([H, H], 2) },
      { name: 'bias', tensor: randomTensor([H], 3) },
      { name: 'gamma', tensor: randomTensor([H], 4) },
      { name: 'beta', tensor: randomTensor([H], 5) },
    ],
  };
};
const biasThenResidual: NodeSpec[] = [
  { op: 'Add', inputs: ['bias', 'mm'], outputs: ['t'] },
  { op: 'Add', inputs: ['res', 't'], outputs: ['s'] },
];
const feedsOf = (dims: number[]) => ({ x: randomTensor(dims, 6), res: randomTensor(dims, 7) });
const feeds = feedsOf([2, 3, H]);
const skipNode = (m: ReturnType<typeof load>) =>
  m.graph.nodes.find((n) => n.opType === 'SkipLayerNormalization')!;

describe('SkipLayerNormalization fusion', () => {
  it('fuses bias Add → residual Add → LayerNorm, keeping the residual sum as output 3, bit for bit', async () => {
    const m = await checkRewrite(spec(biasThenResidual), fuseSkipLayerNorm, feeds, 0);
    assert.deepEqual(opTypes(m), ['MatMul', 'com.microsoft.SkipLayerNormalization', 'Add']);
    const n = skipNode(m);
    assert.deepEqual(n.inputs, ['mm', 'res', 'gamma', 'beta', 'bias']);
    assert.deepEqual(n.outputs, ['y', '', '', 's']);
    assert.equal(Math.fround(n.attrs.float('epsilon')), Math.fround(1e-5));
    assert.equal(m.opsets.get('com.microsoft'), 1);
  });

  it('takes the operands of either Add either way round, and the form without a bias', async () => {
    const swapped: NodeSpec[] = [
      { op: 'Add', inputs: ['mm', 'bias'], outputs: ['t'] },
      { op: 'Add', inputs: ['t', 'res'], outputs: ['s'] },
    ];
    const m = await checkRewrite(spec(swapped), fuseSkipLayerNorm, feeds, 0);
    assert.deepEqual(skipNode(m).inputs, ['mm', 'res', 'gamma', 'beta', 'bias']);
    const plain = await checkRewrite(
      spec([{ op: 'Add', inputs: ['mm', 'res'], outputs: ['s'] }]),
      fuseSkipLayerNorm,
      feeds,
      0,
    );
    assert.deepEqual(skipNode(plain).inputs, ['mm', 'res', 'gamma', 'beta']);
    // A bias sum read elsewhere stays; the residual Add alone is fused.
    const escaping = spec(biasThenResidual);
    escaping.outputs.push({ name: 't', type: 'float32', dims: [2, 3, H] });
    const e = await checkRewrite(escaping, fuseSkipLayerNorm, feeds, 0);
    assert.deepEqual(skipNode(e).inputs, ['res', 't', 'gamma', 'beta']);
  });

  it('leaves the sum out when only the LayerNorm reads it, and works on 2-D activations', async () => {
    const only = spec(biasThenResidual, { dims: [5, H] });
    only.nodes.pop();
    only.outputs.pop();
    const m = await checkRewrite(only, fuseSkipLayerNorm, feedsOf([5, H]), 0);
    assert.deepEqual(opTypes(m), ['MatMul', 'com.microsoft.SkipLayerNormalization']);
    assert.deepEqual(skipNode(m).outputs, ['y']);
  });

  it('needs one rank the graph tells: an embedding lookup (Gather) tells it, two untyped inputs do not', async () => {
    // x has no declared shape (rank unknown); res is an embedding lookup of [2, 3] ids: rank 3.
    const embedded = spec(biasThenResidual);
    embedded.inputs = [
      { name: 'x', type: 'float32' } as (typeof embedded.inputs)[number],
      { name: 'ids', type: 'int64', dims: [2, 3] } as (typeof embedded.inputs)[number],
    ];
    embedded.nodes.unshift({ op: 'Gather', inputs: ['emb', 'ids'], outputs: ['res'] });
    embedded.initializers.push({ name: 'emb', tensor: randomTensor([5, H], 8) });
    const ids = new Tensor('int64', BigInt64Array.from([0, 4, 2, 1, 3, 4], BigInt), [2, 3]);
    const m = await checkRewrite(embedded, fuseSkipLayerNorm, { x: feeds.x, ids }, 0);
    assert.deepEqual(skipNode(m).inputs, ['mm', 'res', 'gamma', 'beta', 'bias']);
    const untyped = spec(biasThenResidual);
    untyped.inputs = untyped.inputs.map(
      (i) => ({ name: i.name, type: i.type }) as (typeof untyped.inputs)[number],
    );
    assert.equal(fuseSkipLayerNorm(load(untyped)), false);
  });

  it('does not fuse another axis, rank 4, a used mean output or mixed ranks', () => {
    assert.equal(fuseSkipLayerNorm(load(spec(biasThenResidual, { lnAttrs: { axis: 1 } }))), false);
    assert.equal(fuseSkipLayerNorm(load(spec(biasThenResidual, { dims: [1, 2, 3, H] }))), false);
    const withMean = spec(biasThenResidual);
    withMean.nodes[3] = { ...withMean.nodes[3], outputs: ['y', 'mean'] };
    withMean.outputs.push({ name: 'mean', type: 'float32', dims: [2, 3, 1] });
    assert.equal(fuseSkipLayerNorm(load(withMean)), false);
    const mixed = spec(biasThenResidual);
    mixed.inputs[1] = { name: 'res', type: 'float32', dims: [3, H] };
    assert.equal(fuseSkipLayerNorm(load(mixed)), false);
  });
});
