import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildModel, type ModelSpec, type NodeSpec } from '../../test/helpers/build-model.js';
import { randomTensor } from '../../test/helpers/optimizer-kit.js';
import { Tensor } from '../core/tensor.js';
import { getExecutionProvider, registerExecutionProvider } from '../ep/provider.js';
import { InferenceSession } from '../index.js';
import { loadModelBytes } from '../onnx/load.js';
import { setKernelMode, type KernelMode } from '../ops/util/dispatch.js';
import { MATMUL_BIAS_OP } from '../ops/matmul.js';
import { matmulBiasPairs } from './step-fusion.js';

const [K, N] = [64, 44];
const W = randomTensor([K, N], 1);
const bias = randomTensor([N], 2);

/** x [batch, rows, K] · W + bias (as nn.Linear exports), then Relu — with `extra` nodes and initializers. */
function linear(extra: Partial<ModelSpec> & { nodes?: NodeSpec[] } = {}, biasTensor = bias): ModelSpec {
  return {
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['m'], name: 'fc/MatMul' },
      { op: 'Add', inputs: ['m', 'b'], outputs: ['s'], name: 'fc/Add' },
      { op: 'Relu', inputs: ['s'], outputs: ['y'] },
      ...(extra.nodes ?? []),
    ],
    inputs: [{ name: 'x', type: 'float32', dims: ['batch', 'rows', K] }, ...(extra.inputs ?? [])],
    outputs: [{ name: 'y', type: 'float32' }, ...(extra.outputs ?? [])],
    initializers: [
      { name: 'W', tensor: W },
      { name: 'b', tensor: biasTensor },
    ],
  };
}

const pairsOf = (spec: ModelSpec) =>
  [...matmulBiasPairs(loadModelBytes(buildModel(spec)).graph).values()].map((p) => [
    p.matmul.name,
    p.add.name,
    p.bias,
  ]);

describe('MatMul + bias Add as one step', () => {
  it('pairs a MatMul by a constant 2-D weight with the bias Add that alone reads it', () => {
    assert.deepEqual(pairsOf(linear()), [['fc/MatMul', 'fc/Add', 'b']]);
    // The bias on either side of the Add.
    const swapped = linear();
    swapped.nodes[1] = { op: 'Add', inputs: ['b', 'm'], outputs: ['s'], name: 'fc/Add' };
    assert.deepEqual(pairsOf(swapped), [['fc/MatMul', 'fc/Add', 'b']]);
  });

  it('leaves the nodes apart when the product is read elsewhere or the bias is not a [N] constant', () => {
    const readTwice = linear({
      nodes: [{ op: 'Neg', inputs: ['m'], outputs: ['n'] }],
      outputs: [{ name: 'n', type: 'float32' }],
    });
    assert.deepEqual(pairsOf(readTwice), [], 'the product has a second reader');
    assert.deepEqual(
      pairsOf(linear({ outputs: [{ name: 'm', type: 'float32' }] })),
      [],
      'the product is a graph output',
    );
    const row = new Tensor('float32', bias.data, [1, N]);
    assert.deepEqual(pairsOf(linear({}, row)), [], 'a [1, N] bias (could add a dim to a 1-D product)');
    const short = new Tensor('float32', new Float32Array(1), [1]);
    assert.deepEqual(pairsOf(linear({}, short)), [], 'a [1] bias (a broadcast scalar)');
    const fed = linear({ inputs: [{ name: 'b', type: 'float32', dims: [N] }] });
    assert.deepEqual(pairsOf(fed), [], 'a bias a feed may override');
    const old = { ...linear(), opset: 6 };
    old.nodes[1] = { ...old.nodes[1], attrs: { broadcast: 1 } };
    assert.deepEqual(pairsOf(old), [], 'Add-6 (broadcasts only by attribute)');
  });

  it('leaves them apart when the EP that takes the MatMul has no fused kernel', async () => {
    const cpu = getExecutionProvider('cpu')!;
    const taken: string[] = [];
    // Runs MatMul on the CPU's own kernel, and nothing else.
    registerExecutionProvider({
      name: 'matmul-only',
      allocator: cpu.allocator,
      getKernel: (node) => {
        if (node.opType !== 'MatMul' || node.domain !== '') return undefined;
        taken.push(node.name);
        return cpu.getKernel(node);
      },
    });
    const s = await InferenceSession.create(buildModel(linear()), {
      executionProviders: ['matmul-only', 'cpu'],
      enableProfiling: true,
    });
    const x = randomTensor([2, 5, K], 4);
    await s.run({ x });
    const ops = (JSON.parse(await s.endProfiling()) as { args: { op_name: string; provider: string } }[]).map(
      (e) => `${e.args.op_name}@${e.args.provider}`,
    );
    await s.release();
    assert.deepEqual(taken, ['fc/MatMul']);
    assert.deepEqual(ops, ['MatMul@matmul-only', 'Add@cpu', 'Relu@cpu']);
  });

  it('agrees with the two nodes on edge shapes: no depth (the bias alone), a 1-D input, no rows', async () => {
    for (const [k, n, dims] of [
      [0, 3, [2, 5, 0]],
      [4, 3, [4]],
      [4, 3, [2, 0, 4]],
      [5, 1, [2, 3, 5]],
    ] as [number, number, number[]][]) {
      const spec: ModelSpec = {
        nodes: [
          { op: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
          { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', type: 'float32', dims: dims.map((_, i) => `d${i}`) }],
        outputs: [{ name: 'y', type: 'float32' }],
        initializers: [
          { name: 'W', tensor: randomTensor([k, n], 5) },
          { name: 'b', tensor: randomTensor([n], 6) },
        ],
      };
      const x = randomTensor(dims, 7);
      const results = [];
      for (const level of ['disabled', 'all'] as const) {
        const s = await InferenceSession.create(buildModel(spec), { graphOptimizationLevel: level });
        const y = (await s.run({ x })).y;
        results.push({ dims: y.dims, data: Array.from(y.data as Float32Array) });
        await s.release();
      }
      assert.deepEqual(results[1], results[0], `x ${JSON.stringify(dims)}, W [${k}, ${n}]`);
      assert.equal(pairsOf(spec).length, 1, `x ${JSON.stringify(dims)}: fused`);
    }
  });

  for (const mode of ['fast', 'reference'] as KernelMode[]) {
    for (const threads of [1, 2]) {
      it(`gives the outputs of the two nodes bit for bit, as one profiled step (${mode} kernels, ${threads} thread(s))`, async () => {
        const bytes = buildModel(linear());
        const x = randomTensor([3, 37, K], 3);
        const saved = setKernelMode(mode);
        try {
          const run = async (level: 'disabled' | 'all') => {
            const s = await InferenceSession.create(bytes, {
              graphOptimizationLevel: level,
              intraOpNumThreads: threads,
              enableProfiling: true,
            });
            const y = (await s.run({ x })).y.data as Float32Array;
            const ops = (
              JSON.parse(await s.endProfiling()) as { name: string; args: { op_name: string } }[]
            ).map((e) => `${e.name}:${e.args.op_name}`);
            await s.release();
            return { y, ops };
          };
          const apart = await run('disabled');
          const fused = await run('all');
          assert.deepEqual(apart.ops.slice(0, 2), ['fc/MatMul:MatMul', 'fc/Add:Add']);
          assert.deepEqual(fused.ops.slice(0, 2), [`fc/MatMul:${MATMUL_BIAS_OP}`, 'Relu_2:Relu']);
          assert.deepEqual(fused.y, apart.y);
        } finally {
          setKernelMode(saved);
        }
      });
    }
  }
});
