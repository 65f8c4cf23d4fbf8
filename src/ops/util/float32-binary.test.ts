import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Tensor } from '../../core/tensor.js';
import { binary } from './elementwise.js';
import type { Float32BinaryOp } from './float32-binary.js';
import { randomFloats } from './op-test-kit.js';

const FNS: Record<Float32BinaryOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
};

/** Shape pairs covering equal shapes, per-channel and scalar operands, both-sided and inner broadcasts. */
const CASES: [number[], number[]][] = [
  [
    [2, 3, 4],
    [2, 3, 4],
  ],
  [
    [1, 8, 5, 5],
    [8, 1, 1],
  ],
  [
    [8, 1, 1],
    [1, 8, 5, 5],
  ],
  [[3, 4], []],
  [[], [3, 4]],
  [
    [4, 1],
    [1, 5],
  ],
  [
    [2, 1, 3],
    [1, 4, 1],
  ],
  [
    [1, 7, 1, 3],
    [2, 1, 6, 3],
  ],
  [[5], [3, 1]],
  [
    [0, 3],
    [1, 3],
  ],
  [[1], [1]],
];

it('the float32 broadcast loops equal the generic elementwise path for every op and shape pattern', () => {
  let seed = 1;
  for (const [da, db] of CASES) {
    const a = new Tensor(
      'float32',
      randomFloats(
        da.reduce((x, y) => x * y, 1),
        seed++,
      ),
      da,
    );
    const b = new Tensor(
      'float32',
      randomFloats(
        db.reduce((x, y) => x * y, 1),
        seed++,
      ),
      db,
    );
    for (const op of Object.keys(FNS) as Float32BinaryOp[]) {
      const fast = binary(a, b, 'float32', FNS[op], op);
      const slow = binary(a, b, 'float32', FNS[op]);
      assert.deepEqual(fast.dims, slow.dims, `${op} [${da}] ∘ [${db}] dims`);
      assert.deepEqual(
        Array.from(fast.data as Float32Array),
        Array.from(slow.data as Float32Array),
        `${op} [${da}] ∘ [${db}]`,
      );
    }
  }
});
