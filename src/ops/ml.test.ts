import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { ops as ml } from './ml.js';
import { runNode } from './util/graph-harness.js';
import { f32, i64, plain, strs, type AttrInit } from './util/op-test-kit.js';

const ML = 'ai.onnx.ml';
const run = (
  opType: string,
  inputs: Parameters<typeof runNode>[2],
  attrs: Record<string, AttrInit> = {},
  opset = 1,
  outputs = 1,
) => runNode(ml, opType, inputs, attrs, { opset, domain: ML, outputCount: outputs });
const close = (actual: (number | string)[], expected: number[]) =>
  actual.forEach((v, i) =>
    assert.ok(Math.abs((v as number) - expected[i]) < 1e-5, `${String(actual)} vs ${String(expected)}`),
  );

describe('LabelEncoder', () => {
  it('v1 maps strings to indices and indices back to strings', async () => {
    const attrs = { classes_strings: ['a', 'b'], default_int64: 7, default_string: '?' };
    assert.deepEqual(plain((await run('LabelEncoder', [strs(['b', 'z'])], attrs))[0]).data, [1, 7]);
    assert.deepEqual(plain((await run('LabelEncoder', [i64([0, 5])], attrs))[0]).data, ['a', '?']);
  });

  it('v2 maps floats to strings with the default for misses (NaN keys match NaN)', async () => {
    const attrs = { keys_floats: { floats: [1.5, NaN] }, values_strings: ['x', 'nan'] };
    const [y] = await run('LabelEncoder', [f32([1.5, 2, NaN], [1, 3])], attrs, 2);
    assert.deepEqual(plain(y), { dims: [1, 3], data: ['x', '_Unused', 'nan'] });
  });

  it('v4 tensors: int64 keys → double values, default_tensor', async () => {
    const attrs = {
      keys_tensor: i64([3, 4]),
      values_tensor: new Tensor('float64', Float64Array.of(0.5, 0.25), [2]),
      default_tensor: new Tensor('float64', Float64Array.of(9), [1]),
    };
    const [y] = await run('LabelEncoder', [i64([4, 1])], attrs, 4);
    assert.equal((y as Tensor).type, 'float64');
    assert.deepEqual(plain(y).data, [0.25, 9]);
  });

  it('explains missing or mismatched keys and values', async () => {
    await assert.rejects(
      run('LabelEncoder', [strs(['a'])], { values_int64s: [1] }, 2),
      /exactly one of keys_strings/,
    );
    await assert.rejects(
      run('LabelEncoder', [strs(['a'])], { keys_strings: ['a', 'b'], values_int64s: [1] }, 2),
      /2 keys but 1 values/,
    );
    await assert.rejects(
      run('LabelEncoder', [i64([1])], { keys_strings: ['a'], values_int64s: [1] }, 2),
      /keys are strings/,
    );
  });
});

describe('simple transforms', () => {
  it('ArrayFeatureExtractor picks columns of the last axis', async () => {
    const x = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual(plain((await run('ArrayFeatureExtractor', [x, i64([2, 0])]))[0]), {
      dims: [2, 2],
      data: [3, 1, 6, 4],
    });
    assert.deepEqual(plain((await run('ArrayFeatureExtractor', [strs(['a', 'b']), i64([1])]))[0]), {
      dims: [1, 1],
      data: ['b'],
    });
    await assert.rejects(run('ArrayFeatureExtractor', [x, i64([3])]), /index 3 is out of range/);
  });

  it('Binarizer keeps the input type', async () => {
    assert.deepEqual(
      plain((await run('Binarizer', [i64([-1, 3])], { threshold: { float: 0.5 } }))[0]).data,
      [0, 1],
    );
    assert.deepEqual(plain((await run('Binarizer', [f32([0, 2])]))[0]).data, [0, 1]);
  });

  it('Normalizer MAX / L1 / L2 per row, zero rows untouched', async () => {
    const x = f32([1, -3, 0, 0], [2, 2]);
    close(plain((await run('Normalizer', [x], { norm: 'L1' }))[0]).data, [0.25, -0.75, 0, 0]);
    close(plain((await run('Normalizer', [x], { norm: 'L2' }))[0]).data, [
      1 / Math.sqrt(10),
      -3 / Math.sqrt(10),
      0,
      0,
    ]);
    close(plain((await run('Normalizer', [f32([2, 4])], { norm: 'MAX' }))[0]).data, [0.5, 1]);
    await assert.rejects(run('Normalizer', [x], { norm: 'L3' }), /L3/);
  });

  it('Scaler broadcasts one value or applies one per column', async () => {
    const x = i64([1, 2, 3, 4], [2, 2]);
    const [y] = await run('Scaler', [x], { offset: { floats: [1, 2] }, scale: { floats: [2] } });
    assert.deepEqual(plain(y), { dims: [2, 2], data: [0, 0, 4, 4] });
    await assert.rejects(run('Scaler', [x], { offset: { floats: [1, 2, 3] } }), /offset has 3 values/);
  });

  it('OneHotEncoder appends a category axis; unknowns are zeros or an error', async () => {
    const [y] = await run('OneHotEncoder', [strs(['b', 'q'])], { cats_strings: ['a', 'b'] });
    assert.deepEqual(plain(y), { dims: [2, 2], data: [0, 1, 0, 0] });
    const [z] = await run('OneHotEncoder', [f32([3, 1])], { cats_int64s: [1, 3] });
    assert.deepEqual(plain(z).data, [0, 1, 1, 0]);
    await assert.rejects(
      run('OneHotEncoder', [i64([9])], { cats_int64s: [1], zeros: 0 }),
      /not a known category/,
    );
  });

  it('ZipMap makes one map per row', async () => {
    const [seq] = await run('ZipMap', [f32([0.25, 0.75, 1, 0], [2, 2])], { classlabels_int64s: [3, 7] });
    const maps = seq as Map<bigint, Value>[];
    assert.equal(maps.length, 2);
    assert.deepEqual(plain(maps[0].get(7n)).data, [0.75]);
    const [s2] = await run('ZipMap', [f32([0.5])], { classlabels_strings: ['only'] });
    assert.deepEqual(plain((s2 as Map<string, Value>[])[0].get('only')).data, [0.5]);
    await assert.rejects(
      run('ZipMap', [f32([1, 2])], { classlabels_strings: ['a'] }),
      /2 columns but ZipMap has 1/,
    );
  });
});

describe('tree ensembles', () => {
  // One tree: x0 <= 1 ? leaf 1 : (x1 < 5 ? leaf 3 : leaf 4); a second tree is a single leaf.
  const legacy = {
    nodes_treeids: [0, 0, 0, 0, 0, 1],
    nodes_nodeids: [0, 1, 2, 3, 4, 0],
    nodes_featureids: [0, 0, 1, 0, 0, 0],
    nodes_modes: ['BRANCH_LEQ', 'LEAF', 'BRANCH_LT', 'LEAF', 'LEAF', 'LEAF'],
    nodes_values: { floats: [1, 0, 5, 0, 0, 0] },
    nodes_truenodeids: [1, 0, 3, 0, 0, 0],
    nodes_falsenodeids: [2, 0, 4, 0, 0, 0],
    nodes_missing_value_tracks_true: [1, 0, 0, 0, 0, 0],
  };
  const x = f32([0, 0, 2, 3, 2, 9, NaN, 9], [4, 2]);

  it('TreeEnsembleRegressor sums leaves and adds base values', async () => {
    const attrs = {
      ...legacy,
      n_targets: 1,
      target_treeids: [0, 0, 0, 1],
      target_nodeids: [1, 3, 4, 0],
      target_ids: [0, 0, 0, 0],
      target_weights: { floats: [10, 20, 30, 1] },
      base_values: { floats: [100] },
    };
    const [y] = await run('TreeEnsembleRegressor', [x], attrs);
    // NaN tracks true at the root → leaf 1.
    assert.deepEqual(plain(y), { dims: [4, 1], data: [111, 121, 131, 111] });
    const [avg] = await run(
      'TreeEnsembleRegressor',
      [x],
      { ...attrs, aggregate_function: 'AVERAGE', base_values: { floats: [0] } },
      3,
    );
    assert.deepEqual(plain(avg).data, [5.5, 10.5, 15.5, 5.5]);
  });

  it('TreeEnsembleClassifier scores classes and picks the label', async () => {
    const attrs = {
      ...legacy,
      class_treeids: [0, 0, 0, 1],
      class_nodeids: [1, 3, 4, 0],
      class_ids: [0, 1, 2, 0],
      class_weights: { floats: [1, 1, 1, 0.5] },
      classlabels_strings: ['a', 'b', 'c'],
    };
    const [labels, scores] = await run('TreeEnsembleClassifier', [x], attrs, 3, 2);
    assert.deepEqual(plain(labels).data, ['a', 'b', 'c', 'a']);
    assert.deepEqual(plain(scores).data.slice(0, 3), [1.5, 0, 0]);
    const [, soft] = await run('TreeEnsembleClassifier', [x], { ...attrs, post_transform: 'SOFTMAX' }, 3, 2);
    const row = plain(soft).data.slice(0, 3) as number[];
    assert.ok(
      Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6,
      'Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6',
    );
  });

  it('TreeEnsemble (v5): leaves, MIN aggregation, NaN tracking and set membership', async () => {
    const attrs = {
      n_targets: 1,
      aggregate_function: 2,
      tree_roots: [0, 1],
      nodes_modes: new Tensor('uint8', Uint8Array.of(0, 6), [2]),
      nodes_splits: f32([1, 0]),
      nodes_featureids: [0, 0],
      nodes_truenodeids: [0, 2],
      nodes_falsenodeids: [1, 3],
      nodes_trueleafs: [1, 1],
      nodes_falseleafs: [1, 1],
      nodes_missing_value_tracks_true: [1, 0],
      membership_values: f32([2, 3, NaN]),
      leaf_targetids: [0, 0, 0, 0],
      leaf_weights: f32([5, 7, 1, 9]),
    };
    // Tree 0: x<=1 → 5 else 7; tree 1: x in {2,3} → 1 else 9; MIN of both.
    const [y] = await run('TreeEnsemble', [f32([0, 2, 4, NaN], [4, 1])], attrs, 5);
    assert.deepEqual(plain(y), { dims: [4, 1], data: [5, 1, 7, 5] });
    await assert.rejects(
      run('TreeEnsemble', [f32([0], [1, 1])], { ...attrs, membership_values: f32([2]) }, 5),
      /NaN-terminated/,
    );
  });
});
