/**
 * CausalConvWithState (ai.onnx, since opset 27): the depthwise causal 1-D convolution of state-space
 * and linear-attention models (Mamba, Gated DeltaNet), with its rolling state.
 *
 *   input [N, C, L], weight [C, 1, K], bias [C] (optional), past_state [N, C, K−1] (optional, zeros)
 *   padded        = concat(past_state, input) along the last axis          [N, C, K−1+L]
 *   output[n,c,t] = bias[c] + Σ_k weight[c,0,k] · padded[n,c,t+k]           [N, C, L]
 *   present_state = the last K−1 steps of padded                           [N, C, K−1]
 * `activation` 'silu' (alias 'swish') applies y·sigmoid(y) to the convolution rounded to the output
 * type, computed in float32 — the order of the spec's function body (Conv, Cast to float, Sigmoid,
 * Mul, CastLike back). Float types only (float16/bfloat16 are computed through float32 values).
 */
import { OnyxError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { OpDef } from './kernel.js';
import { isFloatType, numbersOf, tensorFromNumbers, tensorInput } from './util/numeric.js';

const ACTIVATIONS = ['none', 'silu', 'swish'];

const causalConvWithState: OpDef = {
  opType: 'CausalConvWithState',
  versions: [27],
  build(node) {
    const activation = node.attrs.string('activation', 'none').toLowerCase();
    if (!ACTIVATIONS.includes(activation)) {
      throw new OnyxError(
        'INVALID_MODEL',
        `activation must be one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, got '${activation}'`,
      );
    }
    const silu = activation !== 'none';
    const hasBias = node.inputPresent[2] ?? false;
    const hasPast = node.inputPresent[3] ?? false;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'input');
      const w = tensorInput(inputs[1], 'weight');
      if (!isFloatType(x.type)) {
        throw new OnyxError('TYPE_MISMATCH', `CausalConvWithState takes a float input, got ${x.type}`);
      }
      const sameType = (t: Tensor, name: string) => {
        if (t.type !== x.type) {
          throw new OnyxError('TYPE_MISMATCH', `${name} must be ${x.type} like the input, got ${t.type}`);
        }
      };
      sameType(w, 'weight');
      if (x.dims.length !== 3) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `input must have dims [batch, channels, length], got [${x.dims.join(', ')}]`,
        );
      }
      const [n, c, len] = x.dims;
      if (w.dims.length !== 3 || w.dims[0] !== c || w.dims[1] !== 1 || w.dims[2] < 1) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `weight must have dims [channels=${c}, 1, kernel_size>=1] (one filter per channel), got [${w.dims.join(', ')}]`,
        );
      }
      const k = w.dims[2];
      const s = k - 1;
      let bias: ArrayLike<number> | undefined;
      if (hasBias && inputs[2] !== undefined) {
        const b = tensorInput(inputs[2], 'bias');
        sameType(b, 'bias');
        if (b.dims.length !== 1 || b.dims[0] !== c) {
          throw new OnyxError('SHAPE_MISMATCH', `bias must have dims [${c}], got [${b.dims.join(', ')}]`);
        }
        bias = numbersOf(b);
      }
      let past: ArrayLike<number> | undefined;
      if (hasPast && inputs[3] !== undefined) {
        const p = tensorInput(inputs[3], 'past_state');
        sameType(p, 'past_state');
        if (p.dims.length !== 3 || p.dims[0] !== n || p.dims[1] !== c || p.dims[2] !== s) {
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `past_state must have dims [${n}, ${c}, kernel_size-1=${s}], got [${p.dims.join(', ')}]`,
          );
        }
        past = numbersOf(p);
      }
      const xs = numbersOf(x);
      const ws = numbersOf(w);
      const y = new Float64Array(n * c * len);
      const state = new Float64Array(n * c * s);
      const padded = new Float64Array(s + len);
      for (let row = 0; row < n * c; row++) {
        const ch = row % c;
        // padded = [past_state | input] for this (batch, channel) row
        if (past) for (let i = 0; i < s; i++) padded[i] = past[row * s + i];
        else padded.fill(0, 0, s);
        for (let t = 0; t < len; t++) padded[s + t] = xs[row * len + t];
        const b = bias ? bias[ch] : 0;
        for (let t = 0; t < len; t++) {
          let acc = b;
          for (let j = 0; j < k; j++) acc += ws[ch * k + j] * padded[t + j];
          y[row * len + t] = acc;
        }
        for (let i = 0; i < s; i++) state[row * s + i] = padded[len + i];
      }
      let output = tensorFromNumbers(x.type, y, [n, c, len]);
      if (silu) {
        const v = numbersOf(output);
        const act = new Float32Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const f = Math.fround(v[i]);
          act[i] = Math.fround(f * Math.fround(1 / (1 + Math.exp(-f))));
        }
        output = tensorFromNumbers(x.type, act, [n, c, len]);
      }
      return [output, tensorFromNumbers(x.type, state, [n, c, s])];
    };
  },
};

export const ops: OpDef[] = [causalConvWithState];
