import assert from 'node:assert/strict';
import { it } from 'node:test';
import { timeRuns } from './bench-timing.js';

/** A run that takes `ms` of a fake clock. */
function fakeRuns(ms: number) {
  let clock = 0;
  let calls = 0;
  return {
    now: () => clock,
    run: async () => {
      clock += ms;
      return ++calls;
    },
  };
}

it('warms up and times by count when the runs are long', async () => {
  const { now, run } = fakeRuns(400);
  const r = await timeRuns(run, { warmup: 2, warmupMs: 500, runs: 3, minMs: 1000, maxRuns: 200 }, now);
  assert.equal(r.warmed, 2);
  assert.deepEqual(r.timesMs, [400, 400, 400]);
  assert.equal(r.last, 5);
});

it('warms up and times by duration when the runs are short, up to maxRuns', async () => {
  const { now, run } = fakeRuns(10);
  const r = await timeRuns(run, { warmup: 1, warmupMs: 500, runs: 7, minMs: 1000, maxRuns: 200 }, now);
  assert.equal(r.warmed, 50);
  assert.equal(r.timesMs.length, 100);
  const capped = await timeRuns(run, { warmup: 0, warmupMs: 0, runs: 7, minMs: 1e6, maxRuns: 20 }, now);
  assert.equal(capped.warmed, 1, 'always one warm-up run');
  assert.equal(capped.timesMs.length, 20);
});
