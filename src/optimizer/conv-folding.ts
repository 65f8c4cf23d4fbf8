/**
 * Folding per-channel affine ops into the Conv before them, when the Conv's weights (and bias) are
 * constants and the Conv's output has no other reader:
 * - Conv → BatchNormalization (inference mode): W' = W·s, B' = (B − mean)·s + β with
 *   s = γ / √(var + ε), per output channel;
 * - Conv → Mul by a constant that is per-channel or scalar: W' = W·c, B' = B·c;
 * - Conv → Add of such a constant: B' = B + c.
 * New weights are new initializers (the old ones may be shared); float32 and float64 only.
 */
import type { TypedArray } from '../core/dtype.js';
import { Tensor } from '../core/tensor.js';
import type { Graph, Node } from '../ir/graph.js';
import { sbatchNormFold } from '../ops/util/dispatch.js';
import { float32Binary } from '../ops/util/float32-binary.js';
import { constantOf, forEachGraph, NameGen, producerMap, removeNodes, useCounts } from './graph-utils.js';

interface ConvMatch {
  conv: Node;
  W: Tensor;
  /**
   * W is an initializer of this graph that the Conv alone reads and whose storage no other value
   * shares: folding may scale it in place instead of copying it (no fresh weight-sized allocation
   * at load; the loader always copies tensor data out of the model bytes).
   */
  ownW: boolean;
  B: Tensor | undefined;
  /** Output channels. */
  M: number;
}

type Fold = (g: Graph, node: Node, m: ConvMatch) => { W: Tensor; B: Tensor } | undefined;

export function foldConvBatchNorm(root: Graph): boolean {
  return foldInto(root, (n) => n.opType === 'BatchNormalization', batchNormFold);
}

export function foldConvMulAdd(root: Graph): boolean {
  return foldInto(root, (n) => n.opType === 'Mul' || n.opType === 'Add', mulAddFold);
}

function foldInto(root: Graph, accepts: (n: Node) => boolean, fold: Fold): boolean {
  let changed = false;
  const names = new NameGen(root);
  forEachGraph(root, (g) => {
    const producers = producerMap(g);
    const uses = useCounts(g);
    const holders = dataHolders(g);
    const dead = new Set<Node>();
    for (const n of g.nodes) {
      if (n.domain !== '' || !accepts(n)) continue;
      const m = matchConv(g, producers, uses, holders, n);
      const folded = m && fold(g, n, m);
      if (!m || !folded) continue;
      const w = names.fresh(`${m.conv.inputs[1]}_folded`);
      const b = names.fresh(`${m.conv.inputs[2] || m.conv.name + '_bias'}_folded`);
      g.initializers.set(w, folded.W);
      g.initializers.set(b, folded.B);
      for (const t of [folded.W, folded.B]) holders.set(t.data, (holders.get(t.data) ?? 0) + 1);
      m.conv.inputs = [m.conv.inputs[0], w, b];
      m.conv.outputs = [n.outputs[0]];
      producers.set(n.outputs[0], m.conv);
      dead.add(n);
      changed = true;
    }
    removeNodes(g, dead);
  });
  return changed;
}

/** The Conv that makes `n`'s first (or, for Mul/Add, either) input, if it may be folded into. */
function matchConv(
  g: Graph,
  producers: Map<string, Node>,
  uses: Map<string, number>,
  holders: Map<Tensor['data'], number>,
  n: Node,
): ConvMatch | undefined {
  const candidates = n.opType === 'BatchNormalization' ? [n.inputs[0]] : n.inputs.slice(0, 2);
  for (const x of candidates) {
    const conv = producers.get(x);
    if (!conv || conv.domain !== '' || conv.opType !== 'Conv' || uses.get(x) !== 1) continue;
    const W = constantOf(g, conv.inputs[1]);
    const B = conv.inputs[2] ? constantOf(g, conv.inputs[2]) : undefined;
    if (!W || (W.type !== 'float32' && W.type !== 'float64') || (conv.inputs[2] && !B)) continue;
    if (B && (B.type !== W.type || B.size !== W.dims[0])) continue;
    const name = conv.inputs[1];
    const ownW = g.initializers.get(name) === W && uses.get(name) === 1 && holders.get(W.data) === 1;
    return { conv, W, B, M: W.dims[0], ownW };
  }
  return undefined;
}

/** How many initializers of `g` hold each data array (a loader or pass may share one). */
function dataHolders(g: Graph): Map<Tensor['data'], number> {
  const holders = new Map<Tensor['data'], number>();
  for (const t of g.initializers.values()) holders.set(t.data, (holders.get(t.data) ?? 0) + 1);
  return holders;
}

function batchNormFold(g: Graph, bn: Node, m: ConvMatch): { W: Tensor; B: Tensor } | undefined {
  if (bn.outputs.slice(1).some((o) => o) || bn.attrs.int('training_mode', 0) !== 0) return undefined;
  if (bn.attrs.has('spatial') && bn.attrs.int('spatial') !== 1) return undefined;
  const params = bn.inputs.slice(1, 5).map((i) => constantOf(g, i));
  if (params.length !== 4 || params.some((p) => !p || p.type !== m.W.type || p.size !== m.M))
    return undefined;
  const [gamma, beta, mean, variance] = params.map((p) => p!.data as Float32Array | Float64Array);
  const eps = bn.attrs.float('epsilon', 1e-5);
  // float32 (every parameter has W's type) on the WASM kernels, whose per-channel loop is compiled
  // before the load starts (assembly/folding.ts: ShuffleNet's fold 15 → 7 ms, ResNet-50's 46 → 34);
  // the loops below are its reference.
  if (m.W.type === 'float32') {
    const W = m.W.data as Float32Array;
    const out = m.ownW ? W : new Float32Array(W.length);
    const f32 = [gamma, beta, mean, variance] as Float32Array[];
    const shift = sbatchNormFold(W, out, m.M, m.M > 0 ? W.length / m.M : 0, {
      gamma: f32[0],
      beta: f32[1],
      mean: f32[2],
      variance: f32[3],
      bias: m.B?.data as Float32Array | undefined,
      eps,
    });
    if (shift) {
      const folded = m.ownW ? m.W : new Tensor('float32', out, m.W.dims);
      return { W: folded, B: new Tensor('float32', shift, [m.M]) };
    }
  }
  const scale = new Float64Array(m.M);
  const shift = new Float64Array(m.M);
  const bias = m.B?.data as Float32Array | Float64Array | undefined;
  for (let c = 0; c < m.M; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + eps);
    shift[c] = ((bias ? bias[c] : 0) - mean[c]) * scale[c] + beta[c];
  }
  return { W: scaleWeights(m, scale), B: biasTensor(m.W.type, shift) };
}

function mulAddFold(g: Graph, n: Node, m: ConvMatch): { W: Tensor; B: Tensor } | undefined {
  const other = n.inputs[0] === m.conv.outputs[0] ? n.inputs[1] : n.inputs[0];
  const c = perChannel(constantOf(g, other), m.W.dims.length, m.M, m.W.type);
  if (!c) return undefined;
  const bias = m.B?.data as Float32Array | Float64Array | undefined;
  const B = new Float64Array(m.M);
  for (let k = 0; k < m.M; k++) {
    const b = bias ? bias[k] : 0;
    B[k] = n.opType === 'Mul' ? b * c[k] : b + c[k];
  }
  return { W: n.opType === 'Mul' ? scaleWeights(m, c) : m.W, B: biasTensor(m.W.type, B) };
}

/**
 * A constant's value per channel, when it broadcasts against a `rank`-D value [N, M, ...] of `type`
 * without changing its shape and varies at most along the channel axis.
 */
export function perChannel(
  t: Tensor | undefined,
  rank: number,
  M: number,
  type: Tensor['type'],
): Float64Array | undefined {
  if (!t || t.type !== type || t.dims.length > rank) return undefined;
  const offset = rank - t.dims.length;
  for (let j = 0; j < t.dims.length; j++) {
    const axis = offset + j;
    if (t.dims[j] !== 1 && !(axis === 1 && t.dims[j] === M)) return undefined;
  }
  const data = t.data as TypedArray as Float32Array;
  const out = new Float64Array(M);
  for (let k = 0; k < M; k++) out[k] = t.size === 1 ? data[0] : data[k];
  return out;
}

/**
 * W with output channel c scaled by scale[c]: in place when the match owns W, else a copy. float32
 * weights are scaled in float32, as onnxruntime folds them, by the ops' broadcasting product (the
 * WASM kernels where they run): a load runs this once, in JavaScript not yet compiled, where a
 * plain loop cost ~5–15 ns per weight (ShuffleNet's 0.8 M weights: 2–12 ms, instrumented).
 */
function scaleWeights(m: ConvMatch, scale: Float64Array): Tensor {
  const W = m.W;
  const M = W.dims[0];
  const per = M > 0 ? W.size / M : 0;
  if (W.type === 'float32') {
    const src = W.data as Float32Array;
    const out = m.ownW ? src : new Float32Array(src.length);
    float32Binary('mul', src, [M, per], new Float32Array(scale), [M, 1], [M, per], out);
    return m.ownW ? W : new Tensor(W.type, out, W.dims);
  }
  const src = W.data as Float64Array;
  const out = m.ownW ? src : new Float64Array(src.length);
  for (let c = 0, o = 0; c < M; c++, o += per) {
    const s = scale[c];
    for (let i = o; i < o + per; i++) out[i] = src[i] * s;
  }
  return m.ownW ? W : new Tensor(W.type, out, W.dims);
}

function biasTensor(type: Tensor['type'], values: Float64Array): Tensor {
  // The typed-array constructor converts natively; `from` walks an iterator (slow in cold code).
  const data = type === 'float32' ? new Float32Array(values) : values;
  return new Tensor(type, data, [values.length]);
}
