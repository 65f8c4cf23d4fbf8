/**
 * The ai.onnx.preview.training domain: the optimizers Adagrad, Adam and Momentum (incl. Nesterov), and
 * Gradient (reverse-mode autodiff of the nodes that compute `y`, at the end of this file).
 *
 * Every optimizer takes R (learning rate, scalar), T (update count, int64 scalar), then n tensors to
 * optimize followed by their gradients and state tensors (group by group, all X's first), and returns
 * the new tensors and new states in the same grouping. Formulas follow the spec and the ONNX reference
 * (onnx/reference/ops/aionnx_preview_training); they run in float64 and round once to X's type.
 */
import { OnyxError } from '../core/errors.js';
import { Tensor, shapeSize } from '../core/tensor.js';
import type { Graph, Node } from '../ir/graph.js';
import type { KernelInputs, NodeInfo, OpDef } from './kernel.js';
import { broadcastOffsets, broadcastShapes } from './util/broadcast.js';
import { isFloatType, numbersOf, scalarOf, tensorFromNumbers, tensorInput } from './util/numeric.js';

const DOMAIN = 'ai.onnx.preview.training';

/** Splits the inputs after R and T into `groups` equal runs (X's, G's, states…) of n tensors each. */
function groupedInputs(node: NodeInfo, groups: number): number {
  const rest = node.inputCount - 2;
  if (rest <= 0 || rest % groups !== 0) {
    throw new OnyxError(
      'INVALID_MODEL',
      `${node.opType} takes R, T and then ${groups} equal groups of tensors; got ${node.inputCount} inputs`,
    );
  }
  const n = rest / groups;
  if (node.outputCount !== n * (groups - 1)) {
    throw new OnyxError(
      'INVALID_MODEL',
      `${node.opType} with ${n} optimized tensor(s) has ${n * (groups - 1)} outputs, got ${node.outputCount}`,
    );
  }
  return n;
}

interface Step {
  r: number;
  t: number;
  /** group[k][i]: the k-th group's i-th tensor (k = 0 is X). */
  group: Tensor[][];
}

function readStep(inputs: KernelInputs, n: number, groups: number, opType: string): Step {
  const r = scalarOf(tensorInput(inputs[0], 'R'), 'R');
  const t = scalarOf(tensorInput(inputs[1], 'T'), 'T');
  const group: Tensor[][] = [];
  for (let k = 0; k < groups; k++) {
    const list: Tensor[] = [];
    for (let i = 0; i < n; i++)
      list.push(tensorInput(inputs[2 + k * n + i], `${opType} input ${2 + k * n + i}`));
    group.push(list);
  }
  for (let i = 0; i < n; i++) {
    const x = group[0][i];
    if (!isFloatType(x.type))
      throw new OnyxError('TYPE_MISMATCH', `${opType} optimizes float tensors, got ${x.type}`);
    for (let k = 1; k < groups; k++) {
      const o = group[k][i];
      if (o.dims.length !== x.dims.length || o.dims.some((d, j) => d !== x.dims[j])) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `${opType}: tensor ${i} has dims [${x.dims.join(', ')}] but its input ${2 + k * n + i} has [${o.dims.join(', ')}]`,
        );
      }
    }
  }
  return { r, t, group };
}

const adagrad: OpDef = {
  domain: DOMAIN,
  opType: 'Adagrad',
  versions: [1],
  build(node) {
    const decay = node.attrs.float('decay_factor', 0);
    const epsilon = node.attrs.float('epsilon', 1e-6);
    const norm = node.attrs.float('norm_coefficient', 0);
    const n = groupedInputs(node, 3);
    return (inputs) => {
      const { r, t, group } = readStep(inputs, n, 3, 'Adagrad');
      const rate = r / (1 + t * decay);
      const xs: Tensor[] = [];
      const hs: Tensor[] = [];
      for (let i = 0; i < n; i++) {
        const [X, G, H] = [numbersOf(group[0][i]), numbersOf(group[1][i]), numbersOf(group[2][i])];
        const xNew = new Float64Array(X.length);
        const hNew = new Float64Array(X.length);
        for (let j = 0; j < X.length; j++) {
          const g = norm * X[j] + G[j];
          hNew[j] = H[j] + g * g;
          xNew[j] = X[j] - (rate * g) / (Math.sqrt(hNew[j]) + epsilon);
        }
        xs.push(tensorFromNumbers(group[0][i].type, xNew, group[0][i].dims));
        hs.push(tensorFromNumbers(group[2][i].type, hNew, group[2][i].dims));
      }
      return [...xs, ...hs];
    };
  },
};

const adam: OpDef = {
  domain: DOMAIN,
  opType: 'Adam',
  versions: [1],
  build(node) {
    const alpha = node.attrs.float('alpha', 0.9);
    const beta = node.attrs.float('beta', 0.999);
    const epsilon = node.attrs.float('epsilon', 1e-6);
    const norm = node.attrs.float('norm_coefficient', 0);
    const normPost = node.attrs.float('norm_coefficient_post', 0);
    const n = groupedInputs(node, 4);
    return (inputs) => {
      const { r, t, group } = readStep(inputs, n, 4, 'Adam');
      // Bias correction applies once the update count is positive.
      const rate = t > 0 ? (r * Math.sqrt(1 - beta ** t)) / (1 - alpha ** t) : r;
      const xs: Tensor[] = [];
      const vs: Tensor[] = [];
      const hs: Tensor[] = [];
      for (let i = 0; i < n; i++) {
        const [X, G, V, H] = [0, 1, 2, 3].map((k) => numbersOf(group[k][i]));
        const xNew = new Float64Array(X.length);
        const vNew = new Float64Array(X.length);
        const hNew = new Float64Array(X.length);
        for (let j = 0; j < X.length; j++) {
          const g = norm * X[j] + G[j];
          vNew[j] = alpha * V[j] + (1 - alpha) * g;
          hNew[j] = beta * H[j] + (1 - beta) * g * g;
          const x = X[j] - (rate * vNew[j]) / (Math.sqrt(hNew[j]) + epsilon);
          xNew[j] = (1 - normPost) * x;
        }
        xs.push(tensorFromNumbers(group[0][i].type, xNew, group[0][i].dims));
        vs.push(tensorFromNumbers(group[2][i].type, vNew, group[2][i].dims));
        hs.push(tensorFromNumbers(group[3][i].type, hNew, group[3][i].dims));
      }
      return [...xs, ...vs, ...hs];
    };
  },
};

const momentum: OpDef = {
  domain: DOMAIN,
  opType: 'Momentum',
  versions: [1],
  build(node) {
    const alpha = node.attrs.float('alpha');
    const beta = node.attrs.float('beta');
    const norm = node.attrs.float('norm_coefficient');
    const mode = node.attrs.string('mode');
    if (mode !== 'standard' && mode !== 'nesterov') {
      throw new OnyxError('INVALID_MODEL', `mode must be 'standard' or 'nesterov', got '${mode}'`);
    }
    const nesterov = mode === 'nesterov';
    const n = groupedInputs(node, 3);
    return (inputs) => {
      const { r, t, group } = readStep(inputs, n, 3, 'Momentum');
      // The first update (T = 0) takes the whole gradient.
      const b = t > 0 ? beta : 1;
      const xs: Tensor[] = [];
      const vs: Tensor[] = [];
      for (let i = 0; i < n; i++) {
        const [X, G, V] = [0, 1, 2].map((k) => numbersOf(group[k][i]));
        const xNew = new Float64Array(X.length);
        const vNew = new Float64Array(X.length);
        for (let j = 0; j < X.length; j++) {
          const g = norm * X[j] + G[j];
          vNew[j] = alpha * V[j] + b * g;
          xNew[j] = X[j] - r * (nesterov ? g + alpha * vNew[j] : vNew[j]);
        }
        xs.push(tensorFromNumbers(group[0][i].type, xNew, group[0][i].dims));
        vs.push(tensorFromNumbers(group[2][i].type, vNew, group[2][i].dims));
      }
      return [...xs, ...vs];
    };
  },
};

// ---------------------------------------------------------------------------------------------------
// Gradient: reverse-mode autodiff of the subgraph that computes `y` from `xs` (and `zs`).

/**
 * The kernel needs the nodes that compute `y`, which live in the enclosing graph. The runtime passes
 * them as `graph` on NodeInfo when it supports Gradient; without it, building the kernel fails with
 * NOT_IMPLEMENTED (a clear message rather than a wrong answer).
 */
export interface NodeInfoWithGraph extends NodeInfo {
  readonly graph?: Graph;
}

/** A float64 value with its dims, as the tape stores it. */
interface F {
  v: Float64Array;
  dims: number[];
}

type Unary = (x: number, y: number, g: number) => number;

/** Elementwise ops the tape can run forward and differentiate: forward f, and dL/dx given x, y, dL/dy. */
const UNARY: Record<string, { f: (x: number) => number; d: Unary }> = {
  Identity: { f: (x) => x, d: (_x, _y, g) => g },
  Neg: { f: (x) => -x, d: (_x, _y, g) => -g },
  Relu: { f: (x) => (x > 0 ? x : 0), d: (x, _y, g) => (x > 0 ? g : 0) },
  Exp: { f: Math.exp, d: (_x, y, g) => g * y },
  Log: { f: Math.log, d: (x, _y, g) => g / x },
  Sqrt: { f: Math.sqrt, d: (_x, y, g) => (0.5 * g) / y },
  Tanh: { f: Math.tanh, d: (_x, y, g) => g * (1 - y * y) },
  Sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)), d: (_x, y, g) => g * y * (1 - y) },
};

/** Binary broadcasting ops: forward, and the partial derivatives d/da and d/db at (a, b). */
const BINARY: Record<
  string,
  {
    f: (a: number, b: number) => number;
    da: (a: number, b: number) => number;
    db: (a: number, b: number) => number;
  }
> = {
  Add: { f: (a, b) => a + b, da: () => 1, db: () => 1 },
  Sub: { f: (a, b) => a - b, da: () => 1, db: () => -1 },
  Mul: { f: (a, b) => a * b, da: (_a, b) => b, db: (a) => a },
  Div: { f: (a, b) => a / b, da: (_a, b) => 1 / b, db: (a, b) => -a / (b * b) },
};

export const GRADIENT_OPS = ['Constant', ...Object.keys(UNARY), ...Object.keys(BINARY)];

interface Tape {
  /** The nodes between the sources and y, in execution order. */
  nodes: Node[];
  sources: string[];
  constants: Map<string, Tensor>;
}

/** Finds the nodes that compute `y` from `sources`, initializers and Constant nodes. */
export function planGradientTape(graph: Graph, sources: string[], y: string): Tape {
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const sourceSet = new Set(sources);
  const needed = new Set<Node>();
  const constants = new Map<string, Tensor>();
  const visit = (name: string): void => {
    if (sourceSet.has(name) || constants.has(name)) return;
    const init = graph.initializers.get(name);
    if (init) {
      constants.set(name, init);
      return;
    }
    const n = producer.get(name);
    if (!n) {
      throw new OnyxError(
        'INVALID_MODEL',
        `Gradient: '${name}' feeds '${y}' but is neither in xs/zs, an initializer, nor computed by a node`,
      );
    }
    if (needed.has(n)) return;
    if (n.domain !== '' || !GRADIENT_OPS.includes(n.opType)) {
      throw new OnyxError(
        'NOT_IMPLEMENTED',
        `Gradient cannot differentiate through ${n.opType} (node '${n.name}'); it supports ${GRADIENT_OPS.join(', ')}`,
      );
    }
    needed.add(n);
    if (n.opType === 'Constant') {
      const value = n.attrs.raw('value');
      if (value?.kind !== 'tensor') {
        throw new OnyxError(
          'NOT_IMPLEMENTED',
          `Gradient: Constant '${n.name}' must use the 'value' attribute`,
        );
      }
      constants.set(n.outputs[0], value.value);
      return;
    }
    for (const i of n.inputs) if (i) visit(i);
  };
  visit(y);
  return { nodes: graph.nodes.filter((n) => needed.has(n) && n.opType !== 'Constant'), sources, constants };
}

function toF(t: Tensor): F {
  return { v: Float64Array.from(numbersOf(t)), dims: [...t.dims] };
}

/** Sums `g` (laid over `gDims`) down to `dims`, undoing broadcasting. */
function reduceTo(g: Float64Array, gDims: number[], dims: number[]): Float64Array {
  const out = new Float64Array(shapeSize(dims));
  const [off] = broadcastOffsets([dims], gDims);
  if (!off) {
    out.set(g);
    return out;
  }
  for (let i = 0; i < g.length; i++) out[off[i]] += g[i];
  return out;
}

function accumulate(grads: Map<string, Float64Array>, name: string, g: Float64Array): void {
  const prev = grads.get(name);
  if (!prev) grads.set(name, g);
  else for (let i = 0; i < g.length; i++) prev[i] += g[i];
}

/** Runs the tape forward, then backward from dy = 1; returns d y / d source for every source. */
export function runGradientTape(tape: Tape, sourceValues: Tensor[], y: string): { y: F; grads: F[] } {
  const env = new Map<string, F>();
  tape.sources.forEach((name, i) => env.set(name, toF(sourceValues[i])));
  for (const [name, t] of tape.constants) env.set(name, toF(t));
  const get = (name: string): F => {
    const v = env.get(name);
    if (!v) throw new OnyxError('RUNTIME_ERROR', `Gradient: no value for '${name}'`);
    return v;
  };
  for (const n of tape.nodes) {
    const u = UNARY[n.opType];
    if (u) {
      const x = get(n.inputs[0]);
      env.set(n.outputs[0], { v: x.v.map(u.f), dims: x.dims });
      continue;
    }
    const b = BINARY[n.opType];
    const [A, B] = [get(n.inputs[0]), get(n.inputs[1])];
    const dims = broadcastShapes(A.dims, B.dims);
    const [oa, ob] = broadcastOffsets([A.dims, B.dims], dims);
    const out = new Float64Array(shapeSize(dims));
    for (let i = 0; i < out.length; i++) out[i] = b.f(A.v[oa ? oa[i] : i], B.v[ob ? ob[i] : i]);
    env.set(n.outputs[0], { v: out, dims });
  }
  const yv = get(y);
  const grads = new Map<string, Float64Array>([[y, new Float64Array(yv.v.length).fill(1)]]);
  for (let k = tape.nodes.length - 1; k >= 0; k--) {
    const n = tape.nodes[k];
    const g = grads.get(n.outputs[0]);
    if (!g) continue; // does not reach y
    const out = get(n.outputs[0]);
    const u = UNARY[n.opType];
    if (u) {
      const x = get(n.inputs[0]);
      const gx = new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) gx[i] = u.d(x.v[i], out.v[i], g[i]);
      accumulate(grads, n.inputs[0], gx);
      continue;
    }
    const b = BINARY[n.opType];
    const [A, B] = [get(n.inputs[0]), get(n.inputs[1])];
    const [oa, ob] = broadcastOffsets([A.dims, B.dims], out.dims);
    const ga = new Float64Array(g.length);
    const gb = new Float64Array(g.length);
    for (let i = 0; i < g.length; i++) {
      const a = A.v[oa ? oa[i] : i];
      const bv = B.v[ob ? ob[i] : i];
      ga[i] = g[i] * b.da(a, bv);
      gb[i] = g[i] * b.db(a, bv);
    }
    accumulate(grads, n.inputs[0], reduceTo(ga, out.dims, A.dims));
    accumulate(grads, n.inputs[1], reduceTo(gb, out.dims, B.dims));
  }
  return {
    y: yv,
    grads: tape.sources.map((name) => {
      const x = get(name);
      return { v: grads.get(name) ?? new Float64Array(x.v.length), dims: x.dims };
    }),
  };
}

const gradient: OpDef = {
  domain: DOMAIN,
  opType: 'Gradient',
  versions: [1],
  build(node) {
    const xs = node.attrs.strings('xs');
    const zs = node.attrs.strings('zs', []);
    const y = node.attrs.string('y');
    if (node.inputCount !== xs.length + zs.length) {
      throw new OnyxError(
        'INVALID_MODEL',
        `Gradient takes the values of xs then zs (${xs.length + zs.length} inputs), got ${node.inputCount}`,
      );
    }
    if (node.outputCount !== xs.length) {
      throw new OnyxError(
        'INVALID_MODEL',
        `Gradient has one output per xs entry (${xs.length}), got ${node.outputCount}`,
      );
    }
    const graph = (node as NodeInfoWithGraph).graph;
    if (!graph) {
      throw new OnyxError(
        'NOT_IMPLEMENTED',
        `Gradient needs the nodes that compute '${y}', but the runtime does not pass the enclosing graph to kernels (NodeInfo.graph)`,
      );
    }
    const tape = planGradientTape(graph, [...xs, ...zs], y);
    return (inputs) => {
      const values = inputs.map((v, i) => tensorInput(v, `Gradient input ${i} ('${[...xs, ...zs][i]}')`));
      const { grads } = runGradientTape(tape, values, y);
      return xs.map((_, i) => tensorFromNumbers(values[i].type, grads[i].v, grads[i].dims));
    };
  },
};

export const ops: OpDef[] = [adagrad, adam, momentum, gradient];
