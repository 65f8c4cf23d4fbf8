/**
 * Linear quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, and the
 * quantized-linear matrix product and convolution (QLinearMatMul, QLinearConv). MatMulInteger lives
 * with MatMul (matmul.ts); ConvInteger belongs with Conv (conv.ts).
 *
 * Semantics follow the ONNX spec and its reference implementation (onnx/reference/ops):
 * - Quantize: `y = saturate(round_half_even(x / scale) + zero_point)` for integer types; for float8 the
 *   quotient (plus the zero point, which must be 0) is cast with the `saturate` flag; float4e2m1 always
 *   saturates. The division runs in the precision of `precision` (opset 23+) or else of the wider of x's
 *   and scale's types, as numpy does (float16 / float16 divides in float16).
 * - Dequantize: `y = (x - zero_point) * scale`, stored in `output_dtype` (opset 23+) or scale's type.
 * - Granularity from the scale's shape: one value (per tensor), 1-D of length dims[axis] (per axis), or
 *   the input's rank with dims[axis] replaced by ceil(dims[axis] / block_size) (blocked, opset 21+).
 * - The QLinear ops accumulate exactly (integers held in float64, exact below 2^53), then scale by
 *   `a_scale * b_scale / y_scale` computed in the scales' own type, as the reference does.
 */
import { allocData, dtypeFromCode, dtypeInfo, type NumericArray, type TensorType } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import {
  decodeMinifloats,
  encodeMinifloats,
  isMinifloat,
  type MinifloatType,
} from '../core/float-formats.js';
import { Tensor, shapeSize, type Dims } from '../core/tensor.js';
import type { Attributes } from '../ir/attributes.js';
import type { Kernel, KernelInputs, OpDef } from './kernel.js';
import { normalizeAxis } from './util/axes.js';
import { broadcastOffsets, broadcastShapes } from './util/broadcast.js';
import { isFloatType, numbersOf, tensorFromNumbers, tensorInput } from './util/numeric.js';
import { integerProducts, ownPacked, type PackedInt8B } from './util/dispatch.js';
import { prepackInt8B } from './util/int8-weights.js';
import { integerConv } from './util/integer-conv.js';

// ---------------------------------------------------------------------------------------------------
// Shared numeric helpers

/** Rounds to the nearest integer, ties to even (numpy's rint, the rounding ONNX quantization uses). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  // Math.round sends ties up; a tie that landed on an odd integer goes one down instead.
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Rounds every value of `v` (in place) to the precision of the float type `type`. */
function roundToFloatType(type: TensorType, v: Float64Array): Float64Array {
  if (type === 'float32') {
    for (let i = 0; i < v.length; i++) v[i] = Math.fround(v[i]);
  } else if (isMinifloat(type)) {
    const back = decodeMinifloats(type, encodeMinifloats(type, v));
    for (let i = 0; i < v.length; i++) v[i] = back[i];
  }
  return v;
}

/** The type numpy would compute `a op b` in, for the float types the quantization ops take. */
function promoteFloat(a: TensorType, b: TensorType): TensorType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  if (!isFloatType(a) || !isFloatType(b)) return 'float64'; // int with float: numpy goes to float64
  return 'float32';
}

/** Element values of any numeric tensor as float64 (exact for every type but huge int64). */
function float64Of(t: Tensor): Float64Array {
  return Float64Array.from(numbersOf(t));
}

const INTEGER_QUANT_TYPES = new Set<TensorType>([
  'uint8',
  'int8',
  'uint16',
  'int16',
  'uint4',
  'int4',
  'uint2',
  'int2',
]);
const FLOAT8_TYPES = new Set<TensorType>(['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz']);

function isQuantType(t: TensorType): boolean {
  return INTEGER_QUANT_TYPES.has(t) || FLOAT8_TYPES.has(t) || t === 'float4e2m1';
}

/**
 * For every element of an input of dims `xDims` (row-major), the flat index of its scale / zero point;
 * `null` when a single value applies to the whole tensor.
 */
export function quantParamIndex(
  xDims: Dims,
  pDims: Dims,
  axisAttr: number,
  blockSize: number,
  what: string,
): Int32Array | null {
  const pSize = shapeSize(pDims);
  if (pSize === 1 && pDims.length <= 1) return null;
  const rank = xDims.length;
  const shape = (d: Dims) => `[${d.join(', ')}]`;
  const axis = normalizeAxis(axisAttr, rank, 'axis');
  const D = xDims[axis];
  if (blockSize > 0) {
    const Dp = Math.ceil(D / blockSize);
    const ok = pDims.length === rank && pDims.every((d, i) => (i === axis ? d === Dp : d === xDims[i]));
    if (!ok) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `blocked quantization with block_size ${blockSize} on axis ${axis} of input ${shape(xDims)} needs ${what} of dims ${shape(xDims.map((d, i) => (i === axis ? Dp : d)))}, got ${shape(pDims)}`,
      );
    }
  } else if (pDims.length !== 1 || pDims[0] !== D) {
    if (pSize === 1) return null;
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${what} of dims ${shape(pDims)} fits neither per-tensor (one value) nor per-axis quantization of input ${shape(xDims)} on axis ${axis} (a 1-D tensor of length ${D})` +
        (pDims.length === rank ? '; for blocked quantization set block_size (opset 21+)' : ''),
    );
  }
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= xDims[i];
  let inner = 1;
  for (let i = axis + 1; i < rank; i++) inner *= xDims[i];
  const idx = new Int32Array(outer * D * inner);
  const Dp = blockSize > 0 ? Math.ceil(D / blockSize) : 0;
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < D; a++) {
      if (blockSize > 0) {
        const base = (o * Dp + Math.floor(a / blockSize)) * inner;
        for (let j = 0; j < inner; j++) idx[k++] = base + j;
      } else {
        for (let j = 0; j < inner; j++) idx[k++] = a;
      }
    }
  }
  return idx;
}

/** Stores float values as `type`: rounding and clamping integers, casting (with saturate) to floats. */
function storeQuantized(type: TensorType, values: Float64Array, dims: Dims, saturate: boolean): Tensor {
  const info = dtypeInfo(type);
  if (isMinifloat(type)) {
    return new Tensor(type, encodeMinifloats(type as MinifloatType, values, undefined, saturate), dims);
  }
  const lo = Number(info.min);
  const hi = Number(info.max);
  const out = allocData(type, values.length) as Int32Array;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // NaN has no integer image; it maps to 0 (onnxruntime leaves it unspecified).
    out[i] = v !== v ? 0 : Math.min(hi, Math.max(lo, roundHalfEven(v)));
  }
  return new Tensor(type, out, dims);
}

/** Scale and zero point must have one shape; a scalar and a one-element 1-D tensor count as equal. */
function sameParamShape(a: Dims, b: Dims): boolean {
  if (shapeSize(a) === 1 && shapeSize(b) === 1 && a.length <= 1 && b.length <= 1) return true;
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function typeFromAttr(code: number, what: string): TensorType {
  const info = dtypeFromCode(code);
  if (!info) throw new OnyxError('INVALID_MODEL', `${what} ${code} is not an ONNX element type`);
  return info.name;
}

// ---------------------------------------------------------------------------------------------------
// QuantizeLinear / DequantizeLinear

/**
 * The shared operands of QuantizeLinear (`prefix` 'y') and DequantizeLinear ('x'): checks that the
 * zero point has the scale's shape, and returns each element's parameter index and the values.
 */
function quantOperands(
  x: Tensor,
  scale: Tensor,
  zp: Tensor | undefined,
  axis: number,
  blockSize: number,
  prefix: 'x' | 'y',
): {
  idx: ReturnType<typeof quantParamIndex>;
  xs: NumericArray;
  s: NumericArray;
  z: NumericArray | undefined;
} {
  if (zp && !sameParamShape(zp.dims, scale.dims)) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${prefix}_zero_point dims [${zp.dims.join(', ')}] must equal ${prefix}_scale dims [${scale.dims.join(', ')}]`,
    );
  }
  const idx = quantParamIndex(x.dims, scale.dims, axis, blockSize, `${prefix}_scale`);
  return { idx, xs: numbersOf(x), s: numbersOf(scale), z: zp ? numbersOf(zp) : undefined };
}

const quantizeLinear: OpDef = {
  opType: 'QuantizeLinear',
  versions: [10, 13, 19, 21, 23, 24, 25],
  build(node) {
    const v = node.sinceVersion;
    const axis = v >= 13 ? node.attrs.int('axis', 1) : 1;
    const saturate = v >= 19 ? node.attrs.int('saturate', 1) !== 0 : true;
    const blockSize = v >= 21 ? node.attrs.int('block_size', 0) : 0;
    if (blockSize < 0) throw new OnyxError('INVALID_MODEL', `block_size must be >= 0, got ${blockSize}`);
    const outputDtypeCode = v >= 21 ? node.attrs.int('output_dtype', 0) : 0;
    const outputDtype = outputDtypeCode ? typeFromAttr(outputDtypeCode, 'output_dtype') : undefined;
    const precisionCode = v >= 23 ? node.attrs.int('precision', 0) : 0;
    const precision = precisionCode ? typeFromAttr(precisionCode, 'precision') : undefined;
    if (precision && !isFloatType(precision)) {
      throw new OnyxError('INVALID_MODEL', `precision must name a float type, got ${precision}`);
    }
    return (inputs) => {
      const x = tensorInput(inputs[0], 'x');
      const scale = tensorInput(inputs[1], 'y_scale');
      const zp = inputs[2] ? tensorInput(inputs[2], 'y_zero_point') : undefined;
      let outType: TensorType = outputDtype ?? 'uint8';
      if (zp) {
        if (outputDtype && outputDtype !== zp.type) {
          throw new OnyxError(
            'TYPE_MISMATCH',
            `output_dtype ${outputDtype} does not match y_zero_point's type ${zp.type}`,
          );
        }
        outType = zp.type;
      }
      if (!isQuantType(outType)) {
        throw new OnyxError(
          'TYPE_MISMATCH',
          `QuantizeLinear cannot produce ${outType}; it quantizes to (u)int2/4/8/16, float8 and float4e2m1`,
        );
      }
      const { idx, xs, s, z } = quantOperands(x, scale, zp, axis, blockSize, 'y');
      const n = x.size;
      const q = new Float64Array(n);
      for (let i = 0; i < n; i++) q[i] = xs[i] / s[idx ? idx[i] : 0];
      roundToFloatType(precision ?? promoteFloat(x.type, scale.type), q);
      if (INTEGER_QUANT_TYPES.has(outType)) {
        for (let i = 0; i < n; i++) q[i] = roundHalfEven(q[i]) + (z ? z[idx ? idx[i] : 0] : 0);
      } else if (z) {
        for (let i = 0; i < n; i++) q[i] += z[idx ? idx[i] : 0];
      }
      return [storeQuantized(outType, q, x.dims, saturate)];
    };
  },
};

const dequantizeLinear: OpDef = {
  opType: 'DequantizeLinear',
  versions: [10, 13, 19, 21, 23, 24, 25],
  build(node) {
    const v = node.sinceVersion;
    const axis = v >= 13 ? node.attrs.int('axis', 1) : 1;
    const blockSize = v >= 21 ? node.attrs.int('block_size', 0) : 0;
    if (blockSize < 0) throw new OnyxError('INVALID_MODEL', `block_size must be >= 0, got ${blockSize}`);
    const outputDtypeCode = v >= 23 ? node.attrs.int('output_dtype', 0) : 0;
    const outputDtype = outputDtypeCode ? typeFromAttr(outputDtypeCode, 'output_dtype') : undefined;
    if (outputDtype && !isFloatType(outputDtype)) {
      throw new OnyxError('INVALID_MODEL', `output_dtype must name a float type, got ${outputDtype}`);
    }
    return (inputs) => {
      const x = tensorInput(inputs[0], 'x');
      const scale = tensorInput(inputs[1], 'x_scale');
      const zp = inputs[2] ? tensorInput(inputs[2], 'x_zero_point') : undefined;
      if (!isQuantType(x.type) && x.type !== 'int32') {
        throw new OnyxError('TYPE_MISMATCH', `DequantizeLinear cannot read x of type ${x.type}`);
      }
      if (!isFloatType(scale.type)) {
        throw new OnyxError('TYPE_MISMATCH', `x_scale must be a float tensor, got ${scale.type}`);
      }
      if (zp && zp.type !== x.type) {
        throw new OnyxError(
          'TYPE_MISMATCH',
          `x_zero_point has type ${zp.type} but x has type ${x.type}; they must match`,
        );
      }
      const { idx, xs, s, z } = quantOperands(x, scale, zp, axis, blockSize, 'x');
      const n = x.size;
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const p = idx ? idx[i] : 0;
        y[i] = (xs[i] - (z ? z[p] : 0)) * s[p];
      }
      return [tensorFromNumbers(outputDtype ?? scale.type, y, x.dims)];
    };
  },
};

const dynamicQuantizeLinear: OpDef = {
  opType: 'DynamicQuantizeLinear',
  versions: [11],
  build() {
    return (inputs) => {
      const x = tensorInput(inputs[0], 'x');
      if (!isFloatType(x.type)) {
        throw new OnyxError('TYPE_MISMATCH', `DynamicQuantizeLinear takes a float tensor, got ${x.type}`);
      }
      const xs = numbersOf(x);
      const f = Math.fround;
      // The range always includes 0 so that 0 is exactly representable.
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < xs.length; i++) {
        if (xs[i] < lo) lo = xs[i];
        if (xs[i] > hi) hi = xs[i];
      }
      const scale = f(f(hi - lo) / 255);
      const zp = scale === 0 ? 0 : Math.min(255, Math.max(0, roundHalfEven(f(0 - f(lo / scale)))));
      const y = new Uint8Array(xs.length);
      if (scale !== 0) {
        for (let i = 0; i < xs.length; i++) {
          y[i] = Math.min(255, Math.max(0, roundHalfEven(f(xs[i] / scale)) + zp));
        }
      } else {
        y.fill(zp);
      }
      return [
        new Tensor('uint8', y, x.dims),
        new Tensor('float32', new Float32Array([scale]), []),
        new Tensor('uint8', new Uint8Array([zp]), []),
      ];
    };
  },
};

// ---------------------------------------------------------------------------------------------------
// QLinearMatMul

interface MatmulShape {
  dims: number[];
  batch: number;
  M: number;
  K: number;
  N: number;
  /** Per output batch, the batch offsets (in matrices) of a and b. */
  aBatch: Int32Array;
  bBatch: Int32Array;
}

/** numpy.matmul shape rules: 1-D operands get a dim added and removed; batch dims broadcast. */
function matmulShape(aDims: Dims, bDims: Dims): MatmulShape {
  if (aDims.length === 0 || bDims.length === 0) {
    throw new OnyxError('SHAPE_MISMATCH', 'matrix product operands must have rank >= 1, got a scalar');
  }
  const a = aDims.length === 1 ? [1, aDims[0]] : aDims.slice();
  const b = bDims.length === 1 ? [bDims[0], 1] : bDims.slice();
  const M = a[a.length - 2];
  const K = a[a.length - 1];
  const N = b[b.length - 1];
  if (b[b.length - 2] !== K) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `matrix product of [${aDims.join(', ')}] and [${bDims.join(', ')}]: inner dims ${K} and ${b[b.length - 2]} differ`,
    );
  }
  const aB = a.slice(0, -2);
  const bB = b.slice(0, -2);
  const batchDims = broadcastShapes(aB, bB);
  const batch = shapeSize(batchDims);
  const [ao, bo] = broadcastOffsets([aB, bB], batchDims);
  const seq = Int32Array.from({ length: batch }, (_, i) => i);
  const dims = [...batchDims];
  if (aDims.length > 1) dims.push(M);
  if (bDims.length > 1) dims.push(N);
  return { dims, batch, M, K, N, aBatch: ao ?? seq, bBatch: bo ?? seq };
}

/** The elements of an int8/uint8 tensor, for the integer GEMM; undefined for other types. */
function bytesOf(t: Tensor): Int8Array | Uint8Array | undefined {
  return t.type === 'int8' || t.type === 'uint8' ? (t.data as Int8Array | Uint8Array) : undefined;
}

/**
 * (a − aZp)·(b − bZp) as float64 (exact): 8-bit operands on the WASM integer GEMM when it runs,
 * others (float8 from opset 21) and the reference mode by a float64 product.
 */
function integerAccumulators(
  a: Tensor,
  b: Tensor,
  aZp: Float64Array | undefined,
  bZp: Float64Array | undefined,
  s: MatmulShape,
  packedB?: PackedInt8B,
): Float64Array {
  const [ab, bb] = [bytesOf(a), bytesOf(b)];
  const fast =
    ab && bb && integerProducts(ab, bb, aZp ?? [0], bZp ?? [0], s.M, s.N, s.K, s.aBatch, s.bBatch, packedB);
  if (fast) return Float64Array.from(fast);
  const av = float64Of(a);
  const bv = float64Of(b);
  if (aZp)
    for (let i = 0; i < av.length; i++) av[i] -= aZp.length === 1 ? aZp[0] : aZp[Math.floor(i / s.K) % s.M];
  if (bZp) for (let i = 0; i < bv.length; i++) bv[i] -= bZp.length === 1 ? bZp[0] : bZp[i % s.N];
  return matmulF64(av, bv, s);
}

function matmulF64(a: Float64Array, b: Float64Array, s: MatmulShape): Float64Array {
  const { M, K, N } = s;
  const out = new Float64Array(s.batch * M * N);
  for (let bi = 0; bi < s.batch; bi++) {
    const aOff = s.aBatch[bi] * M * K;
    const bOff = s.bBatch[bi] * K * N;
    const oOff = bi * M * N;
    for (let m = 0; m < M; m++) {
      const row = oOff + m * N;
      for (let k = 0; k < K; k++) {
        const av = a[aOff + m * K + k];
        if (av === 0) continue;
        const bRow = bOff + k * N;
        for (let n = 0; n < N; n++) out[row + n] += av * b[bRow + n];
      }
    }
  }
  return out;
}

/** A scale or zero point of QLinearMatMul: one value, or one per row (a, y) / per column (b). */
function perRowOrCol(
  t: Tensor | undefined,
  len: number,
  kind: 'row' | 'col',
  what: string,
): Float64Array | undefined {
  if (!t) return undefined;
  const v = float64Of(t);
  if (v.length === 1) return v;
  if (v.length !== len) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${what} must hold one value or one per ${kind === 'row' ? 'row' : 'column'} (${len}), got dims [${t.dims.join(', ')}]`,
    );
  }
  return v;
}

const qlinearMatMul: OpDef = {
  opType: 'QLinearMatMul',
  versions: [10, 21],
  build(node) {
    const weights = prepackInt8B(node, 3, 5);
    const kernel: Kernel = (inputs) => {
      const a = tensorInput(inputs[0], 'a');
      const aScaleT = tensorInput(inputs[1], 'a_scale');
      const b = tensorInput(inputs[3], 'b');
      const bScaleT = tensorInput(inputs[4], 'b_scale');
      const yScaleT = tensorInput(inputs[6], 'y_scale');
      const yZpT = inputs[7] ? tensorInput(inputs[7], 'y_zero_point') : undefined;
      const s = matmulShape(a.dims, b.dims);
      const aZpT = inputs[2] ? tensorInput(inputs[2], 'a_zero_point') : undefined;
      const bZpT = inputs[5] ? tensorInput(inputs[5], 'b_zero_point') : undefined;
      const aZp = perRowOrCol(aZpT, s.M, 'row', 'a_zero_point');
      const bZp = perRowOrCol(bZpT, s.N, 'col', 'b_zero_point');
      const acc = integerAccumulators(a, b, aZp, bZp, s, weights?.b === b ? weights.packed : undefined);
      const as = perRowOrCol(aScaleT, s.M, 'row', 'a_scale')!;
      const bs = perRowOrCol(bScaleT, s.N, 'col', 'b_scale')!;
      const ys = perRowOrCol(yScaleT, s.M, 'row', 'y_scale')!;
      const yz = perRowOrCol(yZpT, s.M, 'row', 'y_zero_point');
      // The requantization multiplier in the scales' type, per (row, column) where it varies.
      const st = promoteFloat(promoteFloat(aScaleT.type, bScaleT.type), yScaleT.type);
      const rows = as.length > 1 || ys.length > 1 || (yz?.length ?? 1) > 1 ? s.M : 1;
      const cols = bs.length > 1 ? s.N : 1;
      const mult = new Float64Array(rows * cols);
      for (let m = 0; m < rows; m++) {
        for (let n = 0; n < cols; n++)
          mult[m * cols + n] = as[as.length > 1 ? m : 0] * bs[bs.length > 1 ? n : 0];
      }
      roundToFloatType(st, mult);
      for (let m = 0; m < rows; m++) {
        for (let n = 0; n < cols; n++) mult[m * cols + n] /= ys[ys.length > 1 ? m : 0];
      }
      roundToFloatType(st, mult);
      const MN = s.M * s.N;
      for (let i = 0; i < acc.length; i++) {
        const m = Math.floor((i % MN) / s.N);
        const n = i % s.N;
        const r = rows > 1 ? m : 0;
        acc[i] = acc[i] * mult[r * cols + (cols > 1 ? n : 0)] + (yz ? yz[yz.length > 1 ? m : 0] : 0);
      }
      return [storeQuantized(yZpT?.type ?? a.type, acc, s.dims, true)];
    };
    return weights ? ownPacked(kernel, [weights.packed]) : kernel;
  },
};

// ---------------------------------------------------------------------------------------------------
// QLinearConv

interface ConvAttrs {
  autoPad: string;
  dilations?: number[];
  group: number;
  kernelShape?: number[];
  pads?: number[];
  strides?: number[];
}

function convAttrs(attrs: Attributes): ConvAttrs {
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) {
    throw new OnyxError(
      'INVALID_MODEL',
      `auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '${autoPad}'`,
    );
  }
  const group = attrs.int('group', 1);
  if (group < 1) throw new OnyxError('INVALID_MODEL', `group must be >= 1, got ${group}`);
  return {
    autoPad,
    group,
    dilations: attrs.has('dilations') ? attrs.ints('dilations') : undefined,
    kernelShape: attrs.has('kernel_shape') ? attrs.ints('kernel_shape') : undefined,
    pads: attrs.has('pads') ? attrs.ints('pads') : undefined,
    strides: attrs.has('strides') ? attrs.ints('strides') : undefined,
  };
}

interface ConvGeometry {
  N: number;
  C: number;
  M: number;
  inSpatial: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  outSpatial: number[];
  group: number;
}

function convGeometry(xDims: Dims, wDims: Dims, a: ConvAttrs): ConvGeometry {
  const S = xDims.length - 2;
  if (S < 1 || wDims.length !== xDims.length) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `convolution needs x of rank >= 3 and w of the same rank, got x [${xDims.join(', ')}] and w [${wDims.join(', ')}]`,
    );
  }
  const [N, C] = xDims;
  const M = wDims[0];
  if (C !== wDims[1] * a.group || M % a.group !== 0) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `x has ${C} channels and w is [${wDims.join(', ')}] with group ${a.group}: need channels = w.dims[1] * group and w.dims[0] divisible by group`,
    );
  }
  const inSpatial = xDims.slice(2);
  const kernel = a.kernelShape ?? wDims.slice(2);
  if (kernel.length !== S || kernel.some((k, i) => k !== wDims[2 + i])) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `kernel_shape [${kernel.join(', ')}] does not match w [${wDims.join(', ')}]`,
    );
  }
  const strides = a.strides ?? new Array<number>(S).fill(1);
  const dilations = a.dilations ?? new Array<number>(S).fill(1);
  if (strides.length !== S || dilations.length !== S) {
    throw new OnyxError('INVALID_MODEL', `strides and dilations need ${S} values (one per spatial dim)`);
  }
  const padBegin = new Array<number>(S).fill(0);
  const outSpatial = new Array<number>(S);
  for (let d = 0; d < S; d++) {
    const dk = (kernel[d] - 1) * dilations[d] + 1;
    if (a.autoPad === 'SAME_UPPER' || a.autoPad === 'SAME_LOWER') {
      outSpatial[d] = Math.ceil(inSpatial[d] / strides[d]);
      const total = Math.max(0, (outSpatial[d] - 1) * strides[d] + dk - inSpatial[d]);
      padBegin[d] = a.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    } else {
      let begin = 0;
      let end = 0;
      if (a.autoPad === 'NOTSET' && a.pads) {
        if (a.pads.length !== 2 * S) {
          throw new OnyxError('INVALID_MODEL', `pads needs ${2 * S} values, got ${a.pads.length}`);
        }
        begin = a.pads[d];
        end = a.pads[S + d];
      }
      padBegin[d] = begin;
      outSpatial[d] = Math.floor((inSpatial[d] + begin + end - dk) / strides[d]) + 1;
    }
    if (outSpatial[d] < 0) outSpatial[d] = 0;
  }
  return { N, C, M, inSpatial, kernel, strides, dilations, padBegin, outSpatial, group: a.group };
}

/** Direct N-D convolution on float64 values (exact for integer inputs); `bias` per output channel. */
function convF64(x: Float64Array, w: Float64Array, g: ConvGeometry, bias?: ArrayLike<number>): Float64Array {
  const S = g.inSpatial.length;
  const inSize = shapeSize(g.inSpatial);
  const outSize = shapeSize(g.outSpatial);
  const kSize = shapeSize(g.kernel);
  const Cg = g.C / g.group;
  const Mg = g.M / g.group;
  // Per kernel position, its offset along each spatial dim (already dilated).
  const kOff = new Int32Array(kSize * S);
  for (let kp = 0; kp < kSize; kp++) {
    let r = kp;
    for (let d = S - 1; d >= 0; d--) {
      kOff[kp * S + d] = (r % g.kernel[d]) * g.dilations[d];
      r = Math.floor(r / g.kernel[d]);
    }
  }
  const start = new Int32Array(S);
  const out = new Float64Array(g.N * g.M * outSize);
  for (let n = 0; n < g.N; n++) {
    for (let oc = 0; oc < g.M; oc++) {
      const grp = Math.floor(oc / Mg);
      const oBase = (n * g.M + oc) * outSize;
      for (let op = 0; op < outSize; op++) {
        let r = op;
        for (let d = S - 1; d >= 0; d--) {
          start[d] = (r % g.outSpatial[d]) * g.strides[d] - g.padBegin[d];
          r = Math.floor(r / g.outSpatial[d]);
        }
        let acc = bias ? bias[oc] : 0;
        for (let ci = 0; ci < Cg; ci++) {
          const xBase = (n * g.C + grp * Cg + ci) * inSize;
          const wBase = (oc * Cg + ci) * kSize;
          for (let kp = 0; kp < kSize; kp++) {
            let off = 0;
            let inside = true;
            for (let d = 0; d < S; d++) {
              const p = start[d] + kOff[kp * S + d];
              if (p < 0 || p >= g.inSpatial[d]) {
                inside = false;
                break;
              }
              off = off * g.inSpatial[d] + p;
            }
            if (inside) acc += x[xBase + off] * w[wBase + kp];
          }
        }
        out[oBase + op] = acc;
      }
    }
  }
  return out;
}

/** A convolution weight zero point, checked: one value, or one per output channel ([0] when absent). */
function weightZeroPoints(w: Tensor, zp: Tensor | undefined, what: string): ArrayLike<number> {
  if (!zp) return [0];
  if (zp.type !== w.type) {
    throw new OnyxError('TYPE_MISMATCH', `${what} has type ${zp.type} but w has type ${w.type}`);
  }
  const z = numbersOf(zp);
  const M = w.dims[0];
  if (z.length !== 1 && z.length !== M) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `${what} must hold one value or one per output channel (${M}), got dims [${zp.dims.join(', ')}]`,
    );
  }
  return z;
}

/** The input's zero point, checked: one value of x's type (0 when absent). */
function inputZeroPoint(x: Tensor, zp: Tensor | undefined, what: string): number {
  if (!zp) return 0;
  if (zp.type !== x.type) {
    throw new OnyxError('TYPE_MISMATCH', `${what} has type ${zp.type} but x has type ${x.type}`);
  }
  if (zp.size !== 1) {
    throw new OnyxError('SHAPE_MISMATCH', `${what} must hold one value, got dims [${zp.dims.join(', ')}]`);
  }
  return numbersOf(zp)[0];
}

/**
 * conv(x − xZp, w − wZp) + bias per output channel, as float64 (exact): 8-bit operands on the
 * WASM integer GEMM when it runs (util/integer-conv.ts), others by the direct float64 loop.
 */
function convAccumulators(
  x: Tensor,
  w: Tensor,
  xZp: number,
  wZp: ArrayLike<number>,
  g: ConvGeometry,
  bias: ArrayLike<number> | undefined,
): Float64Array {
  const shape = { N: g.N, C: g.C, M: g.M, group: g.group, spatial: g.inSpatial, window: g };
  const [xb, wb] = [bytesOf(x), bytesOf(w)];
  const fast = xb && wb ? integerConv(xb, wb, xZp, wZp, shape) : undefined;
  if (!fast) {
    const xv = float64Of(x);
    for (let i = 0; i < xv.length; i++) xv[i] -= xZp;
    const wv = float64Of(w);
    const per = wv.length / Math.max(g.M, 1);
    for (let i = 0; i < wv.length; i++) wv[i] -= wZp.length === 1 ? wZp[0] : wZp[Math.floor(i / per)];
    return convF64(xv, wv, g, bias);
  }
  const acc = Float64Array.from(fast);
  if (bias) {
    const outSize = shapeSize(g.outSpatial);
    for (let i = 0; i < acc.length; i++) acc[i] += bias[Math.floor(i / outSize) % g.M];
  }
  return acc;
}

function outDims(g: ConvGeometry): number[] {
  return [g.N, g.M, ...g.outSpatial];
}

const qlinearConv: OpDef = {
  opType: 'QLinearConv',
  versions: [10],
  build(node) {
    const attrs = convAttrs(node.attrs);
    return (inputs: KernelInputs) => {
      const x = tensorInput(inputs[0], 'x');
      const xScaleT = tensorInput(inputs[1], 'x_scale');
      const w = tensorInput(inputs[3], 'w');
      const wScaleT = tensorInput(inputs[4], 'w_scale');
      const yScaleT = tensorInput(inputs[6], 'y_scale');
      const yZpT = inputs[7] ? tensorInput(inputs[7], 'y_zero_point') : undefined;
      const biasT = inputs[8] ? tensorInput(inputs[8], 'B') : undefined;
      const g = convGeometry(x.dims, w.dims, attrs);
      const xZp = inputZeroPoint(
        x,
        inputs[2] ? tensorInput(inputs[2], 'x_zero_point') : undefined,
        'x_zero_point',
      );
      const wZp = weightZeroPoints(
        w,
        inputs[5] ? tensorInput(inputs[5], 'w_zero_point') : undefined,
        'w_zero_point',
      );
      if (biasT && biasT.size !== g.M) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `B must hold one int32 per output channel (${g.M}), got ${biasT.size}`,
        );
      }
      const acc = convAccumulators(x, w, xZp, wZp, g, biasT ? numbersOf(biasT) : undefined);
      const xs = numbersOf(xScaleT);
      const ws = numbersOf(wScaleT);
      const ys = numbersOf(yScaleT);
      if (xs.length !== 1 || ys.length !== 1) {
        throw new OnyxError('SHAPE_MISMATCH', 'x_scale and y_scale must hold one value each');
      }
      if (ws.length !== 1 && ws.length !== g.M) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `w_scale must hold one value or one per output channel (${g.M}), got ${ws.length}`,
        );
      }
      const st = promoteFloat(promoteFloat(xScaleT.type, wScaleT.type), yScaleT.type);
      const mult = roundToFloatType(
        st,
        Float64Array.from(ws, (v) => xs[0] * v),
      );
      for (let i = 0; i < mult.length; i++) mult[i] /= ys[0];
      roundToFloatType(st, mult);
      const yz = yZpT ? numbersOf(yZpT)[0] : 0;
      const outSize = shapeSize(g.outSpatial);
      for (let i = 0; i < acc.length; i++) {
        const oc = Math.floor(i / outSize) % g.M;
        acc[i] = acc[i] * mult[mult.length === 1 ? 0 : oc] + yz;
      }
      return [storeQuantized(yZpT?.type ?? x.type, acc, outDims(g), true)];
    };
  },
};

export const ops: OpDef[] = [
  quantizeLinear,
  dequantizeLinear,
  dynamicQuantizeLinear,
  qlinearMatMul,
  qlinearConv,
];
