import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ops } from './image-ops.js';
import { assertNear as close, bindOps, f32, i64, nums, t, vals } from './util/op-test-kit.js';

const { run1: run } = bindOps(ops, { opset: 22 });

describe('GridSample', () => {
  const x = f32([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]);
  /** The grid that samples pixel centers exactly (align_corners = 1). */
  const identityGrid = f32([-1, -1, 0, -1, 1, -1, -1, 1, 0, 1, 1, 1], [1, 2, 3, 2]);

  it('an identity grid reproduces the input in every mode', async () => {
    for (const mode of ['nearest', 'linear', 'cubic']) {
      const y = await run('GridSample', [x, identityGrid], { mode: mode, align_corners: 1 }, 22);
      close(nums(y), [1, 2, 3, 4, 5, 6]);
    }
  });

  it('opset 16 spells the modes bilinear / bicubic', async () => {
    const y = await run('GridSample', [x, identityGrid], { mode: 'bicubic', align_corners: 1 }, 16);
    close(nums(y), [1, 2, 3, 4, 5, 6]);
    await assert.rejects(
      run('GridSample', [x, identityGrid], { mode: 'linear' }, 16),
      /mode 'linear' is not valid for GridSample-16/,
    );
  });

  it('padding modes for points outside the input', async () => {
    const g = f32([3, 0], [1, 1, 1, 2]); // far right, middle row
    const p = async (padding: string) =>
      nums(await run('GridSample', [x, g], { padding_mode: padding, align_corners: 1 }, 22));
    close(await p('zeros'), [0]);
    close(await p('border'), [4.5]); // clamped to the last column, between rows: (3 + 6) / 2
    close(await p('reflection'), [2.5]); // 3 → reflected to -1 = the first column: (1 + 4) / 2
  });

  it('N-D (1-D spatial) from opset 20, integer dtype', async () => {
    const y = await run(
      'GridSample',
      [t('int32', [10, 20], [1, 1, 2]), f32([0], [1, 1, 1])],
      { align_corners: 1 },
      20,
    );
    assert.deepEqual(vals(y), [15]);
    await assert.rejects(
      run('GridSample', [f32([1, 2], [1, 1, 2]), f32([0], [1, 1, 1])], {}, 16),
      /supports 4-D X only/,
    );
  });

  it('rejects a grid that does not match X', async () => {
    await assert.rejects(
      run('GridSample', [x, f32([0, 0, 0], [1, 1, 1, 3])], {}, 22),
      /grid must have dims \[N, out spatial\.\.\., 2\]/,
    );
    await assert.rejects(
      run('GridSample', [x, identityGrid], { padding_mode: 'wrap' }, 22),
      /padding_mode 'wrap'/,
    );
  });
});

describe('AffineGrid', () => {
  it('the identity transform yields the normalized base grid', async () => {
    const theta = f32([1, 0, 0, 0, 1, 0], [1, 2, 3]);
    const g = await run('AffineGrid', [theta, i64([1, 1, 2, 2])], { align_corners: 1 }, 20);
    assert.deepEqual(g.dims, [1, 2, 2, 2]);
    close(nums(g), [-1, -1, 1, -1, -1, 1, 1, 1]);
    const h = await run('AffineGrid', [theta, i64([1, 1, 1, 2])], {}, 20);
    close(nums(h), [-0.5, 0, 0.5, 0]);
  });
  it('feeds GridSample: a translation by one pixel', async () => {
    const theta = f32([1, 0, 1, 0, 1, 0], [1, 2, 3]); // x + 1 (one pixel of a 2-wide image)
    const g = await run('AffineGrid', [theta, i64([1, 1, 1, 2])], {}, 20);
    const y = await run('GridSample', [f32([5, 7], [1, 1, 1, 2]), g], { mode: 'nearest' }, 20);
    assert.deepEqual(nums(y), [7, 0]);
  });
  it('checks theta against size', async () => {
    await assert.rejects(
      run('AffineGrid', [f32([1, 0, 0, 0, 1, 0], [1, 2, 3]), i64([1, 1, 2, 2, 2])], {}, 20),
      /theta must have dims \[1, 3, 4\]/,
    );
    await assert.rejects(run('AffineGrid', [f32([1, 0, 0], [1, 1, 3]), i64([1, 2])], {}, 20), /size must be/);
  });
});

describe('Col2Im', () => {
  it('sums overlapping blocks', async () => {
    // 1-D image of 4 with blocks of 2, stride 1: 3 positions; every column holds [1, 1].
    const y = await run('Col2Im', [f32([1, 1, 1, 1, 1, 1], [1, 2, 3]), i64([4]), i64([2])], {}, 18);
    assert.deepEqual(y.dims, [1, 1, 4]);
    assert.deepEqual(nums(y), [1, 2, 2, 1]);
  });
  it('pads drop values that fall outside the image', async () => {
    const y = await run(
      'Col2Im',
      [f32([1, 2, 3, 4], [1, 2, 2]), i64([2]), i64([2])],
      { pads: [1, 1], strides: [2] },
      18,
    );
    assert.deepEqual(nums(y), [3, 2]);
  });
  it('rejects a block count that does not match', async () => {
    await assert.rejects(
      run('Col2Im', [f32([1, 1, 1, 1], [1, 2, 2]), i64([4]), i64([2])], {}, 18),
      /input has 2 blocks but .* give 3/,
    );
    await assert.rejects(
      run('Col2Im', [f32([1, 1, 1], [1, 3, 1]), i64([4]), i64([2])], {}, 18),
      /input must have dims \[N, C·2/,
    );
  });
});
