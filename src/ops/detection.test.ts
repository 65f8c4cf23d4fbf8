import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../core/tensor.js';
import { ops } from './detection.js';
import { assertNear as close, bindOps, f32, i64, nums, vals } from './util/op-test-kit.js';

const { run1: run } = bindOps(ops, { opset: 22 });

describe('NonMaxSuppression', () => {
  // Three boxes: 0 and 1 overlap heavily, 2 is apart.
  const boxes = f32([0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 5, 1, 6], [1, 3, 4]);
  const scores = f32([0.9, 0.95, 0.5], [1, 1, 3]);
  const rows = (y: Tensor) => vals(y).map(Number);

  it('keeps the best box of an overlapping pair, in score order', async () => {
    const y = await run('NonMaxSuppression', [boxes, scores, i64([10]), f32([0.5]), f32([0])], {}, 11);
    assert.deepEqual(y.dims, [2, 3]);
    assert.deepEqual(rows(y), [0, 0, 1, 0, 0, 2]);
  });
  it('score_threshold is strict, max_output_boxes_per_class limits per class', async () => {
    const y = await run('NonMaxSuppression', [boxes, scores, i64([10]), f32([0.5]), f32([0.5])], {}, 10);
    assert.deepEqual(rows(y), [0, 0, 1]);
    const z = await run('NonMaxSuppression', [boxes, scores, i64([1]), f32([1])], {}, 11);
    assert.deepEqual(rows(z), [0, 0, 1]);
  });
  it('omitted max_output_boxes_per_class selects nothing', async () => {
    const y = await run('NonMaxSuppression', [boxes, scores], {}, 11);
    assert.deepEqual(y.dims, [0, 3]);
    assert.equal(y.type, 'int64');
  });
  it('center_point_box format and flipped corners', async () => {
    const c = f32([0.5, 0.5, 1, 1, 0.5, 0.6, 1, 1], [1, 2, 4]);
    const y = await run(
      'NonMaxSuppression',
      [c, f32([0.1, 0.2], [1, 1, 2]), i64([5]), f32([0.5])],
      { center_point_box: 1 },
      11,
    );
    assert.deepEqual(rows(y), [0, 0, 1]);
    const flipped = f32([1, 1, 0, 0, 0, 0, 1, 1], [1, 2, 4]);
    const z = await run(
      'NonMaxSuppression',
      [flipped, f32([0.1, 0.2], [1, 1, 2]), i64([5]), f32([0.5])],
      {},
      11,
    );
    assert.deepEqual(rows(z), [0, 0, 1]);
  });
  it('rejects mismatched shapes and bad attributes', async () => {
    await assert.rejects(
      run('NonMaxSuppression', [boxes, f32([1, 2], [1, 1, 2])], {}, 11),
      /scores must have dims \[1, num_classes, 3\]/,
    );
    await assert.rejects(
      run('NonMaxSuppression', [f32([1, 2, 3], [1, 1, 3]), scores], {}, 11),
      /boxes must have dims/,
    );
    await assert.rejects(
      run('NonMaxSuppression', [boxes, scores], { center_point_box: 2 }, 11),
      /center_point_box must be 0 or 1/,
    );
    await assert.rejects(
      run('NonMaxSuppression', [boxes, scores, i64([1]), f32([2])], {}, 11),
      /iou_threshold must be in \[0, 1\]/,
    );
  });
});

describe('RoiAlign', () => {
  const x = f32(new Array(16).fill(3), [1, 1, 4, 4]);
  it('a constant image gives a constant output (avg and max modes)', async () => {
    const rois = f32([0, 0, 3, 3, 1, 1, 2, 2], [2, 4]);
    const y = await run('RoiAlign', [x, rois, i64([0, 0])], { output_height: 2, output_width: 2 }, 16);
    assert.deepEqual(y.dims, [2, 1, 2, 2]);
    close(nums(y), new Array(8).fill(3));
    const m = await run('RoiAlign', [x, rois, i64([0, 0])], { mode: 'max', sampling_ratio: 1 }, 10);
    assert.deepEqual(m.dims, [2, 1, 1, 1]);
    assert.ok(
      nums(m).every((v) => v > 0 && v <= 3),
      'nums(m).every((v) => v > 0 && v <= 3)',
    );
  });
  it('samples a gradient at bin centers', async () => {
    const g = f32([0, 1, 2, 3], [1, 1, 1, 4]);
    const y = await run(
      'RoiAlign',
      [g, f32([0.5, 0, 2.5, 0], [1, 4]), i64([0])],
      { output_width: 2, sampling_ratio: 1 },
      16,
    );
    // half_pixel: roi x ∈ [0, 2] in pixel-center coordinates → bin centers 0.5 and 1.5.
    close(nums(y), [0.5, 1.5]);
  });
  it('rejects bad batch indices and shapes', async () => {
    await assert.rejects(
      run('RoiAlign', [x, f32([0, 0, 1, 1], [1, 4]), i64([1])], {}, 16),
      /batch_indices value 1 is out of range/,
    );
    await assert.rejects(
      run('RoiAlign', [x, f32([0, 0, 1], [1, 3]), i64([0])], {}, 16),
      /rois must have dims \[num_rois, 4\]/,
    );
    await assert.rejects(
      run('RoiAlign', [x, f32([0, 0, 1, 1], [1, 4]), i64([0])], { mode: 'sum' }, 16),
      /mode must be 'avg' or 'max'/,
    );
  });
});
