import assert from 'node:assert/strict';
import { it } from 'node:test';
import { UsageError } from '../exit-codes.js';
import { bench, pooled } from './bench.js';

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
