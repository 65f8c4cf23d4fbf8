import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SETTLE_BELOW_MS, timeSlice, warmUp } from './bench-timing.js';

/** A run that takes `ms` of a fake clock. */
function fakeRuns(ms: number) {
  let clock = 0;
  let calls = 0;
  return {
    now: () => clock,
    calls: () => calls,
    run: async () => {
      clock += ms;
      return ++calls;
    },
  };
}

it('warms up by count when the runs are long, by duration when they are short', async () => {
  const long = fakeRuns(400);
  const l = await warmUp(long.run, { warmup: 2, warmupMs: 500 }, long.now);
  assert.deepEqual(l, { warmed: 2, lastMs: 400, last: 2 });
  const short = fakeRuns(10);
  const s = await warmUp(short.run, { warmup: 1, warmupMs: 500 }, short.now);
  assert.equal(s.warmed, 50);
  const none = await warmUp(short.run, { warmup: 0, warmupMs: 0 }, short.now);
  assert.equal(none.warmed, 1, 'always one warm-up run');
});

it('times a slice by duration, at least one run, after an untimed run when runs are short', async () => {
  const short = fakeRuns(10);
  const s = await timeSlice(short.run, 100, 10, short.now);
  assert.equal(s.settled, true);
  assert.deepEqual(s.timesMs, new Array(10).fill(10));
  assert.equal(short.calls(), 11, 'one untimed run first');
  const long = fakeRuns(2 * SETTLE_BELOW_MS);
  const l = await timeSlice(long.run, 100, 2 * SETTLE_BELOW_MS, long.now);
  assert.equal(l.settled, false);
  assert.deepEqual(l.timesMs, [2 * SETTLE_BELOW_MS], 'one run even when it outlasts the slice');
  assert.equal(long.calls(), 1);
});
