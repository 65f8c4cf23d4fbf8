import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../core/tensor.js';
import { heapRunContext, type NodeInfo } from './kernel.js';
import { ops } from './rnn.js';
import {
  opNode,
  assertNear as close,
  bindOps,
  f32,
  nums,
  randomArray,
  t,
  type AttrInit,
} from './util/op-test-kit.js';
import { setKernelMode } from './util/dispatch.js';
import { Graph } from '../ir/graph.js';

const { run: runAll, run1: run } = bindOps(ops, { opset: 22 });
const rand = (n: number, seed: number) => randomArray(n, seed, -0.5, 0.5);

/** Reverses X [S, B, I] along time. */
function reverseTime(x: number[], S: number, rowLen: number): number[] {
  const out: number[] = [];
  for (let s = S - 1; s >= 0; s--) out.push(...x.slice(s * rowLen, (s + 1) * rowLen));
  return out;
}

const S = 3;
const B = 2;
const I = 2;
const H = 3;
const cells = [
  ['RNN', 1],
  ['GRU', 3],
  ['LSTM', 4],
] as const;

describe('RNN / GRU / LSTM', () => {
  for (const [op, G] of cells) {
    const x = rand(S * B * I, 1);
    const w = rand(G * H * I, 2);
    const r = rand(G * H * H, 3);
    const b = rand(2 * G * H, 4);
    const outs = op === 'LSTM' ? 3 : 2;
    const fwd = (xs: number[], dirAttrs: Record<string, AttrInit> = {}, extra: (Tensor | undefined)[] = []) =>
      runAll(
        op,
        [f32(xs, [S, B, I]), f32(w, [1, G * H, I]), f32(r, [1, G * H, H]), f32(b, [1, 2 * G * H]), ...extra],
        { hidden_size: H, ...dirAttrs },
        { opset: 22, outputCount: outs },
      );

    it(`${op}: the reverse direction equals the forward one on time-reversed input`, async () => {
      const [yf, hf] = await fwd(reverseTime(x, S, B * I));
      const [yr, hr] = await fwd(x, { direction: 'reverse' });
      close(nums(hr), nums(hf));
      close(reverseTime(nums(yr), S, B * H), nums(yf));
    });

    it(`${op}: bidirectional stacks both directions`, async () => {
      const both = await runAll(
        op,
        [
          f32(x, [S, B, I]),
          f32([...w, ...w], [2, G * H, I]),
          f32([...r, ...r], [2, G * H, H]),
          f32([...b, ...b], [2, 2 * G * H]),
        ],
        { hidden_size: H, direction: 'bidirectional' },
        { opset: 22, outputCount: outs },
      );
      const [yf, hf] = await fwd(x);
      const [, hr] = await fwd(x, { direction: 'reverse' });
      assert.deepEqual(both[0].dims, [S, 2, B, H]);
      close(nums(both[1]), [...nums(hf), ...nums(hr)]);
      const y = nums(both[0]);
      const yfN = nums(yf);
      for (let s = 0; s < S; s++)
        close(y.slice(s * 2 * B * H, s * 2 * B * H + B * H), yfN.slice(s * B * H, (s + 1) * B * H));
    });

    it(`${op}: sequence_lens stops each batch row early and zero-fills Y`, async () => {
      const lens = t('int32', [S, 1], [2]);
      const [y, h] = await fwd(x, {}, [lens]);
      const [y1] = await fwd(x.slice(0, B * I).concat(new Array((S - 1) * B * I).fill(0)));
      const yv = nums(y);
      const hv = nums(h);
      // Row 1 ran one step: its Y_h is Y at t = 0, and Y is 0 afterwards.
      close(hv.slice(H, 2 * H), nums(y1).slice(H, 2 * H));
      for (let s = 1; s < S; s++) assert.deepEqual(yv.slice((s * B + 1) * H, (s * B + 2) * H), [0, 0, 0]);
      // In reverse, row 1 also runs only its step t = 0.
      const [yr, hrv] = await fwd(x, { direction: 'reverse' }, [lens]);
      close(nums(hrv).slice(H, 2 * H), nums(y1).slice(H, 2 * H));
      close(nums(yr).slice(H, 2 * H), nums(y1).slice(H, 2 * H));
    });

    it(`${op}: layout = 1 is batch-major`, async () => {
      const [y0, h0] = await fwd(x);
      const xb: number[] = [];
      for (let bb = 0; bb < B; bb++)
        for (let s = 0; s < S; s++) xb.push(...x.slice((s * B + bb) * I, (s * B + bb + 1) * I));
      const [y1, h1] = await runAll(
        op,
        [f32(xb, [B, S, I]), f32(w, [1, G * H, I]), f32(r, [1, G * H, H]), f32(b, [1, 2 * G * H])],
        { hidden_size: H, layout: 1 },
        { opset: 22, outputCount: outs },
      );
      assert.deepEqual(y1.dims, [B, S, 1, H]);
      assert.deepEqual(h1.dims, [B, 1, H]);
      const y0v = nums(y0);
      const y1v = nums(y1);
      for (let s = 0; s < S; s++)
        for (let bb = 0; bb < B; bb++)
          close(
            y1v.slice((bb * S + s) * H, (bb * S + s + 1) * H),
            y0v.slice((s * B + bb) * H, (s * B + bb + 1) * H),
          );
      close(nums(h1), nums(h0));
    });
  }

  it('RNN one step by hand, with a Relu activation and clip', async () => {
    const y = await run(
      'RNN',
      [f32([2], [1, 1, 1]), f32([3], [1, 1, 1]), f32([0], [1, 1, 1])],
      { activations: ['Relu'], hidden_size: 1 },
      14,
    );
    assert.deepEqual(nums(y), [6]);
    const c = await run(
      'RNN',
      [f32([2], [1, 1, 1]), f32([3], [1, 1, 1]), f32([0], [1, 1, 1])],
      { activations: ['Relu'], clip: { float: 1 } },
      14,
    );
    assert.deepEqual(nums(c), [1]);
    const a = await run(
      'RNN',
      [f32([2], [1, 1, 1]), f32([3], [1, 1, 1]), f32([0], [1, 1, 1])],
      { activations: ['Affine'], activation_alpha: { floats: [0.5] }, activation_beta: { floats: [1] } },
      14,
    );
    assert.deepEqual(nums(a), [4]);
  });

  it('GRU linear_before_reset by hand (hidden 1, two steps)', async () => {
    // z = σ(0) = 0.5 always (zero z weights); r = σ(0) = 0.5; h̃ = tanh(x + r·(Rh·h + Rbh)).
    const x = f32([1, 1], [2, 1, 1]);
    const w = f32([0, 0, 1], [1, 3, 1]);
    const r = f32([0, 0, 2], [1, 3, 1]);
    const bias = f32([0, 0, 0, 0, 0, 0.5], [1, 6]);
    const [, yh] = await runAll(
      'GRU',
      [x, w, r, bias],
      { hidden_size: 1, linear_before_reset: 1 },
      { opset: 7, outputCount: 2 },
    );
    let h = 0;
    for (let s = 0; s < 2; s++) h = 0.5 * Math.tanh(1 + 0.5 * (2 * h + 0.5)) + 0.5 * h;
    close(nums(yh), [h]);
    const [, yh0] = await runAll('GRU', [x, w, r, bias], { hidden_size: 1 }, { opset: 7, outputCount: 2 });
    let g = 0;
    for (let s = 0; s < 2; s++) g = 0.5 * Math.tanh(1 + 2 * (0.5 * g) + 0.5) + 0.5 * g;
    close(nums(yh0), [g]);
  });

  it('LSTM input_forget and peepholes by hand (hidden 1, one step)', async () => {
    const x = f32([1], [1, 1, 1]);
    const w = f32([1, 1, 1, 1], [1, 4, 1]); // i, o, f, c
    const r = f32([0, 0, 0, 0], [1, 4, 1]);
    const c0 = f32([2], [1, 1, 1]);
    const p = f32([0.5, 0.25, 0.1], [1, 3]); // Pi, Po, Pf
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const outs = await runAll(
      'LSTM',
      [x, w, r, undefined, undefined, undefined, c0, p],
      { hidden_size: 1, input_forget: 1 },
      { opset: 22, outputCount: 3 },
    );
    const i = sig(1 + 0.5 * 2);
    const c = (1 - i) * 2 + i * Math.tanh(1);
    const o = sig(1 + 0.25 * c);
    close(nums(outs[2]), [c]);
    close(nums(outs[1]), [o * Math.tanh(c)]);
  });

  it('rejects bad attributes and shapes', async () => {
    const x = f32([1], [1, 1, 1]);
    const w = f32([1], [1, 1, 1]);
    await assert.rejects(
      run('RNN', [x, w, w], { direction: 'sideways' }),
      /direction must be 'forward', 'reverse' or 'bidirectional'/,
    );
    await assert.rejects(
      run('RNN', [x, w, w], { activations: ['Tanh', 'Tanh'] }),
      /activations must list 1 functions/,
    );
    await assert.rejects(
      run('RNN', [x, w, w], { activations: ['Gelu'] }),
      /activation 'Gelu' is not supported/,
    );
    await assert.rejects(run('RNN', [x, f32([1, 1], [1, 1, 2]), w]), /W must have dims \[1, 1, 1\]/);
    await assert.rejects(run('LSTM', [x, w, w]), /W must have dims \[1, 4, 1\]/);
    await assert.rejects(
      run('RNN', [x, w, w, undefined, t('int32', [5], [1])]),
      /sequence_lens\[0\] = 5 is outside \[0, 1\]/,
    );
    await assert.rejects(run('RNN', [t('int32', [1], [1, 1, 1]), w, w]), /X must be a floating-point tensor/);
  });
});

describe('LSTM: the WASM sequence kernel against the reference recurrence', () => {
  // [S, B, I, H, direction, layout, peepholes, initial state]: H not a multiple of 4 (scalar tail),
  // batch > 1, both layouts, every direction.
  const configs = [
    [5, 1, 4, 8, 'forward', 0, false, false],
    [4, 3, 3, 5, 'reverse', 0, true, true],
    [3, 2, 5, 7, 'bidirectional', 1, true, false],
    [1, 2, 2, 4, 'bidirectional', 0, false, true],
  ] as const;
  for (const [Sq, Bt, In, Hd, direction, layout, peep, init] of configs) {
    it(`S=${Sq} B=${Bt} H=${Hd} ${direction} layout=${layout} peepholes=${peep} initial=${init}`, async () => {
      const D = direction === 'bidirectional' ? 2 : 1;
      const seq = layout ? [Bt, Sq, In] : [Sq, Bt, In];
      const state = layout ? [Bt, D, Hd] : [D, Bt, Hd];
      const inputs = [
        f32(randomArray(Sq * Bt * In, 11, -2, 2), seq),
        f32(randomArray(D * 4 * Hd * In, 12, -1, 1), [D, 4 * Hd, In]),
        f32(randomArray(D * 4 * Hd * Hd, 13, -1, 1), [D, 4 * Hd, Hd]),
        f32(randomArray(D * 8 * Hd, 14, -1, 1), [D, 8 * Hd]),
        undefined,
        init ? f32(randomArray(D * Bt * Hd, 15, -1, 1), state) : undefined,
        init ? f32(randomArray(D * Bt * Hd, 16, -1, 1), state) : undefined,
        peep ? f32(randomArray(D * 3 * Hd, 17, -1, 1), [D, 3 * Hd]) : undefined,
      ];
      const attrs = { hidden_size: Hd, direction, layout };
      const opts = { opset: 22, outputCount: 3 };
      const saved = setKernelMode('reference');
      let want: Tensor[];
      try {
        want = (await runAll('LSTM', inputs, attrs, opts)) as Tensor[];
      } finally {
        setKernelMode(saved);
      }
      const got = (await runAll('LSTM', inputs, attrs, opts)) as Tensor[];
      for (let o = 0; o < 3; o++) {
        assert.deepEqual(got[o].dims, want[o].dims);
        close(nums(got[o]), nums(want[o]), 2e-6);
      }
    });
  }
});

describe('LSTM: weights packed at build time', () => {
  it('constant W and R (both directions) give the reference result; other tensors still work', async () => {
    const [Sq, Bt, In, Hd, D] = [6, 2, 5, 12, 2];
    const x = f32(randomArray(Sq * Bt * In, 21, -2, 2), [Sq, Bt, In]);
    const w = f32(randomArray(D * 4 * Hd * In, 22, -1, 1), [D, 4 * Hd, In]);
    const r = f32(randomArray(D * 4 * Hd * Hd, 23, -1, 1), [D, 4 * Hd, Hd]);
    const b = f32(randomArray(D * 8 * Hd, 24, -1, 1), [D, 8 * Hd]);
    const attrs = { hidden_size: Hd, direction: 'bidirectional' };
    const opts = { opset: 22, outputCount: 3 };
    const { def, node } = opNode(ops, 'LSTM', 4, attrs, opts);
    const initializers = new Map([
      ['w', w],
      ['r', r],
      ['b', b],
    ]);
    const graph = new Graph('g', [], [{ name: 'x', type: null }], [], initializers, new Map());
    const kernel = def.build({ ...node, inputNames: ['x', 'w', 'r', 'b'], graph } as unknown as NodeInfo);
    const reference = async (inputs: Tensor[]) => {
      const saved = setKernelMode('reference');
      try {
        return (await runAll('LSTM', inputs, attrs, opts)) as Tensor[];
      } finally {
        setKernelMode(saved);
      }
    };
    const w2 = f32(randomArray(D * 4 * Hd * In, 25, -1, 1), [D, 4 * Hd, In]);
    const r2 = f32(randomArray(D * 4 * Hd * Hd, 26, -1, 1), [D, 4 * Hd, Hd]);
    for (const inputs of [
      [x, w, r, b],
      [x, w2, r, b],
      [x, w, r2, b],
    ]) {
      const got = (await kernel(inputs, heapRunContext)) as Tensor[];
      const want = await reference(inputs);
      for (let o = 0; o < 3; o++) close(nums(got[o]), nums(want[o]), 2e-6);
    }
  });
});
