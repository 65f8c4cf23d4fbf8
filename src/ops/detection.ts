/**
 * Object-detection ops: NonMaxSuppression (10, 11) and RoiAlign (10, 16, 22).
 *
 * NonMaxSuppression is greedy per (batch, class): candidates above `score_threshold` are visited in
 * descending score order (ties by lower box index) and kept unless their IoU with an already kept box
 * exceeds `iou_threshold`. IoU is computed in float32, as onnxruntime and the ONNX reference do, so
 * boundary cases (IoU exactly at the threshold) resolve the same way.
 *
 * RoiAlign averages (or takes the max of) bilinear samples on a regular grid inside each output bin,
 * with onnxruntime's sample clamping; 'max' mode takes the max of the weighted corner values as
 * onnxruntime and the reference do.
 */
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { OpDef } from './kernel.js';
import { floatsOf, tensorFromFloats } from './util/float-io.js';
import { intsOf, numbersOf, tensorInput } from './util/numeric.js';

const f32 = Math.fround;

// ------------------------------------------------------------------------------------------------
// NonMaxSuppression

/** Whether box i suppresses box j (IoU > threshold), all arithmetic rounded to float32. */
function suppresses(
  b: ArrayLike<number>,
  i: number,
  j: number,
  center: boolean,
  iouThreshold: number,
): boolean {
  let x1min: number, x1max: number, y1min: number, y1max: number;
  let x2min: number, x2max: number, y2min: number, y2max: number;
  const p = i * 4;
  const q = j * 4;
  if (!center) {
    // [y1, x1, y2, x2], any pair of diagonal corners.
    y1min = Math.min(b[p], b[p + 2]);
    y1max = Math.max(b[p], b[p + 2]);
    x1min = Math.min(b[p + 1], b[p + 3]);
    x1max = Math.max(b[p + 1], b[p + 3]);
    y2min = Math.min(b[q], b[q + 2]);
    y2max = Math.max(b[q], b[q + 2]);
    x2min = Math.min(b[q + 1], b[q + 3]);
    x2max = Math.max(b[q + 1], b[q + 3]);
  } else {
    // [x_center, y_center, width, height].
    const w1 = f32(b[p + 2] / 2);
    const h1 = f32(b[p + 3] / 2);
    const w2 = f32(b[q + 2] / 2);
    const h2 = f32(b[q + 3] / 2);
    x1min = f32(b[p] - w1);
    x1max = f32(b[p] + w1);
    y1min = f32(b[p + 1] - h1);
    y1max = f32(b[p + 1] + h1);
    x2min = f32(b[q] - w2);
    x2max = f32(b[q] + w2);
    y2min = f32(b[q + 1] - h2);
    y2max = f32(b[q + 1] + h2);
  }
  const ixmin = Math.max(x1min, x2min);
  const ixmax = Math.min(x1max, x2max);
  if (ixmax <= ixmin) return false;
  const iymin = Math.max(y1min, y2min);
  const iymax = Math.min(y1max, y2max);
  if (iymax <= iymin) return false;
  const inter = f32(f32(ixmax - ixmin) * f32(iymax - iymin));
  if (inter <= 0) return false;
  const area1 = f32(f32(x1max - x1min) * f32(y1max - y1min));
  const area2 = f32(f32(x2max - x2min) * f32(y2max - y2min));
  const union = f32(f32(area1 + area2) - inter);
  if (area1 <= 0 || area2 <= 0 || union <= 0) return false;
  return f32(inter / union) > iouThreshold;
}

const nonMaxSuppression: OpDef = {
  opType: 'NonMaxSuppression',
  versions: [10, 11],
  build(node) {
    const cpb = node.attrs.int('center_point_box', 0);
    if (cpb !== 0 && cpb !== 1)
      throw new OnyxError('INVALID_MODEL', `center_point_box must be 0 or 1, got ${cpb}`);
    const center = cpb === 1;
    return (inputs) => {
      const boxes = tensorInput(inputs[0], 'boxes');
      const scores = tensorInput(inputs[1], 'scores');
      if (boxes.dims.length !== 3 || boxes.dims[2] !== 4)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `boxes must have dims [num_batches, spatial_dimension, 4], got [${boxes.dims}]`,
        );
      const [B, nBoxes] = boxes.dims;
      if (scores.dims.length !== 3 || scores.dims[0] !== B || scores.dims[2] !== nBoxes)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `scores must have dims [${B}, num_classes, ${nBoxes}] to match boxes [${boxes.dims}], got [${scores.dims}]`,
        );
      const nClasses = scores.dims[1];
      const opt = (i: number, what: string) => {
        const v = inputs[i];
        if (v === undefined || v === null) return undefined;
        const t = tensorInput(v, what);
        return t.size === 0 ? undefined : t;
      };
      const maxT = opt(2, 'max_output_boxes_per_class');
      const iouT = opt(3, 'iou_threshold');
      const scoreT = opt(4, 'score_threshold');
      const maxOut = maxT ? Math.max(0, intsOf(maxT, 'max_output_boxes_per_class')[0]) : 0;
      const iouThreshold = iouT ? f32(numbersOf(iouT)[0]) : 0;
      const scoreThreshold = scoreT ? f32(numbersOf(scoreT)[0]) : undefined;
      if (iouThreshold < 0 || iouThreshold > 1)
        throw new OnyxError('INVALID_MODEL', `iou_threshold must be in [0, 1], got ${iouThreshold}`);
      const bx = numbersOf(boxes);
      const sc = numbersOf(scores);
      const selected: number[] = [];
      if (maxOut > 0) {
        const cand: number[] = [];
        const kept: number[] = [];
        for (let b = 0; b < B; b++) {
          const bb = bx.subarray(b * nBoxes * 4, (b + 1) * nBoxes * 4);
          for (let c = 0; c < nClasses; c++) {
            const s0 = (b * nClasses + c) * nBoxes;
            cand.length = 0;
            for (let i = 0; i < nBoxes; i++) {
              if (scoreThreshold === undefined || sc[s0 + i] > scoreThreshold) cand.push(i);
            }
            // Descending score; ties keep the lower index first (stable sort).
            cand.sort((i, j) => sc[s0 + j] - sc[s0 + i] || i - j);
            kept.length = 0;
            for (const i of cand) {
              if (kept.length >= maxOut) break;
              let ok = true;
              for (const k of kept) {
                if (suppresses(bb, i, k, center, iouThreshold)) {
                  ok = false;
                  break;
                }
              }
              if (ok) {
                kept.push(i);
                selected.push(b, c, i);
              }
            }
          }
        }
      }
      return [
        new Tensor(
          'int64',
          BigInt64Array.from(selected, (x) => BigInt(x)),
          [selected.length / 3, 3],
        ),
      ];
    };
  },
};

// ------------------------------------------------------------------------------------------------
// RoiAlign

const roiAlign: OpDef = {
  opType: 'RoiAlign',
  versions: [10, 16, 22],
  build(node) {
    const a = node.attrs;
    const mode = a.string('mode', 'avg');
    if (mode !== 'avg' && mode !== 'max')
      throw new OnyxError('INVALID_MODEL', `mode must be 'avg' or 'max', got '${mode}'`);
    const ctm =
      node.sinceVersion >= 16
        ? a.string('coordinate_transformation_mode', 'half_pixel')
        : 'output_half_pixel';
    if (ctm !== 'half_pixel' && ctm !== 'output_half_pixel')
      throw new OnyxError(
        'INVALID_MODEL',
        `coordinate_transformation_mode must be 'half_pixel' or 'output_half_pixel', got '${ctm}'`,
      );
    const halfPixel = ctm === 'half_pixel';
    const outH = a.int('output_height', 1);
    const outW = a.int('output_width', 1);
    const samplingRatio = a.int('sampling_ratio', 0);
    const spatialScale = a.float('spatial_scale', 1);
    if (outH <= 0 || outW <= 0 || samplingRatio < 0)
      throw new OnyxError(
        'INVALID_MODEL',
        `output_height/output_width must be positive and sampling_ratio >= 0, got ${outH}, ${outW}, ${samplingRatio}`,
      );
    return (inputs) => {
      const x = tensorInput(inputs[0], 'X');
      const rois = tensorInput(inputs[1], 'rois');
      const bi = tensorInput(inputs[2], 'batch_indices');
      if (x.dims.length !== 4)
        throw new OnyxError('SHAPE_MISMATCH', `X must have dims [N, C, H, W], got [${x.dims}]`);
      const [N, C, H, W] = x.dims;
      const R = rois.dims[0];
      if (rois.dims.length !== 2 || rois.dims[1] !== 4)
        throw new OnyxError('SHAPE_MISMATCH', `rois must have dims [num_rois, 4], got [${rois.dims}]`);
      if (bi.dims.length !== 1 || bi.dims[0] !== R)
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `batch_indices must have dims [${R}] (one per roi), got [${bi.dims}]`,
        );
      const batch = intsOf(bi, 'batch_indices');
      for (const b of batch)
        if (b < 0 || b >= N)
          throw new OnyxError('INVALID_ARGUMENT', `batch_indices value ${b} is out of range for N = ${N}`);
      const X = floatsOf(x, 'X');
      const rr = floatsOf(rois, 'rois');
      const Y = new Float64Array(R * C * outH * outW);
      const offset = halfPixel ? 0.5 : 0;
      for (let r = 0; r < R; r++) {
        const sw = rr[r * 4] * spatialScale - offset;
        const sh = rr[r * 4 + 1] * spatialScale - offset;
        const ew = rr[r * 4 + 2] * spatialScale - offset;
        const eh = rr[r * 4 + 3] * spatialScale - offset;
        let rw = ew - sw;
        let rh = eh - sh;
        if (!halfPixel) {
          rw = Math.max(rw, 1);
          rh = Math.max(rh, 1);
        }
        const binH = rh / outH;
        const binW = rw / outW;
        const gh = samplingRatio > 0 ? samplingRatio : Math.ceil(rh / outH);
        const gw = samplingRatio > 0 ? samplingRatio : Math.ceil(rw / outW);
        const count = Math.max(gh * gw, 1);
        // Sample positions and weights for every bin, shared by all channels.
        const nS = outH * outW * gh * gw;
        const pos = new Int32Array(nS * 4);
        const wts = new Float64Array(nS * 4);
        let s = 0;
        for (let ph = 0; ph < outH; ph++) {
          for (let pw = 0; pw < outW; pw++) {
            for (let iy = 0; iy < gh; iy++) {
              const y = sh + ph * binH + ((iy + 0.5) * binH) / gh;
              for (let ix = 0; ix < gw; ix++, s++) {
                let xx = sw + pw * binW + ((ix + 0.5) * binW) / gw;
                if (y < -1 || y > H || xx < -1 || xx > W) continue; // weights stay 0
                let yy = Math.max(y, 0);
                xx = Math.max(xx, 0);
                let yl = Math.trunc(yy);
                let xl = Math.trunc(xx);
                let yh: number, xh: number;
                if (yl >= H - 1) {
                  yh = yl = H - 1;
                  yy = yl;
                } else yh = yl + 1;
                if (xl >= W - 1) {
                  xh = xl = W - 1;
                  xx = xl;
                } else xh = xl + 1;
                const ly = yy - yl;
                const lx = xx - xl;
                const hy = 1 - ly;
                const hx = 1 - lx;
                pos[s * 4] = yl * W + xl;
                pos[s * 4 + 1] = yl * W + xh;
                pos[s * 4 + 2] = yh * W + xl;
                pos[s * 4 + 3] = yh * W + xh;
                wts[s * 4] = hy * hx;
                wts[s * 4 + 1] = hy * lx;
                wts[s * 4 + 2] = ly * hx;
                wts[s * 4 + 3] = ly * lx;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) {
          const xb = (batch[r] * C + c) * H * W;
          const yb = (r * C + c) * outH * outW;
          let q = 0;
          for (let bin = 0; bin < outH * outW; bin++) {
            let acc = 0;
            for (let k = 0; k < gh * gw; k++, q++) {
              const p = q * 4;
              if (mode === 'avg') {
                acc +=
                  wts[p] * X[xb + pos[p]] +
                  wts[p + 1] * X[xb + pos[p + 1]] +
                  wts[p + 2] * X[xb + pos[p + 2]] +
                  wts[p + 3] * X[xb + pos[p + 3]];
              } else {
                const v = Math.max(
                  wts[p] * X[xb + pos[p]],
                  wts[p + 1] * X[xb + pos[p + 1]],
                  wts[p + 2] * X[xb + pos[p + 2]],
                  wts[p + 3] * X[xb + pos[p + 3]],
                );
                acc = k === 0 ? v : Math.max(acc, v);
              }
            }
            Y[yb + bin] = mode === 'avg' ? acc / count : acc;
          }
        }
      }
      return [tensorFromFloats(x.type, Y, [R, C, outH, outW])];
    };
  },
};

export const ops: OpDef[] = [nonMaxSuppression, roiAlign];
