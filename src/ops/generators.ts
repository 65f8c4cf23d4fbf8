/**
 * Generator ops: Constant, ConstantOfShape, Range.
 *
 * Constant's tensor is built once at session creation; every run returns that same tensor (kernels
 * never mutate inputs, so sharing it downstream is safe).
 */
import { dtypeInfo, type TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { MAX_TENSOR_ELEMENTS } from '../core/limits.js';
import { Tensor } from '../core/tensor.js';
import type { OpDef } from './kernel.js';
import { intsOf, numbersOf, tensorFromNumbers, tensorInput, fmt } from './util/numeric.js';
import { fillElements } from './util/strided-copy.js';

// ------------------------------------------------------------------------------------------------
// Constant

const VALUE_ATTRS = [
  'value',
  'sparse_value',
  'value_float',
  'value_floats',
  'value_int',
  'value_ints',
  'value_string',
  'value_strings',
] as const;

const constant: OpDef = {
  opType: 'Constant',
  // 9: more types; 11: sparse_value; 12: value_float(s)/value_int(s)/value_string(s); later: types.
  versions: [1, 9, 11, 12, 13, 19, 21, 23, 24, 25],
  build(node) {
    const given = VALUE_ATTRS.filter((n) => node.attrs.has(n));
    if (given.length !== 1) {
      throw new OnyxError(
        'INVALID_MODEL',
        given.length === 0
          ? `Constant needs exactly one of the attributes ${VALUE_ATTRS.join(', ')}; none is set`
          : `Constant needs exactly one value attribute, got ${given.join(', ')}`,
      );
    }
    const name = given[0];
    const a = node.attrs.raw(name)!;
    let t: Tensor;
    const wrongKind = (want: string): never => {
      throw new OnyxError('INVALID_MODEL', `Constant attribute '${name}' should be ${want}, got ${a.kind}`);
    };
    switch (name) {
      case 'value':
        t = a.kind === 'tensor' ? a.value : wrongKind('a tensor');
        break;
      case 'sparse_value':
        // The loader densifies sparse tensors.
        t = a.kind === 'sparse_tensor' ? a.value : wrongKind('a sparse tensor');
        break;
      case 'value_float':
        t = new Tensor('float32', Float32Array.of(a.kind === 'float' ? a.value : wrongKind('a float')), []);
        break;
      case 'value_floats': {
        const v = a.kind === 'floats' ? a.value : wrongKind('floats');
        t = new Tensor('float32', Float32Array.from(v), [v.length]);
        break;
      }
      case 'value_int':
        t = new Tensor(
          'int64',
          BigInt64Array.of(a.kind === 'int' ? (a.exact ?? BigInt(a.value)) : wrongKind('an int')),
          [],
        );
        break;
      case 'value_ints': {
        const v = a.kind === 'ints' ? (a.exact ?? a.value.map((x) => BigInt(x))) : wrongKind('ints');
        t = new Tensor('int64', BigInt64Array.from(v), [v.length]);
        break;
      }
      case 'value_string':
        t = new Tensor('string', [a.kind === 'string' ? a.value : wrongKind('a string')], []);
        break;
      case 'value_strings': {
        const v = a.kind === 'strings' ? a.value : wrongKind('strings');
        t = new Tensor('string', v.slice(), [v.length]);
        break;
      }
    }
    return () => [t];
  },
};

// ------------------------------------------------------------------------------------------------
// ConstantOfShape

const constantOfShape: OpDef = {
  opType: 'ConstantOfShape',
  // 20: bfloat16/float8; 21: int4/uint4; 23: float4e2m1; 24: float8e8m0; 25: int2/uint2.
  versions: [9, 20, 21, 23, 24, 25],
  build(node) {
    const value = node.attrs.tensor('value', true) ?? new Tensor('float32', new Float32Array(1), [1]);
    if (value.size !== 1) {
      throw new OnyxError(
        'INVALID_MODEL',
        `ConstantOfShape value must be a one-element tensor, got dims ${fmt(value.dims)}`,
      );
    }
    const lanes = dtypeInfo(value.type).lanes;
    return (inputs, ctx) => {
      const dims = intsOf(tensorInput(inputs[0], 'ConstantOfShape input'), 'ConstantOfShape input');
      if (dims.some((d) => d < 0)) {
        throw new OnyxError('INVALID_MODEL', `ConstantOfShape shape ${fmt(dims)} has a negative dim`);
      }
      const out = ctx.alloc(value.type, dims);
      fillElements(out.data, 0, out.size, value.data, 0, lanes);
      return [out];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Range

function checkedCount(count: number, s: Tensor, l: Tensor, d: Tensor): number {
  if (count > MAX_TENSOR_ELEMENTS) {
    const v = (t: Tensor) => String((t.data as ArrayLike<unknown>)[0]);
    throw new OnyxError(
      'LIMIT_EXCEEDED',
      `Range(${v(s)}, ${v(l)}, ${v(d)}) would have ${count} elements, more than ${MAX_TENSOR_ELEMENTS}`,
    );
  }
  return count;
}

const range: OpDef = {
  opType: 'Range',
  versions: [11],
  build() {
    return (inputs) => {
      const [s, l, d] = (['start', 'limit', 'delta'] as const).map((what, i) => {
        const t = tensorInput(inputs[i], `Range ${what}`);
        if (t.size !== 1) {
          throw new OnyxError('SHAPE_MISMATCH', `Range ${what} must be a scalar, got dims ${fmt(t.dims)}`);
        }
        return t;
      });
      const type: TensorType = s.type;
      if (l.type !== type || d.type !== type) {
        throw new OnyxError(
          'TYPE_MISMATCH',
          `Range start, limit and delta must share one type, got ${s.type}, ${l.type}, ${d.type}`,
        );
      }
      const cls = dtypeInfo(type).numericClass;
      if (cls === 'string' || cls === 'complex' || type === 'bool') {
        throw new OnyxError('TYPE_MISMATCH', `Range does not support ${type}`);
      }
      if (cls === 'bigint') {
        // Exact 64-bit arithmetic.
        const start = (s.data as BigInt64Array)[0];
        const limit = (l.data as BigInt64Array)[0];
        const delta = (d.data as BigInt64Array)[0];
        if (delta === 0n) throw new OnyxError('INVALID_ARGUMENT', 'Range delta must not be 0');
        const span = limit - start;
        // ceil(span / delta) with BigInt's truncating division.
        let n = span / delta;
        if (n * delta !== span && span > 0n === delta > 0n) n += 1n;
        const count = checkedCount(n > 0n ? Number(n) : 0, s, l, d);
        const out = new (dtypeInfo(type).arrayType as BigInt64ArrayConstructor)(count);
        let v = start;
        for (let i = 0; i < count; i++, v += delta) out[i] = v;
        return [new Tensor(type, out, [count])];
      }
      const start = numbersOf(s)[0];
      const limit = numbersOf(l)[0];
      const delta = numbersOf(d)[0];
      if (delta === 0) throw new OnyxError('INVALID_ARGUMENT', 'Range delta must not be 0');
      if (!Number.isFinite(start) || !Number.isFinite(limit) || !Number.isFinite(delta)) {
        throw new OnyxError(
          'INVALID_ARGUMENT',
          `Range needs finite inputs, got ${start}, ${limit}, ${delta}`,
        );
      }
      const count = checkedCount(Math.max(Math.ceil((limit - start) / delta), 0), s, l, d);
      const values = new Float64Array(count);
      for (let i = 0; i < count; i++) values[i] = start + i * delta;
      return [tensorFromNumbers(type, values, [count])];
    };
  },
};

export const ops: OpDef[] = [constant, constantOfShape, range];
