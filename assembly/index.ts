/**
 * The WebAssembly kernels, one module: GEMM (with im2col packing), Winograd transforms, depthwise
 * convolution, pooling.
 */
export * from './gemm';
export * from './depthwise';
export * from './pool';
export { WINDOW_FIELDS } from './window';
// The elementwise and row-wise kernels are called through their range entry points (ranges.ts);
// lrn075 also directly, for planes whose running sums do not fit a thread's workspace.
export { lrn075, ACT_GELU_ERF, ACT_GELU_TANH, ACT_RELU, ACT_SIGMOID, ACT_TANH } from './activations';
export { lstmSequence } from './lstm';
export { igemm, packInt8B, packedInt8BBytes } from './igemm';
export { zeroBytes } from './memory';
export { batchNormFold } from './folding';
export { attentionDecode } from './attention';
export { initConstants, CONSTANTS_END } from './constants';
export { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } from './binary';
export {
  activationRange,
  binaryRange,
  channelAffineRange,
  lrnRange,
  normRowsRange,
  softmaxRange,
} from './ranges';
export * from './permute';
export { winogradInput, winogradOutput, winogradWeights, WINOGRAD_SKEW } from './winograd';
