import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ops } from './loss.js';
import { assertClose, bindOps, nums as values, rejectsOnyx as rejects, t } from './util/op-test-kit.js';

const { run } = bindOps(ops, { opset: 22 });
const close = (a: number[], b: number[], eps = 1e-6) => assertClose(a, b, 0, eps);

// input [2, 3]: rows of log-probabilities (any numbers work for NLL).
const x = t('float32', [-1, -2, -3, -4, -5, -6], [2, 3]);

describe('NegativeLogLikelihoodLoss', () => {
  it('mean, sum and none', async () => {
    const target = t('int64', [0, 2]);
    const [mean] = await run('NegativeLogLikelihoodLoss', [x, target]);
    assert.deepEqual(mean.dims, []);
    close(values(mean), [3.5]);
    const [sum] = await run('NegativeLogLikelihoodLoss', [x, target], { reduction: 'sum' });
    close(values(sum), [7]);
    const [none] = await run('NegativeLogLikelihoodLoss', [x, target], { reduction: 'none' });
    assert.deepEqual(none.dims, [2]);
    close(values(none), [1, 6]);
  });

  it('weighted mean divides by the weights that applied, skipping ignore_index', async () => {
    const w = t('float32', [1, 2, 3]);
    const target = t('int32', [2, -1]);
    const [mean] = await run('NegativeLogLikelihoodLoss', [x, target, w], { ignore_index: -1 });
    close(values(mean), [3]); // (3 * 3) / 3
    const [none] = await run('NegativeLogLikelihoodLoss', [x, target, w], {
      ignore_index: -1,
      reduction: 'none',
    });
    close(values(none), [9, 0]);
  });

  it('spatial dims [N, C, d] with float64', async () => {
    const input = t('float64', [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 4]);
    const [none] = await run('NegativeLogLikelihoodLoss', [input, t('int64', [0, 1, 1, 0], [1, 4])], {
      reduction: 'none',
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
      run('NegativeLogLikelihoodLoss', [x, t('int64', [0, 1])], { reduction: 'avg' }),
      'INVALID_MODEL',
      /reduction must be 'none', 'sum' or 'mean', got 'avg'/,
    );
  });
});

describe('SoftmaxCrossEntropyLoss', () => {
  it('returns the loss and log_softmax over the class axis', async () => {
    const scores = t('float32', [0, 0, 0, 1, 2, 3], [2, 3]);
    const [loss, logp] = await run(
      'SoftmaxCrossEntropyLoss',
      [scores, t('int64', [1, 2])],
      {},
      { outputCount: 2, opset: 13 },
    );
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const expectLogp = [-Math.log(3), -Math.log(3), -Math.log(3), 1 - lse, 2 - lse, 3 - lse];
    close(values(logp), expectLogp);
    assert.deepEqual(logp.dims, [2, 3]);
    close(values(loss), [(Math.log(3) + lse - 3) / 2]);
  });

  it('is stable for large scores and handles [N, C, d1, d2]', async () => {
    const scores = t('float32', [1000, 0, 1000, 0, 0, 1000, 0, 1000], [1, 2, 2, 2]);
    const [loss] = await run('SoftmaxCrossEntropyLoss', [scores, t('int64', [0, 1, 0, 1], [1, 2, 2])], {
      reduction: 'none',
    });
    assert.deepEqual(loss.dims, [1, 2, 2]);
    close(values(loss), [0, 0, 0, 0]);
  });

  it('all targets ignored: sum is 0', async () => {
    const [loss] = await run(
      'SoftmaxCrossEntropyLoss',
      [t('float32', [1, 2, 3, 4], [2, 2]), t('int64', [5, 5])],
      { ignore_index: 5, reduction: 'sum' },
    );
    assert.deepEqual(values(loss), [0]);
  });
});
