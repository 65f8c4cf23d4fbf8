/**
 * Exit codes every `onyx` command uses, so scripts can rely on them.
 */
import { OnyxError } from '../index.js';

export const EXIT = {
  OK: 0,
  /** Checks ran and something did not pass (a failing test case, a mismatch). */
  FAILED: 1,
  /** Wrong command-line usage. */
  USAGE: 2,
  /** The model could not be loaded: unreadable, invalid, unsafe, or uses unsupported ops. */
  MODEL: 3,
  /** The model loaded but running it failed (bad input, kernel error). */
  RUNTIME: 4,
} as const;

export class UsageError extends Error {}

export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError) return EXIT.USAGE;
  if (e instanceof OnyxError) {
    return [
      'INVALID_FEED',
      'SHAPE_MISMATCH',
      'TYPE_MISMATCH',
      'RUNTIME_ERROR',
      'INVALID_ARGUMENT',
      'INVALID_IMAGE',
    ].includes(e.code)
      ? EXIT.RUNTIME
      : EXIT.MODEL;
  }
  return EXIT.RUNTIME;
}
