/**
 * `optimize()`: a model's optimized form as ONNX bytes, and what each optimizer pass did — what
 * `onyx optimize` prints. The same optimization an `InferenceSession` with these options runs
 * (`optimizedModelFilePath` writes the same bytes), so the result is only produced for models
 * Onyx can run.
 */
import { modelToBytes } from '../ir/to-proto.js';
import { createCore } from './inference-session.js';
import type { SessionOptions } from './options.js';

export interface OptimizeResult {
  /** The optimized model, a valid ONNX file (may use com.microsoft contrib ops at 'extended'+). */
  model: Uint8Array;
  /** The passes that changed the graph: rounds in which they did, and nodes they removed. */
  passes: { name: string; rounds: number; nodesRemoved: number }[];
}

export async function optimize(
  model: string | Uint8Array,
  options: SessionOptions = {},
): Promise<OptimizeResult> {
  // No thread pool: optimizing runs no kernel that would use it.
  const { core } = await createCore(model, {
    ...options,
    optimizedModelFilePath: undefined,
    intraOpNumThreads: 1,
  });
  return { model: modelToBytes(core.model), passes: core.optimization.map((p) => ({ ...p })) };
}
