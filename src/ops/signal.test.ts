import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OnyxError } from '../core/errors.js';
import { DftPlan, ops } from './signal.js';
import { assertClose, bindOps, nums as values, t } from './util/op-test-kit.js';

const { run1: run } = bindOps(ops, { opset: 20 });

const i64 = (v: number) => t('int64', [v], []);
const close = (a: number[], b: number[], eps = 1e-4) => assertClose(a, b, 0, eps);

/** Direct O(n^2) DFT in float64, the oracle for the fast paths. */
function naiveDft(re: number[], im: number[], sign: number): [number[], number[]] {
  const n = re.length;
  const outR: number[] = [];
  const outI: number[] = [];
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const a = (sign * 2 * Math.PI * ((j * k) % n)) / n;
      sr += re[j] * Math.cos(a) - im[j] * Math.sin(a);
      si += re[j] * Math.sin(a) + im[j] * Math.cos(a);
    }
    outR.push(sr);
    outI.push(si);
  }
  return [outR, outI];
}

/** A deterministic pseudo-random signal. */
const signal = (n: number, salt = 1) =>
  Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + salt) * 3 + ((i * 7) % 5));

describe('DftPlan', () => {
  for (const n of [1, 2, 8, 12, 63, 100, 256, 1000]) {
    it(`matches the direct DFT for n = ${n} (both directions)`, () => {
      for (const sign of [-1, 1]) {
        const re = signal(n);
        const im = signal(n, 2);
        const [wr, wi] = naiveDft(re, im, sign);
        const r = Float64Array.from(re);
        const i = Float64Array.from(im);
        new DftPlan(n, sign).run(r, i);
        const err = Math.max(
          ...wr.map((v, k) => Math.abs(v - r[k])),
          ...wi.map((v, k) => Math.abs(v - i[k])),
        );
        assert.ok(err < 1e-8 * n, `max error ${err}`);
      }
    });
  }
});

describe('DFT', () => {
  it('real forward, then complex inverse, round-trips (with zero-padding dft_length)', async () => {
    const x = signal(6);
    const spec = await run('DFT', [t('float64', x, [1, 6, 1]), i64(8)]);
    assert.deepEqual(spec.dims, [1, 8, 2]);
    const back = await run('DFT', [spec, undefined, i64(1)], { inverse: 1 });
    const re = values(back).filter((_, k) => k % 2 === 0);
    close(re, [...x, 0, 0], 1e-9);
  });

  it('onesided forward and the irfft inverse (odd dft_length)', async () => {
    const x = signal(9);
    const half = await run('DFT', [t('float32', x, [1, 9, 1])], { onesided: 1 });
    assert.deepEqual(half.dims, [1, 5, 2]);
    const back = await run('DFT', [half, i64(9)], { onesided: 1, inverse: 1 });
    assert.deepEqual(back.dims, [1, 9, 1]);
    close(values(back), x, 1e-4);
  });

  it('opset 17 axis attribute and a batch axis other than 1', async () => {
    const x = t('float32', [1, 2, 3, 4, 5, 6], [1, 3, 2, 1]);
    const y = await run('DFT', [x], { axis: 2 }, 17);
    assert.deepEqual(y.dims, [1, 3, 2, 2]);
    close(values(y), [3, 0, -1, 0, 7, 0, -1, 0, 11, 0, -1, 0]);
    // Same with opset 20's axis input, counted from the end.
    const y20 = await run('DFT', [x, undefined, i64(-2)]);
    close(values(y20), values(y));
  });

  it('errors: the complex axis, bad last dim, onesided complex input', async () => {
    await assert.rejects(
      run('DFT', [t('float32', [1, 2], [1, 1, 2]), undefined, i64(-1)]),
      /trailing \(re, im\) dim/,
    );
    await assert.rejects(
      run('DFT', [t('float32', [1, 2, 3], [1, 1, 3])]),
      (e: unknown) =>
        e instanceof OnyxError &&
        e.code === 'SHAPE_MISMATCH' &&
        /last dim of 1 \(real\) or 2/.test(e.message),
    );
    await assert.rejects(
      run('DFT', [t('float32', [1, 2], [1, 1, 2])], { onesided: 1 }),
      /needs a real input/,
    );
    await assert.rejects(
      run('DFT', [t('float32', [1, 2], [1, 2, 1]), i64(0)]),
      /dft_length must be a positive integer/,
    );
  });
});

describe('STFT', () => {
  it('frames, windows and transforms each frame', async () => {
    const x = signal(10);
    const window = [0.5, 1, 1, 0.5];
    const y = await run('STFT', [t('float32', x, [1, 10, 1]), i64(3), t('float32', window)], {}, 17);
    // frames = floor((10 - 4) / 3) + 1 = 3; onesided bins = 3.
    assert.deepEqual(y.dims, [1, 3, 3, 2]);
    const frame1 = x.slice(3, 7).map((v, k) => v * window[k]);
    const [re, im] = naiveDft(frame1, [0, 0, 0, 0], -1);
    close(values(y).slice(6, 12), [re[0], im[0], re[1], im[1], re[2], im[2]]);
  });

  it('complex signal, two-sided, frame_length without window', async () => {
    const y = await run(
      'STFT',
      [t('float32', [1, 0, 0, 1, 1, 0], [1, 3, 2]), i64(1), undefined, i64(2)],
      { onesided: 0 },
      17,
    );
    assert.deepEqual(y.dims, [1, 2, 2, 2]);
    close(values(y), [1, 1, 1, -1, 1, 1, -1, 1]);
  });

  it('errors: frame longer than the signal, window/frame_length mismatch', async () => {
    await assert.rejects(
      run('STFT', [t('float32', [1, 2], [1, 2, 1]), i64(1), undefined, i64(4)], {}, 17),
      /exceeds the signal length/,
    );
    await assert.rejects(
      run('STFT', [t('float32', [1, 2, 3], [1, 3, 1]), i64(1), t('float32', [1, 1]), i64(3)], {}, 17),
      /window has 2 values but frame_length is 3/,
    );
  });
});

describe('windows', () => {
  it('Hann periodic and symmetric, output_datatype double', async () => {
    close(values(await run('HannWindow', [t('int32', [4], [])], {}, 17)), [0, 0.5, 1, 0.5], 1e-7);
    const sym = await run('HannWindow', [t('int64', [3], [])], { periodic: 0, output_datatype: 11 }, 17);
    assert.equal(sym.type, 'float64');
    close(values(sym), [0, 1, 0], 1e-12);
  });

  it('Hamming and Blackman coefficients, and size 0', async () => {
    close(values(await run('HammingWindow', [t('int32', [2], [])], {}, 17)), [4 / 46, 1], 1e-7);
    close(values(await run('BlackmanWindow', [t('int32', [2], [])], {}, 17)), [0, 1], 1e-7);
    assert.deepEqual((await run('BlackmanWindow', [t('int32', [0], [])], {}, 17)).dims, [0]);
  });
});

describe('MelWeightMatrix', () => {
  /** num_mel_bins 4, dft_length 64, sample_rate 16000, and the edges. */
  const melInputs = (lo: number, hi: number) => [
    t('int32', [4], []),
    t('int32', [64], []),
    t('int32', [16000], []),
    t('float32', [lo], []),
    t('float32', [hi], []),
  ];

  it('shape [dft_length / 2 + 1, num_mel_bins] with triangles peaking at 1', async () => {
    const m = await run('MelWeightMatrix', melInputs(0, 8000), {}, 17);
    assert.deepEqual(m.dims, [33, 4]);
    const v = values(m);
    for (let c = 0; c < 4; c++) {
      const col = Array.from({ length: 33 }, (_, r) => v[r * 4 + c]);
      assert.equal(Math.max(...col), 1);
      assert.ok(
        col.every((x) => x >= 0 && x <= 1),
        'col.every((x) => x >= 0 && x <= 1)',
      );
    }
  });

  it('rejects lower_edge_hertz above upper_edge_hertz', async () => {
    await assert.rejects(
      run('MelWeightMatrix', melInputs(900, 800), {}, 17),
      /lower_edge_hertz <= upper_edge_hertz/,
    );
  });
});
