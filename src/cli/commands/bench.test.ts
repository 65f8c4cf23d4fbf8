import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { PROTOCOL_PREFIX } from '../bench-timing.js';
import type { WorkerJob } from '../bench-worker.js';
import { UsageError } from '../exit-codes.js';
import { bench, BenchWorker, loadOrder, pooled } from './bench.js';

const round = (loadMs: number, maxRssBytes: number, timesMs: number[]) => ({
  loadMs,
  maxRssBytes,
  timesMs,
  outputs: [],
});

it('pools every round of an engine: all runs, and the median round’s load time and peak RSS', () => {
  const p = pooled([round(30, 5, [3, 4]), round(10, 9, [1]), round(20, 7, [2, 5])]);
  assert.deepEqual(p.timesMs, [3, 4, 1, 2, 5]);
  assert.equal(p.loadMs, 20);
  assert.equal(p.maxRssBytes, 7);
});

it('rejects a round count that is not a positive integer', async () => {
  await assert.rejects(() => bench(['model.onnx'], { rounds: '0' }), UsageError);
  await assert.rejects(() => bench(['model.onnx'], { rounds: '1.5' }), /--rounds must be a positive integer/);
});

it('rejects a negative or non-numeric run count or duration', async () => {
  await assert.rejects(
    () => bench(['model.onnx'], { 'min-ms': '-1' }),
    /--min-ms must be a non-negative number/,
  );
  await assert.rejects(() => bench(['model.onnx'], { runs: 'x' }), /--runs must be a non-negative number/);
});

it('stops a worker only once it has exited (the next load then runs alone)', async () => {
  // A worker that takes 300 ms to go after SIGTERM, as one freeing a large model does.
  const script = join(mkdtempSync(join(tmpdir(), 'onyx-bench-')), 'slow-exit.cjs');
  writeFileSync(
    script,
    `process.on('SIGTERM', () => setTimeout(() => process.exit(0), 300));
     process.stdout.write(${JSON.stringify(PROTOCOL_PREFIX)} + '{}\\n');
     setInterval(() => {}, 1000);`,
  );
  const worker = new BenchWorker({} as WorkerJob, script);
  await worker.ask();
  const t0 = Date.now();
  await worker.stop();
  assert.ok(Date.now() - t0 >= 250, `stop() returned after ${Date.now() - t0} ms, before the exit`);
  await worker.stop(); // already gone: returns at once
});

it('rotates the order in which engines load from round to round', () => {
  const engines = ['onyx', 'ort-web', 'ort-node'];
  assert.deepEqual(
    [1, 2, 3, 4].map((r) => loadOrder(engines, r).join(',')),
    ['onyx,ort-web,ort-node', 'ort-web,ort-node,onyx', 'ort-node,onyx,ort-web', 'onyx,ort-web,ort-node'],
  );
  assert.deepEqual(loadOrder(['onyx'], 5), ['onyx']);
});
