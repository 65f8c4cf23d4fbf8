/**
 * Axis handling shared by many ops: negative axes count from the end, and (since opset 13 for many
 * ops) axes may come from an input tensor instead of an attribute.
 */
import { OnyxError } from '../../core/errors.js';
import type { Value } from '../../core/value.js';
import { intsOf, tensorInput } from './numeric.js';

/** Maps an axis in [-rank, rank) to [0, rank); throws a clear error otherwise. */
export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new OnyxError('INVALID_MODEL', `${what} ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

export function normalizeAxes(axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out = axes.map((a) => normalizeAxis(a, rank, what));
  if (new Set(out).size !== out.length)
    throw new OnyxError('INVALID_MODEL', `${what} [${axes.join(', ')}] repeat an axis`);
  return out;
}

/** Axes from an optional input tensor (newer opsets) or undefined when omitted. */
export function axesInput(v: Value | undefined): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  return intsOf(tensorInput(v, 'axes'), 'axes');
}
