import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { defaultRegistry } from '../ops/all.js';
import { loadModelBytes } from '../onnx/load.js';
import { nodeInfo } from '../runtime/plan.js';
import { validateGraph } from '../ir/validate.js';
import { buildModel, type ModelSpec } from '../../test/helpers/build-model.js';
import { foldConstants } from './constant-folding.js';
import { eliminateDeadCode } from './dead-code.js';
import { eliminateIdentities } from './identity.js';
import type { Node } from '../ir/graph.js';

const load = (spec: ModelSpec) => {
  const m = loadModelBytes(buildModel(spec));
  validateGraph(m.graph);
  return m;
};

const foldKernel = (n: Node) => {
  const r = defaultRegistry.resolve(n.domain, n.opType, nodeInfo(n).opset);
  return r?.def.build({ ...nodeInfo(n), sinceVersion: r.sinceVersion });
};

const f32 = (xs: number[], dims = [xs.length]) => new Tensor('float32', new Float32Array(xs), dims);

describe('identity elimination', () => {
  it('removes inner Identity nodes and rewires their readers, keeping graph outputs', () => {
    const m = load({
      nodes: [
        { op: 'Identity', inputs: ['x'], outputs: ['a'] },
        { op: 'Relu', inputs: ['a'], outputs: ['b'] },
        { op: 'Identity', inputs: ['b'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: [2] }],
      outputs: [{ name: 'y', type: 'float32', dims: [2] }],
    });
    assert.equal(eliminateIdentities(m.graph), true);
    assert.deepEqual(
      m.graph.nodes.map((n) => n.opType),
      ['Relu', 'Identity'],
    );
    assert.deepEqual(m.graph.nodes[0].inputs, ['x']);
    assert.equal(eliminateIdentities(m.graph), false, 'a second run changes nothing');
  });

  it('removes an inference Dropout whose mask nothing reads, and keeps one whose mask is read', () => {
    const spec = (maskRead: boolean) =>
      load({
        nodes: [
          { op: 'Dropout', inputs: ['x'], outputs: ['a', 'mask'], attrs: { ratio: 0.5 } },
          { op: 'Relu', inputs: ['a'], outputs: ['y'] },
          ...(maskRead ? [{ op: 'Cast', inputs: ['mask'], outputs: ['m'], attrs: { to: 1 } }] : []),
        ],
        opset: 9,
        inputs: [{ name: 'x', type: 'float32', dims: [2] }],
        outputs: [
          { name: 'y', type: 'float32', dims: [2] },
          ...(maskRead ? [{ name: 'm', type: 'float32', dims: [2] }] : []),
        ],
      });
    const unused = spec(false);
    assert.equal(eliminateIdentities(unused.graph), true);
    assert.deepEqual(
      unused.graph.nodes.map((n) => n.opType),
      ['Relu'],
    );
    assert.deepEqual(unused.graph.nodes[0].inputs, ['x']);
    const read = spec(true);
    assert.equal(eliminateIdentities(read.graph), false);
  });
});

describe('constant folding', () => {
  it('evaluates nodes whose inputs are all initializers and keeps the rest', async () => {
    const m = load({
      nodes: [
        { op: 'Add', inputs: ['c1', 'c2'], outputs: ['c3'] },
        { op: 'Mul', inputs: ['x', 'c3'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: [2] }],
      outputs: [{ name: 'y', type: 'float32', dims: [2] }],
      initializers: [
        { name: 'c1', tensor: f32([1, 2]) },
        { name: 'c2', tensor: f32([10, 20]) },
      ],
    });
    assert.equal(await foldConstants(m.graph, foldKernel), true);
    assert.deepEqual(
      m.graph.nodes.map((n) => n.opType),
      ['Mul'],
    );
    assert.deepEqual(Array.from(m.graph.initializers.get('c3')!.data as Float32Array), [11, 22]);
  });

  it('does not fold random ops or initializers that a feed may override', async () => {
    const m = load({
      nodes: [
        { op: 'RandomUniformLike', inputs: ['c'], outputs: ['r'] },
        { op: 'Add', inputs: ['r', 'x'], outputs: ['y'] },
      ],
      inputs: [
        { name: 'x', type: 'float32', dims: [2] },
        { name: 'c', type: 'float32', dims: [2] },
      ],
      outputs: [{ name: 'y', type: 'float32', dims: [2] }],
      initializers: [{ name: 'c', tensor: f32([1, 2]) }],
    });
    assert.equal(await foldConstants(m.graph, foldKernel), false);
    assert.equal(m.graph.nodes.length, 2);
  });
});

describe('dead-node elimination', () => {
  it('drops nodes and initializers that do not reach an output', () => {
    const m = load({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['y'] },
        { op: 'Neg', inputs: ['w'], outputs: ['unused'] },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: [2] }],
      outputs: [{ name: 'y', type: 'float32', dims: [2] }],
      initializers: [{ name: 'w', tensor: f32([1, 2]) }],
    });
    assert.equal(eliminateDeadCode(m.graph), true);
    assert.deepEqual(
      m.graph.nodes.map((n) => n.opType),
      ['Relu'],
    );
    assert.equal(m.graph.initializers.has('w'), false);
  });
});
