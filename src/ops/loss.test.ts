import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { heapRunContext, type NodeInfo } from './kernel.js';
import { OpRegistry } from './registry.js';
import { ops } from './loss.js';
import { numbersOf } from './util/numeric.js';

const registry = new OpRegistry().register(...ops);
const int = (value: number): AttrValue => ({ kind: 'int', value });
const str = (value: string): AttrValue => ({ kind: 'string', value, bytes: new TextEncoder().encode(value) });

async function run(
  opType: string,
  inputs: (Tensor | undefined)[],
  attrs: Record<string, AttrValue> = {},
  outputs = 1,
  opset = 22,
): Promise<Tensor[]> {
  const r = registry.resolve('', opType, opset)!;
  const node: NodeInfo = {
    name: 'n',
    opType,
    domain: '',
    opset,
    sinceVersion: r.sinceVersion,
    attrs: new Attributes(new Map(Object.entries(attrs)), 'n'),
    inputCount: inputs.length,
    outputCount: outputs,
    inputPresent: inputs.map((x) => x !== undefined),
    outputPresent: new Array<boolean>(outputs).fill(true),
  };
  return (await Promise.resolve(r.def.build(node)(inputs, heapRunContext))) as Tensor[];
}

const t = (type: TensorType, data: number[], dims?: number[]) =>
  new Tensor(type, data, dims ?? [data.length]);
const values = (x: Tensor) => Array.from(numbersOf(x));
const close = (a: number[], b: number[], eps = 1e-6) =>
  assert.ok(a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= eps), `${a} vs ${b}`);

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof OnyxError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

// input [2, 3]: rows of log-probabilities (any numbers work for NLL).
const x = t('float32', [-1, -2, -3, -4, -5, -6], [2, 3]);

describe('NegativeLogLikelihoodLoss', () => {
  it('mean, sum and none', async () => {
    const target = t('int64', [0, 2]);
    const [mean] = await run('NegativeLogLikelihoodLoss', [x, target]);
    assert.deepEqual(mean.dims, []);
    close(values(mean), [3.5]);
    const [sum] = await run('NegativeLogLikelihoodLoss', [x, target], { reduction: str('sum') });
    close(values(sum), [7]);
    const [none] = await run('NegativeLogLikelihoodLoss', [x, target], { reduction: str('none') });
    assert.deepEqual(none.dims, [2]);
    close(values(none), [1, 6]);
  });

  it('weighted mean divides by the weights that applied, skipping ignore_index', async () => {
    const w = t('float32', [1, 2, 3]);
    const target = t('int32', [2, -1]);
    const [mean] = await run('NegativeLogLikelihoodLoss', [x, target, w], { ignore_index: int(-1) });
    close(values(mean), [3]); // (3 * 3) / 3
    const [none] = await run('NegativeLogLikelihoodLoss', [x, target, w], {
      ignore_index: int(-1),
      reduction: str('none'),
    });
    close(values(none), [9, 0]);
  });

  it('spatial dims [N, C, d] with float64', async () => {
    const input = t('float64', [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 4]);
    const [none] = await run('NegativeLogLikelihoodLoss', [input, t('int64', [0, 1, 1, 0], [1, 4])], {
      reduction: str('none'),
    });
    assert.equal(none.type, 'float64');
    assert.deepEqual(none.dims, [1, 4]);
    assert.deepEqual(values(none), [-1, -6, -7, -4]);
  });

  it('errors: target out of range, bad shapes, bad reduction', async () => {
    await rejects(
      run('NegativeLogLikelihoodLoss', [x, t('int64', [0, 3])]),
      'INVALID_ARGUMENT',
      /target value 3 .* outside the class range \[0, 3\)/,
    );
    await rejects(
      run('NegativeLogLikelihoodLoss', [x, t('int64', [0, 1, 2])]),
      'SHAPE_MISMATCH',
      /target dims \[3\] must be input's dims without the class axis: \[2\]/,
    );
    await rejects(
      run('NegativeLogLikelihoodLoss', [x, t('int64', [0, 1]), t('float32', [1, 1])]),
      'SHAPE_MISMATCH',
      /weight must be 1-D with one value per class \(3\)/,
    );
    await rejects(
      run('NegativeLogLikelihoodLoss', [x, t('int64', [0, 1])], { reduction: str('avg') }),
      'INVALID_MODEL',
      /reduction must be 'none', 'sum' or 'mean', got 'avg'/,
    );
  });
});

describe('SoftmaxCrossEntropyLoss', () => {
  it('returns the loss and log_softmax over the class axis', async () => {
    const scores = t('float32', [0, 0, 0, 1, 2, 3], [2, 3]);
    const [loss, logp] = await run('SoftmaxCrossEntropyLoss', [scores, t('int64', [1, 2])], {}, 2, 13);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const expectLogp = [-Math.log(3), -Math.log(3), -Math.log(3), 1 - lse, 2 - lse, 3 - lse];
    close(values(logp), expectLogp);
    assert.deepEqual(logp.dims, [2, 3]);
    close(values(loss), [(Math.log(3) + lse - 3) / 2]);
  });

  it('is stable for large scores and handles [N, C, d1, d2]', async () => {
    const scores = t('float32', [1000, 0, 1000, 0, 0, 1000, 0, 1000], [1, 2, 2, 2]);
    const [loss] = await run('SoftmaxCrossEntropyLoss', [scores, t('int64', [0, 1, 0, 1], [1, 2, 2])], {
      reduction: str('none'),
    });
    assert.deepEqual(loss.dims, [1, 2, 2]);
    close(values(loss), [0, 0, 0, 0]);
  });

  it('all targets ignored: sum is 0', async () => {
    const [loss] = await run(
      'SoftmaxCrossEntropyLoss',
      [t('float32', [1, 2, 3, 4], [2, 2]), t('int64', [5, 5])],
      { ignore_index: int(5), reduction: str('sum') },
    );
    assert.deepEqual(values(loss), [0]);
  });
});
