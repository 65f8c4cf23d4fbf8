import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { buildModel } from '../../test/helpers/build-model.js';
import { InferenceSession } from '../index.js';
import { ops } from './data-movement.js';
import { setKernelMode } from './util/dispatch.js';
import { bindOps, f32, i32, i64, throwsOnyx, vals } from './util/op-test-kit.js';

const { runSync: run, run1Sync: one } = bindOps(ops, { exact: true });

const arange = (n: number, dims = [n]) =>
  i32(
    Array.from({ length: n }, (_, i) => i),
    dims,
  );
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

test('Transpose: default reverses, perm, strings, complex, float16 bits, identity shares', () => {
  const x = arange(6, [2, 3]);
  const t = one('Transpose', [x], {}, 1);
  assert.deepEqual(
    [t.dims, vals(t)],
    [
      [3, 2],
      [0, 3, 1, 4, 2, 5],
    ],
  );
  const s = one('Transpose', [new Tensor('string', ['a', 'b', 'c', 'd'], [2, 2])], { perm: [1, 0] }, 13);
  assert.deepEqual(vals(s), ['a', 'c', 'b', 'd']);
  const c = one(
    'Transpose',
    [new Tensor('complex64', Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), [2, 2])],
    {},
    21,
  );
  assert.deepEqual(vals(c), [1, 2, 5, 6, 3, 4, 7, 8]);
  const h = one('Transpose', [new Tensor('float16', Uint16Array.of(1, 2, 3, 4), [2, 2])], {}, 23);
  assert.deepEqual(vals(h), [1, 3, 2, 4]);
  assert.equal(one('Transpose', [x], { perm: [0, 1] }, 13), x);
  const e = one('Transpose', [f32([], [0, 2, 3])], { perm: [2, 0, 1] }, 13);
  assert.deepEqual(e.dims, [3, 0, 2]);
  throwsOnyx(() => one('Transpose', [x], { perm: [0] }, 13), 'INVALID_MODEL', /rank 2/);
});

test('Transpose that moves only axes of size 1 shares the storage under the new dims', () => {
  const x = arange(6, [3, 1, 2]);
  const t = one('Transpose', [x], { perm: [1, 0, 2] }, 13);
  assert.deepEqual([t.dims, vals(t)], [[1, 3, 2], vals(x)]);
  assert.equal(t.data, x.data);
  const u = one('Transpose', [arange(6, [1, 3, 1, 2])], { perm: [2, 1, 3, 0] }, 13);
  assert.deepEqual(
    [u.dims, vals(u)],
    [
      [1, 3, 2, 1],
      [0, 1, 2, 3, 4, 5],
    ],
  );
  // Size-1 axes moving around a real swap still copy.
  const w = one('Transpose', [arange(6, [3, 1, 2])], { perm: [2, 1, 0] }, 13);
  assert.deepEqual(
    [w.dims, vals(w)],
    [
      [2, 1, 3],
      [0, 2, 4, 1, 3, 5],
    ],
  );
});

test('a Transpose view and its input both stay intact while later nodes read them', async () => {
  // x → Relu → r; t = Transpose(r) (a view); y1 = t + 1, y2 = r · 2: r's storage must outlive both.
  const model = buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: [4, 1, 3] }],
    outputs: [
      { name: 'y1', type: 'float32' },
      { name: 'y2', type: 'float32' },
    ],
    initializers: [
      { name: 'one', tensor: f32([1], []) },
      { name: 'two', tensor: f32([2], []) },
    ],
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Transpose', inputs: ['r'], outputs: ['t'], attrs: { perm: [1, 0, 2] } },
      { op: 'Add', inputs: ['t', 'one'], outputs: ['y1'] },
      { op: 'Mul', inputs: ['r', 'two'], outputs: ['y2'] },
    ],
  });
  const session = await InferenceSession.create(model);
  const data = Float32Array.from({ length: 12 }, (_, i) => i - 3);
  for (let run = 0; run < 2; run++) {
    const out = await session.run({ x: new Tensor('float32', data, [4, 1, 3]) });
    const relu = Array.from(data, (v) => Math.max(v, 0));
    assert.deepEqual(out.y1.dims, [1, 4, 3]);
    assert.deepEqual(
      Array.from(out.y1.data as Float32Array),
      relu.map((v) => v + 1),
    );
    assert.deepEqual(
      Array.from(out.y2.data as Float32Array),
      relu.map((v) => v * 2),
    );
  }
});

test('Split along the first axis that is not 1 hands out views of the input, others copy', () => {
  const x = arange(12, [1, 3, 4]);
  const parts = run('Split', [x, i64([1, 2])], { axis: 1 }, { opset: 13, outputCount: 2 });
  assert.deepEqual(
    parts.map((p) => [(p as Tensor).dims, vals(p as Tensor)]),
    [
      [
        [1, 1, 4],
        [0, 1, 2, 3],
      ],
      [
        [1, 2, 4],
        [4, 5, 6, 7, 8, 9, 10, 11],
      ],
    ],
  );
  for (const p of parts)
    assert.equal(((p as Tensor).data as Int32Array).buffer, (x.data as Int32Array).buffer);
  const c = run(
    'Split',
    [new Tensor('complex64', Float32Array.of(1, 2, 3, 4, 5, 6), [3])],
    {},
    { opset: 18, outputCount: 3 },
  );
  assert.deepEqual(
    c.map((p) => vals(p as Tensor)),
    [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
  );
  // A real axis before the split one: strided, copied.
  const [a, b] = run('Split', [arange(6, [2, 3]), i64([1, 2])], { axis: 1 }, { opset: 13, outputCount: 2 });
  assert.deepEqual(
    [vals(a), vals(b)],
    [
      [0, 3],
      [1, 2, 4, 5],
    ],
  );
  assert.notEqual((a.data as Int32Array).buffer, (x.data as Int32Array).buffer);
});

test('Split views stay intact while later nodes read them and reach the caller as their own arrays', async () => {
  // r = Relu(x); q, k = Split(r) (views of r); y1 = q + 1 and k itself are outputs; y2 = r · 2.
  const model = buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: [2, 4] }],
    outputs: [
      { name: 'y1', type: 'float32' },
      { name: 'k', type: 'float32' },
      { name: 'y2', type: 'float32' },
    ],
    initializers: [
      { name: 'one', tensor: f32([1], []) },
      { name: 'two', tensor: f32([2], []) },
    ],
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Split', inputs: ['r'], outputs: ['q', 'k'], attrs: { axis: 0 } },
      { op: 'Add', inputs: ['q', 'one'], outputs: ['y1'] },
      { op: 'Mul', inputs: ['r', 'two'], outputs: ['y2'] },
    ],
  });
  const session = await InferenceSession.create(model);
  const data = Float32Array.from({ length: 8 }, (_, i) => i - 3);
  const relu = Array.from(data, (v) => Math.max(v, 0));
  for (let run = 0; run < 3; run++) {
    const out = await session.run({ x: new Tensor('float32', data, [2, 4]) });
    assert.deepEqual(
      Array.from(out.y1.data as Float32Array),
      relu.slice(0, 4).map((v) => v + 1),
    );
    assert.deepEqual(
      Array.from(out.y2.data as Float32Array),
      relu.map((v) => v * 2),
    );
    const k = out.k.data as Float32Array;
    assert.deepEqual([out.k.dims, Array.from(k)], [[1, 4], relu.slice(4)]);
    assert.equal(k.byteLength, k.buffer.byteLength, 'an output of its own, not a view of run storage');
  }
});

test('Concat: negative axis, empty inputs, Concat-1 default axis, errors', () => {
  const a = arange(4, [2, 2]);
  const b = i32([7, 8], [2, 1]);
  const c = one('Concat', [a, b, i32([], [2, 0])], { axis: -1 }, 11);
  assert.deepEqual(
    [c.dims, vals(c)],
    [
      [2, 3],
      [0, 1, 7, 2, 3, 8],
    ],
  );
  assert.deepEqual(one('Concat', [a, b], {}, 1).dims, [2, 3]);
  const s = one(
    'Concat',
    [new Tensor('string', ['x'], [1]), new Tensor('string', ['y'], [1])],
    { axis: 0 },
    13,
  );
  assert.deepEqual(vals(s), ['x', 'y']);
  throwsOnyx(() => one('Concat', [a, b], { axis: 0 }, 13), 'SHAPE_MISMATCH', /\[2, 2\], \[2, 1\]/);
  throwsOnyx(
    () => one('Concat', [a, f32([1, 2], [1, 2])], { axis: 0 }, 13),
    'TYPE_MISMATCH',
    /int32 and float32/,
  );
  throwsOnyx(() => one('Concat', [a, a], { axis: 2 }, 13), 'INVALID_MODEL', /out of range/);
});

test('Split: attribute, input, num_outputs with an uneven last chunk, zero sizes, errors', () => {
  const x = arange(7);
  assert.deepEqual(run('Split', [x], { split: [3, 4] }, { opset: 2, outputCount: 2 }).map(vals), [
    [0, 1, 2],
    [3, 4, 5, 6],
  ]);
  assert.deepEqual(
    run('Split', [x, i64([5, 2])], {}, { opset: 1, outputCount: 2 }).map((t) => t.dims),
    [[5], [2]],
  );
  assert.deepEqual(run('Split', [x], { num_outputs: 3 }, { opset: 18, outputCount: 3 }).map(vals), [
    [0, 1, 2],
    [3, 4, 5],
    [6],
  ]);
  assert.deepEqual(
    run('Split', [x, i64([0, 7])], {}, { opset: 13, outputCount: 2 }).map((t) => t.dims),
    [[0], [7]],
  );
  const m = run('Split', [arange(6, [2, 3])], { axis: -1 }, { opset: 11, outputCount: 3 });
  assert.deepEqual(m.map(vals), [
    [0, 3],
    [1, 4],
    [2, 5],
  ]);
  throwsOnyx(() => run('Split', [x], {}, { opset: 13, outputCount: 2 }), 'SHAPE_MISMATCH', /equal parts/);
  throwsOnyx(
    () => run('Split', [x, i64([3, 3])], {}, { opset: 13, outputCount: 2 }),
    'SHAPE_MISMATCH',
    /sum to dim 7/,
  );
  throwsOnyx(
    () => run('Split', [x], { num_outputs: 3 }, { opset: 18, outputCount: 2 }),
    'INVALID_MODEL',
    /num_outputs=3/,
  );
});

test('Slice: negative steps, clamping, INT64_MAX/INT64_MIN, attribute form', () => {
  const x = arange(10);
  const sl = (starts: bigint[], ends: bigint[], axes?: bigint[], steps?: bigint[]) =>
    vals(
      one(
        'Slice',
        [x, i64([...starts]), i64([...ends]), axes && i64([...axes]), steps && i64([...steps])],
        {},
        13,
      ),
    );
  assert.deepEqual(sl([-1n], [INT64_MIN], undefined, [-1n]), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  assert.deepEqual(sl([1n], [INT64_MAX], [0n], [3n]), [1, 4, 7]);
  assert.deepEqual(sl([20n], [INT64_MAX]), []);
  assert.deepEqual(sl([100n], [-100n], [-1n], [-4n]), [9, 5, 1]);
  assert.deepEqual(sl([-3n], [-1n]), [7, 8]);
  assert.deepEqual(sl([5n], [2n]), []);
  const m = one('Slice', [arange(12, [3, 4]), i64([0, 1]), i64([4, 3]), i64([1, 0]), i64([2, 2])], {}, 10);
  assert.deepEqual(
    [m.dims, vals(m)],
    [
      [1, 2],
      [4, 6],
    ],
  );
  const a = one('Slice', [arange(12, [3, 4])], { starts: [1], ends: [3], axes: [1] }, 1);
  assert.deepEqual(
    [a.dims, vals(a)],
    [
      [3, 2],
      [1, 2, 5, 6, 9, 10],
    ],
  );
  assert.equal(one('Slice', [x, i64([0]), i64([INT64_MAX])], {}, 13), x);
  throwsOnyx(() => sl([0n], [5n], [0n], [0n]), 'INVALID_MODEL', /step for axis 0 is 0/);
  throwsOnyx(() => sl([0n, 1n], [5n]), 'INVALID_MODEL', /differ in length/);
});

test('Tile: legacy (tiles, axis) form, repeats per axis, zero repeats, bool', () => {
  const t1 = one('Tile', [i32([1, 2]), i64([3]), i64([0])], {}, 1);
  assert.deepEqual(vals(t1), [1, 2, 1, 2, 1, 2]);
  const t = one('Tile', [i32([1, 2], [2, 1]), i64([2, 3])], {}, 13);
  assert.deepEqual(
    [t.dims, vals(t)],
    [
      [4, 3],
      [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2],
    ],
  );
  assert.deepEqual(one('Tile', [i32([1, 2]), i64([0])], {}, 6).dims, [0]);
  const b = one('Tile', [new Tensor('bool', Uint8Array.of(1, 0), [2]), i64([2])], {}, 13);
  assert.deepEqual(vals(b), [1, 0, 1, 0]);
  throwsOnyx(
    () => one('Tile', [i32([1, 2]), i64([1, 1])], {}, 13),
    'INVALID_MODEL',
    /one non-negative entry per input axis/,
  );
});

test('Pad: modes with negative pads, large reflect, strings, attribute forms, axes', () => {
  const p = (mode: string, x: Tensor, pads: number[], extra: (Value | undefined)[] = [], v = 19) =>
    one('Pad', [x, i64([...pads]), ...extra], { mode: mode }, v);
  assert.deepEqual(vals(p('reflect', i32([1, 2, 3, 4, 5]), [2, -1])), [3, 2, 1, 2, 3, 4]);
  assert.deepEqual(vals(p('reflect', i32([1, 2, 3]), [4, 0])), [1, 2, 3, 2, 1, 2, 3]);
  assert.deepEqual(vals(p('edge', i32([1, 2, 3]), [2, 1])), [1, 1, 1, 2, 3, 3]);
  assert.deepEqual(vals(p('wrap', i32([1, 2, 3]), [2, 4])), [2, 3, 1, 2, 3, 1, 2, 3, 1]);
  const s = p(
    'constant',
    new Tensor('string', ['a', 'b', 'c'], [3]),
    [-1, 2],
    [new Tensor('string', ['z'], [])],
  );
  assert.deepEqual(vals(s), ['b', 'c', 'z', 'z']);
  const z = p('constant', arange(4, [2, 2]), [1, 0, 0, 1]);
  assert.deepEqual(
    [z.dims, vals(z)],
    [
      [3, 3],
      [0, 0, 0, 0, 1, 0, 2, 3, 0],
    ],
  );
  // Pad-18 axes (negative), Pad-2 and Pad-1 attribute forms, float16 value attribute encoding
  const ax = one('Pad', [arange(4, [2, 2]), i64([1, 0]), i32([9], []), i64([-1])], {}, 18);
  assert.deepEqual(vals(ax), [9, 0, 1, 9, 2, 3]);
  const h = one(
    'Pad',
    [new Tensor('float16', Uint16Array.of(0), [1])],
    { pads: [1, 0], value: { float: 1 } },
    2,
  );
  assert.deepEqual(vals(h), [0x3c00, 0]);
  const l = one('Pad', [f32([5])], { paddings: [0, 1], mode: 'edge' }, 1);
  assert.deepEqual(vals(l), [5, 5]);
  const c = p('edge', new Tensor('complex128', Float64Array.of(1, 2), [1]), [1, 0]);
  assert.deepEqual(vals(c), [1, 2, 1, 2]);
  throwsOnyx(() => p('wrap', i32([1]), [1, 0], [], 18), 'INVALID_MODEL', /constant, reflect, edge/);
  throwsOnyx(() => p('reflect', i32([]), [1, 0]), 'SHAPE_MISMATCH', /no input elements remain/);
  throwsOnyx(() => p('constant', i32([1, 2]), [1]), 'INVALID_MODEL', /2 × 1 entries/);
  throwsOnyx(() => p('constant', i32([1, 2]), [-2, -1]), 'SHAPE_MISMATCH', /below zero size/);
});

/** Reference DepthToSpace by the spec's index formulas. */
function d2sRef(x: number[], [n, c, h, w]: number[], b: number, mode: string): number[] {
  const c2 = c / (b * b);
  const out: number[] = [];
  for (let in_ = 0; in_ < n; in_++)
    for (let oc = 0; oc < c2; oc++)
      for (let oh = 0; oh < h * b; oh++)
        for (let ow = 0; ow < w * b; ow++) {
          const [i, j] = [oh % b, ow % b];
          const ic = mode === 'DCR' ? (i * b + j) * c2 + oc : oc * b * b + i * b + j;
          out.push(x[((in_ * c + ic) * h + Math.floor(oh / b)) * w + Math.floor(ow / b)]);
        }
  return out;
}

test('DepthToSpace (DCR, CRD) match the spec formulas; SpaceToDepth inverts DCR', () => {
  const dims = [2, 8, 2, 3];
  const x = arange(96, dims);
  for (const mode of ['DCR', 'CRD']) {
    const y = one('DepthToSpace', [x], { blocksize: 2, mode: mode }, 13);
    assert.deepEqual(y.dims, [2, 2, 4, 6]);
    assert.deepEqual(vals(y), d2sRef(vals(x) as number[], dims, 2, mode));
  }
  const y = one('DepthToSpace', [x], { blocksize: 2 }, 1);
  const back = one('SpaceToDepth', [y], { blocksize: 2 }, 13);
  assert.deepEqual([back.dims, vals(back)], [dims, vals(x)]);
  throwsOnyx(() => one('DepthToSpace', [x], { blocksize: 3 }, 13), 'SHAPE_MISMATCH', /divisible/);
  throwsOnyx(() => one('SpaceToDepth', [x], { blocksize: 4 }, 1), 'SHAPE_MISMATCH', /multiples/);
});

test('ReverseSequence on batch-major and time-major layouts', () => {
  const bm = one('ReverseSequence', [arange(6, [2, 3]), i64([2, 3])], { batch_axis: 0, time_axis: 1 }, 10);
  assert.deepEqual(vals(bm), [1, 0, 2, 5, 4, 3]);
  // time-major [T=3, B=2, 2]
  const tm = one('ReverseSequence', [arange(12, [3, 2, 2]), i64([3, 1])], {}, 10);
  assert.deepEqual(vals(tm), [8, 9, 2, 3, 4, 5, 6, 7, 0, 1, 10, 11]);
  throwsOnyx(
    () => one('ReverseSequence', [arange(12, [3, 2, 2]), i64([4, 1])], {}, 10),
    'INVALID_ARGUMENT',
    /outside \[0, 3\]/,
  );
});

test('Trilu: upper/lower with k, batches, int64, out-of-range k', () => {
  const x = new Tensor(
    'int64',
    BigInt64Array.from({ length: 18 }, (_, i) => BigInt(i + 1)),
    [2, 3, 3],
  );
  const up = one('Trilu', [x, i64([1])], {}, 14);
  assert.deepEqual(vals(up).slice(0, 9), [0n, 2n, 3n, 0n, 0n, 6n, 0n, 0n, 0n]);
  assert.deepEqual(vals(up).slice(9), [0n, 11n, 12n, 0n, 0n, 15n, 0n, 0n, 0n]);
  const lo = one('Trilu', [x, i64([-1])], { upper: 0 }, 14);
  assert.deepEqual(vals(lo).slice(0, 9), [0n, 0n, 0n, 4n, 0n, 0n, 7n, 8n, 0n]);
  assert.deepEqual(vals(one('Trilu', [arange(4, [2, 2]), i64([-5])], {}, 14)), [0, 1, 2, 3]);
  assert.deepEqual(vals(one('Trilu', [arange(4, [2, 2]), i64([-5])], { upper: 0 }, 14)), [0, 0, 0, 0]);
  assert.deepEqual(vals(one('Trilu', [arange(6, [2, 3])], {}, 14)), [0, 1, 2, 0, 4, 5]);
  throwsOnyx(() => one('Trilu', [arange(3)], {}, 14), 'SHAPE_MISMATCH', /rank ≥ 2/);
});

test('EyeLike: input type, dtype attribute, k offsets', () => {
  const e = one('EyeLike', [f32([0, 0, 0, 0, 0, 0], [2, 3])], { dtype: 7, k: 1 }, 22);
  assert.deepEqual([e.type, vals(e)], ['int64', [0n, 1n, 0n, 0n, 0n, 1n]]);
  const h = one('EyeLike', [new Tensor('float16', new Uint16Array(4), [2, 2])], {}, 9);
  assert.deepEqual(vals(h), [0x3c00, 0, 0, 0x3c00]);
  const b = one('EyeLike', [new Tensor('bool', new Uint8Array(4), [2, 2])], { k: -1 }, 9);
  assert.deepEqual(vals(b), [0, 0, 1, 0]);
  throwsOnyx(() => one('EyeLike', [arange(3)], {}, 9), 'SHAPE_MISMATCH', /2-D/);
  throwsOnyx(() => one('EyeLike', [arange(4, [2, 2])], { dtype: 8 }, 9), 'INVALID_MODEL', /dtype 8/);
});

test('CenterCropPad crops and pads around the centre', () => {
  assert.deepEqual(vals(one('CenterCropPad', [i32([1, 2, 3, 4, 5]), i64([3])], {}, 18)), [2, 3, 4]);
  assert.deepEqual(
    vals(one('CenterCropPad', [i32([1, 2, 3, 4, 5]), i64([8])], {}, 18)),
    [0, 1, 2, 3, 4, 5, 0, 0],
  );
  const m = one('CenterCropPad', [arange(6, [2, 3]), i64([1])], { axes: [-1] }, 18);
  assert.deepEqual(
    [m.dims, vals(m)],
    [
      [2, 1],
      [1, 4],
    ],
  );
  throwsOnyx(
    () => one('CenterCropPad', [arange(6, [2, 3]), i64([1])], {}, 18),
    'INVALID_MODEL',
    /one non-negative entry per axis/,
  );
});

test('Transpose: the WASM copy (4-byte types) and the tiled float32 loop match the generic strided copy', () => {
  let seed = 7;
  const rand = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const bitsOf = (t: Tensor) => {
    const d = t.data as Float32Array | Int32Array | Uint32Array;
    return [...new Uint32Array(d.buffer, d.byteOffset, d.length)];
  };
  /** Transpose in a kernel mode ('reference': the TypeScript loops). */
  const inMode = (mode: 'fast' | 'reference', x: Tensor, perm: number[]) => {
    const saved = setKernelMode(mode);
    try {
      return one('Transpose', [x], { perm }, 21);
    } finally {
      setKernelMode(saved);
    }
  };
  for (let trial = 0; trial < 60; trial++) {
    const rank = 2 + Math.floor(rand() * 4);
    const dims = Array.from({ length: rank }, () => 1 + Math.floor(rand() * 40 ** (1 / rank) * 2));
    const n = dims.reduce((a, b) => a * b, 1);
    const perm = Array.from({ length: rank }, (_, i) => i);
    for (let i = rank - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const bits = Uint32Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 0);
    bits[0] = 0x7fa00001; // a NaN payload must survive
    const ref = inMode('reference', new Tensor('uint32', bits, dims), perm);
    const want = [...(ref.data as Uint32Array)];
    const where = `dims [${dims}] perm [${perm}]`;
    const floats = new Tensor('float32', new Float32Array(bits.buffer), dims);
    for (const [label, got] of [
      ['tiled float32', inMode('reference', floats, perm)],
      ['WASM float32', inMode('fast', floats, perm)],
      ['WASM int32', inMode('fast', new Tensor('int32', new Int32Array(bits.buffer), dims), perm)],
    ] as const) {
      assert.deepEqual(got.dims, ref.dims);
      assert.deepEqual(bitsOf(got), want, `${label}: ${where}`);
    }
  }
  // The attention shapes: [1,4,128,64] → [1,4,64,128] and back.
  const big = Float32Array.from({ length: 4 * 128 * 64 }, (_, i) => i);
  const kt = one('Transpose', [new Tensor('float32', big, [1, 4, 128, 64])], { perm: [0, 1, 3, 2] }, 21);
  const back = one('Transpose', [kt], { perm: [0, 1, 3, 2] }, 21);
  assert.deepEqual([...(back.data as Float32Array)], [...big]);
  assert.equal((kt.data as Float32Array)[1], 64);
});

test('Concat in a session (run storage on the WASM memory: block copies) on every axis, float32 and int32', async () => {
  // ≥ 1024 elements each: run storage on the WASM memory (core/buffer-pool.ts MIN_ARENA_FLOATS);
  // the second input smaller along the axis, or (odd axes) under 1024 and on the heap.
  const a = [2, 3, 16, 32];
  for (const type of ['float32', 'int32'] as const) {
    for (let axis = 0; axis < 4; axis++) {
      const bDims = a.map((d, i) => (i === axis ? (axis % 2 ? 1 : d - 1) : d));
      // Negated inputs and a Neg reading the Concat: its operands and output are all run storage
      // (not feeds, not a final output).
      const model = buildModel({
        nodes: [
          { op: 'Neg', inputs: ['x'], outputs: ['xn'] },
          { op: 'Neg', inputs: ['y'], outputs: ['yn'] },
          { op: 'Concat', inputs: ['xn', 'yn'], outputs: ['c'], attrs: { axis } },
          { op: 'Neg', inputs: ['c'], outputs: ['z'] },
        ],
        inputs: [
          { name: 'x', type, dims: a },
          { name: 'y', type, dims: bDims },
        ],
        outputs: [{ name: 'z', type }],
      });
      const mk = (dims: number[], base: number) => {
        const n = dims.reduce((p, q) => p * q, 1);
        const v = Array.from({ length: n }, (_, i) => base + i + 1);
        return new Tensor(type, type === 'float32' ? Float32Array.from(v) : Int32Array.from(v), dims);
      };
      const [x, y] = [mk(a, 0), mk(bDims, 1000)];
      const s = await InferenceSession.create(model);
      const { z } = await s.run({ x, y });
      const want = one('Concat', [x, y], { axis }, 13);
      assert.deepEqual(z.dims, want.dims);
      assert.deepEqual(
        Array.from(z.data as ArrayLike<number>),
        Array.from(want.data as ArrayLike<number>),
        `${type} axis ${axis}`,
      );
    }
  }
});
