/**
 * The default op registry: one module per op family, each exporting its OpDefs.
 */
import type { OpDef } from './kernel.js';
import { OpRegistry } from './registry.js';
import { ops as arithmetic } from './arithmetic.js';
import { ops as activations } from './activations.js';
import { ops as shapeOps } from './shape-ops.js';
import { ops as dataMovement } from './data-movement.js';
import { ops as generators } from './generators.js';
import { ops as cast } from './cast.js';
import { ops as indexing } from './indexing.js';
import { ops as conv } from './conv.js';
import { ops as pool } from './pool.js';
import { ops as normalization } from './normalization.js';
import { ops as matmul } from './matmul.js';
import { ops as reduce } from './reduce.js';
import { ops as resize } from './resize.js';
import { ops as imageOps } from './image-ops.js';
import { ops as controlFlow } from './control-flow.js';
import { ops as sequence } from './sequence.js';
import { ops as optional } from './optional.js';
import { ops as stringOps } from './string-ops.js';
import { ops as ml } from './ml.js';
import { ops as rnn } from './rnn.js';
import { ops as attention } from './attention.js';
import { ops as quantize } from './quantize.js';
import { ops as signal } from './signal.js';
import { ops as detection } from './detection.js';
import { ops as random } from './random.js';
import { ops as training } from './training.js';
import { ops as loss } from './loss.js';
import { ops as imageDecoder } from './image-decoder.js';
import { ops as causalConv } from './causal-conv.js';
import { ops as contrib } from './contrib.js';
import { ops as multiHeadAttention } from './multihead-attention.js';

const families: readonly (readonly OpDef[])[] = [
  arithmetic,
  activations,
  shapeOps,
  dataMovement,
  generators,
  cast,
  indexing,
  conv,
  pool,
  normalization,
  matmul,
  reduce,
  resize,
  imageOps,
  controlFlow,
  sequence,
  optional,
  stringOps,
  ml,
  rnn,
  attention,
  quantize,
  signal,
  detection,
  random,
  training,
  loss,
  imageDecoder,
  causalConv,
  contrib,
  multiHeadAttention,
];

export const defaultRegistry = new OpRegistry();
for (const family of families) defaultRegistry.register(...family);
