import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { Graph } from '../ir/graph.js';
import { loadModelBytes } from '../onnx/load.js';
import type { NodeInfo } from './kernel.js';
import { ops, type NodeInfoWithGraph } from './training.js';
import { node } from './util/graph-harness.js';
import {
  assertClose,
  buildNodeInfo,
  nums as values,
  opNode,
  runNodeInfo,
  t,
  type AttrInit,
} from './util/op-test-kit.js';

const DOMAIN = 'ai.onnx.preview.training';

/** A training node at opset 1, with the graph Gradient reads from NodeInfo. */
function info(
  opType: string,
  inputCount: number,
  outputCount: number,
  attrs: Record<string, AttrInit>,
  graph?: Graph,
): NodeInfoWithGraph {
  return { ...opNode(ops, opType, inputCount, attrs, { opset: 1, domain: DOMAIN, outputCount }).node, graph };
}
const run = (n: NodeInfo, inputs: Tensor[]) => runNodeInfo(ops, n, inputs);
const build = (n: NodeInfo) => buildNodeInfo(ops, n);
const irNode = (...a: Parameters<typeof node>) => ({ ...node(...a), opsets: new Map([['', 17]]) });
const close = (a: number[], b: number[], eps = 1e-5) => assertClose(a, b, 0, eps);

const f = (data: number[], dims?: number[]) => t('float32', data, dims);
const scalar = (v: number) => f([v], []);
const step = (v: number) => t('int64', [v], []);

describe('Adagrad', () => {
  it('follows the spec formula, with two tensors grouped X, X, H, H', async () => {
    const node = info('Adagrad', 8, 4, {
      decay_factor: { float: 0.1 },
      epsilon: { float: 1e-5 },
      norm_coefficient: { float: 0.01 },
    });
    const out = await run(node, [
      scalar(0.5),
      step(2),
      f([1]),
      f([2, 3]),
      f([0.5]),
      f([1, -1]),
      f([0]),
      f([1, 1]),
    ]);
    assert.equal(out.length, 4);
    const r = 0.5 / (1 + 2 * 0.1);
    const g1 = 0.01 * 1 + 0.5;
    const h1 = g1 * g1;
    close(values(out[0]), [1 - (r * g1) / (Math.sqrt(h1) + 1e-5)]);
    close(values(out[2]), [h1]);
    const g2 = [0.01 * 2 + 1, 0.01 * 3 - 1];
    close(values(out[3]), [1 + g2[0] ** 2, 1 + g2[1] ** 2]);
  });

  it('rejects inputs that do not split into groups', async () => {
    assert.throws(
      () => build(info('Adagrad', 6, 2, {})),
      (e: unknown) => e instanceof OnyxError && /R, T and then 3 equal groups/.test(e.message),
    );
  });
});

describe('Adam', () => {
  it('bias-corrects once T > 0 and applies norm_coefficient_post', async () => {
    const attrs = {
      alpha: { float: 0.9 },
      beta: { float: 0.99 },
      epsilon: { float: 1e-6 },
      norm_coefficient_post: { float: 0.1 },
    };
    const [x, v, h] = await run(info('Adam', 6, 3, attrs), [
      scalar(0.1),
      step(3),
      f([1]),
      f([2]),
      f([0.5]),
      f([0.25]),
    ]);
    const vNew = 0.9 * 0.5 + 0.1 * 2;
    const hNew = 0.99 * 0.25 + 0.01 * 4;
    const rate = (0.1 * Math.sqrt(1 - 0.99 ** 3)) / (1 - 0.9 ** 3);
    close(values(v), [vNew]);
    close(values(h), [hNew]);
    close(values(x), [0.9 * (1 - (rate * vNew) / (Math.sqrt(hNew) + 1e-6))]);
  });
});

describe('Momentum', () => {
  const attrs = (mode: string) => ({
    alpha: { float: 0.9 },
    beta: { float: 0.5 },
    norm_coefficient: { float: 0 },
    mode: mode,
  });

  it('standard: the first step (T = 0) takes the whole gradient', async () => {
    const [x0, v0] = await run(info('Momentum', 5, 2, attrs('standard')), [
      scalar(0.1),
      step(0),
      f([1]),
      f([2]),
      f([3]),
    ]);
    close(values(v0), [0.9 * 3 + 2]);
    close(values(x0), [1 - 0.1 * (0.9 * 3 + 2)]);
    const [, v1] = await run(info('Momentum', 5, 2, attrs('standard')), [
      scalar(0.1),
      step(1),
      f([1]),
      f([2]),
      f([3]),
    ]);
    close(values(v1), [0.9 * 3 + 0.5 * 2]);
  });

  it('nesterov', async () => {
    const [x] = await run(info('Momentum', 5, 2, attrs('nesterov')), [
      scalar(0.1),
      step(1),
      f([1]),
      f([2]),
      f([3]),
    ]);
    const v = 0.9 * 3 + 0.5 * 2;
    close(values(x), [1 - 0.1 * (2 + 0.9 * v)]);
  });

  it('rejects an unknown mode and mismatched shapes', async () => {
    assert.throws(
      () => build(info('Momentum', 5, 2, attrs('adam'))),
      /mode must be 'standard' or 'nesterov'/,
    );
    await assert.rejects(
      run(info('Momentum', 5, 2, attrs('standard')), [scalar(0.1), step(1), f([1, 2]), f([2]), f([3, 4])]),
      /tensor 0 has dims \[2\] but its input 3 has \[1\]/,
    );
  });
});

describe('Gradient', () => {
  const SIMPLE = join(import.meta.dirname, '..', '..', '..', 'shared', 'onnx-backend-tests', 'simple');

  for (const [name, expected] of [
    ['test_gradient_of_add', [1, 1]],
    ['test_gradient_of_add_and_mul', [4, 1]],
  ] as const) {
    it(
      `${name} (conformance model, graph passed in NodeInfo)`,
      { skip: !existsSync(join(SIMPLE, name)) },
      async () => {
        const model = loadModelBytes(readFileSync(join(SIMPLE, name, 'model.onnx')));
        const g = model.graph;
        const n = g.nodes.find((x) => x.opType === 'Gradient')!;
        const out = await run(
          info('Gradient', n.inputs.length, n.outputs.length, Object.fromEntries(n.attrs.map), g),
          [scalar(1), scalar(2)],
        );
        assert.deepEqual(
          out.map((x) => values(x)[0]),
          expected,
        );
      },
    );
  }

  it('sums gradients over broadcast dims and through shared uses', async () => {
    // z = a * b with a [2, 3] and b [3]: dz/da is b broadcast, dz/db sums a's rows.
    const g = new Graph(
      'g',
      [irNode('Mul', ['a', 'b'], ['z'])],
      [
        { name: 'a', type: null },
        { name: 'b', type: null },
      ],
      [{ name: 'z', type: null }],
      new Map(),
      new Map(),
    );
    const [da, db] = await run(info('Gradient', 2, 2, { xs: ['a', 'b'], y: 'z' }, g), [
      f([1, 2, 3, 4, 5, 6], [2, 3]),
      f([10, 20, 30]),
    ]);
    assert.deepEqual(da.dims, [2, 3]);
    assert.deepEqual(values(da), [10, 20, 30, 10, 20, 30]);
    assert.deepEqual(db.dims, [3]);
    assert.deepEqual(values(db), [5, 7, 9]);
  });

  it('chains unary ops, constants and zs', async () => {
    // y = tanh(x * k) + z with k an initializer: dy/dx = k (1 - tanh(kx)^2).
    const g = new Graph(
      'g',
      [irNode('Mul', ['x', 'k'], ['xk']), irNode('Tanh', ['xk'], ['th']), irNode('Add', ['th', 'z'], ['y'])],
      [
        { name: 'x', type: null },
        { name: 'z', type: null },
      ],
      [{ name: 'y', type: null }],
      new Map([['k', scalar(3)]]),
      new Map(),
    );
    const [dx] = await run(info('Gradient', 2, 1, { xs: ['x'], zs: ['z'], y: 'y' }, g), [
      f([0.1, -0.2]),
      scalar(5),
    ]);
    close(
      values(dx),
      [0.1, -0.2].map((v) => 3 * (1 - Math.tanh(3 * v) ** 2)),
    );
  });

  it('reports unsupported ops, foreign inputs, and a missing graph', () => {
    const g = new Graph(
      'g',
      [irNode('Sin', ['a'], ['y']), irNode('Add', ['a', 'w'], ['y2'])],
      [
        { name: 'a', type: null },
        { name: 'w', type: null },
      ],
      [],
      new Map(),
      new Map(),
    );
    assert.throws(
      () => build(info('Gradient', 1, 1, { xs: ['a'], y: 'y' }, g)),
      (e: unknown) =>
        e instanceof OnyxError &&
        e.code === 'NOT_IMPLEMENTED' &&
        /cannot differentiate through Sin/.test(e.message),
    );
    assert.throws(
      () => build(info('Gradient', 1, 1, { xs: ['a'], y: 'y2' }, g)),
      /'w' feeds 'y2' but is neither in xs\/zs/,
    );
    assert.throws(
      () => build(info('Gradient', 1, 1, { xs: ['a'], y: 'y2' })),
      (e: unknown) =>
        e instanceof OnyxError && e.code === 'NOT_IMPLEMENTED' && /NodeInfo.graph/.test(e.message),
    );
  });
});
