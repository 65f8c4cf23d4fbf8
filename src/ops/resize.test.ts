import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ops } from './resize.js';
import { assertNear as close, bindOps, f32, i64, nums, t, vals } from './util/op-test-kit.js';

const { run1: run } = bindOps(ops, { opset: 22 });

const empty = t('float32', [], [0]);

describe('Resize', () => {
  const x = f32([1, 2, 3, 4], [1, 1, 2, 2]);

  it('Resize-10 takes scales as input 1, asymmetric nearest (floor when upsampling)', async () => {
    const y = await run('Resize', [x, f32([1, 1, 2, 2])], { mode: 'nearest' }, 10);
    assert.deepEqual(y.dims, [1, 1, 4, 4]);
    assert.deepEqual(vals(y), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const l = await run('Resize', [f32([0, 10], [1, 2]), f32([1, 2])], { mode: 'linear' }, 10);
    close(nums(l), [0, 5, 10, 10]);
  });

  it('nearest is pure data movement: strings, int64 and float16 bits are copied exactly', async () => {
    const s = await run('Resize', [t('string', ['a', 'b'], [2]), empty, f32([2])], {}, 13);
    assert.deepEqual(vals(s), ['a', 'a', 'b', 'b']);
    const big = 2n ** 62n + 1n;
    const i = await run('Resize', [t('int64', [big, 3n], [2]), empty, f32([1.5])], {}, 13);
    assert.deepEqual(vals(i), [big, big, 3n]); // half_pixel: x=1 maps to 0.5 → round_prefer_floor
    const h = await run('Resize', [t('float16', [0x3c01, 0x7c00], [2]), empty, f32([2])], {}, 19);
    assert.deepEqual(vals(h), [0x3c01, 0x3c01, 0x7c00, 0x7c00]);
  });

  it('integer outputs of linear modes are truncated and saturated', async () => {
    const y = await run('Resize', [t('uint8', [0, 255], [2]), empty, f32([2])], { mode: 'linear' }, 13);
    assert.deepEqual(vals(y), [0, 63, 191, 255]);
  });

  it('sizes with axes and keep_aspect_ratio_policy', async () => {
    const big = f32(new Array(12).fill(1), [1, 1, 3, 4]);
    const y = await run(
      'Resize',
      [big, undefined, undefined, i64([6, 6])],
      { axes: [-2, -1], keep_aspect_ratio_policy: 'not_larger' },
      18,
    );
    assert.deepEqual(y.dims, [1, 1, 5, 6]);
    const z = await run(
      'Resize',
      [big, undefined, undefined, i64([6, 6])],
      { axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' },
      18,
    );
    assert.deepEqual(z.dims, [1, 1, 6, 8]);
  });

  it('tf_crop_and_resize fills extrapolation_value outside the crop, also in nearest mode', async () => {
    const y = await run(
      'Resize',
      [t('int32', [1, 2, 3], [3]), f32([-1, 1]), undefined, i64([3])],
      { coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: { float: -7 } },
      19,
    );
    assert.deepEqual(vals(y), [-7, 1, 3]);
  });

  it('empty inputs and outputs', async () => {
    const y = await run('Resize', [t('float32', [], [0, 2]), empty, f32([1, 2])], { mode: 'linear' }, 19);
    assert.deepEqual(y.dims, [0, 4]);
    const z = await run('Resize', [f32([1, 2], [2]), empty, f32([0.4])], {}, 19);
    assert.deepEqual(z.dims, [0]);
  });

  it('output dims use the float32 product of scale and length', async () => {
    const y = await run('Resize', [f32(new Array(10).fill(0)), empty, f32([0.7])], {}, 19);
    assert.deepEqual(y.dims, [7]);
  });

  it('identity scale returns the input values', async () => {
    const y = await run('Resize', [x, empty, f32([1, 1, 1, 1])], { mode: 'cubic' }, 19);
    assert.deepEqual(vals(y), [1, 2, 3, 4]);
  });

  it('rejects bad inputs and attributes with clear messages', async () => {
    await assert.rejects(
      run('Resize', [x, empty, f32([1, 1, 2, 2]), i64([1, 1, 4, 4])], {}, 13),
      /only one of 'scales' and 'sizes'/,
    );
    await assert.rejects(
      run('Resize', [x, empty, empty], {}, 13),
      /one of 'scales' and 'sizes' must be given/,
    );
    await assert.rejects(
      run('Resize', [x, empty, f32([2, 2])], {}, 13),
      /scales has 2 values but X has rank 4/,
    );
    await assert.rejects(run('Resize', [x, empty, f32([1, 1, 0, 2])], {}, 13), /scales must be positive/);
    const scaled = [x, empty, f32([1, 1, 2, 2])];
    for (const [attrs, opset, message] of [
      [{ mode: 'area' }, 13, /mode 'area' is not supported/],
      [{ mode: 'nearest', antialias: 1 }, 18, /antialias=1 needs mode 'linear' or 'cubic'/],
      [
        { coordinate_transformation_mode: 'half_pixel_symmetric' },
        18,
        /'half_pixel_symmetric' is not supported/,
      ],
      [{ coordinate_transformation_mode: 'tf_crop_and_resize' }, 13, /needs roi/],
    ] as const) {
      await assert.rejects(run('Resize', scaled, attrs, opset), message);
    }
  });

  it('antialias widens the kernel when downsampling (a box filter for linear at scale 1/2)', async () => {
    const y = await run(
      'Resize',
      [f32([0, 4, 8, 12], [4]), empty, f32([0.5])],
      { mode: 'linear', antialias: 1 },
      18,
    );
    // Taps at offsets -1..2 with triangle weights 0.25·[1, 3, 3, 1] / normalization, edge-clamped.
    close(nums(y), [(0 * 1 + 0 * 3 + 4 * 3 + 8 * 1) / 8, (4 * 1 + 8 * 3 + 12 * 3 + 12 * 1) / 8]);
  });
});

describe('Upsample', () => {
  it('opset 7 takes scales as an attribute, opset 9 as an input', async () => {
    const x = f32([1, 2], [1, 2]);
    const a = await run('Upsample', [x], { scales: { floats: [1, 2] } }, 7);
    assert.deepEqual(vals(a), [1, 1, 2, 2]);
    const b = await run('Upsample', [x, f32([2, 1])], { mode: 'linear' }, 9);
    assert.deepEqual(b.dims, [2, 2]);
    assert.deepEqual(vals(b), [1, 2, 1, 2]);
    const c = await run(
      'Upsample',
      [f32([1], [1, 1, 1, 1])],
      { height_scale: { float: 2 }, width_scale: { float: 3 } },
      1,
    );
    assert.deepEqual(c.dims, [1, 1, 2, 3]);
  });
  it('rejects scales below 1', async () => {
    await assert.rejects(run('Upsample', [f32([1, 2]), f32([0.5])], {}, 9), /scales must be >= 1/);
  });
});
