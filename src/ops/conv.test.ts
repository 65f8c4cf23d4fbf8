import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../core/tensor.js';
import { InferenceSession } from '../index.js';
import { buildModel } from '../../test/helpers/build-model.js';
import type { OnyxError } from '../core/errors.js';
import { convTuning, ops } from './conv.js';
import {
  assertClose,
  describeKernelModes,
  opRunner,
  randomFloats,
  type AttrLike,
} from './util/op-test-kit.js';
import { numbersOf } from './util/numeric.js';
import { setKernelMode } from './util/dispatch.js';

const run = opRunner(ops);
const f32 = (data: ArrayLike<number>, dims: number[]) => new Tensor('float32', Float32Array.from(data), dims);
const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);

interface Geo {
  strides: number[];
  dil: number[];
  padB: number[];
  padE: number[];
  group: number;
}

/** Reference convolution straight from the definition (any rank), float64. */
function naiveConv(x: Tensor, w: Tensor, b: Tensor | undefined, g: Geo): { dims: number[]; data: number[] } {
  const X = numbersOf(x);
  const W = numbersOf(w);
  const [N, C, ...sp] = x.dims;
  const [M, Cg, ...k] = w.dims;
  const n = sp.length;
  const out = sp.map(
    (s, i) => Math.floor((s + g.padB[i] + g.padE[i] - g.dil[i] * (k[i] - 1) - 1) / g.strides[i]) + 1,
  );
  const Mg = M / g.group;
  const res: number[] = [];
  const oIdx = new Array<number>(n).fill(0);
  for (let img = 0; img < N; img++) {
    for (let m = 0; m < M; m++) {
      const grp = Math.floor(m / Mg);
      for (let p = 0; p < prod(out); p++) {
        let r = p;
        for (let i = n - 1; i >= 0; i--) {
          oIdx[i] = r % out[i];
          r = Math.floor(r / out[i]);
        }
        let s = b ? numbersOf(b)[m] : 0;
        for (let c = 0; c < Cg; c++) {
          for (let kk = 0; kk < prod(k); kk++) {
            let kr = kk;
            let xOff = img * C + grp * Cg + c;
            let ok = true;
            const kIdx = new Array<number>(n);
            for (let i = n - 1; i >= 0; i--) {
              kIdx[i] = kr % k[i];
              kr = Math.floor(kr / k[i]);
            }
            for (let i = 0; i < n; i++) {
              const ii = oIdx[i] * g.strides[i] - g.padB[i] + kIdx[i] * g.dil[i];
              if (ii < 0 || ii >= sp[i]) ok = false;
              xOff = xOff * sp[i] + ii;
            }
            if (ok) s += X[xOff] * W[(m * Cg + c) * prod(k) + kk];
          }
        }
        res.push(s);
      }
    }
  }
  return { dims: [N, M, ...out], data: res };
}

describeKernelModes(() => {
  describe('Conv against the naive reference', () => {
    const configs: { x: number[]; w: number[]; g: Geo; label: string }[] = [
      {
        label: '1x1 pointwise fast path',
        x: [2, 5, 7, 6],
        w: [3, 5, 1, 1],
        g: geo(2, 1, 1, [0, 0], [0, 0], 1),
      },
      { label: '1x1 strided (im2col)', x: [1, 4, 7, 7], w: [6, 4, 1, 1], g: geo(2, 2, 1, [0, 0], [0, 0], 1) },
      { label: '3x3 pad 1', x: [1, 3, 9, 11], w: [5, 3, 3, 3], g: geo(2, 1, 1, [1, 1], [1, 1], 1) },
      {
        // Rows of two whole panels: both row edges read masked windows, the image's first and
        // last ones lane by lane.
        label: '3x3 pad 1, rows a multiple of the panel width',
        x: [2, 2, 6, 16],
        w: [3, 2, 3, 3],
        g: geo(2, 1, 1, [1, 1], [1, 1], 1),
      },
      {
        label: 'asymmetric pads, strides 2x3',
        x: [2, 2, 10, 9],
        w: [3, 2, 3, 2],
        g: geo(2, [2, 3], 1, [1, 0], [2, 1], 1),
      },
      { label: 'dilations', x: [1, 2, 12, 12], w: [4, 2, 3, 3], g: geo(2, 1, [2, 3], [2, 1], [0, 3], 1) },
      { label: 'groups', x: [1, 6, 8, 8], w: [9, 2, 3, 3], g: geo(2, 1, 1, [1, 1], [1, 1], 3) },
      { label: 'depthwise', x: [2, 4, 9, 8], w: [4, 1, 3, 3], g: geo(2, [2, 1], 1, [1, 1], [1, 1], 4) },
      {
        label: 'depthwise multiplier 2, dilated',
        x: [1, 3, 9, 9],
        w: [6, 1, 3, 3],
        g: geo(2, 1, 2, [2, 2], [2, 2], 3),
      },
      { label: '1-D', x: [2, 3, 17], w: [4, 3, 5], g: geo(1, 2, 1, [2], [1], 1) },
      { label: '1-D depthwise', x: [1, 3, 17], w: [3, 1, 4], g: geo(1, 1, 2, [0], [3], 3) },
      {
        label: '3-D',
        x: [1, 2, 5, 6, 4],
        w: [3, 2, 2, 3, 2],
        g: geo(3, [1, 2, 1], 1, [0, 1, 1], [1, 1, 0], 1),
      },
      {
        label: 'K above one K block (blocked gemm)',
        x: [1, 30, 6, 20],
        w: [20, 30, 3, 3],
        g: geo(2, 1, 1, [1, 1], [1, 1], 1),
      },
      {
        // Rows of eight or more outputs inside the image: the SIMD im2col gather at stride 2.
        label: 'stride 2, 3×3, wide rows',
        x: [1, 3, 37, 41],
        w: [5, 3, 3, 3],
        g: geo(2, 2, 1, [1, 1], [1, 1], 1),
      },
      {
        label: 'stride 2, 7×7, pad 3',
        x: [1, 3, 40, 45],
        w: [4, 3, 7, 7],
        g: geo(2, 2, 1, [3, 3], [3, 3], 1),
      },
      {
        label: 'kernel larger than input with padding',
        x: [1, 1, 2, 2],
        w: [1, 1, 3, 3],
        g: geo(2, 1, 1, [1, 1], [1, 1], 1),
      },
    ];
    configs.forEach((c, ci) => {
      it(c.label, async () => {
        const x = f32(randomFloats(prod(c.x), 10 + ci), c.x);
        const w = f32(randomFloats(prod(c.w), 50 + ci), c.w);
        const b = f32(randomFloats(c.w[0], 90 + ci), [c.w[0]]);
        const attrs: Record<string, AttrLike> = {
          strides: c.g.strides,
          dilations: c.g.dil,
          pads: [...c.g.padB, ...c.g.padE],
          group: c.g.group,
        };
        const [y] = (await run('Conv', [x, w, b], { attrs })) as Tensor[];
        const ref = naiveConv(x, w, b, c.g);
        assert.deepEqual(y.dims, ref.dims);
        assertClose(numbersOf(y), ref.data, 1e-4, 1e-4, c.label);
      });
    });

    it('chunked im2col gives the same result as one chunk', async () => {
      const x = f32(randomFloats(2 * 3 * 11 * 9, 31), [2, 3, 11, 9]);
      const w = f32(randomFloats(4 * 3 * 3 * 3, 32), [4, 3, 3, 3]);
      const attrs = { pads: [1, 2, 0, 1], strides: [2, 1] };
      const saved = convTuning.chunkElements;
      try {
        for (const chunk of [1, 27 * 9 * 2, 27 * 9 * 3 + 5]) {
          convTuning.chunkElements = chunk;
          const [y] = (await run('Conv', [x, w], { attrs })) as Tensor[];
          assertClose(
            numbersOf(y),
            naiveConv(x, w, undefined, geo(2, [2, 1], 1, [1, 2], [0, 1], 1)).data,
            1e-4,
            1e-5,
          );
        }
      } finally {
        convTuning.chunkElements = saved;
      }
    });

    it('auto_pad SAME_UPPER / SAME_LOWER / VALID', async () => {
      const x = f32(randomFloats(1 * 2 * 7 * 8, 3), [1, 2, 7, 8]);
      const w = f32(randomFloats(3 * 2 * 4 * 3, 4), [3, 2, 4, 3]);
      // in 7, k 4, s 2 → out 4, total pad 3: UPPER puts 1 before / 2 after, LOWER 2 before / 1 after.
      for (const [mode, padB, padE] of [
        ['SAME_UPPER', [1, 0], [2, 1]],
        ['SAME_LOWER', [2, 1], [1, 0]],
        ['VALID', [0, 0], [0, 0]],
      ] as const) {
        const [y] = (await run('Conv', [x, w], { attrs: { auto_pad: mode, strides: [2, 2] } })) as Tensor[];
        const ref = naiveConv(x, w, undefined, geo(2, 2, 1, [...padB], [...padE], 1));
        assert.deepEqual(y.dims, ref.dims, mode);
        assertClose(numbersOf(y), ref.data, 1e-4, 1e-5, mode);
      }
    });

    it('computes float64 and float16 inputs', async () => {
      const x = new Tensor('float64', Float64Array.from(randomFloats(2 * 5 * 5, 1)), [1, 2, 5, 5]);
      const w = new Tensor('float64', Float64Array.from(randomFloats(2 * 2 * 3 * 3, 2)), [2, 2, 3, 3]);
      const [y] = (await run('Conv', [x, w], { attrs: { pads: [1, 1, 1, 1] } })) as Tensor[];
      assert.equal(y.type, 'float64');
      assertClose(
        numbersOf(y),
        naiveConv(x, w, undefined, geo(2, 1, 1, [1, 1], [1, 1], 1)).data,
        1e-12,
        1e-12,
      );
      const h = new Tensor('float16', new Uint16Array(4).fill(0x3c00), [1, 1, 2, 2]);
      const [yh] = (await run('Conv', [h, h])) as Tensor[];
      assert.equal(yh.type, 'float16');
      assert.deepEqual([...numbersOf(yh)], [4]);
    });

    it('handles an empty batch', async () => {
      const [y] = (await run('Conv', [
        f32([], [0, 2, 3, 3]),
        f32(randomFloats(8, 1), [1, 2, 2, 2]),
      ])) as Tensor[];
      assert.deepEqual(y.dims, [0, 1, 2, 2]);
    });

    it('explains shape errors', async () => {
      const x = f32(randomFloats(2 * 9, 1), [1, 2, 3, 3]);
      await assert.rejects(
        run('Conv', [x, f32(randomFloats(9, 1), [1, 1, 3, 3])]),
        (e: OnyxError) => e.code === 'SHAPE_MISMATCH' && /group=1/.test(e.message),
      );
      await assert.rejects(
        run('Conv', [x, f32(randomFloats(18, 1), [1, 2, 3, 3]), f32([1, 2], [2])]),
        /bias B must be \[1\]/,
      );
      await assert.rejects(
        run('Conv', [x, f32(randomFloats(18, 1), [1, 2, 3, 3])], { attrs: { pads: [1, 1] } }),
        /pads has 2/,
      );
      await assert.rejects(
        run('Conv', [x, f32(randomFloats(18, 1), [1, 2, 3, 3])], { attrs: { auto_pad: 'SAME' } }),
        /auto_pad/,
      );
      await assert.rejects(run('Conv', [f32([1, 2], [2]), f32([1], [1])]), /\[N, C, spatial/);
    });
  });

  function geo(
    n: number,
    s: number | number[],
    d: number | number[],
    padB: number[],
    padE: number[],
    group: number,
  ): Geo {
    const arr = (v: number | number[]) => (Array.isArray(v) ? v : new Array<number>(n).fill(v));
    return { strides: arr(s), dil: arr(d), padB, padE, group };
  }

  /** Reference transposed convolution: scatter every input element through the kernel. */
  function naiveConvTranspose(
    x: Tensor,
    w: Tensor,
    strides: number[],
    dil: number[],
    padB: number[],
    out: number[],
    group: number,
  ): number[] {
    const X = numbersOf(x);
    const W = numbersOf(w);
    const [N, C, ...sp] = x.dims;
    const [, Mg, ...k] = w.dims;
    const M = Mg * group;
    const Cg = C / group;
    const n = sp.length;
    const Y = new Array<number>(N * M * prod(out)).fill(0);
    for (let img = 0; img < N; img++) {
      for (let c = 0; c < C; c++) {
        const grp = Math.floor(c / Cg);
        for (let p = 0; p < prod(sp); p++) {
          const iIdx = unravel(p, sp);
          for (let m = 0; m < Mg; m++) {
            for (let kk = 0; kk < prod(k); kk++) {
              const kIdx = unravel(kk, k);
              let off = img * M + grp * Mg + m;
              let ok = true;
              for (let i = 0; i < n; i++) {
                const o = iIdx[i] * strides[i] - padB[i] + kIdx[i] * dil[i];
                if (o < 0 || o >= out[i]) ok = false;
                off = off * out[i] + o;
              }
              if (ok) Y[off] += X[(img * C + c) * prod(sp) + p] * W[(c * Mg + m) * prod(k) + kk];
            }
          }
        }
      }
    }
    return Y;
  }

  function unravel(p: number, dims: number[]): number[] {
    const r = new Array<number>(dims.length);
    for (let i = dims.length - 1; i >= 0; i--) {
      r[i] = p % dims[i];
      p = Math.floor(p / dims[i]);
    }
    return r;
  }

  describe('ConvTranspose against the naive reference', () => {
    it('strides, dilations, pads, output_padding and groups (2-D)', async () => {
      const x = f32(randomFloats(2 * 4 * 3 * 4, 5), [2, 4, 3, 4]);
      const w = f32(randomFloats(4 * 3 * 3 * 2, 6), [4, 3, 3, 2]);
      const attrs = {
        strides: [2, 3],
        dilations: [1, 2],
        pads: [1, 0, 0, 2],
        output_padding: [1, 0],
        group: 2,
      };
      const [y] = (await run('ConvTranspose', [x, w], { attrs })) as Tensor[];
      // out = s(in−1) + op + (k−1)d + 1 − pads
      const out = [2 * 2 + 1 + 2 + 1 - 1, 3 * 3 + 0 + 2 + 1 - 2];
      assert.deepEqual(y.dims, [2, 6, ...out]);
      assertClose(numbersOf(y), naiveConvTranspose(x, w, [2, 3], [1, 2], [1, 0], out, 2), 1e-4, 1e-5);
    });

    it('1-D with output_shape and auto_pad SAME_UPPER', async () => {
      const x = f32(randomFloats(1 * 2 * 5, 7), [1, 2, 5]);
      const w = f32(randomFloats(2 * 1 * 3, 8), [2, 1, 3]);
      const [y] = (await run('ConvTranspose', [x, w], {
        attrs: { strides: [2], auto_pad: 'SAME_UPPER' },
      })) as Tensor[];
      assert.deepEqual(y.dims, [1, 1, 10]);
      // total padding = 2·4 + 3 − 10 = 1 → 0 before (SAME_UPPER puts the odd one at the end).
      assertClose(numbersOf(y), naiveConvTranspose(x, w, [2], [1], [0], [10], 1), 1e-4, 1e-5);
      const [z] = (await run('ConvTranspose', [x, w], {
        attrs: { strides: [2], output_shape: [12] },
      })) as Tensor[];
      assert.deepEqual(z.dims, [1, 1, 12]);
      assertClose(numbersOf(z), naiveConvTranspose(x, w, [2], [1], [0], [12], 1), 1e-4, 1e-5);
    });

    it('rejects weights that do not match the channels', async () => {
      await assert.rejects(
        run('ConvTranspose', [f32(randomFloats(8, 1), [1, 2, 2, 2]), f32(randomFloats(9, 1), [1, 1, 3, 3])]),
        /must be \[C, M\/group/,
      );
    });
  });

  describe('ConvInteger', () => {
    it('subtracts zero points (padding acts as the zero point)', async () => {
      const x = new Tensor('uint8', Uint8Array.from([2, 3, 4, 5]), [1, 1, 2, 2]);
      const w = new Tensor('uint8', Uint8Array.from([1, 1, 1, 1]), [1, 1, 2, 2]);
      const xzp = new Tensor('uint8', Uint8Array.from([1]), []);
      const [y] = (await run('ConvInteger', [x, w, xzp], {
        opset: 10,
        attrs: { pads: [1, 1, 0, 0] },
      })) as Tensor[];
      assert.equal(y.type, 'int32');
      // x − 1 = [[1, 2], [3, 4]] padded with zeros on top/left.
      assert.deepEqual([...(y.data as Int32Array)], [1, 3, 4, 10]);
    });

    it('on the WASM integer GEMM equals the reference: groups, padding, strides, dilations, 1-D, 3-D', async () => {
      const cases: { x: number[]; w: number[]; attrs: Record<string, AttrLike> }[] = [
        { x: [2, 3, 9, 8], w: [5, 3, 3, 3], attrs: { pads: [1, 2, 0, 1], strides: [2, 1] } },
        { x: [1, 6, 7, 7], w: [9, 2, 3, 3], attrs: { group: 3, pads: [1, 1, 1, 1], dilations: [2, 1] } },
        { x: [1, 4, 17], w: [3, 4, 5], attrs: { pads: [2, 2] } },
        { x: [1, 2, 4, 5, 6], w: [3, 2, 2, 3, 2], attrs: { pads: [0, 1, 1, 1, 0, 0] } },
        { x: [1, 40, 6, 6], w: [7, 40, 3, 3], attrs: { auto_pad: 'SAME_UPPER' } },
      ];
      let seed = 3;
      const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
      const bytes = (type: 'int8' | 'uint8', dims: number[]) => {
        const data = type === 'int8' ? new Int8Array(prod(dims)) : new Uint8Array(prod(dims));
        for (let i = 0; i < data.length; i++) data[i] = next();
        return new Tensor(type, data, dims);
      };
      for (const [i, c] of cases.entries()) {
        for (const [tx, tw] of [
          ['uint8', 'uint8'],
          ['int8', 'int8'],
          ['uint8', 'int8'],
        ] as const) {
          // Per-output-channel weight zero points for even cases, a scalar for odd ones.
          const inputs = [bytes(tx, c.x), bytes(tw, c.w), bytes(tx, []), bytes(tw, i % 2 ? [] : [c.w[0]])];
          const saved = setKernelMode('fast');
          const [fast] = (await run('ConvInteger', inputs, { opset: 10, attrs: c.attrs })) as Tensor[];
          setKernelMode('reference');
          const [ref] = (await run('ConvInteger', inputs, { opset: 10, attrs: c.attrs })) as Tensor[];
          setKernelMode(saved);
          assert.deepEqual(fast.dims, ref.dims, `case ${i} ${tx}/${tw}`);
          assert.deepEqual(fast.data, ref.data, `case ${i} ${tx}/${tw}`);
        }
      }
    });
  });

  describe('DeformConv', () => {
    it('equals Conv when offsets are zero and mask is one', async () => {
      const x = f32(randomFloats(1 * 4 * 6 * 5, 21), [1, 4, 6, 5]);
      const w = f32(randomFloats(6 * 2 * 3 * 3, 22), [6, 2, 3, 3]);
      const attrs = { pads: [1, 1, 1, 1], strides: [2, 1], group: 2, offset_group: 2 };
      const [ref] = (await run('Conv', [x, w], {
        attrs: { pads: [1, 1, 1, 1], strides: [2, 1], group: 2 },
      })) as Tensor[];
      const [, , oh, ow] = ref.dims;
      const offset = f32(new Float32Array(2 * 2 * 9 * oh * ow), [1, 36, oh, ow]);
      const mask = f32(new Float32Array(2 * 9 * oh * ow).fill(1), [1, 18, oh, ow]);
      const [y] = (await run('DeformConv', [x, w, offset, undefined, mask], {
        opset: 19,
        attrs,
      })) as Tensor[];
      assertClose(numbersOf(y), numbersOf(ref), 1e-5, 1e-6);
    });

    it('samples bilinearly at fractional offsets', async () => {
      const x = f32([0, 1, 2, 3], [1, 1, 2, 2]);
      const w = f32([1], [1, 1, 1, 1]);
      // Channel 0 holds dy, channel 1 dx, per output pixel.
      const offset = f32([0.5, 0.5, 0, -0.25, 0, 0, 0.5, 0], [1, 2, 2, 2]);
      const [y] = (await run('DeformConv', [x, w, offset], { opset: 19 })) as Tensor[];
      // (0.5, 0) → 1; (0.5, 1) → 2; (1, 0.5) → 2.5; (0.75, 1) → 2.5
      assertClose(numbersOf(y), [1, 2, 2.5, 2.5]);
    });
  });
});

describe('grouped 1×1 convolution with constant weights (all groups in one WASM call)', () => {
  it('equals the reference kernels: bias, FusedConv residual Z and Relu, two images, odd sizes', async () => {
    // group 4: 12 → 20 channels (3 in, 5 out per group) over 7×9; FusedConv adds Z then clamps.
    const [N, C, M, G, H, W] = [2, 12, 20, 4, 7, 9];
    const spec = (fused: boolean) =>
      buildModel({
        nodes: [
          fused
            ? {
                op: 'FusedConv',
                domain: 'com.microsoft',
                inputs: ['x', 'w', 'b', 'z'],
                outputs: ['y'],
                attrs: { group: G, activation: 'Relu' },
              }
            : { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group: G } },
        ],
        extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
        inputs: [
          { name: 'x', type: 'float32', dims: [N, C, H, W] },
          ...(fused ? [{ name: 'z', type: 'float32', dims: [N, M, H, W] }] : []),
        ],
        outputs: [{ name: 'y', type: 'float32', dims: [N, M, H, W] }],
        initializers: [
          { name: 'w', tensor: f32(randomFloats(M * (C / G), 71), [M, C / G, 1, 1]) },
          { name: 'b', tensor: f32(randomFloats(M, 72), [M]) },
        ],
      });
    const feeds = {
      x: f32(randomFloats(N * C * H * W, 73), [N, C, H, W]),
      z: f32(randomFloats(N * M * H * W, 74), [N, M, H, W]),
    };
    for (const fused of [false, true]) {
      const results: Float32Array[] = [];
      for (const mode of ['reference', 'fast'] as const) {
        const saved = setKernelMode(mode);
        try {
          const s = await InferenceSession.create(spec(fused), { graphOptimizationLevel: 'disabled' });
          const f = fused ? feeds : { x: feeds.x };
          results.push((await s.run(f)).y.data as Float32Array);
        } finally {
          setKernelMode(saved);
        }
      }
      assertClose(results[1], results[0], 1e-5, 1e-6, fused ? 'FusedConv' : 'Conv');
    }
  });
});

describe('FusedConv residual Z added in the WASM GEMM epilogue', () => {
  // Pointwise (packed weights), strided 3×3 (im2col in the kernel; Winograd takes unit strides
  // only), 1-D: each against the reference kernels, which copy Z into Y and accumulate onto it.
  const cases: { x: number[]; w: number[]; strides: number[]; pads: number[] }[] = [
    { x: [2, 6, 5, 7], w: [10, 6, 1, 1], strides: [1, 1], pads: [0, 0, 0, 0] },
    { x: [2, 5, 9, 8], w: [7, 5, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    { x: [2, 4, 11], w: [6, 4, 3], strides: [1], pads: [1, 1] },
  ];
  for (const c of cases) {
    it(`x=${c.x} w=${c.w} strides=${c.strides}`, async () => {
      const [N, , ...spatial] = c.x;
      const M = c.w[0];
      const out = spatial.map(
        (d, i) => Math.floor((d + c.pads[i] + c.pads[i + spatial.length] - c.w[2 + i]) / c.strides[i]) + 1,
      );
      const yDims = [N, M, ...out];
      const size = (d: number[]) => d.reduce((a, b) => a * b, 1);
      const model = buildModel({
        nodes: [
          {
            op: 'FusedConv',
            domain: 'com.microsoft',
            inputs: ['x', 'w', 'b', 'z'],
            outputs: ['y'],
            attrs: {
              strides: c.strides,
              pads: c.pads,
              activation: 'Relu',
            },
          },
        ],
        extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
        inputs: [
          { name: 'x', type: 'float32', dims: c.x },
          { name: 'z', type: 'float32', dims: yDims },
        ],
        outputs: [{ name: 'y', type: 'float32', dims: yDims }],
        initializers: [
          { name: 'w', tensor: f32(randomFloats(size(c.w), 81), c.w) },
          { name: 'b', tensor: f32(randomFloats(M, 82), [M]) },
        ],
      });
      const feeds = {
        x: f32(randomFloats(size(c.x), 83), c.x),
        z: f32(randomFloats(size(yDims), 84), yDims),
      };
      const results: Float32Array[] = [];
      for (const mode of ['reference', 'fast'] as const) {
        const saved = setKernelMode(mode);
        try {
          const s = await InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
          results.push((await s.run(feeds)).y.data as Float32Array);
        } finally {
          setKernelMode(saved);
        }
      }
      assertClose(results[1], results[0], 1e-5, 1e-6, 'FusedConv with Z');
    });
  }
});

describe('Conv float32 depthwise fast path against the generic loop', () => {
  const cases: { x: number[]; k: number[]; s: number[]; d: number[]; pads: number[]; mult: number }[] = [
    { x: [1, 1, 7, 9], k: [3, 3], s: [1, 1], d: [1, 1], pads: [1, 1, 1, 1], mult: 1 },
    { x: [2, 5, 11, 13], k: [3, 3], s: [2, 2], d: [1, 1], pads: [1, 1, 1, 1], mult: 1 },
    { x: [1, 4, 10, 8], k: [3, 3], s: [2, 2], d: [1, 1], pads: [1, 1, 1, 1], mult: 1 },
    { x: [1, 3, 1, 1], k: [3, 3], s: [1, 1], d: [1, 1], pads: [1, 1, 1, 1], mult: 1 },
    { x: [1, 3, 2, 2], k: [3, 3], s: [2, 2], d: [1, 1], pads: [1, 1, 1, 1], mult: 2 },
    { x: [1, 6, 9, 7], k: [3, 3], s: [1, 1], d: [1, 1], pads: [0, 0, 0, 0], mult: 1 },
    { x: [1, 2, 15, 12], k: [5, 5], s: [2, 2], d: [1, 1], pads: [2, 1, 2, 0], mult: 1 },
    { x: [1, 3, 9, 11], k: [3, 2], s: [1, 2], d: [2, 1], pads: [2, 0, 1, 1], mult: 2 },
    { x: [2, 3, 8, 8], k: [3, 3], s: [1, 1], d: [1, 1], pads: [1, 2, 0, 1], mult: 1 },
    { x: [1, 2, 13, 5], k: [7, 3], s: [3, 1], d: [1, 2], pads: [3, 2, 3, 2], mult: 1 },
    // Wide rows: the interior takes eight and four columns at a time, at strides 1, 2 and 3.
    { x: [1, 3, 6, 41], k: [3, 3], s: [1, 1], d: [1, 1], pads: [1, 1, 1, 1], mult: 1 },
    { x: [1, 2, 7, 53], k: [3, 3], s: [2, 2], d: [1, 1], pads: [0, 1, 1, 0], mult: 1 },
    { x: [1, 2, 5, 62], k: [3, 5], s: [1, 3], d: [1, 2], pads: [1, 3, 1, 2], mult: 1 },
  ];
  for (const [i, c] of cases.entries()) {
    it(`k=${c.k} s=${c.s} d=${c.d} pads=${c.pads} x=${c.x} mult=${c.mult}`, async () => {
      const C = c.x[1];
      const M = C * c.mult;
      const x = f32(randomFloats(prod(c.x), 10 + i), c.x);
      const w = f32(randomFloats(M * prod(c.k), 50 + i), [M, 1, ...c.k]);
      const b = f32(randomFloats(M, 90 + i), [M]);
      const attrs = { group: C, strides: c.s, dilations: c.d, pads: c.pads, kernel_shape: c.k };
      const saved = convTuning.depthwiseFast;
      try {
        convTuning.depthwiseFast = false;
        const [ref] = await run('Conv', [x, w, b], { attrs });
        convTuning.depthwiseFast = true;
        const [got] = await run('Conv', [x, w, b], { attrs });
        assert.deepEqual(got.dims, ref.dims);
        assertClose(numbersOf(got), numbersOf(ref), 1e-5, 1e-6);
        const naive = naiveConv(x, w, b, {
          strides: c.s,
          dil: c.d,
          padB: c.pads.slice(0, 2),
          padE: c.pads.slice(2),
          group: C,
        });
        assertClose(numbersOf(got), naive.data, 1e-5, 1e-6);
      } finally {
        convTuning.depthwiseFast = saved;
      }
    });
  }
});
