/**
 * Shared by the optimizer pass tests: build a model into IR, run a pass, and check that the rewritten
 * graph computes what the original did (both run through the public API with optimization off, the
 * rewritten one after being written back to ONNX bytes).
 */
import assert from 'node:assert/strict';
import type { TypedArray } from '../../src/core/dtype.js';
import { InferenceSession, Tensor } from '../../src/index.js';
import type { Model } from '../../src/ir/graph.js';
import { modelToBytes } from '../../src/ir/to-proto.js';
import { validateGraph } from '../../src/ir/validate.js';
import { loadModelBytes } from '../../src/onnx/load.js';
import { buildModel, type ModelSpec } from './build-model.js';

export function load(spec: ModelSpec): Model {
  const m = loadModelBytes(buildModel(spec));
  validateGraph(m.graph);
  return m;
}

export const opTypes = (m: Model): string[] =>
  m.graph.nodes.map((n) => (n.domain ? `${n.domain}.${n.opType}` : n.opType));

/** Seeded values in [-1, 1). */
export function randomTensor(dims: number[], seed = 1): Tensor {
  let s = seed;
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
  return new Tensor('float32', data, dims);
}

export async function run(
  model: Uint8Array | Model,
  feeds: Record<string, Tensor>,
): Promise<Record<string, Tensor>> {
  const bytes = model instanceof Uint8Array ? model : modelToBytes(model);
  const s = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  return s.run(feeds);
}

export function assertClose(got: Record<string, Tensor>, want: Record<string, Tensor>, rtol = 1e-5): void {
  assert.deepEqual(Object.keys(got), Object.keys(want));
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    assert.deepEqual(g.dims, w.dims, `${name} dims`);
    const a = g.data as TypedArray;
    const b = w.data as TypedArray;
    for (let i = 0; i < b.length; i++) {
      const [x, y] = [Number(a[i]), Number(b[i])];
      assert.ok(Math.abs(x - y) <= rtol * Math.max(1, Math.abs(y)), `${name}[${i}]: ${x} vs ${y}`);
    }
  }
}

/** Runs `pass` on the model of `spec` and checks it changed the graph without changing the outputs. */
export async function checkRewrite(
  spec: ModelSpec,
  pass: (m: Model) => boolean | Promise<boolean>,
  feeds: Record<string, Tensor>,
  rtol = 1e-5,
): Promise<Model> {
  const before = await run(buildModel(spec), feeds);
  const m = load(spec);
  assert.equal(await pass(m), true, 'the pass changes the graph');
  validateGraph(m.graph);
  assertClose(await run(m, feeds), before, rtol);
  return m;
}
