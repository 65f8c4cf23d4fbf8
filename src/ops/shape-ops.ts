/**
 * Shape ops: Identity, Reshape, Shape, Size, Flatten, Squeeze, Unsqueeze, Expand.
 *
 * All but Expand only change dims, so their outputs share the input's storage (allowed: the data is
 * unchanged). Expand copies through the shared strided-copy routine with 0 strides on broadcast dims.
 * Everything here is dtype-generic: no element is ever interpreted.
 */
import { dtypeInfo } from '../core/dtype.js';
import { OnyxError } from '../core/errors.js';
import { Tensor, sameDims, shapeSize, type Dims } from '../core/tensor.js';
import type { OpDef } from './kernel.js';
import { axesInput, normalizeAxes } from './util/axes.js';
import { broadcastShapes, broadcastStrides, stridesOf } from './util/broadcast.js';
import { int64Tensor, intsOf, tensorInput, fmt } from './util/numeric.js';
import { stridedCopy } from './util/strided-copy.js';

/** The same storage under new dims (the element count must match; callers check it). */
function withDims(x: Tensor, dims: Dims): Tensor {
  if (sameDims(dims, x.dims)) return x;
  return new Tensor(x.type, x.data, dims);
}

// ------------------------------------------------------------------------------------------------
// Identity

const identity: OpDef = {
  opType: 'Identity',
  // 14: bfloat16; 16: sequences and optionals; 19/21/23/24/25: new element types.
  versions: [1, 13, 14, 16, 19, 21, 23, 24, 25],
  build() {
    return (inputs) => {
      const v = inputs[0];
      if (v === undefined) throw new OnyxError('INVALID_MODEL', 'Identity needs an input');
      // Tensors, sequences, maps and optionals (null = empty) all pass through unchanged.
      return [v];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Reshape

/**
 * The output dims of Reshape: 0 copies the input dim at the same index (unless `allowzero`, when it
 * means a real 0), one -1 is inferred from the element count.
 */
export function reshapeDims(inDims: Dims, shape: readonly number[], allowzero: boolean): number[] {
  const out = shape.slice();
  let inferAt = -1;
  let known = 1;
  for (let i = 0; i < out.length; i++) {
    const d = out[i];
    if (d === -1) {
      if (inferAt >= 0)
        throw new OnyxError('INVALID_MODEL', `Reshape shape ${fmt(shape)} has more than one -1`);
      inferAt = i;
      continue;
    }
    if (d < -1)
      throw new OnyxError(
        'INVALID_MODEL',
        `Reshape shape ${fmt(shape)} has an invalid dim ${d} at index ${i}`,
      );
    if (d === 0 && !allowzero) {
      if (i >= inDims.length) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `Reshape shape ${fmt(shape)} has 0 at index ${i} (copy the input dim) but the input ${fmt(inDims)} has rank ${inDims.length}`,
        );
      }
      out[i] = inDims[i];
    }
    known *= out[i];
  }
  const size = shapeSize(inDims);
  if (inferAt >= 0) {
    if (allowzero && out.some((d, i) => d === 0 && i !== inferAt)) {
      throw new OnyxError(
        'INVALID_MODEL',
        `Reshape with allowzero=1 cannot have both 0 and -1 in the shape ${fmt(shape)}`,
      );
    }
    if (known === 0 || size % known !== 0) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `cannot reshape input ${fmt(inDims)} (${size} elements) to ${fmt(shape)}: the -1 dim cannot be inferred`,
      );
    }
    out[inferAt] = size / known;
  } else if (known !== size) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `cannot reshape input ${fmt(inDims)} (${size} elements) to ${fmt(shape)} (${known} elements)${
        shape.includes(0) && !allowzero ? ' (0 copies the input dim; set allowzero=1 for a real 0)' : ''
      }`,
    );
  }
  return out;
}

const reshape: OpDef = {
  opType: 'Reshape',
  // 1: shape attribute; 5: shape input; 14: allowzero; later: element types.
  versions: [1, 5, 13, 14, 19, 21, 23, 24, 25],
  build(node) {
    const allowzero = node.sinceVersion >= 14 && node.attrs.int('allowzero', 0) !== 0;
    const attrShape = node.sinceVersion < 5 ? node.attrs.ints('shape') : undefined;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'Reshape data');
      const shape = attrShape ?? intsOf(tensorInput(inputs[1], 'Reshape shape'), 'Reshape shape');
      return [withDims(x, reshapeDims(x.dims, shape, allowzero))];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Shape, Size

const shape: OpDef = {
  opType: 'Shape',
  // 15: start/end attributes.
  versions: [1, 13, 15, 19, 21, 23, 24, 25],
  build(node) {
    const start = node.sinceVersion >= 15 ? node.attrs.int('start', 0) : 0;
    const end = node.sinceVersion >= 15 && node.attrs.has('end') ? node.attrs.int('end') : undefined;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'Shape data');
      const r = x.dims.length;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      const s = clamp(start);
      const e = end === undefined ? r : clamp(end);
      return [int64Tensor(x.dims.slice(s, Math.max(s, e)))];
    };
  },
};

const size: OpDef = {
  opType: 'Size',
  versions: [1, 13, 19, 21, 23, 24, 25],
  build() {
    return (inputs) => [int64Tensor([tensorInput(inputs[0], 'Size data').size], [])];
  },
};

// ------------------------------------------------------------------------------------------------
// Flatten

const flatten: OpDef = {
  opType: 'Flatten',
  // 9: all types; 11: negative axis.
  versions: [1, 9, 11, 13, 21, 23, 24, 25],
  build(node) {
    const axis = node.attrs.int('axis', 1);
    return (inputs) => {
      const x = tensorInput(inputs[0], 'Flatten input');
      const r = x.dims.length;
      if (!Number.isInteger(axis) || axis < -r || axis > r) {
        throw new OnyxError(
          'INVALID_MODEL',
          `Flatten axis ${axis} is out of range [${-r}, ${r}] for rank ${r}`,
        );
      }
      const a = axis < 0 ? axis + r : axis;
      const outer = shapeSize(x.dims.slice(0, a));
      return [withDims(x, [outer, shapeSize(x.dims.slice(a))])];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Squeeze, Unsqueeze

const squeeze: OpDef = {
  opType: 'Squeeze',
  // 11: negative axes; 13: axes as an optional input.
  versions: [1, 11, 13, 21, 23, 24, 25],
  build(node) {
    const attrAxes = node.sinceVersion < 13 && node.attrs.has('axes') ? node.attrs.ints('axes') : undefined;
    const fromInput = node.sinceVersion >= 13;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'Squeeze data');
      const axes = fromInput ? axesInput(inputs[1]) : attrAxes;
      const r = x.dims.length;
      let drop: Set<number>;
      if (axes === undefined || axes.length === 0) {
        // No axes (or an empty list, as onnxruntime reads it): drop every dim of size 1.
        drop = new Set(x.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
      } else {
        drop = new Set(normalizeAxes(axes, r, 'Squeeze axes'));
        for (const a of drop) {
          if (x.dims[a] !== 1) {
            throw new OnyxError(
              'SHAPE_MISMATCH',
              `Squeeze axis ${a} has dim ${x.dims[a]}, not 1 (input ${fmt(x.dims)})`,
            );
          }
        }
      }
      return [
        withDims(
          x,
          x.dims.filter((_, i) => !drop.has(i)),
        ),
      ];
    };
  },
};

const unsqueeze: OpDef = {
  opType: 'Unsqueeze',
  // 11: negative axes; 13: axes as a required input.
  versions: [1, 11, 13, 21, 23, 24, 25],
  build(node) {
    const attrAxes = node.sinceVersion < 13 ? node.attrs.ints('axes') : undefined;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'Unsqueeze data');
      const axes = attrAxes ?? axesInput(inputs[1]);
      if (axes === undefined) throw new OnyxError('INVALID_MODEL', 'Unsqueeze needs the axes input');
      const outRank = x.dims.length + axes.length;
      const insert = new Set(normalizeAxes(axes, outRank, 'Unsqueeze axes'));
      const dims: number[] = [];
      let j = 0;
      for (let i = 0; i < outRank; i++) dims.push(insert.has(i) ? 1 : x.dims[j++]);
      return [withDims(x, dims)];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// Expand

/** Broadcasts `x` to `dims` (which must be a broadcast of x.dims) with one strided copy. */
export function broadcastTo(x: Tensor, dims: Dims, alloc: (t: Tensor['type'], d: Dims) => Tensor): Tensor {
  if (sameDims(dims, x.dims)) return x;
  const out = alloc(x.type, dims);
  stridedCopy(
    out.data,
    0,
    stridesOf(dims),
    x.data,
    0,
    broadcastStrides(x.dims, dims),
    dims,
    dtypeInfo(x.type).lanes,
  );
  return out;
}

const expand: OpDef = {
  opType: 'Expand',
  versions: [8, 13],
  build() {
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'Expand input');
      const target = intsOf(tensorInput(inputs[1], 'Expand shape'), 'Expand shape');
      if (target.some((d) => d < 0)) {
        throw new OnyxError('INVALID_MODEL', `Expand shape ${fmt(target)} has a negative dim`);
      }
      let dims: number[];
      try {
        dims = broadcastShapes(x.dims, target);
      } catch {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `Expand cannot broadcast input ${fmt(x.dims)} to shape ${fmt(target)} (each dim must match or be 1 on either side)`,
        );
      }
      return [broadcastTo(x, dims, (t, d) => ctx.alloc(t, d))];
    };
  },
};

export const ops: OpDef[] = [identity, reshape, shape, size, flatten, squeeze, unsqueeze, expand];
