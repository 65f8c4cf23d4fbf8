import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMinifloats,
  encodeMinifloatGeneric,
  encodeMinifloats,
  isMinifloat,
  minifloatToNumber,
  numberToMinifloat,
  type E8M0RoundMode,
  type MinifloatType,
} from './float-formats.js';

const ALL: readonly MinifloatType[] = [
  'float16',
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'float4e2m1',
  'float8e8m0',
];
const FLOAT8: readonly MinifloatType[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz'];

const patternCount = (t: MinifloatType): number =>
  t === 'float16' || t === 'bfloat16' ? 65536 : t === 'float4e2m1' ? 16 : 256;

const enc = numberToMinifloat;
const dec = minifloatToNumber;
const hex = (n: number): string => `0x${n.toString(16)}`;

/** A float32 value from its bit pattern (for NaNs with a sign, which JS numbers cannot spell). */
function f32FromBits(bits: number): Float32Array {
  return new Float32Array(new Uint32Array([bits]).buffer);
}

describe('isMinifloat', () => {
  it('accepts exactly the minifloat types', () => {
    for (const t of ALL) assert.ok(isMinifloat(t), 'isMinifloat(t)');
    for (const t of ['float32', 'float64', 'int8', 'uint4', 'float8', ''])
      assert.equal(isMinifloat(t), false);
  });
});

describe('exhaustive round trip', () => {
  for (const t of ALL) {
    it(`${t}: every pattern decodes and re-encodes to itself (NaN stays NaN)`, () => {
      const modes: E8M0RoundMode[] = t === 'float8e8m0' ? ['up', 'down', 'nearest'] : ['up'];
      for (let b = 0; b < patternCount(t); b++) {
        const v = dec(t, b);
        for (const saturate of [true, false]) {
          for (const mode of modes) {
            const back = enc(t, v, saturate, mode);
            // The one exception: with saturate, e5m2's ±inf becomes ±max (Cast table; tested below).
            const want = t === 'float8e5m2' && saturate && !Number.isFinite(v) ? b - 1 : b;
            const msg = `${t} ${hex(b)} = ${v} → ${hex(back)} (saturate=${saturate}, ${mode})`;
            if (Number.isNaN(v)) assert.ok(Number.isNaN(dec(t, back)), msg);
            else assert.equal(back, want, msg);
          }
        }
      }
    });

    it(`${t}: array helpers agree with the scalar functions`, () => {
      const n = patternCount(t);
      const bits = n > 256 ? new Uint16Array(n) : new Uint8Array(n);
      for (let b = 0; b < n; b++) bits[b] = b;
      const values = decodeMinifloats(t, bits);
      for (let b = 0; b < n; b++) assert.ok(Object.is(values[b], Math.fround(dec(t, b))), `${t} ${hex(b)}`);
      const back = encodeMinifloats(t, values, undefined, false);
      assert.equal(back.BYTES_PER_ELEMENT, n > 256 ? 2 : 1);
      for (let b = 0; b < n; b++) {
        if (Number.isNaN(values[b]))
          assert.ok(Number.isNaN(dec(t, back[b])), 'Number.isNaN(dec(t, back[b]))');
        else assert.equal(back[b], b, `${t} ${hex(b)}`);
      }
    });
  }
});

describe('decoding matches the spec formulas', () => {
  // ONNX float8.md / float4.md: exponent ≠ 0: (-1)^S 2^(E-bias) (1 + M/2^m); exponent = 0: (-1)^S 2^(1-bias) M/2^m.
  const layouts: [MinifloatType, number, number, number][] = [
    ['float8e4m3fn', 4, 3, 7],
    ['float8e4m3fnuz', 4, 3, 8],
    ['float8e5m2', 5, 2, 15],
    ['float8e5m2fnuz', 5, 2, 16],
    ['float4e2m1', 2, 1, 1],
  ];
  for (const [t, eb, mb, bias] of layouts) {
    it(t, () => {
      for (let b = 0; b < 1 << (1 + eb + mb); b++) {
        const s = b >> (eb + mb) ? -1 : 1;
        const e = (b >> mb) & ((1 << eb) - 1);
        const m = b & ((1 << mb) - 1);
        const want = e === 0 ? s * 2 ** (1 - bias) * (m / 2 ** mb) : s * 2 ** (e - bias) * (1 + m / 2 ** mb);
        const got = dec(t, b);
        const special =
          (t === 'float8e4m3fn' && (b & 0x7f) === 0x7f) ||
          (t === 'float8e5m2' && (b & 0x7f) >= 0x7c) ||
          (t.endsWith('fnuz') && b === 0x80);
        if (!special) assert.ok(Object.is(got, want), `${t} ${hex(b)}: ${got} vs ${want}`);
      }
    });
  }

  it('float8e8m0 is 2^(bits-127) with 0xFF = NaN', () => {
    for (let b = 0; b < 255; b++) assert.equal(dec('float8e8m0', b), 2 ** (b - 127));
    assert.ok(Number.isNaN(dec('float8e8m0', 0xff)), "Number.isNaN(dec('float8e8m0', 0xff))");
  });
});

describe('known values', () => {
  it('float16', () => {
    assert.equal(dec('float16', 0x3c00), 1);
    assert.equal(dec('float16', 0x7bff), 65504);
    assert.equal(dec('float16', 0x0001), 2 ** -24); // smallest subnormal
    assert.equal(dec('float16', 0x03ff), 1023 * 2 ** -24); // largest subnormal
    assert.equal(dec('float16', 0x0400), 2 ** -14); // smallest normal
    assert.equal(dec('float16', 0xc000), -2);
    assert.equal(dec('float16', 0x7c00), Infinity);
    assert.equal(dec('float16', 0xfc00), -Infinity);
    assert.ok(Object.is(dec('float16', 0x8000), -0), "Object.is(dec('float16', 0x8000), -0)");
    assert.ok(Number.isNaN(dec('float16', 0x7e00)), "Number.isNaN(dec('float16', 0x7e00))");
    assert.ok(Number.isNaN(dec('float16', 0xfc01)), "Number.isNaN(dec('float16', 0xfc01))");
    assert.equal(enc('float16', 0.1), 0x2e66);
    assert.equal(enc('float16', -65504), 0xfbff);
    assert.equal(enc('float16', NaN), 0x7e00);
  });

  it('bfloat16', () => {
    assert.equal(dec('bfloat16', 0x3f80), 1);
    assert.equal(dec('bfloat16', 0x7f7f), (2 - 2 ** -7) * 2 ** 127);
    assert.equal(dec('bfloat16', 0x0001), 2 ** -133);
    assert.equal(dec('bfloat16', 0xff80), -Infinity);
    assert.equal(enc('bfloat16', Math.PI), 0x4049);
    assert.equal(enc('bfloat16', NaN), 0x7fc0);
  });

  it('float8', () => {
    assert.equal(dec('float8e4m3fn', 0x7e), 448);
    assert.equal(dec('float8e4m3fn', 0xfe), -448);
    assert.equal(dec('float8e4m3fn', 0x01), 2 ** -9);
    assert.equal(dec('float8e4m3fn', 0x08), 2 ** -6);
    assert.ok(Number.isNaN(dec('float8e4m3fn', 0x7f)), "Number.isNaN(dec('float8e4m3fn', 0x7f))");
    assert.ok(Number.isNaN(dec('float8e4m3fn', 0xff)), "Number.isNaN(dec('float8e4m3fn', 0xff))");
    assert.equal(dec('float8e4m3fnuz', 0x7f), 240);
    assert.equal(dec('float8e4m3fnuz', 0x01), 2 ** -10);
    assert.ok(Number.isNaN(dec('float8e4m3fnuz', 0x80)), "Number.isNaN(dec('float8e4m3fnuz', 0x80))");
    assert.equal(dec('float8e5m2', 0x7b), 57344);
    assert.equal(dec('float8e5m2', 0x01), 2 ** -16);
    assert.equal(dec('float8e5m2', 0x7c), Infinity);
    assert.equal(dec('float8e5m2', 0xfc), -Infinity);
    for (const b of [0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff])
      assert.ok(Number.isNaN(dec('float8e5m2', b)), "Number.isNaN(dec('float8e5m2', b))");
    assert.equal(dec('float8e5m2fnuz', 0x7f), 57344);
    assert.equal(dec('float8e5m2fnuz', 0x01), 2 ** -17);
    assert.ok(Number.isNaN(dec('float8e5m2fnuz', 0x80)), "Number.isNaN(dec('float8e5m2fnuz', 0x80))");
  });

  it('float4e2m1', () => {
    const positive = [0, 0.5, 1, 1.5, 2, 3, 4, 6];
    for (let b = 0; b < 8; b++) {
      assert.equal(dec('float4e2m1', b), positive[b]);
      assert.ok(
        Object.is(dec('float4e2m1', b | 8), -positive[b]),
        "Object.is(dec('float4e2m1', b | 8), -positive[b])",
      );
    }
    assert.equal(dec('float4e2m1', 0x7), 6);
  });

  it('float8e8m0', () => {
    assert.equal(dec('float8e8m0', 0x7f), 1);
    assert.equal(dec('float8e8m0', 0x00), 2 ** -127);
    assert.equal(dec('float8e8m0', 0xfe), 2 ** 127);
    assert.ok(Number.isNaN(dec('float8e8m0', 0xff)), "Number.isNaN(dec('float8e8m0', 0xff))");
  });
});

describe('round to nearest even', () => {
  it('float16: mantissa ties, subnormal range, subnormal/normal boundary, overflow boundary', () => {
    const u = 2 ** -10; // ulp at 1
    assert.equal(enc('float16', 1 + u / 2), 0x3c00); // tie → even (down)
    assert.equal(enc('float16', 1 + 1.5 * u), 0x3c02); // tie → even (up)
    assert.equal(enc('float16', 1 + u / 2 + 2 ** -20), 0x3c01); // just above the tie
    assert.equal(enc('float16', 2 ** -25), 0x0000); // half the smallest subnormal → 0
    assert.equal(enc('float16', 2 ** -25 * (1 + 2 ** -10)), 0x0001);
    assert.equal(enc('float16', 1.5 * 2 ** -24), 0x0002); // subnormal tie → even
    assert.equal(enc('float16', 2.5 * 2 ** -24), 0x0002);
    assert.equal(enc('float16', 1023.5 * 2 ** -24), 0x0400); // between largest subnormal and smallest normal
    assert.equal(enc('float16', 1022.5 * 2 ** -24), 0x03fe);
    assert.equal(enc('float16', 65519.99), 0x7bff);
    assert.equal(enc('float16', 65520), 0x7c00); // tie between 65504 (odd) and 2^16 → inf
    assert.equal(enc('float16', -65520), 0xfc00);
    assert.ok(
      Object.is(dec('float16', enc('float16', -1e-10)), -0),
      "Object.is(dec('float16', enc('float16', -1e-10)), -0)",
    );
  });

  it('bfloat16: ties and the overflow boundary (RNE, as the ONNX Cast conformance data expects)', () => {
    assert.equal(enc('bfloat16', 1 + 2 ** -8), 0x3f80);
    assert.equal(enc('bfloat16', 1 + 3 * 2 ** -8), 0x3f82);
    assert.equal(enc('bfloat16', 1 + 2 ** -8 + 2 ** -20), 0x3f81);
    // test_cast_FLOAT_to_BFLOAT16 inputs whose truncation and rounding differ:
    assert.equal(enc('bfloat16', 0.48033667), 0x3ef6);
    assert.equal(enc('bfloat16', 0.49968487), 0x3f00);
    assert.equal(enc('bfloat16', (2 - 2 ** -8) * 2 ** 127), 0x7f80); // tie above max (odd) → inf
    assert.equal(enc('bfloat16', (2 - 2 ** -8 - 2 ** -20) * 2 ** 127), 0x7f7f);
    assert.equal(enc('bfloat16', 2 ** -134), 0x0000); // half the smallest subnormal → 0
    assert.equal(enc('bfloat16', 3 * 2 ** -134), 0x0002);
  });

  it('float8e4m3fn', () => {
    assert.equal(enc('float8e4m3fn', 1 + 1 / 16), 0x38); // tie → even
    assert.equal(enc('float8e4m3fn', 1 + 3 / 16), 0x3a);
    assert.equal(enc('float8e4m3fn', 2 ** -10), 0x00); // half the smallest subnormal
    assert.equal(enc('float8e4m3fn', 3 * 2 ** -10), 0x02);
    assert.equal(enc('float8e4m3fn', 7.5 * 2 ** -9), 0x08); // subnormal/normal boundary → even (normal)
    // 464 is the tie between 448 (0x7E, even) and 480 (would be 0x7F): it rounds to 448 and never overflows.
    assert.equal(enc('float8e4m3fn', 464, false), 0x7e);
    assert.equal(enc('float8e4m3fn', 464.5, false), 0x7f);
    assert.equal(enc('float8e4m3fn', 464.5, true), 0x7e);
  });

  it('float8e4m3fnuz: 248 is a tie that rounds up past the maximum 240 (odd mantissa)', () => {
    assert.equal(enc('float8e4m3fnuz', 247.99), 0x7f);
    assert.equal(enc('float8e4m3fnuz', 247.99, false), 0x7f);
    assert.equal(enc('float8e4m3fnuz', 248, true), 0x7f);
    assert.equal(enc('float8e4m3fnuz', 248, false), 0x80);
    assert.equal(enc('float8e4m3fnuz', -248, false), 0x80);
    assert.equal(enc('float8e4m3fnuz', -248, true), 0xff);
  });

  it('float8e5m2 and float8e5m2fnuz at the overflow boundary (61440 = tie above 57344)', () => {
    assert.equal(enc('float8e5m2', 61439), 0x7b);
    assert.equal(enc('float8e5m2', 61440, true), 0x7b);
    assert.equal(enc('float8e5m2', 61440, false), 0x7c);
    assert.equal(enc('float8e5m2', -61440, false), 0xfc);
    assert.equal(enc('float8e5m2fnuz', 61440, true), 0x7f);
    assert.equal(enc('float8e5m2fnuz', 61440, false), 0x80);
    assert.equal(enc('float8e5m2', 1.125), 0x3c); // tie → even
    assert.equal(enc('float8e5m2', 1.375), 0x3e);
    assert.equal(enc('float8e5m2', 2 ** -17), 0x00);
    assert.equal(enc('float8e5m2', 3 * 2 ** -17), 0x02);
  });

  it('float4e2m1: the ties of ONNX float4.md', () => {
    const cases: [number, number][] = [
      [0.25, 0x0],
      [0.2500001, 0x1],
      [0.75, 0x2],
      [1.25, 0x2],
      [1.75, 0x4],
      [2.5, 0x4],
      [3.5, 0x6],
      [5, 0x6],
      [5.0001, 0x7],
      [-5, 0xe],
      [-3.5, 0xe],
    ];
    for (const [v, b] of cases) assert.equal(enc('float4e2m1', v), b, `${v}`);
  });
});

describe('saturation (ONNX Cast tables)', () => {
  // Rows Inf, -Inf, x > max, x < -max of the saturate=true and saturate=false tables.
  const expected: Record<string, { sat: number[]; nosat: number[] }> = {
    float8e4m3fn: { sat: [0x7e, 0xfe, 0x7e, 0xfe], nosat: [0x7f, 0xff, 0x7f, 0xff] },
    float8e4m3fnuz: { sat: [0x7f, 0xff, 0x7f, 0xff], nosat: [0x80, 0x80, 0x80, 0x80] },
    float8e5m2: { sat: [0x7b, 0xfb, 0x7b, 0xfb], nosat: [0x7c, 0xfc, 0x7c, 0xfc] },
    float8e5m2fnuz: { sat: [0x7f, 0xff, 0x7f, 0xff], nosat: [0x80, 0x80, 0x80, 0x80] },
  };
  for (const t of FLOAT8) {
    it(t, () => {
      const inputs = [Infinity, -Infinity, 1e6, -1e6];
      assert.deepEqual(
        inputs.map((v) => enc(t, v)),
        expected[t].sat,
      );
      assert.deepEqual(
        inputs.map((v) => enc(t, v, false)),
        expected[t].nosat,
      );
      for (const saturate of [true, false])
        assert.ok(Number.isNaN(dec(t, enc(t, NaN, saturate))), 'Number.isNaN(dec(t, enc(t, NaN, saturate)))');
    });
  }

  it('NaN keeps its sign where the format has a signed NaN', () => {
    const negNaN = f32FromBits(0xffc00000);
    assert.equal(encodeMinifloats('float8e4m3fn', negNaN)[0], 0xff);
    assert.equal(encodeMinifloats('float8e4m3fnuz', negNaN)[0], 0x80);
    assert.equal(encodeMinifloats('float8e5m2', negNaN)[0], 0xfe);
    assert.equal(encodeMinifloats('float16', negNaN)[0], 0xfe00);
    assert.equal(encodeMinifloats('bfloat16', negNaN)[0], 0xffc0);
  });

  it('float16 and bfloat16 ignore saturate: overflow is ±inf', () => {
    for (const saturate of [true, false]) {
      assert.equal(enc('float16', 1e6, saturate), 0x7c00);
      assert.equal(enc('float16', -Infinity, saturate), 0xfc00);
      assert.equal(enc('bfloat16', 1e39, saturate), 0x7f80);
    }
  });

  it('float4e2m1 always saturates; NaN becomes 0x8 (the ONNX reference / 1.23 test data)', () => {
    for (const saturate of [true, false]) {
      assert.equal(enc('float4e2m1', Infinity, saturate), 0x7);
      assert.equal(enc('float4e2m1', -Infinity, saturate), 0xf);
      assert.equal(enc('float4e2m1', 1e6, saturate), 0x7);
      assert.equal(enc('float4e2m1', -7, saturate), 0xf);
      assert.equal(enc('float4e2m1', NaN, saturate), 0x8);
      assert.equal(encodeMinifloats('float4e2m1', f32FromBits(0xffc00000), undefined, saturate)[0], 0x8);
    }
  });
});

describe('signed zero', () => {
  it('fnuz formats have no -0: -0 and tiny negatives encode as +0', () => {
    for (const t of ['float8e4m3fnuz', 'float8e5m2fnuz'] as const) {
      assert.equal(enc(t, -0), 0x00);
      assert.equal(enc(t, -1e-7), 0x00);
      assert.equal(enc(t, 0), 0x00);
    }
  });

  it('other formats keep the sign of zero', () => {
    assert.equal(enc('float8e4m3fn', -0), 0x80);
    assert.equal(enc('float8e4m3fn', -1e-7), 0x80);
    assert.equal(enc('float8e5m2', -0), 0x80);
    assert.equal(enc('float16', -0), 0x8000);
    assert.equal(enc('bfloat16', -0), 0x8000);
    assert.equal(enc('float4e2m1', -0), 0x8);
    assert.equal(enc('float4e2m1', -0.1), 0x8);
    assert.ok(Object.is(dec('float8e4m3fn', 0x80), -0), "Object.is(dec('float8e4m3fn', 0x80), -0)");
    assert.ok(Object.is(dec('float4e2m1', 0x8), -0), "Object.is(dec('float4e2m1', 0x8), -0)");
  });
});

describe('float8e8m0 rounding modes', () => {
  it('matches the ONNX reference on the conformance inputs (round_mode=up)', () => {
    // test_cast_e8m0_FLOAT_to_FLOAT8E8M0: 0.124 → 2^-3, 1.1 → 2^1 (any fraction rounds up).
    const xs = [0, 0.124, 0.25, 0.5, 1.1, 2, 4, 8];
    assert.deepEqual(
      Array.from(encodeMinifloats('float8e8m0', new Float32Array(xs))),
      [0x00, 0x7c, 0x7d, 0x7e, 0x80, 0x80, 0x81, 0x82],
    );
  });

  it('up / down / nearest', () => {
    const cases: [number, number, number, number][] = [
      // value, up, down, nearest
      [1, 0x7f, 0x7f, 0x7f],
      [1.1, 0x80, 0x7f, 0x7f],
      [1.49, 0x80, 0x7f, 0x7f],
      [1.5, 0x80, 0x7f, 0x80], // tie goes up
      [1.9, 0x80, 0x7f, 0x80],
      [0.124, 0x7c, 0x7b, 0x7c],
      [2 ** -127, 0x00, 0x00, 0x00], // a float32 subnormal, exactly representable
      [1.5 * 2 ** -127, 0x01, 0x00, 0x01],
      [1.25 * 2 ** -127, 0x01, 0x00, 0x00],
    ];
    for (const [v, up, down, nearest] of cases) {
      assert.equal(enc('float8e8m0', v, true, 'up'), up, `${v} up`);
      assert.equal(enc('float8e8m0', v, true, 'down'), down, `${v} down`);
      assert.equal(enc('float8e8m0', v, true, 'nearest'), nearest, `${v} nearest`);
    }
  });

  it('special values per the Cast e8m0 table', () => {
    assert.equal(enc('float8e8m0', NaN), 0xff);
    assert.equal(enc('float8e8m0', NaN, false), 0xff);
    assert.equal(enc('float8e8m0', Infinity), 0xfe);
    assert.equal(enc('float8e8m0', Infinity, false), 0xff);
    assert.equal(enc('float8e8m0', 0), 0x00);
    assert.equal(enc('float8e8m0', 0, false, 'nearest'), 0xff);
    assert.equal(enc('float8e8m0', 1.5 * 2 ** 127), 0xfe); // rounds up past 2^127: saturates
    assert.equal(enc('float8e8m0', 1.5 * 2 ** 127, false), 0xff);
    assert.equal(enc('float8e8m0', 1.5 * 2 ** 127, false, 'down'), 0xfe);
    assert.equal(enc('float8e8m0', 2 ** -140, true, 'down'), 0x00); // below 2^-127: saturates
    assert.equal(enc('float8e8m0', 2 ** -140, false, 'down'), 0xff);
    // Range is judged after rounding with an unbounded exponent (like the float8 tables' [x]):
    assert.equal(enc('float8e8m0', 2 ** -140, false, 'up'), 0xff); // 2^-140 is exact, so still out of range
    assert.equal(enc('float8e8m0', 0.75 * 2 ** -127, false, 'up'), 0x00); // rounds up into range
    assert.equal(enc('float8e8m0', 0.75 * 2 ** -127, false, 'nearest'), 0x00); // 1.5·2^-128: tie goes up
    assert.equal(enc('float8e8m0', 0.75 * 2 ** -127, false, 'down'), 0xff);
  });

  it('rejects an unknown round mode', () => {
    assert.throws(() => enc('float8e8m0', 1, true, 'zero' as E8M0RoundMode), RangeError);
    assert.throws(
      () => encodeMinifloats('float8e8m0', [1], undefined, true, 'x' as E8M0RoundMode),
      RangeError,
    );
  });
});

describe('hand-computed conversions', () => {
  it('0.47892547 (first Cast conformance input)', () => {
    // = 1.9157… · 2^-2. e4m3fn: 1.9157·8 = 15.33 → 15 → exponent 5, mantissa 111 → 0x2F (0.46875).
    assert.equal(enc('float8e4m3fn', 0.47892547), 0x2f);
    // e4m3fnuz: same significand, bias 8 → exponent 6 → 0x37.
    assert.equal(enc('float8e4m3fnuz', 0.47892547), 0x37);
    // e5m2: 1.9157·4 = 7.66 → 8: the carry makes it 2^-1 → exponent 14, mantissa 00 → 0x38.
    assert.equal(enc('float8e5m2', 0.47892547), 0x38);
    assert.equal(enc('float8e5m2fnuz', 0.47892547), 0x3c);
    // float4: nearest of {0, 0.5} is 0.5 → 0x1.
    assert.equal(enc('float4e2m1', 0.47892547), 0x1);
  });

  it('-3.5 and 1e-7', () => {
    // -3.5 = -1.75·2^1: e4m3fn exponent 8, mantissa 110 → 0xC6; float4 tie between 3 and 4 → 4 (even) → 0xE.
    assert.equal(enc('float8e4m3fn', -3.5), 0xc6);
    assert.equal(enc('float4e2m1', -3.5), 0xe);
    // 1e-7 is far below half of e4m3fn's smallest subnormal (2^-10) → 0; float16: 1e-7·2^24 = 1.68 → 0x0002.
    assert.equal(enc('float8e4m3fn', 1e-7), 0x00);
    assert.equal(enc('float16', 1e-7), 0x0002);
  });
});

describe('float64 inputs are rounded once, not twice', () => {
  it('a value just above a float16 tie rounds up even though its float32 rounding lands on the tie', () => {
    const v = 1 + 2 ** -11 + 2 ** -40;
    assert.equal(Math.fround(v), 1 + 2 ** -11); // float32 alone would lose the sticky bit
    assert.equal(enc('float16', v), 0x3c01);
    assert.equal(encodeMinifloats('float16', new Float64Array([v]))[0], 0x3c01);
    assert.equal(enc('float16', 1 + 2 ** -11 - 2 ** -40), 0x3c00);
    assert.equal(enc('bfloat16', 1 + 2 ** -8 + 2 ** -40), 0x3f81);
    assert.equal(enc('float8e4m3fn', 1 + 2 ** -4 + 2 ** -40), 0x39);
  });

  it('values beyond the float32 range', () => {
    assert.equal(enc('bfloat16', 1e39), 0x7f80);
    assert.equal(enc('float8e4m3fn', 1e300), 0x7e);
    assert.equal(enc('float8e5m2', -1e300, false), 0xfc);
    assert.equal(enc('float8e8m0', 1e300), 0xfe);
    assert.equal(enc('float16', 1e-50), 0x0000);
    assert.equal(enc('float8e4m3fn', -1e-50), 0x80);
    assert.equal(enc('float8e8m0', 1e-50, true, 'up'), 0x00);
  });
});

describe('specialised float16/bfloat16 encoders agree with the generic codec', () => {
  /** Float32 bit patterns: a stride over all 2^32, plus ±1 ulp around every float16/bfloat16 value and midpoint. */
  function probes(): Float32Array {
    const bits: number[] = [];
    for (let b = 0; b < 2 ** 32; b += 40961) bits.push(b);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let h = 0; h < 0x10000; h++) {
      for (const t of ['float16', 'bfloat16'] as const) {
        const v = dec(t, h);
        const w = dec(t, h + 1 < 0x10000 ? h + 1 : h);
        for (const x of [v, (v + w) / 2]) {
          f[0] = x;
          const c = u[0];
          bits.push(c, (c + 1) >>> 0, (c - 1) >>> 0);
        }
      }
    }
    return new Float32Array(new Uint32Array(bits).buffer);
  }
  const xs = probes();
  for (const t of ['float16', 'bfloat16'] as const) {
    it(t, () => {
      const fast = encodeMinifloats(t, xs);
      const viaNumbers = encodeMinifloats(t, Array.from(xs));
      for (let i = 0; i < xs.length; i++) {
        const generic = encodeMinifloatGeneric(t, xs[i]);
        if (Number.isNaN(xs[i])) {
          assert.ok(
            Number.isNaN(dec(t, fast[i])) && Number.isNaN(dec(t, generic)),
            'Number.isNaN(dec(t, fast[i])) && Number.isNaN(dec(t, generic))',
          );
        } else {
          assert.equal(fast[i], generic, `${t} ${xs[i]}: fast ${hex(fast[i])} generic ${hex(generic)}`);
          assert.equal(viaNumbers[i], generic);
        }
      }
    });
  }
});

describe('array helpers', () => {
  it('write into a given output and return it', () => {
    const out = new Uint8Array(4);
    const res = encodeMinifloats('float8e4m3fn', [1, 2, 448, 1e9], out, false);
    assert.equal(res, out);
    assert.deepEqual(Array.from(out), [0x38, 0x40, 0x7e, 0x7f]);
    const f = new Float32Array(4);
    assert.equal(decodeMinifloats('float8e4m3fn', out, f), f);
    assert.ok(Number.isNaN(f[3]), 'Number.isNaN(f[3])');
    assert.deepEqual(Array.from(f.subarray(0, 3)), [1, 2, 448]);
  });

  it('read a Float32Array view with a byte offset', () => {
    const base = new Float32Array([9, 1, 0.5, -2]);
    const view = base.subarray(1);
    assert.deepEqual(Array.from(encodeMinifloats('float16', view)), [0x3c00, 0x3800, 0xc000]);
    assert.deepEqual(Array.from(encodeMinifloats('bfloat16', view)), [0x3f80, 0x3f00, 0xc000]);
    assert.deepEqual(Array.from(encodeMinifloats('float4e2m1', view)), [0x2, 0x1, 0xc]);
  });

  it('decode bfloat16 into a Float32Array view with a byte offset', () => {
    const out = new Float32Array(3);
    decodeMinifloats('bfloat16', new Uint16Array([0x4049]), out.subarray(1, 2));
    assert.deepEqual(Array.from(out), [0, Math.fround(3.140625), 0]);
  });

  it('float4 decoding uses only the low nibble', () => {
    assert.deepEqual(Array.from(decodeMinifloats('float4e2m1', new Uint8Array([0xf7, 0x19]))), [6, -0.5]);
  });

  it('reject the wrong storage width and short outputs', () => {
    assert.throws(() => decodeMinifloats('float16', new Uint8Array(2)), TypeError);
    assert.throws(() => encodeMinifloats('float8e5m2', [1], new Uint16Array(1)), TypeError);
    assert.throws(() => encodeMinifloats('float16', [1, 2], new Uint16Array(1)), RangeError);
    assert.throws(() => decodeMinifloats('float8e5m2', new Uint8Array(3), new Float32Array(2)), RangeError);
  });

  it('reject unknown types', () => {
    assert.throws(() => enc('float32' as MinifloatType, 1), TypeError);
    assert.throws(() => dec('int4' as MinifloatType, 1), TypeError);
  });
});
