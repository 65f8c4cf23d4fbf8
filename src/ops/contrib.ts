/**
 * The onnxruntime contrib ops (domain com.microsoft) that Onyx's optimizer emits, so that an
 * optimized graph runs here and a written optimized model runs in onnxruntime too:
 * - FusedConv: Conv (+ optional Z added) then an activation (`activation`, `activation_params`);
 * - FusedGemm: Gemm then an activation (`activation`, `activation_alpha`, `activation_beta`);
 * - Gelu: the exact GELU, as ai.onnx Gelu-20;
 * - FastGelu: the tanh-approximated GELU (+ an optional bias), as Gelu-20 with approximate = "tanh";
 * - FusedMatMul (alpha·op(A)·op(B)): in matmul.ts, beside MatMul, whose code it shares;
 * - SkipLayerNormalization: LayerNormalization over the last axis of skip + (input + bias), with
 *   that sum as an optional fourth output (a transformer's residual stream).
 * Each composes the existing kernel and applies the activation in place on its fresh output. A fused
 * epilogue inside the GEMM loop comes with the WASM kernels; the results are the same.
 */
import { OnyxError } from '../core/errors.js';
import { sameDims, Tensor } from '../core/tensor.js';
import { Attributes, type AttrValue } from '../ir/attributes.js';
import { newFloat32Array } from '../core/buffer-pool.js';
import type { Kernel, NodeInfo, OpDef } from './kernel.js';
import { ops as activationOps } from './activations.js';
import { buildConv, ops as convOps } from './conv.js';
import { buildGemm, ops as matmulOps } from './matmul.js';
import { ops as normalizationOps } from './normalization.js';
import { float64Params } from './util/compute-array.js';
import { fastFloat32, snormRows } from './util/dispatch.js';
import { binary } from './util/elementwise.js';
import { fmt, numbersOf, tensorFromNumbers, tensorInput } from './util/numeric.js';

const MS = 'com.microsoft';
const TANH = new TextEncoder().encode('tanh');

function baseOp(family: readonly OpDef[], opType: string): OpDef {
  const def = family.find((d) => (d.domain ?? '') === '' && d.opType === opType);
  if (!def) throw new Error(`contrib ops: ${opType} is not registered`);
  return def;
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The scalar function of a fused activation, given its name and parameters. */
export function fusedActivation(
  name: string,
  p: readonly number[],
  where: string,
): ((x: number) => number) | undefined {
  const need = (n: number) => {
    if (p.length < n) {
      throw new OnyxError(
        'INVALID_MODEL',
        `${where}: activation ${name} needs ${n} parameter(s), got ${p.length}`,
      );
    }
  };
  switch (name) {
    case '':
      return undefined;
    case 'Relu':
      return (x) => (x < 0 ? 0 : x);
    case 'Tanh':
      return Math.tanh;
    case 'Sigmoid':
      return sigmoid;
    case 'Softsign':
      return (x) => x / (1 + Math.abs(x));
    case 'Softplus':
      return (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
    case 'LeakyRelu':
      need(1);
      return (x) => (x < 0 ? p[0] * x : x);
    case 'Elu':
      need(1);
      return (x) => (x < 0 ? p[0] * (Math.exp(x) - 1) : x);
    case 'HardSigmoid':
      need(2);
      return (x) => Math.max(0, Math.min(1, p[0] * x + p[1]));
    case 'Clip':
      need(2);
      return (x) => (x < p[0] ? p[0] : x > p[1] ? p[1] : x);
  }
  throw new OnyxError('INVALID_MODEL', `${where}: unsupported fused activation '${name}'`);
}

/** Applies `f` to every element of a kernel's freshly made output (in place for float32/float64). */
function applyInPlace(t: Tensor, f: (x: number) => number): Tensor {
  const d = t.data;
  if (d instanceof Float32Array || d instanceof Float64Array) {
    for (let i = 0; i < d.length; i++) d[i] = f(d[i]);
    return t;
  }
  return tensorFromNumbers(t.type, Array.from(numbersOf(t) as ArrayLike<number>, f), t.dims);
}

/** Builds `base` for the node and wraps its kernel with the activation (and an optional sum input). */
function fused(
  node: NodeInfo,
  base: OpDef,
  sinceVersion: number,
  act: ((x: number) => number) | undefined,
  baseInputs: number,
): Kernel {
  const where = `${node.opType} node '${node.name}'`;
  const inner = base.build({
    ...node,
    sinceVersion,
    inputCount: Math.min(node.inputCount, baseInputs),
    inputPresent: node.inputPresent.slice(0, baseInputs),
  });
  const kernel: Kernel = async (inputs, ctx) => {
    const [y] = await inner(inputs.slice(0, baseInputs), ctx);
    let out = y as Tensor;
    const z = inputs[baseInputs];
    if (z !== undefined) {
      if (!(z instanceof Tensor) || z.type !== out.type || z.size !== out.size) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `${where}: input Z must be a tensor like the output ${out.type}[${out.dims.join(', ')}]`,
        );
      }
      const zs = numbersOf(z) as ArrayLike<number>;
      let i = 0;
      out = applyInPlace(out, (x) => x + zs[i++]);
    }
    return [act ? applyInPlace(out, act) : out];
  };
  if (inner.dispose) kernel.dispose = () => inner.dispose?.();
  return kernel;
}

/** [min, max] of a Relu or Clip activation, which the GEMM epilogue applies itself. */
function clipOf(name: string, p: readonly number[]): { min: number; max: number } | undefined {
  if (name === 'Relu') return { min: 0, max: Infinity };
  if (name === 'Clip' && p.length >= 2) return { min: p[0], max: p[1] };
  return undefined;
}

const fusedConv: OpDef = {
  domain: MS,
  opType: 'FusedConv',
  versions: [1],
  build(node) {
    const name = node.attrs.string('activation', '');
    const params = node.attrs.floats('activation_params', []);
    const act = fusedActivation(name, params, `FusedConv node '${node.name}'`);
    // No activation or Relu/Clip: Z and the clamp go inside the convolution's GEMM epilogue.
    const clip = clipOf(name, params);
    if (clip || !act) return buildConv({ ...node, sinceVersion: 11 }, { clip, sum: node.inputPresent[3] });
    return fused(node, baseOp(convOps, 'Conv'), 11, act, 3);
  },
};

const fusedGemm: OpDef = {
  domain: MS,
  opType: 'FusedGemm',
  versions: [1],
  build(node) {
    const params = [node.attrs.float('activation_alpha', NaN), node.attrs.float('activation_beta', NaN)];
    const name = node.attrs.string('activation', '');
    // onnxruntime's defaults for parameters the node leaves out.
    const defaults: Record<string, number[]> = { LeakyRelu: [0.01], Elu: [1], HardSigmoid: [0.2, 0.5] };
    const p = params.map((v, i) => (Number.isNaN(v) ? (defaults[name]?.[i] ?? 0) : v));
    const clip = clipOf(name, p);
    if (clip) return buildGemm({ ...node, sinceVersion: 13 }, clip);
    return fused(
      node,
      baseOp(matmulOps, 'Gemm'),
      13,
      fusedActivation(name, p, `FusedGemm node '${node.name}'`),
      3,
    );
  },
};

const gelu: OpDef = {
  domain: MS,
  opType: 'Gelu',
  versions: [1],
  build: (node) => baseOp(activationOps, 'Gelu').build({ ...node, sinceVersion: 20 }),
};

/**
 * FastGelu: the tanh-approximated GELU of X (+ bias, a 1-D tensor of X's last dim), as ai.onnx
 * Gelu-20 with approximate = "tanh".
 */
const fastGelu: OpDef = {
  domain: MS,
  opType: 'FastGelu',
  versions: [1],
  build(node) {
    const approximate: [string, AttrValue] = ['approximate', { kind: 'string', value: 'tanh', bytes: TANH }];
    const attrs = new Attributes(new Map([approximate]), `FastGelu node '${node.name}'`);
    const one = { inputCount: 1, inputPresent: [true], inputNames: node.inputNames?.slice(0, 1) };
    const gelu = baseOp(activationOps, 'Gelu').build({ ...node, ...one, attrs, sinceVersion: 20 });
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'FastGelu input X');
      const bias = inputs[1] === undefined ? undefined : tensorInput(inputs[1], 'FastGelu input bias');
      if (!bias) return gelu([x], ctx);
      const last = x.dims[x.dims.length - 1];
      if (bias.dims.length !== 1 || bias.dims[0] !== last || bias.type !== x.type) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `FastGelu node '${node.name}': bias must be ${x.type} [${last}] (X's last dim), got ${bias.type} ${fmt(bias.dims)}`,
        );
      }
      return gelu([binary(x, bias, x.type, (a: number, b: number) => a + b, 'add')], ctx);
    };
  },
};

/**
 * SkipLayerNormalization(input, skip, gamma, beta?, bias?; epsilon) → output, mean?, inv_std_var?,
 * input_skip_bias_sum?: s = skip + (input + bias), LayerNormalization of s over its last axis with
 * gamma and beta. The sum is formed in that order so that a fused Add(bias, x) → Add(residual, ·)
 * gives the same floats as before fusion. Inputs broadcast as Add's do; gamma, beta and bias hold
 * one value per element of input's last axis.
 */
const skipLayerNorm: OpDef = {
  domain: MS,
  opType: 'SkipLayerNormalization',
  versions: [1],
  build(node) {
    const where = `SkipLayerNormalization node '${node.name}'`;
    const eps = node.attrs.float('epsilon', 1e-12);
    const epsilon: [string, AttrValue] = ['epsilon', { kind: 'float', value: eps }];
    // Gamma and beta as float64 for the WASM path (constant ones converted once).
    const float64Param = float64Params(node, [2, 3]);
    const attrs = new Attributes(new Map([epsilon]), where);
    // The normalization reads the sum (made here) as X, and gamma/beta by name (so constant ones
    // are converted once); mean and inv_std_var are its outputs 1 and 2 when asked for.
    const stats = node.outputPresent.slice(1, 3).some((p) => p);
    const names = node.inputNames ?? [];
    const norm = baseOp(normalizationOps, 'LayerNormalization').build({
      ...node,
      domain: '',
      attrs,
      sinceVersion: 17,
      inputCount: 3,
      inputPresent: [true, true, node.inputPresent[3] ?? false],
      inputNames: ['', names[2] ?? '', names[3] ?? ''],
      outputCount: stats ? 3 : 1,
      outputPresent: stats ? [true, true, true] : [true],
    });
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], `${where}: input`);
      const skip = tensorInput(inputs[1], `${where}: skip`);
      const gamma = tensorInput(inputs[2], `${where}: gamma`);
      const beta = inputs[3] === undefined ? undefined : tensorInput(inputs[3], `${where}: beta`);
      const bias = inputs[4] === undefined ? undefined : tensorInput(inputs[4], `${where}: bias`);
      const hidden = x.dims[x.dims.length - 1];
      for (const [name, t] of [
        ['gamma', gamma],
        ['beta', beta],
        ['bias', bias],
      ] as const) {
        if (t && (t.dims.length !== 1 || t.dims[0] !== hidden || t.type !== x.type)) {
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `${where}: ${name} must be ${x.type} [${hidden}] (input's last dim), got ${t.type} ${fmt(t.dims)}`,
          );
        }
      }
      if (fastFloat32() && x.type === 'float32' && sameDims(x.dims, skip.dims) && !stats && x.size > 0) {
        // One call on the WASM kernels: per row the sum, its statistics and the normalization.
        const Y = newFloat32Array(x.size, false);
        const sum = newFloat32Array(x.size, false);
        const addBias = bias?.data as Float32Array | undefined;
        const B = beta ? float64Param(beta) : new Float64Array(hidden);
        const rows = x.size / hidden;
        const residual = { skip: skip.data as Float32Array, addBias, sum };
        snormRows(
          x.data as Float32Array,
          Y,
          rows,
          hidden,
          float64Param(gamma),
          B,
          eps,
          false,
          undefined,
          residual,
        );
        return [new Tensor('float32', Y, x.dims), null, null, new Tensor('float32', sum, x.dims)];
      }
      const add = (a: number, b: number) => a + b;
      const biased = bias ? binary(x, bias, x.type, add, 'add') : x;
      const sum = binary(skip, biased, x.type, add, 'add');
      const outs = norm([sum, gamma, beta], ctx) as Tensor[];
      return [outs[0], outs[1] ?? null, outs[2] ?? null, sum];
    };
  },
};

export const ops: OpDef[] = [fusedConv, fusedGemm, gelu, fastGelu, skipLayerNorm];
