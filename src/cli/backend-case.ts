/**
 * Runs one ONNX backend-test case folder (model.onnx plus test_data_set_N folders of input_I.pb and
 * output_I.pb) through the public API and reports pass, fail (with the first mismatch) or unsupported (with the
 * missing ops). Shared by `onyx test` and the conformance runner.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InferenceSession,
  OnyxError,
  readValueProto,
  type Value,
  type ValueKind,
  type ValueMetadata,
} from '../index.js';
import { compareValues, DEFAULT_TOLERANCE, type Tolerance } from './compare.js';

export type CaseStatus = 'pass' | 'fail' | 'unsupported' | 'error';

export interface CaseResult {
  name: string;
  status: CaseStatus;
  detail: string;
  ms: number;
}

export interface CaseOptions {
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  tolerance?: Tolerance;
}

export function kindOf(meta: ValueMetadata): ValueKind {
  if (meta.isTensor) return 'tensor';
  if (meta.onnxType.startsWith('seq(')) return 'sequence';
  if (meta.onnxType.startsWith('map(')) return 'map';
  if (meta.onnxType.startsWith('optional(')) return 'optional';
  return 'tensor';
}

function numbered(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
    .map((f) => join(dir, f));
}

export async function runBackendCase(dir: string, options: CaseOptions = {}): Promise<CaseResult> {
  const name = dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
  const start = performance.now();
  const done = (status: CaseStatus, detail: string): CaseResult => ({
    name,
    status,
    detail,
    ms: performance.now() - start,
  });
  const modelPath = join(dir, 'model.onnx');
  if (!existsSync(modelPath)) return done('error', `no model.onnx in ${dir}`);
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(modelPath, {
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      logSeverityLevel: 3,
    });
  } catch (e) {
    if (e instanceof OnyxError && e.code === 'UNSUPPORTED_OP') return done('unsupported', e.message);
    return done('error', `create failed: ${(e as Error).message}`);
  }
  const sets = readdirSync(dir)
    .filter((f) => f.startsWith('test_data_set_'))
    .sort()
    .map((f) => join(dir, f));
  const tol = options.tolerance ?? DEFAULT_TOLERANCE;
  // Graph inputs that have initializers are optional; test data lists every graph input in order.
  const allInputs = [...session.inputMetadata];
  for (const set of sets) {
    const inputs = numbered(set, 'input_');
    const outputs = numbered(set, 'output_');
    try {
      const feeds: Record<string, Value> = {};
      inputs.forEach((file, i) => {
        const meta = allInputs[i];
        if (!meta) throw new Error(`test data has input_${i} but the model has ${allInputs.length} inputs`);
        feeds[meta.name] = readValueProto(readFileSync(file), kindOf(meta));
      });
      const result = await session.runValues(feeds);
      for (let i = 0; i < outputs.length; i++) {
        const meta = session.outputMetadata[i];
        const expected = readValueProto(readFileSync(outputs[i]), kindOf(meta));
        const mismatch = compareValues(result[meta.name], expected, tol, `output '${meta.name}'`);
        if (mismatch) return done('fail', `${set.split(/[\\/]/).pop()}: ${mismatch}`);
      }
    } catch (e) {
      return done('error', `${set.split(/[\\/]/).pop()}: ${(e as Error).message}`);
    }
  }
  await session.release();
  return done('pass', '');
}
