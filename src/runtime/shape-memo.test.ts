import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildModel } from '../../test/helpers/build-model.js';
import { allocData } from '../core/dtype.js';
import { closeLease, Lease, withLease } from '../core/buffer-pool.js';
import { Tensor } from '../core/tensor.js';
import { InferenceSession } from '../index.js';
import { heapRunContext, type Kernel } from '../ops/kernel.js';
import { isKeptOutput, memoizeShapeKernel } from './shape-memo.js';

const i64 = (values: number[], dims = [values.length]) =>
  new Tensor('int64', BigInt64Array.from(values, BigInt), dims);

/** A kernel that adds its two inputs (int64 or float32; b's values repeating along a), counting its calls. */
function countingAdd(): { kernel: Kernel; calls: () => number } {
  let n = 0;
  const kernel: Kernel = (inputs) => {
    n++;
    const [a, b] = inputs as Tensor[];
    // Typed as numbers; int64 data holds bigints, which add alike.
    const x = a.data as ArrayLike<number>;
    const y = b.data as ArrayLike<number>;
    const out = allocData(a.type, x.length) as Float32Array;
    for (let i = 0; i < x.length; i++) out[i] = x[i] + y[i % y.length];
    return [new Tensor(a.type, out, a.dims)];
  };
  return { kernel, calls: () => n };
}

describe('memoized shape arithmetic', () => {
  it('returns the previous outputs for equal small int64 inputs, recomputes otherwise', async () => {
    const { kernel, calls } = countingAdd();
    const memo = memoizeShapeKernel(kernel, 'Add');
    const first = (await memo([i64([1, 2]), i64([3, 4])], heapRunContext))[0] as Tensor;
    const again = (await memo([i64([1, 2]), i64([3, 4])], heapRunContext))[0] as Tensor;
    assert.equal(again, first, 'equal values (new tensor objects): the same output');
    assert.equal(calls(), 1);
    assert.ok(isKeptOutput(first), 'isKeptOutput(first)');
    const other = (await memo([i64([1, 2]), i64([3, 5])], heapRunContext))[0] as Tensor;
    assert.deepEqual([...(other.data as BigInt64Array)], [4n, 7n]);
    const reshaped = (await memo([i64([1, 2], [2, 1]), i64([3, 5], [2, 1])], heapRunContext))[0] as Tensor;
    assert.deepEqual(reshaped.dims, [2, 1], 'dims are part of the key');
    assert.equal(calls(), 3);
  });

  it('compares constants and kept outputs by identity, of any type or size; other floats never', async () => {
    const { kernel: addF, calls } = countingAdd();
    const f32 = (n: number, v: number) => new Tensor('float32', new Float32Array(n).fill(v), [n]);
    const fill = f32(4096, 2); // a constant far above MEMO_MAX_ELEMENTS
    const memo = memoizeShapeKernel(addF, 'Add', [false, true]);
    const small = f32(8, 1);
    // A float that is neither constant nor kept (an activation, a feed): recomputed every call.
    await memo([small, fill], heapRunContext);
    await memo([small, fill], heapRunContext);
    assert.equal(calls(), 2);
    // The same input as a kept output of another memoized node: the same object means the same values.
    const maker = memoizeShapeKernel(() => [f32(8, 3)], 'Identity');
    const made = (await maker([i64([1])], heapRunContext))[0] as Tensor;
    assert.ok(isKeptOutput(made), 'isKeptOutput(made)');
    const first = (await memo([made, fill], heapRunContext))[0] as Tensor;
    const again = (await memo([made, fill], heapRunContext))[0] as Tensor;
    assert.equal(again, first);
    assert.equal(calls(), 3);
    await memo([made, f32(4096, 2)], heapRunContext);
    assert.equal(calls(), 4, 'another constant object: recomputed');
  });

  it('keeps outputs made during a run: they are never leased to it, so never recycled', async () => {
    let n = 0;
    const concat: Kernel = (inputs) => {
      n++;
      const [a, b] = inputs as Tensor[];
      const out = allocData('int64', a.size + b.size) as BigInt64Array; // pool storage inside a run
      out.set(a.data as BigInt64Array);
      out.set(b.data as BigInt64Array, a.size);
      return [new Tensor('int64', out, [out.length])];
    };
    const memo = memoizeShapeKernel(concat, 'Concat');
    for (let run = 0; run < 3; run++) {
      const lease = new Lease();
      const [y] = (await withLease(lease, () => memo([i64([1, 2]), i64([3])], heapRunContext))) as Tensor[];
      assert.ok(isKeptOutput(y), `run ${run}: kept`);
      closeLease(lease);
      assert.deepEqual([...(y.data as BigInt64Array)], [1n, 2n, 3n]);
    }
    assert.equal(n, 1, 'computed once across runs');
  });

  it('compares Shape by dims only, and leaves float and large inputs alone', async () => {
    let n = 0;
    const shape: Kernel = (inputs) => {
      n++;
      return [i64((inputs[0] as Tensor).dims as number[])];
    };
    const memo = memoizeShapeKernel(shape, 'Shape');
    const big = (v: number) => new Tensor('float32', new Float32Array(5000).fill(v), [50, 100]);
    await memo([big(1)], heapRunContext);
    await memo([big(2)], heapRunContext);
    assert.equal(n, 1, 'same dims, other values: not recomputed');
    let floatCalls = 0;
    const floatAdd = memoizeShapeKernel((inputs) => (floatCalls++, [inputs[0]!]), 'Add');
    const f = new Tensor('float32', Float32Array.from([1, 2]), [2]);
    await floatAdd([f, f], heapRunContext);
    await floatAdd([f, f], heapRunContext);
    assert.equal(floatCalls, 2, 'float operands are activations: never compared');
    const { kernel, calls } = countingAdd();
    const add = memoizeShapeKernel(kernel, 'Add');
    const long = i64(Array.from({ length: 2000 }, (_, i) => i));
    await add([long, long], heapRunContext);
    await add([long, long], heapRunContext);
    assert.equal(calls(), 2, 'inputs over MEMO_MAX_ELEMENTS are not compared');
  });

  it('follows a feed whose shape changes between runs, and hands a kept output over as a copy', async () => {
    // y = Reshape(x, Concat(Shape(x)[1], Shape(x)[0])) and z = Identity(that shape): the shape
    // subgraph is memoized; z reaches the caller.
    const model = buildModel({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'one'], outputs: ['d1'], attrs: { axis: 0 } },
        { op: 'Gather', inputs: ['s', 'zero'], outputs: ['d0'], attrs: { axis: 0 } },
        { op: 'Concat', inputs: ['d1', 'd0'], outputs: ['t'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 't'], outputs: ['y'] },
        { op: 'Identity', inputs: ['t'], outputs: ['z'] },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: ['a', 'b'] }],
      outputs: [
        { name: 'y', type: 'float32' },
        { name: 'z', type: 'int64' },
      ],
      initializers: [
        { name: 'one', tensor: i64([1]) },
        { name: 'zero', tensor: i64([0]) },
      ],
    });
    const s = await InferenceSession.create(model);
    const x = (a: number, b: number) =>
      new Tensor(
        'float32',
        Float32Array.from({ length: a * b }, (_, i) => i),
        [a, b],
      );
    for (const [a, b] of [
      [2, 3],
      [2, 3],
      [4, 5],
      [2, 3],
    ]) {
      const r = await s.run({ x: x(a, b) });
      assert.deepEqual(r.y.dims, [b, a]);
      assert.deepEqual([...(r.z.data as BigInt64Array)], [BigInt(b), BigInt(a)]);
      (r.z.data as BigInt64Array).fill(99n); // the caller's copy: the next run does not see it
    }
  });
});
