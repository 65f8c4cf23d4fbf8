/**
 * Validates `session.run` feeds against the model's inputs before anything runs: unknown and missing
 * names, non-tensor values where a tensor is expected, element type and shape (fixed dims, rank, and
 * free-dimension overrides), each with a message that names the input and what it expects.
 */
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { ValueInfo } from '../ir/graph.js';
import { formatType } from '../ir/types.js';

export function validateFeeds(
  feeds: Record<string, unknown>,
  required: readonly ValueInfo[],
  optional: readonly ValueInfo[],
  overrides: Readonly<Record<string, number>>,
): Map<string, Value> {
  if (feeds === null || typeof feeds !== 'object') {
    throw new OnyxError('INVALID_FEED', 'feeds must be an object mapping input names to tensors');
  }
  const known = new Map([...required, ...optional].map((i) => [i.name, i]));
  for (const name of Object.keys(feeds)) {
    if (!known.has(name)) {
      throw new OnyxError(
        'INVALID_FEED',
        `'${name}' is not an input of this model; its inputs are: ${required.map((i) => `'${i.name}'`).join(', ') || '(none)'}`,
      );
    }
  }
  const missing = required.filter((i) => !(i.name in feeds));
  if (missing.length > 0) {
    throw new OnyxError(
      'INVALID_FEED',
      `missing input${missing.length > 1 ? 's' : ''} ${missing.map((i) => `'${i.name}' (${formatType(i.type)})`).join(', ')}`,
    );
  }
  const out = new Map<string, Value>();
  for (const [name, value] of Object.entries(feeds)) {
    const info = known.get(name)!;
    checkValue(name, value, info, overrides);
    out.set(name, value as Value);
  }
  return out;
}

function checkValue(
  name: string,
  value: unknown,
  info: ValueInfo,
  overrides: Readonly<Record<string, number>>,
): void {
  const t = info.type;
  if (t?.kind !== 'tensor') return;
  if (!(value instanceof Tensor)) {
    throw new OnyxError(
      'INVALID_FEED',
      `input '${name}' expects a Tensor of ${formatType(t)}, got ${describe(value)}`,
    );
  }
  if (value.type !== t.elemType) {
    throw new OnyxError(
      'TYPE_MISMATCH',
      `input '${name}' expects element type '${t.elemType}', got '${value.type}' (dims [${value.dims.join(', ')}])`,
    );
  }
  if (!t.shape) return;
  const expected = t.shape.map((d) =>
    typeof d === 'string' && overrides[d] !== undefined ? overrides[d] : d,
  );
  const shapeText = `[${expected.map((d) => d ?? '?').join(', ')}]`;
  if (value.dims.length !== expected.length) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `input '${name}' expects rank ${expected.length} ${shapeText}, got dims [${value.dims.join(', ')}]`,
    );
  }
  expected.forEach((d, i) => {
    if (typeof d === 'number' && d !== value.dims[i]) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `input '${name}' expects ${shapeText}: dim ${i} must be ${d}, got dims [${value.dims.join(', ')}]`,
      );
    }
  });
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name} (wrap it: new Tensor(type, data, dims))`;
  return typeof x === 'object' ? ((x as object).constructor?.name ?? 'an object') : typeof x;
}
