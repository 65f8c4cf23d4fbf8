import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatMs } from './format.js';

it('shows a latency with three significant digits under 10 ms, never a small one as 0.0', () => {
  assert.equal(formatMs(0.0312), '0.0312');
  assert.equal(formatMs(0.4517), '0.452');
  assert.equal(formatMs(2.345), '2.35');
  assert.equal(formatMs(12.34), '12.3');
  assert.equal(formatMs(807.26), '807.3');
  assert.equal(formatMs(0), '0.0');
});
