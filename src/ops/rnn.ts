/**
 * Recurrent layers: RNN (1, 7, 14, 22), GRU (1, 3, 7, 14, 22), LSTM (1, 7, 14, 22).
 *
 * One driver serves the three cells. Per direction it first projects the whole input sequence
 * through W at once (one GEMM: [steps·batch, input] × Wᵀ, plus the W bias), then walks the steps,
 * each doing one GEMM of the previous hidden state against Rᵀ for all batch rows and the cell's
 * elementwise gate math. Everything is computed in float64 and rounded once into the output type.
 *
 * Semantics: gate pre-activations are clipped to [-clip, clip] when `clip` is set; `activations`
 * lists f, g(, h) per direction (forward first) with `activation_alpha`/`activation_beta` consumed in
 * order by the functions that take them; `sequence_lens` limits each batch row (outputs past a row's
 * length are 0, the reverse direction starts from the row's last valid step, and Y_h/Y_c hold the
 * state after the row's last processed step); `layout` = 1 (opset 14+) puts batch first in X, Y, the
 * initial states and Y_h/Y_c.
 */
import { newFloat32Array } from '../core/buffer-pool.js';
import { OnyxError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { constantInput, type NodeInfo, type OpDef, type RunContext } from './kernel.js';
import { floatsOf, isFloatingType, tensorFromFloats } from './util/float-io.js';
import { intsOf, tensorInput } from './util/numeric.js';
import {
  fastFloat32,
  ownPacked,
  packConstant,
  releasePacked,
  sgemm as gemm,
  parallelSgemmWithPacked,
  slstm,
  type GemmEpilogue,
  type PackedWeights,
} from './util/dispatch.js';

type Act = (x: number) => number;
type CellKind = 'RNN' | 'GRU' | 'LSTM';

const sigmoid: Act = (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Activation name → [uses alpha, uses beta, default alpha, default beta, factory]. */
const ACTIVATIONS: Record<string, [boolean, boolean, number, number, (a: number, b: number) => Act]> = {
  relu: [false, false, 0, 0, () => (x) => (x > 0 ? x : 0)],
  tanh: [false, false, 0, 0, () => Math.tanh],
  sigmoid: [false, false, 0, 0, () => sigmoid],
  affine: [true, true, 1, 0, (a, b) => (x) => a * x + b],
  leakyrelu: [true, false, 0.01, 0, (a) => (x) => (x >= 0 ? x : a * x)],
  thresholdedrelu: [true, false, 1, 0, (a) => (x) => (x > a ? x : 0)],
  scaledtanh: [true, true, 1, 1, (a, b) => (x) => a * Math.tanh(b * x)],
  hardsigmoid: [true, true, 0.2, 0.5, (a, b) => (x) => Math.max(0, Math.min(1, a * x + b))],
  elu: [true, false, 1, 0, (a) => (x) => (x >= 0 ? x : a * (Math.exp(x) - 1))],
  softsign: [false, false, 0, 0, () => (x) => x / (1 + Math.abs(x))],
  softplus: [false, false, 0, 0, () => (x) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0)],
};

const CELLS: Record<CellKind, { gates: number; acts: number; defaults: string[] }> = {
  RNN: { gates: 1, acts: 1, defaults: ['Tanh'] },
  GRU: { gates: 3, acts: 2, defaults: ['Sigmoid', 'Tanh'] },
  LSTM: { gates: 4, acts: 3, defaults: ['Sigmoid', 'Tanh', 'Tanh'] },
};

interface RnnConfig {
  kind: CellKind;
  numDir: number;
  reverseOnly: boolean;
  hiddenSize: number | undefined;
  clip: number;
  /** acts[d][k]: function k (f, g, h) of direction d. */
  acts: Act[][];
  layout: number;
  linearBeforeReset: boolean;
  inputForget: boolean;
  /** An LSTM with sigmoid, tanh, tanh in every direction and no clip: the WASM sequence kernel's case. */
  plainLstm: boolean;
}

function parseConfig(node: NodeInfo, kind: CellKind): RnnConfig {
  const a = node.attrs;
  const direction = a.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction))
    throw new OnyxError(
      'INVALID_MODEL',
      `direction must be 'forward', 'reverse' or 'bidirectional', got '${direction}'`,
    );
  const numDir = direction === 'bidirectional' ? 2 : 1;
  const cell = CELLS[kind];
  const names = a.has('activations') ? a.strings('activations') : [];
  const list =
    names.length === 0
      ? Array.from({ length: numDir }, () => cell.defaults).flat()
      : names.length === cell.acts && numDir === 2
        ? [...names, ...names]
        : names;
  if (list.length !== cell.acts * numDir)
    throw new OnyxError(
      'INVALID_MODEL',
      `activations must list ${cell.acts * numDir} functions (${cell.acts} per direction, ${direction}), got [${names.join(', ')}]`,
    );
  const alphas = a.has('activation_alpha') ? a.floats('activation_alpha') : [];
  const betas = a.has('activation_beta') ? a.floats('activation_beta') : [];
  let ai = 0;
  let bi = 0;
  const fns = list.map((name) => {
    const spec = ACTIVATIONS[name.toLowerCase()];
    if (!spec)
      throw new OnyxError(
        'INVALID_MODEL',
        `activation '${name}' is not supported; expected one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ` +
          'ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus',
      );
    const [usesA, usesB, defA, defB, make] = spec;
    const alpha = usesA ? (ai < alphas.length ? alphas[ai++] : defA) : defA;
    const beta = usesB ? (bi < betas.length ? betas[bi++] : defB) : defB;
    return make(alpha, beta);
  });
  const acts = Array.from({ length: numDir }, (_, d) => fns.slice(d * cell.acts, (d + 1) * cell.acts));
  const clip = a.has('clip') ? a.float('clip') : Infinity;
  if (!(clip > 0)) throw new OnyxError('INVALID_MODEL', `clip must be positive, got ${clip}`);
  const layout = node.sinceVersion >= 14 ? a.int('layout', 0) : 0;
  if (layout !== 0 && layout !== 1)
    throw new OnyxError('INVALID_MODEL', `layout must be 0 or 1, got ${layout}`);
  const inputForget = kind === 'LSTM' && a.int('input_forget', 0) !== 0;
  const defaults = cell.defaults.map((n) => n.toLowerCase()).join();
  const plainLstm =
    kind === 'LSTM' &&
    clip === Infinity &&
    !inputForget &&
    Array.from({ length: numDir }, (_, d) =>
      list
        .slice(d * 3, d * 3 + 3)
        .map((n) => n.toLowerCase())
        .join(),
    ).every((names) => names === defaults);
  const linearBeforeReset = kind === 'GRU' && node.sinceVersion >= 3 && a.int('linear_before_reset', 0) !== 0;
  return {
    kind,
    numDir,
    reverseOnly: direction === 'reverse',
    hiddenSize: a.has('hidden_size') ? a.int('hidden_size') : undefined,
    clip,
    acts,
    layout,
    linearBeforeReset,
    inputForget,
    plainLstm,
  };
}

function optionalTensor(v: Value | undefined, what: string): Tensor | undefined {
  if (v === undefined || v === null) return undefined;
  return tensorInput(v, what);
}

function expectDims(t: Tensor, dims: number[], what: string, meaning: string): void {
  if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]))
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${what} must have dims [${dims.join(', ')}] (${meaning}), got [${t.dims}]`,
    );
}

/** Weights packed at build time: constant float32 W_dᵀ and R_dᵀ of each direction, as GEMM B operands. */
interface BuiltWeights {
  w?: Tensor;
  packedW: (PackedWeights | undefined)[];
  r?: Tensor;
  packedR: (PackedWeights | undefined)[];
}

/**
 * `built`: weights packed at build time, each used while its input is that constant (otherwise a
 * float32 R is packed for the run, W used as it is). `threads`: the session's pool, for the input
 * projection (one GEMM over every step).
 */
function runRecurrent(
  cfg: RnnConfig,
  inputs: readonly (Value | undefined)[],
  built?: BuiltWeights,
  threads?: RunContext['threads'],
): Tensor[] {
  const G = CELLS[cfg.kind].gates;
  const D = cfg.numDir;
  const x = tensorInput(inputs[0], 'X');
  const w = tensorInput(inputs[1], 'W');
  const r = tensorInput(inputs[2], 'R');
  if (!isFloatingType(x.type))
    throw new OnyxError('TYPE_MISMATCH', `X must be a floating-point tensor, got ${x.type}`);
  if (x.dims.length !== 3)
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `X must be 3-D ${cfg.layout ? '[batch, seq, input]' : '[seq, batch, input]'}, got [${x.dims}]`,
    );
  const [S, Bt] = cfg.layout ? [x.dims[1], x.dims[0]] : [x.dims[0], x.dims[1]];
  const I = x.dims[2];
  if (r.dims.length !== 3)
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `R must be 3-D [num_directions, ${G}·hidden, hidden], got [${r.dims}]`,
    );
  const H = cfg.hiddenSize ?? r.dims[2];
  const GH = G * H;
  expectDims(w, [D, GH, I], 'W', `num_directions, ${G}·hidden_size, input_size`);
  expectDims(r, [D, GH, H], 'R', `num_directions, ${G}·hidden_size, hidden_size`);
  const bT = optionalTensor(inputs[3], 'B');
  if (bT) expectDims(bT, [D, 2 * GH], 'B', `num_directions, ${2 * G}·hidden_size`);
  const lensT = optionalTensor(inputs[4], 'sequence_lens');
  const stateDims = cfg.layout ? [Bt, D, H] : [D, Bt, H];
  const stateMeaning = cfg.layout ? 'batch, num_directions, hidden' : 'num_directions, batch, hidden';
  const h0T = optionalTensor(inputs[5], 'initial_h');
  if (h0T) expectDims(h0T, stateDims, 'initial_h', stateMeaning);
  const c0T = cfg.kind === 'LSTM' ? optionalTensor(inputs[6], 'initial_c') : undefined;
  if (c0T) expectDims(c0T, stateDims, 'initial_c', stateMeaning);
  const pT = cfg.kind === 'LSTM' ? optionalTensor(inputs[7], 'P') : undefined;
  if (pT) expectDims(pT, [D, 3 * H], 'P', 'num_directions, 3·hidden_size');

  const lens = new Int32Array(Bt).fill(S);
  if (lensT) {
    expectDims(lensT, [Bt], 'sequence_lens', 'batch_size');
    const l = intsOf(lensT, 'sequence_lens');
    for (let b = 0; b < Bt; b++) {
      if (l[b] < 0 || l[b] > S)
        throw new OnyxError('INVALID_ARGUMENT', `sequence_lens[${b}] = ${l[b]} is outside [0, ${S}]`);
      lens[b] = l[b];
    }
  }

  const X = floatsOf(x, 'X');
  const W = floatsOf(w, 'W');
  const R = floatsOf(r, 'R');
  const Bias = bT ? floatsOf(bT, 'B') : undefined;
  const P = pT ? floatsOf(pT, 'P') : undefined;
  const H0 = h0T ? floatsOf(h0T, 'initial_h') : undefined;
  const C0 = c0T ? floatsOf(c0T, 'initial_c') : undefined;

  const f32 = X instanceof Float32Array && W instanceof Float32Array && R instanceof Float32Array;
  // The whole recurrence of a plain float32 LSTM in one WASM call per direction (assembly/lstm.ts).
  const wasmLstm = cfg.plainLstm && f32 && fastFloat32() && lens.every((l) => l === S);
  // float32 arrays from the run's storage (the WASM kernels' memory for the large ones: the
  // projection GEMM and the recurrence then work on them in place); float64 ones from the heap.
  const floats = (single: boolean, n: number) => (single ? newFloat32Array(n) : new Float64Array(n));
  const Y = floats(wasmLstm, S * D * Bt * H);
  const Yh = floats(wasmLstm, D * Bt * H);
  const Yc = floats(wasmLstm, D * Bt * H);
  // Element offsets by layout.
  const yOff = (t: number, d: number, b: number) =>
    cfg.layout ? ((b * S + t) * D + d) * H : ((t * D + d) * Bt + b) * H;
  const stOff = (d: number, b: number) => (cfg.layout ? (b * D + d) * H : (d * Bt + b) * H);
  // Row of X (and of the projection) for (t, b).
  const xRow = (t: number, b: number) => (cfg.layout ? b * S + t : t * Bt + b);

  const clip = cfg.clip;
  const cl = (v: number) => (v > clip ? clip : v < -clip ? -clip : v);
  const rows = S * Bt;
  // float32 models keep their scratch in float32 so both projections run on the WASM GEMM (as in
  // onnxruntime, the cell state is float32 too); other types compute in float64.
  const xw = floats(f32, rows * GH);
  const hPrev = floats(f32, Bt * H);
  const cPrev = floats(f32, Bt * H);
  const hr = floats(f32, Bt * GH);
  const gruReset = cfg.kind === 'GRU' && !cfg.linearBeforeReset;
  const rh = gruReset ? floats(f32, Bt * H) : undefined;
  const rhr = gruReset ? floats(f32, Bt * H) : undefined;
  const hNew = new Float64Array(H);

  for (let d = 0; d < D; d++) {
    const reverse = cfg.reverseOnly || d === 1;
    const [f, g, hAct] = cfg.acts[d];
    // Input projection for all steps: xw = X · W_dᵀ + Wb_d.
    // A float32 bias rides in the GEMM's epilogue: the same sum, without a JS loop over every row
    // (which, run before V8 optimizes it, cost more than the whole WASM recurrence).
    const wBias = Bias instanceof Float32Array ? Bias : undefined;
    const epilogue: GemmEpilogue | undefined = wBias && {
      bias: { data: wBias, offset: d * 2 * GH, axis: 'col' },
    };
    const packedW = built?.w === w ? built.packedW[d] : undefined;
    if (packedW && X instanceof Float32Array && fastFloat32()) {
      const out = xw as Float32Array;
      parallelSgemmWithPacked(threads, packedW, false, rows, GH, I, 1, X, 0, I, 0, out, 0, GH, epilogue);
    } else gemm(false, true, rows, GH, I, 1, X, 0, I, W, d * GH * I, I, 0, xw, 0, GH, epilogue, threads);
    if (Bias && !wBias) {
      const o = d * 2 * GH;
      for (let i = 0; i < rows; i++) for (let j = 0; j < GH; j++) xw[i * GH + j] += Bias[o + j];
    }
    const rb = Bias ? d * 2 * GH + GH : -1;
    for (let b = 0; b < Bt; b++) {
      const so = stOff(d, b);
      for (let k = 0; k < H; k++) {
        hPrev[b * H + k] = H0 ? H0[so + k] : 0;
        cPrev[b * H + k] = C0 ? C0[so + k] : 0;
      }
    }
    const pOff = d * 3 * H;
    // R_dᵀ is the B operand of every step: packed at build time, or once for this direction.
    const prebuilt = built?.r === r ? built.packedR[d] : undefined;
    const packedR =
      prebuilt ?? (f32 ? packConstant('B', true, H, GH, R as Float32Array, d * GH * H, H) : undefined);
    if (wasmLstm && packedR) {
      // The whole recurrence in one WASM call; otherwise the steps below, here in TypeScript.
      slstm({
        S,
        Bt,
        H,
        xw: xw as Float32Array,
        xStep: cfg.layout ? 1 : Bt,
        xBatch: cfg.layout ? S : 1,
        R: packedR,
        rBias: rb >= 0 ? (Bias as Float32Array).subarray(rb, rb + GH) : undefined,
        peepholes: P ? (P as Float32Array).subarray(pOff, pOff + 3 * H) : undefined,
        h: hPrev as Float32Array,
        c: cPrev as Float32Array,
        Y: Y as Float32Array,
        yOff: yOff(0, d, 0),
        yStep: cfg.layout ? D * H : D * Bt * H,
        yBatch: cfg.layout ? S * D * H : H,
        reverse,
      });
    } else {
      for (let s = 0; s < S; s++) {
        // Recurrent projection for every batch row: hr = H_prev · R_dᵀ + Rb_d.
        if (packedR && fastFloat32()) {
          const [h, out] = [hPrev as Float32Array, hr as Float32Array];
          parallelSgemmWithPacked(undefined, packedR, false, Bt, GH, H, 1, h, 0, H, 0, out, 0, GH);
        } else gemm(false, true, Bt, GH, H, 1, hPrev, 0, H, R, d * GH * H, H, 0, hr, 0, GH);
        if (rb >= 0)
          for (let b = 0; b < Bt; b++) for (let j = 0; j < GH; j++) hr[b * GH + j] += Bias![rb + j];
        if (rh) {
          // GRU without linear_before_reset: the candidate needs (r ⊙ H_prev) · R_hᵀ.
          for (let b = 0; b < Bt; b++) {
            if (s >= lens[b]) continue;
            const t = reverse ? lens[b] - 1 - s : s;
            const xo = xRow(t, b) * GH;
            for (let k = 0; k < H; k++) {
              const rg = f(cl(xw[xo + H + k] + hr[b * GH + H + k]));
              rh[b * H + k] = rg * hPrev[b * H + k];
            }
          }
          gemm(false, true, Bt, H, H, 1, rh, 0, H, R, d * GH * H + 2 * H * H, H, 0, rhr!, 0, H);
        }
        for (let b = 0; b < Bt; b++) {
          if (s >= lens[b]) continue;
          const t = reverse ? lens[b] - 1 - s : s;
          const xo = xRow(t, b) * GH;
          const ho = b * GH;
          const hp = b * H;
          if (cfg.kind === 'RNN') {
            for (let k = 0; k < H; k++) hNew[k] = f(cl(xw[xo + k] + hr[ho + k]));
          } else if (cfg.kind === 'GRU') {
            for (let k = 0; k < H; k++) {
              const z = f(cl(xw[xo + k] + hr[ho + k]));
              let cand: number;
              if (cfg.linearBeforeReset) {
                const rg = f(cl(xw[xo + H + k] + hr[ho + H + k]));
                cand = g(cl(xw[xo + 2 * H + k] + rg * hr[ho + 2 * H + k]));
              } else {
                cand = g(cl(xw[xo + 2 * H + k] + rhr![hp + k] + (rb >= 0 ? Bias![rb + 2 * H + k] : 0)));
              }
              hNew[k] = (1 - z) * cand + z * hPrev[hp + k];
            }
          } else {
            for (let k = 0; k < H; k++) {
              const cp = cPrev[hp + k];
              const pi = P ? P[pOff + k] : 0;
              const po = P ? P[pOff + H + k] : 0;
              const pf = P ? P[pOff + 2 * H + k] : 0;
              const it = f(cl(xw[xo + k] + hr[ho + k] + pi * cp));
              const ft = cfg.inputForget ? 1 - it : f(cl(xw[xo + 2 * H + k] + hr[ho + 2 * H + k] + pf * cp));
              const ct = g(cl(xw[xo + 3 * H + k] + hr[ho + 3 * H + k]));
              const c = ft * cp + it * ct;
              const ot = f(cl(xw[xo + H + k] + hr[ho + H + k] + po * c));
              cPrev[hp + k] = c;
              hNew[k] = ot * hAct(c);
            }
          }
          const yo = yOff(t, d, b);
          for (let k = 0; k < H; k++) {
            hPrev[hp + k] = hNew[k];
            Y[yo + k] = hNew[k];
          }
        }
      }
    }
    if (!prebuilt) releasePacked(packedR);
    for (let b = 0; b < Bt; b++) {
      const so = stOff(d, b);
      for (let k = 0; k < H; k++) {
        Yh[so + k] = hPrev[b * H + k];
        Yc[so + k] = cPrev[b * H + k];
      }
    }
  }
  const yDims = cfg.layout ? [Bt, S, D, H] : [S, D, Bt, H];
  const outs = [tensorFromFloats(x.type, Y, yDims), tensorFromFloats(x.type, Yh, stateDims)];
  if (cfg.kind === 'LSTM') outs.push(tensorFromFloats(x.type, Yc, stateDims));
  return outs;
}

function recurrentOp(kind: CellKind, versions: number[]): OpDef {
  return {
    opType: kind,
    versions,
    build(node) {
      const cfg = parseConfig(node, kind);
      // Constant float32 W and R are packed once here, per direction, for every run's GEMMs (the
      // input projection packed W again each run).
      const packAll = (t: Tensor | undefined): [Tensor | undefined, (PackedWeights | undefined)[]] => {
        if (!t || t.type !== 'float32' || t.dims.length !== 3 || t.dims[0] !== cfg.numDir)
          return [undefined, []];
        const [D, GH, K] = t.dims;
        const data = t.data as Float32Array;
        return [t, Array.from({ length: D }, (_, d) => packConstant('B', true, K, GH, data, d * GH * K, K))];
      };
      const [w, packedW] = packAll(constantInput(node, 1));
      const [r, packedR] = packAll(constantInput(node, 2));
      const built: BuiltWeights = { w, packedW, r, packedR };
      return ownPacked(
        (inputs, ctx) => runRecurrent(cfg, inputs, built, ctx.threads),
        [...packedW, ...packedR],
      );
    },
  };
}

export const ops: OpDef[] = [
  recurrentOp('RNN', [1, 7, 14, 22]),
  recurrentOp('GRU', [1, 3, 7, 14, 22]),
  recurrentOp('LSTM', [1, 7, 14, 22]),
];
