import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { ops } from './data-movement.js';
import { heapRunContext, type NodeInfo } from './kernel.js';

const int = (value: number): AttrValue => ({ kind: 'int', value });
const ints = (value: number[]): AttrValue => ({ kind: 'ints', value });
const str = (value: string): AttrValue => ({ kind: 'string', value, bytes: new TextEncoder().encode(value) });
const flt = (value: number): AttrValue => ({ kind: 'float', value });
const i64 = (...v: (number | bigint)[]) =>
  new Tensor(
    'int64',
    BigInt64Array.from(v, (x) => BigInt(x)),
    [v.length],
  );
const f32 = (v: number[], dims = [v.length]) => new Tensor('float32', Float32Array.from(v), dims);
const i32 = (v: number[], dims = [v.length]) => new Tensor('int32', Int32Array.from(v), dims);
const arange = (n: number, dims = [n]) =>
  i32(
    Array.from({ length: n }, (_, i) => i),
    dims,
  );
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function run(
  opType: string,
  sinceVersion: number,
  attrs: Record<string, AttrValue>,
  inputs: (Value | undefined)[],
  outputCount = 1,
): Tensor[] {
  const def = ops.find((o) => o.opType === opType)!;
  assert.ok(def.versions.includes(sinceVersion), `${opType} lists since-version ${sinceVersion}`);
  const node: NodeInfo = {
    name: 'n',
    opType,
    domain: '',
    opset: sinceVersion,
    sinceVersion,
    attrs: new Attributes(new Map(Object.entries(attrs)), 'test'),
    inputCount: inputs.length,
    outputCount,
    inputPresent: inputs.map((x) => x !== undefined),
    outputPresent: new Array<boolean>(outputCount).fill(true),
  };
  return def.build(node)(inputs, heapRunContext) as Tensor[];
}
const one = (...a: Parameters<typeof run>) => run(...a)[0];
const vals = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>);
const throwsOnyx = (fn: () => unknown, code: string, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof OnyxError && e.code === code && re.test(e.message));

test('Transpose: default reverses, perm, strings, complex, float16 bits, identity shares', () => {
  const x = arange(6, [2, 3]);
  const t = one('Transpose', 1, {}, [x]);
  assert.deepEqual(
    [t.dims, vals(t)],
    [
      [3, 2],
      [0, 3, 1, 4, 2, 5],
    ],
  );
  const s = one('Transpose', 13, { perm: ints([1, 0]) }, [
    new Tensor('string', ['a', 'b', 'c', 'd'], [2, 2]),
  ]);
  assert.deepEqual(vals(s), ['a', 'c', 'b', 'd']);
  const c = one('Transpose', 21, {}, [
    new Tensor('complex64', Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), [2, 2]),
  ]);
  assert.deepEqual(vals(c), [1, 2, 5, 6, 3, 4, 7, 8]);
  const h = one('Transpose', 23, {}, [new Tensor('float16', Uint16Array.of(1, 2, 3, 4), [2, 2])]);
  assert.deepEqual(vals(h), [1, 3, 2, 4]);
  assert.equal(one('Transpose', 13, { perm: ints([0, 1]) }, [x]), x);
  const e = one('Transpose', 13, { perm: ints([2, 0, 1]) }, [f32([], [0, 2, 3])]);
  assert.deepEqual(e.dims, [3, 0, 2]);
  throwsOnyx(() => one('Transpose', 13, { perm: ints([0]) }, [x]), 'INVALID_MODEL', /rank 2/);
});

test('Concat: negative axis, empty inputs, Concat-1 default axis, errors', () => {
  const a = arange(4, [2, 2]);
  const b = i32([7, 8], [2, 1]);
  const c = one('Concat', 11, { axis: int(-1) }, [a, b, i32([], [2, 0])]);
  assert.deepEqual(
    [c.dims, vals(c)],
    [
      [2, 3],
      [0, 1, 7, 2, 3, 8],
    ],
  );
  assert.deepEqual(one('Concat', 1, {}, [a, b]).dims, [2, 3]);
  const s = one('Concat', 13, { axis: int(0) }, [
    new Tensor('string', ['x'], [1]),
    new Tensor('string', ['y'], [1]),
  ]);
  assert.deepEqual(vals(s), ['x', 'y']);
  throwsOnyx(() => one('Concat', 13, { axis: int(0) }, [a, b]), 'SHAPE_MISMATCH', /\[2, 2\], \[2, 1\]/);
  throwsOnyx(
    () => one('Concat', 13, { axis: int(0) }, [a, f32([1, 2], [1, 2])]),
    'TYPE_MISMATCH',
    /int32 and float32/,
  );
  throwsOnyx(() => one('Concat', 13, { axis: int(2) }, [a, a]), 'INVALID_MODEL', /out of range/);
});

test('Split: attribute, input, num_outputs with an uneven last chunk, zero sizes, errors', () => {
  const x = arange(7);
  assert.deepEqual(run('Split', 2, { split: ints([3, 4]) }, [x], 2).map(vals), [
    [0, 1, 2],
    [3, 4, 5, 6],
  ]);
  assert.deepEqual(
    run('Split', 1, {}, [x, i64(5, 2)], 2).map((t) => t.dims),
    [[5], [2]],
  );
  assert.deepEqual(run('Split', 18, { num_outputs: int(3) }, [x], 3).map(vals), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.deepEqual(
    run('Split', 13, {}, [x, i64(0, 7)], 2).map((t) => t.dims),
    [[0], [7]],
  );
  const m = run('Split', 11, { axis: int(-1) }, [arange(6, [2, 3])], 3);
  assert.deepEqual(m.map(vals), [
    [0, 3],
    [1, 4],
    [2, 5],
  ]);
  throwsOnyx(() => run('Split', 13, {}, [x], 2), 'SHAPE_MISMATCH', /equal parts/);
  throwsOnyx(() => run('Split', 13, {}, [x, i64(3, 3)], 2), 'SHAPE_MISMATCH', /sum to dim 7/);
  throwsOnyx(() => run('Split', 18, { num_outputs: int(3) }, [x], 2), 'INVALID_MODEL', /num_outputs=3/);
});

test('Slice: negative steps, clamping, INT64_MAX/INT64_MIN, attribute form', () => {
  const x = arange(10);
  const sl = (starts: bigint[], ends: bigint[], axes?: bigint[], steps?: bigint[]) =>
    vals(
      one('Slice', 13, {}, [x, i64(...starts), i64(...ends), axes && i64(...axes), steps && i64(...steps)]),
    );
  assert.deepEqual(sl([-1n], [INT64_MIN], undefined, [-1n]), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  assert.deepEqual(sl([1n], [INT64_MAX], [0n], [3n]), [1, 4, 7]);
  assert.deepEqual(sl([20n], [INT64_MAX]), []);
  assert.deepEqual(sl([100n], [-100n], [-1n], [-4n]), [9, 5, 1]);
  assert.deepEqual(sl([-3n], [-1n]), [7, 8]);
  assert.deepEqual(sl([5n], [2n]), []);
  const m = one('Slice', 10, {}, [arange(12, [3, 4]), i64(0, 1), i64(4, 3), i64(1, 0), i64(2, 2)]);
  assert.deepEqual(
    [m.dims, vals(m)],
    [
      [1, 2],
      [4, 6],
    ],
  );
  const a = one('Slice', 1, { starts: ints([1]), ends: ints([3]), axes: ints([1]) }, [arange(12, [3, 4])]);
  assert.deepEqual(
    [a.dims, vals(a)],
    [
      [3, 2],
      [1, 2, 5, 6, 9, 10],
    ],
  );
  assert.equal(one('Slice', 13, {}, [x, i64(0), i64(INT64_MAX)]), x);
  throwsOnyx(() => sl([0n], [5n], [0n], [0n]), 'INVALID_MODEL', /step for axis 0 is 0/);
  throwsOnyx(() => sl([0n, 1n], [5n]), 'INVALID_MODEL', /differ in length/);
});

test('Tile: legacy (tiles, axis) form, repeats per axis, zero repeats, bool', () => {
  const t1 = one('Tile', 1, {}, [i32([1, 2]), i64(3), i64(0)]);
  assert.deepEqual(vals(t1), [1, 2, 1, 2, 1, 2]);
  const t = one('Tile', 13, {}, [i32([1, 2], [2, 1]), i64(2, 3)]);
  assert.deepEqual(
    [t.dims, vals(t)],
    [
      [4, 3],
      [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2],
    ],
  );
  assert.deepEqual(one('Tile', 6, {}, [i32([1, 2]), i64(0)]).dims, [0]);
  const b = one('Tile', 13, {}, [new Tensor('bool', Uint8Array.of(1, 0), [2]), i64(2)]);
  assert.deepEqual(vals(b), [1, 0, 1, 0]);
  throwsOnyx(
    () => one('Tile', 13, {}, [i32([1, 2]), i64(1, 1)]),
    'INVALID_MODEL',
    /one non-negative entry per input axis/,
  );
});

test('Pad: modes with negative pads, large reflect, strings, attribute forms, axes', () => {
  const p = (mode: string, x: Tensor, pads: number[], extra: (Value | undefined)[] = [], v = 19) =>
    one('Pad', v, { mode: str(mode) }, [x, i64(...pads), ...extra]);
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
  const ax = one('Pad', 18, {}, [arange(4, [2, 2]), i64(1, 0), i32([9], []), i64(-1)]);
  assert.deepEqual(vals(ax), [9, 0, 1, 9, 2, 3]);
  const h = one('Pad', 2, { pads: ints([1, 0]), value: flt(1) }, [
    new Tensor('float16', Uint16Array.of(0), [1]),
  ]);
  assert.deepEqual(vals(h), [0x3c00, 0]);
  const l = one('Pad', 1, { paddings: ints([0, 1]), mode: str('edge') }, [f32([5])]);
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
    const y = one('DepthToSpace', 13, { blocksize: int(2), mode: str(mode) }, [x]);
    assert.deepEqual(y.dims, [2, 2, 4, 6]);
    assert.deepEqual(vals(y), d2sRef(vals(x) as number[], dims, 2, mode));
  }
  const y = one('DepthToSpace', 1, { blocksize: int(2) }, [x]);
  const back = one('SpaceToDepth', 13, { blocksize: int(2) }, [y]);
  assert.deepEqual([back.dims, vals(back)], [dims, vals(x)]);
  throwsOnyx(() => one('DepthToSpace', 13, { blocksize: int(3) }, [x]), 'SHAPE_MISMATCH', /divisible/);
  throwsOnyx(() => one('SpaceToDepth', 1, { blocksize: int(4) }, [x]), 'SHAPE_MISMATCH', /multiples/);
});

test('ReverseSequence on batch-major and time-major layouts', () => {
  const bm = one('ReverseSequence', 10, { batch_axis: int(0), time_axis: int(1) }, [
    arange(6, [2, 3]),
    i64(2, 3),
  ]);
  assert.deepEqual(vals(bm), [1, 0, 2, 5, 4, 3]);
  // time-major [T=3, B=2, 2]
  const tm = one('ReverseSequence', 10, {}, [arange(12, [3, 2, 2]), i64(3, 1)]);
  assert.deepEqual(vals(tm), [8, 9, 2, 3, 4, 5, 6, 7, 0, 1, 10, 11]);
  throwsOnyx(
    () => one('ReverseSequence', 10, {}, [arange(12, [3, 2, 2]), i64(4, 1)]),
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
  const up = one('Trilu', 14, {}, [x, i64(1)]);
  assert.deepEqual(vals(up).slice(0, 9), [0n, 2n, 3n, 0n, 0n, 6n, 0n, 0n, 0n]);
  assert.deepEqual(vals(up).slice(9), [0n, 11n, 12n, 0n, 0n, 15n, 0n, 0n, 0n]);
  const lo = one('Trilu', 14, { upper: int(0) }, [x, i64(-1)]);
  assert.deepEqual(vals(lo).slice(0, 9), [0n, 0n, 0n, 4n, 0n, 0n, 7n, 8n, 0n]);
  assert.deepEqual(vals(one('Trilu', 14, {}, [arange(4, [2, 2]), i64(-5)])), [0, 1, 2, 3]);
  assert.deepEqual(vals(one('Trilu', 14, { upper: int(0) }, [arange(4, [2, 2]), i64(-5)])), [0, 0, 0, 0]);
  assert.deepEqual(vals(one('Trilu', 14, {}, [arange(6, [2, 3])])), [0, 1, 2, 0, 4, 5]);
  throwsOnyx(() => one('Trilu', 14, {}, [arange(3)]), 'SHAPE_MISMATCH', /rank ≥ 2/);
});

test('EyeLike: input type, dtype attribute, k offsets', () => {
  const e = one('EyeLike', 22, { dtype: int(7), k: int(1) }, [f32([0, 0, 0, 0, 0, 0], [2, 3])]);
  assert.deepEqual([e.type, vals(e)], ['int64', [0n, 1n, 0n, 0n, 0n, 1n]]);
  const h = one('EyeLike', 9, {}, [new Tensor('float16', new Uint16Array(4), [2, 2])]);
  assert.deepEqual(vals(h), [0x3c00, 0, 0, 0x3c00]);
  const b = one('EyeLike', 9, { k: int(-1) }, [new Tensor('bool', new Uint8Array(4), [2, 2])]);
  assert.deepEqual(vals(b), [0, 0, 1, 0]);
  throwsOnyx(() => one('EyeLike', 9, {}, [arange(3)]), 'SHAPE_MISMATCH', /2-D/);
  throwsOnyx(() => one('EyeLike', 9, { dtype: int(8) }, [arange(4, [2, 2])]), 'INVALID_MODEL', /dtype 8/);
});

test('CenterCropPad crops and pads around the centre', () => {
  assert.deepEqual(vals(one('CenterCropPad', 18, {}, [i32([1, 2, 3, 4, 5]), i64(3)])), [2, 3, 4]);
  assert.deepEqual(
    vals(one('CenterCropPad', 18, {}, [i32([1, 2, 3, 4, 5]), i64(8)])),
    [0, 1, 2, 3, 4, 5, 0, 0],
  );
  const m = one('CenterCropPad', 18, { axes: ints([-1]) }, [arange(6, [2, 3]), i64(1)]);
  assert.deepEqual(
    [m.dims, vals(m)],
    [
      [2, 1],
      [1, 4],
    ],
  );
  throwsOnyx(
    () => one('CenterCropPad', 18, {}, [arange(6, [2, 3]), i64(1)]),
    'INVALID_MODEL',
    /one non-negative entry per axis/,
  );
});
