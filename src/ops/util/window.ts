/**
 * Sliding-window geometry shared by convolution and pooling: kernel/stride/dilation/pad attributes,
 * auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID), ceil_mode, and the output spatial size.
 */
import { OnyxError } from '../../core/errors.js';
import type { Attributes } from '../../ir/attributes.js';

export interface WindowAttrs {
  /** Kernel spatial shape, or undefined to take it from the weights. */
  kernelShape: number[] | undefined;
  strides: number[] | undefined;
  dilations: number[] | undefined;
  pads: number[] | undefined;
  autoPad: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  ceilMode: boolean;
}

export function readWindowAttrs(attrs: Attributes, what: string): WindowAttrs {
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) {
    throw new OnyxError(
      'INVALID_MODEL',
      `${what}: auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '${autoPad}'`,
    );
  }
  return {
    kernelShape: attrs.has('kernel_shape') ? attrs.ints('kernel_shape') : undefined,
    strides: attrs.has('strides') ? attrs.ints('strides') : undefined,
    dilations: attrs.has('dilations') ? attrs.ints('dilations') : undefined,
    pads: attrs.has('pads') ? attrs.ints('pads') : undefined,
    autoPad: autoPad as WindowAttrs['autoPad'],
    ceilMode: attrs.int('ceil_mode', 0) !== 0,
  };
}

/** A resolved window over `spatial.length` dims. */
export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Padding at the start / end of each spatial dim. */
  padBegin: number[];
  padEnd: number[];
  outSpatial: number[];
}

function listOf(v: number[] | undefined, n: number, fill: number, name: string, what: string): number[] {
  if (v === undefined || v.length === 0) return new Array<number>(n).fill(fill);
  if (v.length !== n) {
    throw new OnyxError(
      'INVALID_MODEL',
      `${what}: ${name} has ${v.length} value(s) but the input has ${n} spatial dim(s)`,
    );
  }
  return v;
}

/**
 * Resolves the window over input spatial dims `spatial`. `ceilMode` (pooling) rounds the output size
 * up, dropping a last window that would start in the end padding.
 */
export function resolveWindow(
  a: WindowAttrs,
  spatial: readonly number[],
  kernelFallback: readonly number[] | undefined,
  what: string,
): Window {
  const n = spatial.length;
  const kernel = a.kernelShape ?? (kernelFallback ? [...kernelFallback] : undefined);
  if (!kernel) throw new OnyxError('INVALID_MODEL', `${what}: required attribute 'kernel_shape' is missing`);
  if (kernel.length !== n) {
    throw new OnyxError(
      'INVALID_MODEL',
      `${what}: kernel_shape [${kernel.join(', ')}] does not match the input's ${n} spatial dim(s)`,
    );
  }
  const strides = listOf(a.strides, n, 1, 'strides', what);
  const dilations = listOf(a.dilations, n, 1, 'dilations', what);
  for (let i = 0; i < n; i++) {
    if (!(kernel[i] > 0 && strides[i] > 0 && dilations[i] > 0)) {
      throw new OnyxError(
        'INVALID_MODEL',
        `${what}: kernel_shape, strides and dilations must be positive, got [${kernel.join(', ')}], [${strides.join(', ')}], [${dilations.join(', ')}]`,
      );
    }
  }
  const padBegin = new Array<number>(n).fill(0);
  const padEnd = new Array<number>(n).fill(0);
  const outSpatial = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const ext = dilations[i] * (kernel[i] - 1) + 1;
    if (a.autoPad === 'SAME_UPPER' || a.autoPad === 'SAME_LOWER') {
      const out = Math.ceil(spatial[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + ext - spatial[i]);
      const small = Math.floor(total / 2);
      padBegin[i] = a.autoPad === 'SAME_UPPER' ? small : total - small;
      padEnd[i] = total - padBegin[i];
      outSpatial[i] = out;
      continue;
    }
    if (a.autoPad === 'NOTSET' && a.pads) {
      if (a.pads.length !== 2 * n) {
        throw new OnyxError(
          'INVALID_MODEL',
          `${what}: pads has ${a.pads.length} value(s), expected ${2 * n} (begin and end per spatial dim)`,
        );
      }
      padBegin[i] = a.pads[i];
      padEnd[i] = a.pads[i + n];
      if (padBegin[i] < 0 || padEnd[i] < 0) {
        throw new OnyxError(
          'INVALID_MODEL',
          `${what}: pads must be non-negative, got [${a.pads.join(', ')}]`,
        );
      }
    }
    const span = spatial[i] + padBegin[i] + padEnd[i] - ext;
    if (a.ceilMode) {
      let out = Math.ceil(span / strides[i]) + 1;
      // The last window must start inside the input or the begin padding.
      if ((out - 1) * strides[i] >= spatial[i] + padBegin[i]) out--;
      outSpatial[i] = Math.max(0, out);
    } else {
      outSpatial[i] = span < 0 ? 0 : Math.floor(span / strides[i]) + 1;
    }
  }
  return { kernel, strides, dilations, padBegin, padEnd, outSpatial };
}
