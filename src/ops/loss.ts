/**
 * Losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (which is NLL on log_softmax over the
 * class axis, and can also return that log_softmax).
 *
 * Shapes: input [N, C] or [N, C, d1, ..., dk]; target [N] or [N, d1, ..., dk] of int32/int64 class
 * indices; optional weight [C]. For every (n, d): loss = -input[n, target, d] * weight[target], and 0
 * with weight 0 where target == ignore_index. Reductions: 'none' keeps target's shape; 'sum' adds;
 * 'mean' divides the sum by the sum of the weights that applied (the count of non-ignored elements when
 * there is no weight tensor), as the ONNX reference and onnxruntime do.
 *
 * Computation runs in float64 and is rounded once to the input's type at the end.
 */
import { OnyxError } from '../core/errors.js';
import { Tensor, shapeSize } from '../core/tensor.js';
import type { NodeInfo, OpDef } from './kernel.js';
import { isFloatType, numbersOf, tensorFromNumbers, tensorInput } from './util/numeric.js';

type Reduction = 'none' | 'sum' | 'mean';

interface LossAttrs {
  reduction: Reduction;
  ignoreIndex: number | undefined;
}

function lossAttrs(node: NodeInfo): LossAttrs {
  const reduction = node.attrs.string('reduction', 'mean');
  if (reduction !== 'none' && reduction !== 'sum' && reduction !== 'mean') {
    throw new OnyxError('INVALID_MODEL', `reduction must be 'none', 'sum' or 'mean', got '${reduction}'`);
  }
  const ignoreIndex = node.attrs.has('ignore_index') ? node.attrs.int('ignore_index') : undefined;
  return { reduction, ignoreIndex };
}

interface LossShape {
  N: number;
  C: number;
  /** Product of the spatial dims d1..dk (1 when there are none). */
  D: number;
}

function checkShapes(input: Tensor, target: Tensor, weight: Tensor | undefined, what: string): LossShape {
  const x = input.dims;
  const t = target.dims;
  if (x.length < 2) {
    throw new OnyxError('SHAPE_MISMATCH', `${what} must have rank >= 2 ([N, C, ...]), got [${x.join(', ')}]`);
  }
  const expected = [x[0], ...x.slice(2)];
  if (t.length !== expected.length || t.some((d, i) => d !== expected[i])) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `target dims [${t.join(', ')}] must be ${what}'s dims without the class axis: [${expected.join(', ')}]`,
    );
  }
  if (target.type !== 'int32' && target.type !== 'int64') {
    throw new OnyxError('TYPE_MISMATCH', `target must be int32 or int64, got ${target.type}`);
  }
  if (!isFloatType(input.type)) {
    throw new OnyxError('TYPE_MISMATCH', `${what} must be a float tensor, got ${input.type}`);
  }
  if (weight && (weight.dims.length !== 1 || weight.dims[0] !== x[1])) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `weight must be 1-D with one value per class (${x[1]}), got [${weight.dims.join(', ')}]`,
    );
  }
  return { N: x[0], C: x[1], D: shapeSize(x.slice(2)) };
}

/** The NLL loss of log-probabilities `logp` laid out [N, C, D]. */
function nll(
  logp: ArrayLike<number>,
  s: LossShape,
  target: Tensor,
  weight: ArrayLike<number> | undefined,
  a: LossAttrs,
  outType: Tensor['type'],
): Tensor {
  const tgt = numbersOf(target);
  const { N, C, D } = s;
  const loss = new Float64Array(N * D);
  let weightSum = 0;
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const i = n * D + d;
      const t = tgt[i];
      if (t === a.ignoreIndex) continue;
      if (t < 0 || t >= C) {
        throw new OnyxError(
          'INVALID_ARGUMENT',
          `target value ${t} at flat index ${i} is outside the class range [0, ${C})` +
            (a.ignoreIndex !== undefined ? ` and is not ignore_index (${a.ignoreIndex})` : ''),
        );
      }
      const w = weight ? weight[t] : 1;
      loss[i] = -logp[(n * C + t) * D + d] * w;
      weightSum += w;
    }
  }
  if (a.reduction === 'none') return tensorFromNumbers(outType, loss, target.dims);
  let sum = 0;
  for (let i = 0; i < loss.length; i++) sum += loss[i];
  return tensorFromNumbers(outType, [a.reduction === 'sum' ? sum : sum / weightSum], []);
}

const negativeLogLikelihoodLoss: OpDef = {
  opType: 'NegativeLogLikelihoodLoss',
  versions: [12, 13, 22],
  build(node) {
    const a = lossAttrs(node);
    return (inputs) => {
      const input = tensorInput(inputs[0], 'input');
      const target = tensorInput(inputs[1], 'target');
      const weight = inputs[2] ? tensorInput(inputs[2], 'weight') : undefined;
      const s = checkShapes(input, target, weight, 'input');
      return [nll(numbersOf(input), s, target, weight ? numbersOf(weight) : undefined, a, input.type)];
    };
  },
};

const softmaxCrossEntropyLoss: OpDef = {
  opType: 'SoftmaxCrossEntropyLoss',
  versions: [12, 13],
  build(node) {
    const a = lossAttrs(node);
    return (inputs) => {
      const scores = tensorInput(inputs[0], 'scores');
      const labels = tensorInput(inputs[1], 'labels');
      const weight = inputs[2] ? tensorInput(inputs[2], 'weights') : undefined;
      const s = checkShapes(scores, labels, weight, 'scores');
      const x = numbersOf(scores);
      const { N, C, D } = s;
      // log_softmax over the class axis, numerically stable (max subtracted).
      const logp = new Float64Array(x.length);
      for (let n = 0; n < N; n++) {
        for (let d = 0; d < D; d++) {
          const base = n * C * D + d;
          let max = -Infinity;
          for (let c = 0; c < C; c++) max = Math.max(max, x[base + c * D]);
          let sum = 0;
          for (let c = 0; c < C; c++) sum += Math.exp(x[base + c * D] - max);
          const lse = max + Math.log(sum);
          for (let c = 0; c < C; c++) logp[base + c * D] = x[base + c * D] - lse;
        }
      }
      const loss = nll(logp, s, labels, weight ? numbersOf(weight) : undefined, a, scores.type);
      return [loss, tensorFromNumbers(scores.type, logp, scores.dims)];
    };
  },
};

export const ops: OpDef[] = [negativeLogLikelihoodLoss, softmaxCrossEntropyLoss];
