/**
 * Compares a computed value with an expected one the way ONNX's backend test runner does
 * (numpy.testing.assert_allclose: |actual − expected| ≤ atol + rtol·|expected|, NaN equals NaN;
 * exact for integers, bools and strings), recursing into sequences, maps and optionals.
 * Returns null when they match, or a description of the first mismatch.
 */
import { decodeMinifloats, isMinifloat, Tensor, type Value } from '../index.js';

export interface Tolerance {
  rtol: number;
  atol: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { rtol: 1e-3, atol: 1e-7 };

const FLOAT_TYPES = new Set([
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'float4e2m1',
  'float8e8m0',
  'complex64',
  'complex128',
]);

export function compareValues(
  actual: Value | undefined,
  expected: Value,
  tol: Tolerance,
  path = 'output',
): string | null {
  if (expected === null) return actual === null ? null : `${path}: expected an empty optional, got a value`;
  if (actual === null || actual === undefined)
    return `${path}: expected a value, got ${actual === null ? 'an empty optional' : 'nothing'}`;
  if (expected instanceof Tensor) {
    if (!(actual instanceof Tensor)) return `${path}: expected a tensor`;
    return compareTensors(actual, expected, tol, path);
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected a sequence`;
    if (actual.length !== expected.length)
      return `${path}: sequence length ${actual.length}, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const r = compareValues(actual[i], expected[i], tol, `${path}[${i}]`);
      if (r) return r;
    }
    return null;
  }
  if (!(actual instanceof Map)) return `${path}: expected a map`;
  if (actual.size !== expected.size)
    return `${path}: map has ${actual.size} entries, expected ${expected.size}`;
  for (const [k, v] of expected) {
    const r = compareValues(actual.get(k), v, tol, `${path}{${String(k)}}`);
    if (r) return r;
  }
  return null;
}

function compareTensors(a: Tensor, e: Tensor, tol: Tolerance, path: string): string | null {
  if (a.type !== e.type) return `${path}: type ${a.type}, expected ${e.type}`;
  if (a.dims.length !== e.dims.length || a.dims.some((d, i) => d !== e.dims[i])) {
    return `${path}: dims [${a.dims.join(', ')}], expected [${e.dims.join(', ')}]`;
  }
  const av = valuesForCompare(a);
  const ev = valuesForCompare(e);
  const approx = FLOAT_TYPES.has(e.type);
  for (let i = 0; i < ev.length; i++) {
    const x = av[i];
    const y = ev[i];
    if (x === y) continue;
    if (approx && typeof x === 'number' && typeof y === 'number') {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      if (Math.abs(x - y) <= tol.atol + tol.rtol * Math.abs(y)) continue;
    }
    return `${path}: element ${i} is ${String(x)}, expected ${String(y)}`;
  }
  return null;
}

/** Decodes stored bits of minifloat types into numbers so they compare by value. */
function valuesForCompare(t: Tensor): ArrayLike<number | bigint | string> {
  if (isMinifloat(t.type)) return decodeMinifloats(t.type, t.data as Uint8Array | Uint16Array);
  return t.data as ArrayLike<number | bigint | string>;
}
