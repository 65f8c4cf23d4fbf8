import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ops, quantParamIndex, roundHalfEven } from './quantize.js';
import { bindOps, nums as values, rejectsOnyx as rejects, t } from './util/op-test-kit.js';
import { setKernelMode } from './util/dispatch.js';

const { run } = bindOps(ops, { opset: 25 });

describe('roundHalfEven', () => {
  it('rounds ties to even and everything else to nearest', () => {
    const cases: [number, number][] = [
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [-1.5, -2],
      [-2.5, -2],
      [-3.5, -4],
      [2.4, 2],
      [2.6, 3],
      [-2.6, -3],
      [1e9 + 0.5, 1e9],
    ];
    for (const [v, want] of cases) assert.equal(roundHalfEven(v), want, `rint(${v})`);
    assert.equal(roundHalfEven(-0.5) === 0, true);
  });
});

describe('QuantizeLinear', () => {
  it('per-axis with a negative axis and int8 zero points', async () => {
    const [y] = await run(
      'QuantizeLinear',
      [t('float32', [1, 2, 3, 4, 5, 6], [2, 3]), t('float32', [1, 2, 4]), t('int8', [0, 1, -1])],
      { axis: -1 },
    );
    assert.equal(y.type, 'int8');
    assert.deepEqual(values(y), [1, 2, 0, 4, 3, 1]);
  });

  it('blocked quantization with a partial last block', async () => {
    const [y] = await run(
      'QuantizeLinear',
      [t('float32', [2, 4, 6, 8, 10], [1, 5]), t('float32', [2, 4, 5], [1, 3])],
      { axis: 1, block_size: 2 },
    );
    assert.equal(y.type, 'uint8');
    assert.deepEqual(values(y), [1, 2, 2, 2, 2]);
  });

  it('saturates int4 and uses output_dtype without a zero point', async () => {
    const [y] = await run('QuantizeLinear', [t('float32', [-100, -8.5, 7.5, 100]), t('float32', [1], [])], {
      output_dtype: 22,
    });
    assert.equal(y.type, 'int4');
    assert.deepEqual(values(y), [-8, -8, 7, 7]);
  });

  it('float8: saturate=1 clamps to ±448, saturate=0 gives NaN', async () => {
    const x = t('float32', [1000, -1000]);
    const zp = t('float8e4m3fn', [0], [1]);
    const [sat] = await run('QuantizeLinear', [x, t('float32', [1], []), zp]);
    assert.deepEqual(Array.from(sat.data as Uint8Array), [0x7e, 0xfe]);
    const [nosat] = await run('QuantizeLinear', [x, t('float32', [1], []), zp], { saturate: 0 });
    assert.ok(values(nosat).every(Number.isNaN), 'values(nosat).every(Number.isNaN)');
  });

  it('opset 10 quantizes a scalar scale to uint8 by default', async () => {
    const [y] = await run(
      'QuantizeLinear',
      [t('float32', [0, 2, 3, 1000, -254, -1000]), t('float32', [2], [])],
      {},
      10,
    );
    assert.deepEqual(values(y), [0, 1, 2, 255, 0, 0]);
  });

  it('rejects a scale that fits no granularity, naming the shapes', async () => {
    await rejects(
      run('QuantizeLinear', [t('float32', new Array(12).fill(1), [3, 4]), t('float32', [1, 2])], {
        axis: 1,
      }),
      'SHAPE_MISMATCH',
      /y_scale of dims \[2\] fits neither per-tensor .* per-axis .*length 4/,
    );
    await rejects(
      run('QuantizeLinear', [t('float32', [1, 2, 3, 4], [2, 2]), t('float32', [1, 1], [2, 1])], {
        axis: 1,
        block_size: 1,
      }),
      'SHAPE_MISMATCH',
      /block_size 1 .* needs y_scale of dims \[2, 2\]/,
    );
  });

  it('rejects output_dtype that contradicts the zero point, and non-quantized outputs', async () => {
    await rejects(
      run('QuantizeLinear', [t('float32', [1]), t('float32', [1], []), t('uint8', [0], [])], {
        output_dtype: 3,
      }),
      'TYPE_MISMATCH',
      /output_dtype int8 does not match y_zero_point's type uint8/,
    );
    await rejects(
      run('QuantizeLinear', [t('float32', [1]), t('float32', [1], []), t('int32', [0], [])]),
      'TYPE_MISMATCH',
      /cannot produce int32/,
    );
  });

  it('handles empty tensors', async () => {
    const [y] = await run('QuantizeLinear', [t('float32', [], [0, 3]), t('float32', [1, 1, 1])], {
      axis: 1,
    });
    assert.deepEqual(y.dims, [0, 3]);
  });
});

describe('DequantizeLinear', () => {
  it('int32 input, rank-0 input, and empty input', async () => {
    const [a] = await run('DequantizeLinear', [t('int32', [-5, 0, 7]), t('float32', [0.5], [])]);
    assert.deepEqual(values(a), [-2.5, 0, 3.5]);
    const [b] = await run('DequantizeLinear', [
      t('uint8', [10], []),
      t('float32', [2], []),
      t('uint8', [5], []),
    ]);
    assert.deepEqual(b.dims, []);
    assert.deepEqual(values(b), [10]);
    const [c] = await run('DequantizeLinear', [t('int8', [], [0, 3]), t('float32', [1, 2, 3])], {
      axis: 1,
    });
    assert.deepEqual(c.dims, [0, 3]);
  });

  it('output_dtype (opset 23+) and float16 scales choose the output type', async () => {
    const [a] = await run('DequantizeLinear', [t('int8', [1, -1]), t('float32', [0.5], [])], {
      output_dtype: 10,
    });
    assert.equal(a.type, 'float16');
    assert.deepEqual(Array.from(a.data as Uint16Array), [0x3800, 0xb800]);
    const [b] = await run('DequantizeLinear', [t('uint4', [15, 0]), t('float16', [0x4000], [])]);
    assert.equal(b.type, 'float16');
    assert.deepEqual(values(b), [30, 0]);
  });

  it('rejects a zero point of another type', async () => {
    await rejects(
      run('DequantizeLinear', [t('int8', [1]), t('float32', [1], []), t('uint8', [0], [])]),
      'TYPE_MISMATCH',
      /x_zero_point has type uint8 but x has type int8/,
    );
  });

  it('blocked dequantization along axis 1', async () => {
    const [y] = await run(
      'DequantizeLinear',
      [
        t('int4', [1, 2, 3, -4, 5, 6], [2, 3]),
        t('float32', [1, 10, 2, 3], [2, 2]),
        t('int4', [1, -1, 0, 1], [2, 2]),
      ],
      { axis: 1, block_size: 2 },
    );
    assert.deepEqual(values(y), [0, 1, 40, -8, 10, 15]);
  });
});

describe('quantParamIndex', () => {
  it('maps elements to per-axis and blocked parameters', () => {
    assert.equal(quantParamIndex([2, 3], [], 1, 0, 's'), null);
    assert.deepEqual(Array.from(quantParamIndex([2, 3], [2], 0, 0, 's')!), [0, 0, 0, 1, 1, 1]);
    assert.deepEqual(Array.from(quantParamIndex([1, 5], [1, 3], 1, 2, 's')!), [0, 0, 1, 1, 2]);
  });
});

describe('DynamicQuantizeLinear', () => {
  it('all zeros give scale 0 and zero point 0', async () => {
    const [y, s, z] = await run(
      'DynamicQuantizeLinear',
      [t('float32', [0, 0, 0])],
      {},
      { opset: 11, outputCount: 3 },
    );
    assert.deepEqual(values(y), [0, 0, 0]);
    assert.deepEqual(values(s), [0]);
    assert.deepEqual(values(z), [0]);
    assert.deepEqual(s.dims, []);
  });

  it('negative-only input puts the zero point at 255', async () => {
    const [y, , z] = await run(
      'DynamicQuantizeLinear',
      [t('float32', [-1, -2])],
      {},
      { opset: 11, outputCount: 3 },
    );
    assert.deepEqual(values(z), [255]);
    // -1 / f32(2/255) rounds (in float32) to -127.49999, just below the tie.
    assert.deepEqual(values(y), [128, 0]);
  });
});

describe('QLinearMatMul', () => {
  it('1-D a (vector times matrix) and requantization', async () => {
    const one = t('float32', [1], []);
    const [y] = await run(
      'QLinearMatMul',
      [
        t('uint8', [10, 20]),
        one,
        t('uint8', [0], []),
        t('uint8', [1, 2, 3, 4], [2, 2]),
        one,
        t('uint8', [0], []),
        t('float32', [2], []),
        t('uint8', [0], []),
      ],
      {},
      21,
    );
    assert.deepEqual(y.dims, [2]);
    assert.deepEqual(values(y), [35, 50]);
  });

  it('per-column b scale and zero point, saturation to int8', async () => {
    const [y] = await run(
      'QLinearMatMul',
      [
        t('int8', [1, 2, 3, 4], [2, 2]),
        t('float32', [1], []),
        t('int8', [0], []),
        t('int8', [1, 100, 1, 100], [2, 2]),
        t('float32', [1, 2]),
        t('int8', [0, 0]),
        t('float32', [1], []),
        t('int8', [0], []),
      ],
      {},
      10,
    );
    // Columns: [1*1+2*1, 3*1+4*1] * 1 and [300, 700] * 2 saturated.
    assert.deepEqual(values(y), [3, 127, 7, 127]);
  });

  it('rejects mismatched inner dims', async () => {
    const one = t('float32', [1], []);
    const zp = t('uint8', [0], []);
    await rejects(
      run('QLinearMatMul', [
        t('uint8', [1, 2, 3], [1, 3]),
        one,
        zp,
        t('uint8', [1, 2], [2, 1]),
        one,
        zp,
        one,
        zp,
      ]),
      'SHAPE_MISMATCH',
      /inner dims 3 and 2 differ/,
    );
  });
});

describe('QLinearConv', () => {
  const one = t('float32', [1], []);
  const zp = t('uint8', [0], []);

  it('pads, sums a 2x2 kernel', async () => {
    const x = t('uint8', [1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const w = t('uint8', [1, 1, 1, 1], [1, 1, 2, 2]);
    const [y] = await run('QLinearConv', [x, one, zp, w, one, zp, one, zp], { pads: [1, 1, 1, 1] }, 10);
    assert.deepEqual(y.dims, [1, 1, 4, 4]);
    assert.deepEqual(values(y), [1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9]);
  });

  it('groups with per-channel weight scales, and bias', async () => {
    const x = t('uint8', [10, 20], [1, 2, 1, 1]);
    const w = t('uint8', [3, 5], [2, 1, 1, 1]);
    const [y] = await run(
      'QLinearConv',
      [x, one, zp, w, t('float32', [1, 0.5]), t('uint8', [0, 0]), one, zp, t('int32', [1, 2])],
      { group: 2 },
      10,
    );
    assert.deepEqual(values(y), [31, 51]);
  });

  it('SAME_UPPER with stride 2', async () => {
    const x = t('uint8', [1, 2, 3, 4], [1, 1, 1, 4]);
    const w = t('uint8', [1, 1, 1], [1, 1, 1, 3]);
    const [y] = await run(
      'QLinearConv',
      [x, one, zp, w, one, zp, one, zp],
      {
        auto_pad: 'SAME_UPPER',
        strides: [1, 2],
      },
      10,
    );
    assert.deepEqual(y.dims, [1, 1, 1, 2]);
    assert.deepEqual(values(y), [6, 7]);
  });

  it('on the WASM integer GEMM equals the reference: groups, padding, strides, zero points, bias', async () => {
    let seed = 5;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
    const bytes = (type: 'int8' | 'uint8', dims: number[]) => {
      const n = dims.reduce((a, b) => a * b, 1);
      return t(
        type,
        Array.from({ length: n }, () => (type === 'int8' ? (next() << 24) >> 24 : next())),
        dims,
      );
    };
    const cases: [number[], number[], Record<string, number | number[] | string>][] = [
      [[1, 4, 9, 7], [6, 2, 3, 3], { group: 2, pads: [1, 1, 1, 1], strides: [2, 1] }],
      [[2, 3, 5, 6], [4, 3, 2, 2], { auto_pad: 'SAME_LOWER' }],
    ];
    for (const [xd, wd, attrs] of cases) {
      for (const type of ['uint8', 'int8'] as const) {
        const M = wd[0];
        const inputs = [
          bytes(type, xd),
          t('float32', [0.05], []),
          bytes(type, []),
          bytes(type, wd),
          t(
            'float32',
            Array.from({ length: M }, (_, i) => 0.01 + 0.002 * i),
            [M],
          ),
          bytes(type, [M]),
          t('float32', [0.7], []),
          bytes(type, []),
          t(
            'int32',
            Array.from({ length: M }, (_, i) => 100 * i - 150),
            [M],
          ),
        ];
        const saved = setKernelMode('fast');
        const [fast] = await run('QLinearConv', inputs, attrs, 10);
        setKernelMode('reference');
        const [ref] = await run('QLinearConv', inputs, attrs, 10);
        setKernelMode(saved);
        assert.deepEqual(fast.dims, ref.dims);
        assert.deepEqual(values(fast), values(ref), `${type} ${JSON.stringify(attrs)}`);
      }
    }
  });

  it('rejects channel mismatch', async () => {
    await rejects(
      run(
        'QLinearConv',
        [t('uint8', [1, 2], [1, 2, 1, 1]), one, zp, t('uint8', [1], [1, 1, 1, 1]), one, zp, one, zp],
        {},
        10,
      ),
      'SHAPE_MISMATCH',
      /x has 2 channels/,
    );
  });
});
