/**
 * Runs one of ONNX's `light/` models: no stored input, so each float input is fed
 * `arange(n).reshape(shape) / n` as float32 (a symbolic dim taken as 1), and the output is compared
 * with `<name>_output_0.pb`, as ONNX's own runner does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { InferenceSession, OnyxError, readValueProto, Tensor, type Value } from '../index.js';
import type { CaseOptions, CaseResult } from './backend-case.js';
import { compareValues, DEFAULT_TOLERANCE } from './compare.js';

export function lightInputs(session: InferenceSession): Record<string, Value> {
  const feeds: Record<string, Value> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new Error(`light input '${meta.name}' is not a tensor`);
    const dims = meta.shape.map((d) => (typeof d === 'number' ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = i / n;
    feeds[meta.name] = new Tensor('float32', data, dims);
  }
  return feeds;
}

export async function runLightCase(modelPath: string, options: CaseOptions = {}): Promise<CaseResult> {
  const name = modelPath
    .split(/[\\/]/)
    .pop()!
    .replace(/\.onnx$/, '');
  const start = performance.now();
  const done = (status: CaseResult['status'], detail: string): CaseResult => ({
    name,
    status,
    detail,
    ms: performance.now() - start,
  });
  try {
    const session = await InferenceSession.create(modelPath, {
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      logSeverityLevel: 3,
    });
    const result = await session.runValues(lightInputs(session));
    const expectedPath = modelPath.replace(/\.onnx$/, '_output_0.pb');
    if (!existsSync(expectedPath)) return done('error', `missing ${expectedPath}`);
    const expected = readValueProto(readFileSync(expectedPath));
    const mismatch = compareValues(
      result[session.outputNames[0]],
      expected,
      options.tolerance ?? DEFAULT_TOLERANCE,
    );
    return mismatch ? done('fail', mismatch) : done('pass', '');
  } catch (e) {
    if (e instanceof OnyxError && e.code === 'UNSUPPORTED_OP') return done('unsupported', e.message);
    return done('error', (e as Error).message);
  }
}
