/**
 * Activation functions: the pointwise ones (Relu … Swish, SwiGLU) as rows of one table driving the
 * shared elementwise factory; PRelu (slope broadcast onto X); the softmax family (Softmax, LogSoftmax,
 * Hardmax) with both axis conventions; and Dropout (identity at inference, numpy-seeded mask in
 * training mode, as in the ONNX reference).
 */
import { allocData, type TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { NodeInfo, OpDef } from './kernel.js';
import { normalizeAxis } from './util/axes.js';
import { broadcastShapes } from './util/broadcast.js';
import { binary, unary } from './util/elementwise.js';
import {
  elementwiseOp,
  legacyBroadcast,
  pickFn,
  requireInputs,
  requireSameType,
  type ElementFns,
} from './util/elementwise-op.js';
import { MT19937 } from './util/mt19937.js';
import { numbersOf, scalarOf, tensorFromNumbers, tensorInput } from './util/numeric.js';
import { erf } from './util/special-functions.js';
import { fastFloat32, sactivation, ssoftmax, type Activation } from './util/dispatch.js';

// ---------------------------------------------------------------------------------------------
// Pointwise activations

const sigmoid = (x: number) => {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
};
/** log(1 + e^x) without overflow for large x. */
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const SQRT1_2 = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

interface ActivationRow {
  op: string;
  versions: number[];
  /** Scalar functions given the node's attributes. */
  fns: (node: NodeInfo) => ElementFns;
}

const float = (fn: (x: number) => number): ElementFns => ({ float: fn });

function geluFns(node: NodeInfo): ElementFns {
  const approximate = node.attrs.string('approximate', 'none');
  if (approximate === 'none') return float((x) => 0.5 * x * (1 + erf(x * SQRT1_2)));
  if (approximate === 'tanh') {
    return float((x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
  }
  throw new OnyxError('INVALID_MODEL', `Gelu: approximate must be "none" or "tanh", got "${approximate}"`);
}

function shrinkFns(node: NodeInfo): ElementFns {
  const lambd = node.attrs.float('lambd', 0.5);
  const bias = node.attrs.float('bias', 0);
  const f = (x: number) => (x < -lambd ? x + bias : x > lambd ? x - bias : 0);
  // Integer inputs: computed in double, truncated toward zero on store (int64 via Number).
  return { float: f, int: f, bigint: (x: bigint) => BigInt(Math.trunc(f(Number(x)))) };
}

const ACTIVATIONS: ActivationRow[] = [
  {
    op: 'Relu',
    versions: [1, 6, 13, 14],
    fns: () => ({
      float: (x: number) => (x < 0 ? 0 : x),
      int: (x: number) => (x < 0 ? 0 : x),
      bigint: (x: bigint) => (x < 0n ? 0n : x),
    }),
  },
  {
    op: 'LeakyRelu',
    versions: [1, 6, 16],
    fns(node) {
      const alpha = node.attrs.float('alpha', 0.01);
      return float((x) => (x < 0 ? alpha * x : x));
    },
  },
  {
    op: 'Elu',
    versions: [1, 6, 22],
    fns(node) {
      const alpha = node.attrs.float('alpha', 1);
      return float((x) => (x < 0 ? alpha * (Math.exp(x) - 1) : x));
    },
  },
  {
    op: 'Selu',
    versions: [1, 6, 22],
    fns(node) {
      const alpha = node.attrs.float('alpha', 1.67326319217681884765625);
      const gamma = node.attrs.float('gamma', 1.05070102214813232421875);
      return float((x) => (x <= 0 ? gamma * (alpha * Math.exp(x) - alpha) : gamma * x));
    },
  },
  {
    // Since-version 28 is inferred from the ONNX 1.23 test data (Celu float16/bfloat16 cases at opset 28).
    op: 'Celu',
    versions: [12, 28],
    fns(node) {
      const alpha = node.attrs.float('alpha', 1);
      if (alpha === 0) throw new OnyxError('INVALID_MODEL', 'Celu: alpha must not be 0');
      return float((x) => Math.max(0, x) + Math.min(0, alpha * (Math.exp(x / alpha) - 1)));
    },
  },
  { op: 'Sigmoid', versions: [1, 6, 13], fns: () => float(sigmoid) },
  {
    op: 'HardSigmoid',
    versions: [1, 6, 22],
    fns(node) {
      const alpha = node.attrs.float('alpha', 0.2);
      const beta = node.attrs.float('beta', 0.5);
      return float((x) => Math.max(0, Math.min(1, alpha * x + beta)));
    },
  },
  { op: 'HardSwish', versions: [14, 22], fns: () => float((x) => x * Math.max(0, Math.min(1, x / 6 + 0.5))) },
  { op: 'Tanh', versions: [1, 6, 13], fns: () => float(Math.tanh) },
  { op: 'Softplus', versions: [1, 22], fns: () => float(softplus) },
  { op: 'Softsign', versions: [1, 22], fns: () => float((x) => x / (1 + Math.abs(x))) },
  { op: 'Gelu', versions: [20], fns: geluFns },
  { op: 'Mish', versions: [18, 22], fns: () => float((x) => x * Math.tanh(softplus(x))) },
  {
    op: 'ThresholdedRelu',
    versions: [10, 22],
    fns(node) {
      const alpha = node.attrs.float('alpha', 1);
      return float((x) => (x > alpha ? x : 0));
    },
  },
  { op: 'Shrink', versions: [9], fns: shrinkFns },
  {
    op: 'Swish',
    versions: [24],
    fns(node) {
      const alpha = node.attrs.float('alpha', 1);
      return float((x) => x * sigmoid(alpha * x));
    },
  },
];

/** A float32 activation as one call over the whole array (src → out, same length). */
type Float32Kernel = (src: Float32Array, out: Float32Array) => void;

/**
 * `def` with float32 inputs computed by `kernelFor(node)` in one pass — a direct loop, or a WASM
 * kernel — instead of the generic path's scalar function per element; other types, and nodes for
 * which `kernelFor` gives nothing, take the generic path.
 */
function withFloat32Kernel(def: OpDef, kernelFor: (node: NodeInfo) => Float32Kernel | undefined): OpDef {
  return {
    ...def,
    build(node) {
      const generic = def.build(node);
      const kernel = kernelFor(node);
      if (!kernel) return generic;
      return (inputs, ctx) => {
        const x = inputs[0];
        if (!(x instanceof Tensor) || !(x.data instanceof Float32Array) || inputs.length !== 1) {
          return generic(inputs, ctx);
        }
        const out = allocData('float32', x.data.length, false) as Float32Array; // written whole
        kernel(x.data, out);
        return [new Tensor('float32', out, x.dims)];
      };
    },
  };
}

/** Relu: NaN stays NaN, as on the generic path. */
function reluFloat32(src: Float32Array, out: Float32Array): void {
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = v < 0 ? 0 : v;
  }
}

/**
 * `f` on the WASM kernels' vectorised functions (a few ulp from the float64 reference) in fast mode;
 * `reference`, the TypeScript loop, in reference mode.
 */
function wasmOr(f: Activation, reference: Float32Kernel): Float32Kernel {
  return (src, out) => (fastFloat32() ? sactivation(f, src, out) : reference(src, out));
}

/** `fn` applied element by element. */
function loopOf(fn: (x: number) => number): Float32Kernel {
  return (src, out) => {
    for (let i = 0; i < src.length; i++) out[i] = fn(src[i]);
  };
}

/**
 * erfc(z) for z ≥ 0 with fractional error below 1.2e-7 everywhere (Chebyshev fit, Numerical
 * Recipes `erfcc`): one exp per element, enough for float32 results.
 */
function erfcFast(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  return (
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  );
}

/** Gelu (approximate = "none") of float32 `src` into `out`: 0.5·x·(1 + erf(x/√2)) via erfc. */
export function geluErfFloat32(src: Float32Array, out: Float32Array): void {
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    const z = x * SQRT1_2;
    // For x < 0, 1 + erf(z) = erfc(|z|) keeps full relative accuracy in the tail.
    out[i] = x < 0 ? 0.5 * x * erfcFast(-z) : 0.5 * x * (2 - erfcFast(z));
  }
}

/**
 * Gelu (approximate = "tanh") of float32 `src` into `out`: 0.5·x·(1 + tanh(u)) computed as
 * x / (1 + e^(−2u)), the same value without 1 + tanh(u) cancelling to 0 in the negative tail.
 */
export function geluTanhFloat32(src: Float32Array, out: Float32Array): void {
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    out[i] = x / (1 + Math.exp(-2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
  }
}

/** Ops with a float32 kernel of their own (WASM in fast mode for Sigmoid, Tanh and Gelu). */
const FLOAT32_KERNELS: Record<string, (node: NodeInfo) => Float32Kernel | undefined> = {
  Relu: () => wasmOr('relu', reluFloat32),
  Gelu: (node) =>
    node.attrs.string('approximate', 'none') === 'none'
      ? wasmOr('gelu', geluErfFloat32)
      : wasmOr('gelu-tanh', geluTanhFloat32),
  Sigmoid: () => wasmOr('sigmoid', loopOf(sigmoid)),
  Tanh: () => wasmOr('tanh', loopOf(Math.tanh)),
};

const pointwiseOps: OpDef[] = ACTIVATIONS.map((r) => {
  const def = elementwiseOp({ opType: r.op, versions: r.versions, arity: 1, fns: r.fns });
  const kernelFor = FLOAT32_KERNELS[r.op];
  return kernelFor ? withFloat32Kernel(def, kernelFor) : def;
});

/** SwiGLU(A, B) = Swish_alpha(A) · B; A and B must have the same shape (no broadcasting). */
const swigluOp: OpDef = {
  opType: 'SwiGLU',
  versions: [28],
  build(node) {
    const alpha = node.attrs.float('alpha', 1);
    return (inputs) => {
      const [a, b] = requireInputs('SwiGLU', inputs, 2);
      requireSameType('SwiGLU', [a, b]);
      if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `SwiGLU: A and B must have the same shape, got [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`,
        );
      }
      const fn = pickFn('SwiGLU', { float: (x: number, y: number) => x * sigmoid(alpha * x) * y }, a.type);
      return [binary(a, b, a.type, fn)];
    };
  },
};

/** PRelu: Y = X < 0 ? slope·X : X, with the slope broadcast onto X's shape (unidirectionally). */
const preluOp: OpDef = {
  opType: 'PRelu',
  versions: [1, 6, 7, 9, 16],
  build(node) {
    const legacy = node.sinceVersion < 7;
    const fns: ElementFns = {
      float: (x: number, s: number) => (x < 0 ? x * s : x),
      int: (x: number, s: number) => (x < 0 ? Math.imul(x, s) : x),
      bigint: (x: bigint, s: bigint) => (x < 0n ? x * s : x),
    };
    return (inputs) => {
      const [x, given] = requireInputs('PRelu', inputs, 2);
      requireSameType('PRelu', [x, given]);
      const fn = pickFn('PRelu', fns, x.type);
      let slope = given;
      // Before opset 7 a 1-D slope of length C applies per channel (dim 1) of an N×C×… input.
      if (legacy && slope.dims.length === 1 && x.dims.length > 2 && slope.dims[0] === x.dims[1]) {
        slope = legacyBroadcast('PRelu', x, slope, 1, 1);
      }
      const dims = broadcastShapes(x.dims, slope.dims);
      if (dims.length !== x.dims.length || dims.some((d, i) => d !== x.dims[i])) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `PRelu: slope of shape [${slope.dims.join(', ')}] cannot be broadcast to X's shape [${x.dims.join(', ')}]`,
        );
      }
      return [binary(x, slope, x.type, fn)];
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Softmax, LogSoftmax, Hardmax

type SoftmaxKind = 'softmax' | 'logsoftmax' | 'hardmax';

/**
 * Normalizes `x` along rows of length `len` whose elements are `inner` apart, `outer` rows of them
 * per `len·inner` block. Opset < 13 coerces X to 2-D at `axis` (len = product of dims[axis:],
 * inner = 1); opset 13+ works along the one axis (inner = product of dims[axis+1:]).
 */
function softmaxFamily(kind: SoftmaxKind, x: Tensor, outer: number, len: number, inner: number): Tensor {
  const src = numbersOf(x);
  const out = new Float64Array(x.size);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let max = -Infinity;
      let arg = 0;
      for (let k = 0; k < len; k++) {
        const v = src[base + k * inner];
        if (v > max || (v !== v && max === max)) {
          max = v;
          arg = k;
        }
      }
      if (kind === 'hardmax') {
        if (len > 0) out[base + arg * inner] = 1;
        continue;
      }
      let sum = 0;
      for (let k = 0; k < len; k++) {
        const e = Math.exp(src[base + k * inner] - max);
        if (kind === 'softmax') out[base + k * inner] = e;
        sum += e;
      }
      if (kind === 'softmax') {
        for (let k = 0; k < len; k++) out[base + k * inner] /= sum;
      } else {
        const logSum = Math.log(sum);
        for (let k = 0; k < len; k++) out[base + k * inner] = src[base + k * inner] - max - logSum;
      }
    }
  }
  return tensorFromNumbers(x.type, out, x.dims);
}

/**
 * Softmax / LogSoftmax of float32 rows of length `len` laid end to end (inner = 1): the same
 * arithmetic as `softmaxFamily` in double, rounded to float32 once on store, without the
 * float64 round trip of the whole tensor.
 */
export function softmaxRowsFloat32(
  kind: 'softmax' | 'logsoftmax',
  src: Float32Array,
  len: number,
): Float32Array {
  const out = new Float32Array(src.length);
  const row = new Float64Array(len);
  for (let base = 0; base + len <= src.length && len > 0; base += len) {
    let max = -Infinity;
    for (let k = 0; k < len; k++) {
      const v = src[base + k];
      if (v > max || (v !== v && max === max)) max = v;
    }
    let sum = 0;
    if (kind === 'softmax') {
      for (let k = 0; k < len; k++) {
        const e = Math.exp(src[base + k] - max);
        row[k] = e;
        sum += e;
      }
      for (let k = 0; k < len; k++) out[base + k] = row[k] / sum;
    } else {
      for (let k = 0; k < len; k++) sum += Math.exp(src[base + k] - max);
      const logSum = Math.log(sum);
      for (let k = 0; k < len; k++) out[base + k] = src[base + k] - max - logSum;
    }
  }
  return out;
}

function softmaxOp(opType: string, kind: SoftmaxKind): OpDef {
  return {
    opType,
    versions: [1, 11, 13],
    build(node) {
      const coerce2d = node.sinceVersion < 13;
      const axisAttr = node.attrs.int('axis', coerce2d ? 1 : -1);
      return (inputs) => {
        const x = tensorInput(inputs[0], `${opType} input`);
        pickFn(opType, { float: (v: number) => v }, x.type);
        const rank = x.dims.length;
        const axis = rank === 0 ? 0 : normalizeAxis(axisAttr, rank);
        let outer = 1;
        for (let d = 0; d < axis; d++) outer *= x.dims[d];
        let rest = 1;
        for (let d = axis + 1; d < rank; d++) rest *= x.dims[d];
        const len = rank === 0 ? 1 : x.dims[axis];
        const rowLen = coerce2d ? len * rest : rest === 1 ? len : 0;
        if (kind !== 'hardmax' && rowLen > 0 && x.type === 'float32' && x.data instanceof Float32Array) {
          if (kind === 'softmax' && fastFloat32()) {
            const out = allocData('float32', x.size, false) as Float32Array; // written whole
            ssoftmax(x.data, out, rowLen);
            return [new Tensor('float32', out, x.dims)];
          }
          return [new Tensor('float32', softmaxRowsFloat32(kind, x.data, rowLen), x.dims)];
        }
        return [
          coerce2d ? softmaxFamily(kind, x, outer, len * rest, 1) : softmaxFamily(kind, x, outer, len, rest),
        ];
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Dropout

function onesMask(x: Tensor, type: TensorType): Tensor {
  return unary(x, type, () => 1);
}

/** The optional training inputs of Dropout-12+: a float ratio and a bool training_mode. */
function optionalScalar(v: Value | undefined, what: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  return scalarOf(tensorInput(v, `Dropout ${what}`), `Dropout ${what}`);
}

const dropoutOp: OpDef = {
  opType: 'Dropout',
  versions: [1, 6, 7, 10, 12, 13, 22],
  build(node) {
    const v = node.sinceVersion;
    const wantMask = node.outputCount > 1 && node.outputPresent[1] !== false;
    // Before opset 10 the mask has X's type; from 10 on it is bool.
    const maskType = (x: Tensor): TensorType => (v < 10 ? x.type : 'bool');
    const seed = v >= 12 && node.attrs.has('seed') ? node.attrs.int('seed') : undefined;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'Dropout input');
      pickFn('Dropout', { float: (e: number) => e }, x.type);
      // Opsets < 12 have no training input: an inference runtime treats them as identity.
      const training = v >= 12 && optionalScalar(inputs[2], 'training_mode', 0) !== 0;
      const ratio = v >= 12 ? optionalScalar(inputs[1], 'ratio', 0.5) : 0;
      if (!training || ratio === 0) {
        return wantMask ? [x, onesMask(x, maskType(x))] : [x];
      }
      if (!(ratio >= 0 && ratio < 1)) {
        throw new OnyxError('INVALID_ARGUMENT', `Dropout: ratio must be in [0, 1), got ${ratio}`);
      }
      // As the ONNX reference: keep where RandomState(seed).uniform(0, 1, shape) >= ratio, scale 1/(1-ratio).
      const rng = new MT19937(seed ?? Math.floor(Math.random() * 2 ** 32));
      const keep = new Uint8Array(x.size);
      for (let i = 0; i < keep.length; i++) keep[i] = rng.nextDouble() >= ratio ? 1 : 0;
      const scale = 1 / (1 - ratio);
      const src = numbersOf(x);
      const out = new Float64Array(x.size);
      for (let i = 0; i < out.length; i++) out[i] = keep[i] ? src[i] * scale : 0;
      const y = tensorFromNumbers(x.type, out, x.dims);
      return wantMask ? [y, new Tensor('bool', keep, x.dims)] : [y];
    };
  },
};

export const ops: OpDef[] = [
  ...pointwiseOps,
  swigluOp,
  preluOp,
  softmaxOp('Softmax', 'softmax'),
  softmaxOp('LogSoftmax', 'logsoftmax'),
  softmaxOp('Hardmax', 'hardmax'),
  dropoutOp,
];
