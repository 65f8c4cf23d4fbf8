import assert from 'node:assert/strict';
import { it } from 'node:test';
import Long from 'long';
import { toBigInt } from './proto.js';

it('converts int64 and uint64 fields to BigInt exactly, from numbers and from both halves of a Long', () => {
  const cases: [Long, boolean, bigint][] = [
    [Long.fromString('-1'), false, -1n],
    [Long.fromString('-9223372036854775808'), false, -(2n ** 63n)],
    [Long.fromString('9223372036854775807'), false, 2n ** 63n - 1n],
    [Long.fromString('9007199254740993'), false, 9007199254740993n],
    [Long.fromString('-4294967297'), false, -4294967297n],
    [Long.fromString('18446744073709551615', true), true, 2n ** 64n - 1n],
    // protobufjs decodes a uint64 field into a signed Long: the bits are what counts.
    [Long.fromString('-1'), true, 2n ** 64n - 1n],
    [Long.fromString('9223372036854775808', true), true, 2n ** 63n],
  ];
  for (const [long, unsigned, want] of cases) assert.equal(toBigInt(long, unsigned), want, long.toString());
  assert.equal(toBigInt(-5), -5n);
  assert.equal(toBigInt(2 ** 40, true), 2n ** 40n);
});
