/**
 * Random generators: RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike, Bernoulli and
 * Multinomial.
 *
 * The generator is xoshiro128** (Blackman & Vigna; 128-bit state, period 2^128 - 1), its state filled
 * by splitmix32 from the seed. `seed` (a float attribute) is read as the bits of its float32 value, so
 * the same seed always gives the same sequence here; with no seed, each kernel draws a seed from
 * Math.random(). As in onnxruntime, the generator lives in the kernel and advances from run to run: a
 * new session with the same seed replays the same sequence, while two runs of one session differ.
 *
 * Draws: uniform doubles in [0, 1) with 53 random bits (two 32-bit outputs); normals by Box-Muller
 * (both values of each pair used); Bernoulli: 1 when u < p; Multinomial: inverse-CDF search over
 * exp(x - max) per row. The sequences cannot match numpy's (which the ONNX test data was made with).
 */
import { dtypeFromCode, type TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { shapeSize } from '../core/tensor.js';
import type { NodeInfo, OpDef } from './kernel.js';
import { isFloatType, numbersOf, tensorFromNumbers, tensorInput } from './util/numeric.js';

/** A seeded xoshiro128** generator. */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    // splitmix32 expands the 32-bit seed into the 128-bit state (never all zero).
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A standard normal draw (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The 32-bit seed for a `seed` attribute value: the bits of its float32 value. */
export function seedBits(seed: number): number {
  return new Uint32Array(new Float32Array([seed]).buffer)[0];
}

function generatorFor(node: NodeInfo): Xoshiro128 {
  const seed = node.attrs.has('seed')
    ? seedBits(node.attrs.float('seed'))
    : Math.floor(Math.random() * 2 ** 32);
  return new Xoshiro128(seed);
}

function dtypeAttr(
  node: NodeInfo,
  fallback: TensorType | undefined,
  allowed: (t: TensorType) => boolean,
): TensorType | undefined {
  if (!node.attrs.has('dtype')) return fallback;
  const code = node.attrs.int('dtype');
  const info = dtypeFromCode(code);
  if (!info || !allowed(info.name)) {
    throw new OnyxError(
      'INVALID_MODEL',
      `dtype ${code} (${info?.name ?? 'unknown'}) is not allowed for ${node.opType}`,
    );
  }
  return info.name;
}

function shapeAttr(node: NodeInfo): number[] {
  const shape = node.attrs.ints('shape');
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new OnyxError('INVALID_MODEL', `shape must hold non-negative dims, got [${shape.join(', ')}]`);
  }
  return shape;
}

type Draw = (g: Xoshiro128) => number;

/** RandomNormal/RandomUniform (shape from the attribute) and their *Like forms (shape from the input). */
function randomOp(opType: string, like: boolean, makeDraw: (node: NodeInfo) => Draw): OpDef {
  return {
    opType,
    versions: [1, 22],
    build(node) {
      const gen = generatorFor(node);
      const draw = makeDraw(node);
      const fixedType = dtypeAttr(node, like ? undefined : 'float32', isFloatType);
      const fixedShape = like ? undefined : shapeAttr(node);
      return (inputs) => {
        let type = fixedType;
        let dims = fixedShape;
        if (like) {
          const x = tensorInput(inputs[0], 'input');
          dims = [...x.dims];
          if (!type) {
            if (!isFloatType(x.type)) {
              throw new OnyxError(
                'TYPE_MISMATCH',
                `${opType} of a ${x.type} input needs a float 'dtype' attribute (the output must be a float type)`,
              );
            }
            type = x.type;
          }
        }
        const n = shapeSize(dims!);
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = draw(gen);
        return [tensorFromNumbers(type!, out, dims!)];
      };
    },
  };
}

const normalDraw = (node: NodeInfo): Draw => {
  const mean = node.attrs.float('mean', 0);
  const scale = node.attrs.float('scale', 1);
  return (g) => mean + scale * g.normal();
};

const uniformDraw = (node: NodeInfo): Draw => {
  const low = node.attrs.float('low', 0);
  const high = node.attrs.float('high', 1);
  if (!(high >= low)) throw new OnyxError('INVALID_MODEL', `high (${high}) must be >= low (${low})`);
  return (g) => low + (high - low) * g.uniform();
};

const bernoulli: OpDef = {
  opType: 'Bernoulli',
  versions: [15, 22],
  build(node) {
    const gen = generatorFor(node);
    const dtype = dtypeAttr(node, undefined, (t) => t !== 'string' && !t.startsWith('complex'));
    return (inputs) => {
      const x = tensorInput(inputs[0], 'input');
      if (!isFloatType(x.type)) {
        throw new OnyxError('TYPE_MISMATCH', `Bernoulli takes float probabilities, got ${x.type}`);
      }
      const p = numbersOf(x);
      const out = new Float64Array(p.length);
      for (let i = 0; i < p.length; i++) out[i] = gen.uniform() < p[i] ? 1 : 0;
      return [tensorFromNumbers(dtype ?? x.type, out, x.dims)];
    };
  },
};

const multinomial: OpDef = {
  opType: 'Multinomial',
  versions: [7, 22],
  build(node) {
    const gen = generatorFor(node);
    const dtype = dtypeAttr(node, 'int32', (t) => t === 'int32' || t === 'int64')!;
    const samples = node.attrs.int('sample_size', 1);
    if (samples < 0) throw new OnyxError('INVALID_MODEL', `sample_size must be >= 0, got ${samples}`);
    return (inputs) => {
      const x = tensorInput(inputs[0], 'input');
      if (!isFloatType(x.type) || x.dims.length !== 2) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `Multinomial takes float log-probabilities of dims [batch_size, class_size], got ${x.type} [${x.dims.join(', ')}]`,
        );
      }
      const [batch, classes] = x.dims;
      if (classes === 0 && samples > 0 && batch > 0) {
        throw new OnyxError('INVALID_ARGUMENT', 'Multinomial needs at least one class to sample from');
      }
      const v = numbersOf(x);
      const cdf = new Float64Array(classes);
      const out = new Float64Array(batch * samples);
      for (let b = 0; b < batch; b++) {
        let max = -Infinity;
        for (let c = 0; c < classes; c++) max = Math.max(max, v[b * classes + c]);
        let total = 0;
        for (let c = 0; c < classes; c++) {
          total += Math.exp(v[b * classes + c] - max);
          cdf[c] = total;
        }
        for (let s = 0; s < samples; s++) {
          const u = gen.uniform() * total;
          // First class whose cumulative weight exceeds u (binary search).
          let lo = 0;
          let hi = classes - 1;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (cdf[mid] > u) hi = mid;
            else lo = mid + 1;
          }
          out[b * samples + s] = lo;
        }
      }
      return [tensorFromNumbers(dtype, out, [batch, samples])];
    };
  },
};

export const ops: OpDef[] = [
  randomOp('RandomNormal', false, normalDraw),
  randomOp('RandomUniform', false, uniformDraw),
  randomOp('RandomNormalLike', true, normalDraw),
  randomOp('RandomUniformLike', true, uniformDraw),
  bernoulli,
  multinomial,
];
