/**
 * Signal processing: DFT, STFT, MelWeightMatrix and the Hann / Hamming / Blackman windows.
 *
 * Complex tensors in these ops are real tensors with a trailing dim of 2 (re, im); a trailing dim of
 * 1 means a real signal. Transforms run in float64: radix-2 FFT for power-of-two lengths, a direct DFT
 * with an exact twiddle table for short other lengths, and Bluestein's algorithm (chirp-z through a
 * power-of-two FFT) for long other lengths. Results are rounded once to the input's type.
 *
 * DFT semantics (opset 17: `axis` attribute, default 1; opset 20: `axis` input, default -2; both count
 * negative axes from the end of the full rank, trailing complex dim included):
 * - forward: X[k] = sum_n x[n] e^{-2πi kn/N}; `onesided` keeps k in [0, N/2] (real input only);
 * - inverse: x[n] = (1/N) sum_k X[k] e^{2πi kn/N};
 * - inverse + onesided: X is the first half of a Hermitian spectrum; the output is the real signal
 *   (trailing dim 1) of length dft_length (default 2 * (input length - 1)), as numpy.fft.irfft.
 * `dft_length` zero-pads or truncates the input along `axis`.
 */
import { dtypeFromCode, type TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { OpDef } from './kernel.js';
import { normalizeAxis } from './util/axes.js';
import { isFloatType, numbersOf, scalarOf, tensorFromNumbers, tensorInput } from './util/numeric.js';

// ---------------------------------------------------------------------------------------------------
// Transforms

/** In-place radix-2 FFT (n a power of two); `sign` -1 forward, +1 inverse (unnormalized). */
function fftPow2(re: Float64Array, im: Float64Array, sign: number): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const step = (sign * 2 * Math.PI) / len;
    for (let k = 0; k < half; k++) {
      const wr = Math.cos(step * k);
      const wi = Math.sin(step * k);
      for (let s = k; s < n; s += len) {
        const t = s + half;
        const xr = re[t] * wr - im[t] * wi;
        const xi = re[t] * wi + im[t] * wr;
        re[t] = re[s] - xr;
        im[t] = im[s] - xi;
        re[s] += xr;
        im[s] += xi;
      }
    }
  }
}

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** A reusable transform of one length N (forward or inverse, unnormalized). */
export class DftPlan {
  private readonly cos: Float64Array | undefined;
  private readonly sin: Float64Array | undefined;
  private readonly m: number = 0;
  private readonly chirpRe: Float64Array | undefined;
  private readonly chirpIm: Float64Array | undefined;
  private readonly kernelRe: Float64Array | undefined;
  private readonly kernelIm: Float64Array | undefined;
  private readonly outRe: Float64Array;
  private readonly outIm: Float64Array;

  constructor(
    readonly n: number,
    readonly sign: number,
  ) {
    this.outRe = new Float64Array(n);
    this.outIm = new Float64Array(n);
    if (isPow2(n)) return;
    if (n <= 64) {
      // Direct DFT: twiddles indexed by (j * k) mod n are exact table lookups.
      this.cos = new Float64Array(n);
      this.sin = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        this.cos[k] = Math.cos((2 * Math.PI * k) / n);
        this.sin[k] = sign * Math.sin((2 * Math.PI * k) / n);
      }
      return;
    }
    // Bluestein: x_k w_k convolved with conj(w), w_k = e^{sign·iπ k²/n}; k² taken mod 2n for accuracy.
    let m = 1;
    while (m < 2 * n - 1) m <<= 1;
    this.m = m;
    this.chirpRe = new Float64Array(n);
    this.chirpIm = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const a = (Math.PI * ((k * k) % (2 * n))) / n;
      this.chirpRe[k] = Math.cos(a);
      this.chirpIm[k] = sign * Math.sin(a);
    }
    this.kernelRe = new Float64Array(m);
    this.kernelIm = new Float64Array(m);
    for (let k = 0; k < n; k++) {
      this.kernelRe[k] = this.chirpRe[k];
      this.kernelIm[k] = -this.chirpIm[k];
      if (k > 0) {
        this.kernelRe[m - k] = this.chirpRe[k];
        this.kernelIm[m - k] = -this.chirpIm[k];
      }
    }
    fftPow2(this.kernelRe, this.kernelIm, -1);
  }

  /** Transforms (re, im) in place. */
  run(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    if (isPow2(n)) {
      fftPow2(re, im, this.sign);
      return;
    }
    if (this.cos && this.sin) {
      const { outRe, outIm, cos, sin } = this;
      for (let k = 0; k < n; k++) {
        let sr = 0;
        let si = 0;
        for (let j = 0, idx = 0; j < n; j++, idx = (idx + k) % n) {
          sr += re[j] * cos[idx] - im[j] * sin[idx];
          si += re[j] * sin[idx] + im[j] * cos[idx];
        }
        outRe[k] = sr;
        outIm[k] = si;
      }
      re.set(outRe);
      im.set(outIm);
      return;
    }
    const m = this.m;
    const cr = this.chirpRe!;
    const ci = this.chirpIm!;
    const ar = new Float64Array(m);
    const ai = new Float64Array(m);
    for (let k = 0; k < n; k++) {
      ar[k] = re[k] * cr[k] - im[k] * ci[k];
      ai[k] = re[k] * ci[k] + im[k] * cr[k];
    }
    fftPow2(ar, ai, -1);
    const kr = this.kernelRe!;
    const ki = this.kernelIm!;
    for (let k = 0; k < m; k++) {
      const r = ar[k] * kr[k] - ai[k] * ki[k];
      ai[k] = ar[k] * ki[k] + ai[k] * kr[k];
      ar[k] = r;
    }
    fftPow2(ar, ai, 1);
    for (let k = 0; k < n; k++) {
      const r = ar[k] / m;
      const i = ai[k] / m;
      re[k] = r * cr[k] - i * ci[k];
      im[k] = r * ci[k] + i * cr[k];
    }
  }
}

function checkSignal(x: Tensor, what: string): void {
  if (!isFloatType(x.type))
    throw new OnyxError('TYPE_MISMATCH', `${what} must be a float tensor, got ${x.type}`);
  const last = x.dims[x.dims.length - 1];
  if (x.dims.length < 2 || (last !== 1 && last !== 2)) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${what} must have rank >= 2 and a last dim of 1 (real) or 2 (complex), got [${x.dims.join(', ')}]`,
    );
  }
}

function positiveScalar(t: Tensor, what: string): number {
  const v = scalarOf(t, what);
  if (!Number.isInteger(v) || v <= 0)
    throw new OnyxError('INVALID_ARGUMENT', `${what} must be a positive integer, got ${v}`);
  return v;
}

const dft: OpDef = {
  opType: 'DFT',
  versions: [17, 20],
  build(node) {
    const inverse = node.attrs.int('inverse', 0) !== 0;
    const onesided = node.attrs.int('onesided', 0) !== 0;
    const axisAttr = node.sinceVersion < 20 ? node.attrs.int('axis', 1) : undefined;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'input');
      checkSignal(x, 'input');
      const rank = x.dims.length;
      const axisRaw = axisAttr ?? (inputs[2] ? scalarOf(tensorInput(inputs[2], 'axis'), 'axis') : -2);
      const axis = normalizeAxis(axisRaw, rank, 'axis');
      if (axis === rank - 1) {
        throw new OnyxError(
          'INVALID_ARGUMENT',
          `axis ${axisRaw} is the trailing (re, im) dim; pick a signal axis`,
        );
      }
      const complexIn = x.dims[rank - 1] === 2;
      const irfft = inverse && onesided;
      if (onesided && !inverse && complexIn) {
        throw new OnyxError(
          'INVALID_ARGUMENT',
          'onesided output needs a real input (last dim 1), got a complex one',
        );
      }
      const lenIn = x.dims[axis];
      const n = inputs[1]
        ? positiveScalar(tensorInput(inputs[1], 'dft_length'), 'dft_length')
        : irfft
          ? 2 * (lenIn - 1)
          : lenIn;
      if (n <= 0) throw new OnyxError('INVALID_ARGUMENT', `the transform length must be positive, got ${n}`);
      const lenOut = irfft ? n : onesided ? Math.floor(n / 2) + 1 : n;
      let outer = 1;
      for (let i = 0; i < axis; i++) outer *= x.dims[i];
      let inner = 1;
      for (let i = axis + 1; i < rank - 1; i++) inner *= x.dims[i];
      const src = numbersOf(x);
      const cin = complexIn ? 2 : 1;
      const cout = irfft ? 1 : 2;
      const out = new Float64Array(outer * lenOut * inner * cout);
      const plan = new DftPlan(n, inverse ? 1 : -1);
      const re = new Float64Array(n);
      const im = new Float64Array(n);
      const scale = inverse ? 1 / n : 1;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          re.fill(0);
          im.fill(0);
          const at = (k: number) => ((o * lenIn + k) * inner + j) * cin;
          if (irfft) {
            // Rebuild the full Hermitian spectrum from its first half.
            const half = Math.min(lenIn - 1, Math.floor(n / 2));
            for (let k = 0; k <= half; k++) {
              re[k] = src[at(k)];
              im[k] = complexIn ? src[at(k) + 1] : 0;
            }
            for (let k = 1; k < n - k; k++) {
              re[n - k] = re[k];
              im[n - k] = -im[k];
            }
          } else {
            const m = Math.min(lenIn, n);
            for (let k = 0; k < m; k++) {
              re[k] = src[at(k)];
              if (complexIn) im[k] = src[at(k) + 1];
            }
          }
          plan.run(re, im);
          for (let k = 0; k < lenOut; k++) {
            const p = ((o * lenOut + k) * inner + j) * cout;
            out[p] = re[k] * scale;
            if (cout === 2) out[p + 1] = im[k] * scale;
          }
        }
      }
      const dims = x.dims.slice();
      dims[axis] = lenOut;
      dims[rank - 1] = cout;
      return [tensorFromNumbers(x.type, out, dims)];
    };
  },
};

const stft: OpDef = {
  opType: 'STFT',
  versions: [17],
  build(node) {
    const onesided = node.attrs.int('onesided', 1) !== 0;
    return (inputs) => {
      const signal = tensorInput(inputs[0], 'signal');
      checkSignal(signal, 'signal');
      if (signal.dims.length !== 3) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `signal must be [batch, length, 1|2], got [${signal.dims.join(', ')}]`,
        );
      }
      const [batch, length, cin] = signal.dims;
      if (onesided && cin === 2) {
        throw new OnyxError(
          'INVALID_ARGUMENT',
          'onesided output needs a real signal (last dim 1), got a complex one',
        );
      }
      const step = positiveScalar(tensorInput(inputs[1], 'frame_step'), 'frame_step');
      const window = inputs[2] ? tensorInput(inputs[2], 'window') : undefined;
      if (window && window.dims.length !== 1) {
        throw new OnyxError('SHAPE_MISMATCH', `window must be 1-D, got [${window.dims.join(', ')}]`);
      }
      let frame = inputs[3]
        ? positiveScalar(tensorInput(inputs[3], 'frame_length'), 'frame_length')
        : undefined;
      if (window && frame !== undefined && window.dims[0] !== frame) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `window has ${window.dims[0]} values but frame_length is ${frame}`,
        );
      }
      frame ??= window?.dims[0];
      if (frame === undefined) throw new OnyxError('INVALID_MODEL', 'STFT needs a window or a frame_length');
      if (frame > length) {
        throw new OnyxError('SHAPE_MISMATCH', `frame_length ${frame} exceeds the signal length ${length}`);
      }
      const frames = Math.floor((length - frame) / step) + 1;
      const bins = onesided ? Math.floor(frame / 2) + 1 : frame;
      const w = window ? numbersOf(window) : undefined;
      const src = numbersOf(signal);
      const out = new Float64Array(batch * frames * bins * 2);
      const plan = new DftPlan(frame, -1);
      const re = new Float64Array(frame);
      const im = new Float64Array(frame);
      for (let b = 0; b < batch; b++) {
        for (let f = 0; f < frames; f++) {
          for (let k = 0; k < frame; k++) {
            const p = (b * length + f * step + k) * cin;
            const wk = w ? w[k] : 1;
            re[k] = src[p] * wk;
            im[k] = cin === 2 ? src[p + 1] * wk : 0;
          }
          plan.run(re, im);
          const base = (b * frames + f) * bins * 2;
          for (let k = 0; k < bins; k++) {
            out[base + 2 * k] = re[k];
            out[base + 2 * k + 1] = im[k];
          }
        }
      }
      return [tensorFromNumbers(signal.type, out, [batch, frames, bins, 2])];
    };
  },
};

// ---------------------------------------------------------------------------------------------------
// Windows and the mel filter bank

function outputType(code: number): TensorType {
  const info = dtypeFromCode(code);
  if (!info || info.numericClass === 'string' || info.numericClass === 'complex') {
    throw new OnyxError('INVALID_MODEL', `output_datatype ${code} is not a real numeric ONNX type`);
  }
  return info.name;
}

/** Generalized cosine windows: a0 - a1 cos(2πn/N) + a2 cos(4πn/N), N = size (periodic) or size - 1. */
function cosineWindow(opType: string, a0: number, a1: number, a2: number): OpDef {
  return {
    opType,
    versions: [17],
    build(node) {
      const type = outputType(node.attrs.int('output_datatype', 1));
      const periodic = node.attrs.int('periodic', 1) !== 0;
      return (inputs) => {
        const sizeT = tensorInput(inputs[0], 'size');
        const size = scalarOf(sizeT, 'size');
        if (!Number.isInteger(size) || size < 0) {
          throw new OnyxError('INVALID_ARGUMENT', `size must be a non-negative integer, got ${size}`);
        }
        const denom = periodic ? size : size - 1;
        const step = denom > 0 ? (2 * Math.PI) / denom : 0;
        const out = new Float64Array(size);
        for (let i = 0; i < size; i++) out[i] = a0 - a1 * Math.cos(step * i) + a2 * Math.cos(2 * step * i);
        return [tensorFromNumbers(type, out, [size])];
      };
    },
  };
}

const melWeightMatrix: OpDef = {
  opType: 'MelWeightMatrix',
  versions: [17],
  build(node) {
    const type = outputType(node.attrs.int('output_datatype', 1));
    return (inputs) => {
      const names = ['num_mel_bins', 'dft_length', 'sample_rate', 'lower_edge_hertz', 'upper_edge_hertz'];
      const [bins, dftLength, rate, lowHz, highHz] = names.map((n, i) =>
        scalarOf(tensorInput(inputs[i], n), n),
      );
      if (
        !Number.isInteger(bins) ||
        bins <= 0 ||
        !Number.isInteger(dftLength) ||
        dftLength <= 0 ||
        rate <= 0
      ) {
        throw new OnyxError(
          'INVALID_ARGUMENT',
          `num_mel_bins, dft_length and sample_rate must be positive, got ${bins}, ${dftLength}, ${rate}`,
        );
      }
      if (!(lowHz >= 0 && lowHz <= highHz)) {
        throw new OnyxError(
          'INVALID_ARGUMENT',
          `need 0 <= lower_edge_hertz <= upper_edge_hertz, got ${lowHz} and ${highHz}`,
        );
      }
      const specBins = Math.floor(dftLength / 2) + 1;
      // As the ONNX reference: mel edges in float32, num_mel_bins + 2 points spaced by (hi - lo) / (bins + 2).
      const f = Math.fround;
      const lowMel = f(2595 * Math.log10(f(1 + f(lowHz / 700))));
      const highMel = f(2595 * Math.log10(f(1 + f(highHz / 700))));
      const melStep = f((highMel - lowMel) / (bins + 2));
      const points = new Int32Array(bins + 2);
      for (let i = 0; i < bins + 2; i++) {
        const hz = 700 * (10 ** ((i * melStep + lowMel) / 2595) - 1);
        points[i] = Math.floor(((dftLength + 1) * hz) / rate);
      }
      const out = new Float64Array(specBins * bins);
      const set = (row: number, col: number, v: number) => {
        if (row >= 0 && row < specBins) out[row * bins + col] = v;
      };
      for (let i = 0; i < bins; i++) {
        const [lo, center, hi] = [points[i], points[i + 1], points[i + 2]];
        if (center === lo) set(center, i, 1);
        else for (let j = lo; j <= center; j++) set(j, i, (j - lo) / (center - lo));
        if (hi > center) for (let j = center; j < hi; j++) set(j, i, (hi - j) / (hi - center));
      }
      return [tensorFromNumbers(type, out, [specBins, bins])];
    };
  },
};

export const ops: OpDef[] = [
  dft,
  stft,
  melWeightMatrix,
  cosineWindow('HannWindow', 0.5, 0.5, 0),
  cosineWindow('HammingWindow', 25 / 46, 21 / 46, 0),
  cosineWindow('BlackmanWindow', 0.42, 0.5, 0.08),
];
