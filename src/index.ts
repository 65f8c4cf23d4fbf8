/**
 * Onyx's public API: a drop-in for onnxruntime-common's `InferenceSession`, `Tensor` and `env`.
 */
export { InferenceSession } from './api/inference-session.js';
export type { FeedsType, FetchesType, ReturnType, ValuesReturnType } from './api/inference-session.js';
export type { SessionOptions, RunOptions, ExecutionProviderConfig } from './api/options.js';
export type { ValueMetadata } from './api/metadata.js';
export { env, setLogSink } from './api/env.js';
export { Tensor } from './core/tensor.js';
export type { TensorType, TensorData } from './core/dtype.js';
export type { Value, MapKey } from './core/value.js';
export { OnyxError } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export { registerExecutionProvider } from './ep/provider.js';
export type { ExecutionProvider } from './ep/provider.js';
export type { Kernel, NodeInfo, RunContext, KernelInputs } from './ops/kernel.js';
export { readValueProto, writeTensorProto } from './api/value-proto.js';
export type { ValueKind } from './api/value-proto.js';
export {
  decodeMinifloats,
  encodeMinifloats,
  isMinifloat,
  minifloatToNumber,
  numberToMinifloat,
} from './core/float-formats.js';
export { inspectModel } from './api/inspect.js';
export { optimize } from './api/optimize.js';
export type { OptimizeResult } from './api/optimize.js';
export type { ModelInfo } from './api/inspect.js';
export { decodeImage, decodeImageAsync, loadImageCodecs, sniffFormat } from './image/decode.js';
export type { RgbImage, ImageFormat } from './image/decode.js';
