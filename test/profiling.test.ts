/**
 * `enableProfiling`: one Chrome-trace event per node run, returned by `endProfiling()` and written to
 * `<profileFilePrefix>_<time>.json` when a prefix is set (through the Node platform adapter).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InferenceSession, Tensor } from '../src/index.js';
import { buildModel } from './helpers/build-model.js';

const model = buildModel({
  opset: 17,
  nodes: [
    { op: 'Relu', inputs: ['x'], outputs: ['r'], name: 'relu' },
    { op: 'Neg', inputs: ['r'], outputs: ['y'], name: 'neg' },
  ],
  inputs: [{ name: 'x', type: 'float32', dims: [2, 3] }],
  outputs: [{ name: 'y', type: 'float32', dims: [2, 3] }],
});

describe('profiling', () => {
  it('records each node of each run and writes the trace under the prefix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onyx-profile-'));
    try {
      const prefix = join(dir, 'trace');
      const s = await InferenceSession.create(model, {
        enableProfiling: true,
        profileFilePrefix: prefix,
        graphOptimizationLevel: 'disabled',
      });
      const x = new Tensor('float32', Float32Array.from([1, -2, 3, -4, 5, -6]), [2, 3]);
      await s.run({ x });
      await s.run({ x });
      const json = await s.endProfiling();
      const events = JSON.parse(json) as {
        name: string;
        cat: string;
        dur: number;
        args: Record<string, string>;
      }[];
      assert.deepEqual(
        events.map((e) => `${e.name}:${e.args.op_name}`),
        ['relu:Relu', 'neg:Neg', 'relu:Relu', 'neg:Neg'],
      );
      for (const e of events) {
        assert.equal(e.cat, 'Node');
        assert.ok(e.dur >= 0, 'e.dur >= 0');
        assert.equal(e.args.provider, 'cpu');
        assert.equal(e.args.input_shapes, '[2,3]');
        assert.equal(e.args.output_shapes, '[2,3]');
      }
      const files = readdirSync(dir);
      assert.equal(files.length, 1);
      assert.match(files[0], /^trace_.*\.json$/);
      assert.equal(readFileSync(join(dir, files[0]), 'utf8'), json);
      await s.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says profiling is off when the session was made without it', async () => {
    const s = await InferenceSession.create(model);
    await assert.rejects(s.endProfiling(), /profiling is off/);
    await s.release();
  });
});
