/**
 * Conv/Gemm + activation fusion into onnxruntime's contrib ops com.microsoft FusedConv and FusedGemm
 * (so a written model still loads in onnxruntime). The activation must be the only reader of the
 * Conv/Gemm output, the element type float32 (the only type onnxruntime's CPU kernels of these ops
 * take), and the activation one each op supports:
 * - FusedConv: `activation` + `activation_params` (floats): Relu, Tanh, Sigmoid, LeakyRelu [alpha],
 *   Clip [min, max], HardSigmoid [alpha, beta] — onnxruntime's GetFusedActivationAttr;
 * - FusedGemm: `activation` + `activation_alpha`/`activation_beta`: Relu, Tanh, Sigmoid,
 *   LeakyRelu, HardSigmoid, Elu, Softsign, Softplus — onnxruntime's ElementWiseRangedTransform.
 * A FusedConv without an activation (a Conv + Add from conv-add-fusion.ts) takes one the same way.
 * MatMul has no activation-fused form in onnxruntime's CPU contrib ops; it gets one by becoming a
 * Gemm first (matmul-add.ts).
 */
import type { AttrValue } from '../ir/attributes.js';
import type { Graph, Model, Node } from '../ir/graph.js';
import {
  attr,
  constantOf,
  elemTypeOf,
  forEachGraph,
  importDomain,
  MS_DOMAIN,
  newNode,
  producerMap,
  removeNodes,
  scalarOf,
  useCounts,
} from './graph-utils.js';

/** float32's extremes: what onnxruntime uses for an absent Clip bound. */
const FLT_MAX = 3.4028234663852886e38;

/** An activation node's name and parameters, or undefined when it cannot be fused. */
type Activation = { op: string; params: number[] };

function activationOf(g: Graph, n: Node): Activation | undefined {
  if (n.domain !== '' || n.inputs.length === 0 || n.outputs.length !== 1) return undefined;
  switch (n.opType) {
    case 'Relu':
    case 'Tanh':
    case 'Sigmoid':
    case 'Softsign':
    case 'Softplus':
      return { op: n.opType, params: [] };
    case 'LeakyRelu':
      return { op: n.opType, params: [n.attrs.float('alpha', 0.01)] };
    case 'Elu':
      return { op: n.opType, params: [n.attrs.float('alpha', 1)] };
    case 'HardSigmoid':
      return { op: n.opType, params: [n.attrs.float('alpha', 0.2), n.attrs.float('beta', 0.5)] };
    case 'Clip': {
      if ((n.opsets.get('') ?? 1) < 11) {
        return { op: 'Clip', params: [n.attrs.float('min', -FLT_MAX), n.attrs.float('max', FLT_MAX)] };
      }
      const bound = (i: number, fallback: number) =>
        n.inputs[i] ? scalarOf(constantOf(g, n.inputs[i])) : fallback;
      const [lo, hi] = [bound(1, -FLT_MAX), bound(2, FLT_MAX)];
      return lo === undefined || hi === undefined ? undefined : { op: 'Clip', params: [lo, hi] };
    }
  }
  return undefined;
}

const CONV_ACTIVATIONS = new Set(['Relu', 'Tanh', 'Sigmoid', 'LeakyRelu', 'Clip', 'HardSigmoid']);
const GEMM_ACTIVATIONS = new Set([
  'Relu',
  'Tanh',
  'Sigmoid',
  'LeakyRelu',
  'HardSigmoid',
  'Elu',
  'Softsign',
  'Softplus',
]);

export function fuseConvActivation(model: Model): boolean {
  return fuseActivations(model, 'Conv', 'FusedConv', CONV_ACTIVATIONS, (a) =>
    a.params.length ? [['activation_params', attr.floats(a.params)]] : [],
  );
}

export function fuseGemmActivation(model: Model): boolean {
  const names = ['activation_alpha', 'activation_beta'];
  return fuseActivations(model, 'Gemm', 'FusedGemm', GEMM_ACTIVATIONS, (a) =>
    a.params.map((p, i) => [names[i], attr.float(p)]),
  );
}

function fuseActivations(
  model: Model,
  base: string,
  fused: string,
  allowed: ReadonlySet<string>,
  params: (a: Activation) => [string, AttrValue][],
): boolean {
  let changed = false;
  forEachGraph(model.graph, (g) => {
    const producers = producerMap(g);
    const uses = useCounts(g);
    const dead = new Set<Node>();
    g.nodes = g.nodes.map((act) => {
      const a = activationOf(g, act);
      const n = a && allowed.has(a.op) ? producers.get(act.inputs[0]) : undefined;
      // A fused node with no activation yet (conv-add-fusion's FusedConv with Z) takes one too.
      const bare = (x: Node) =>
        (x.domain === '' && x.opType === base) ||
        (x.domain === MS_DOMAIN && x.opType === fused && !x.attrs.has('activation'));
      if (!a || !n || !bare(n) || uses.get(act.inputs[0]) !== 1) return act;
      // Gemm before opset 7 broadcasts C differently; FusedGemm follows the current Gemm.
      if (base === 'Gemm' && (n.opsets.get('') ?? 1) < 7) return act;
      if (elemTypeOf(g, n.inputs[1], producers) !== 'float32') return act;
      dead.add(n);
      changed = true;
      const attrs: [string, AttrValue][] = [...n.attrs.map, ['activation', attr.string(a.op)], ...params(a)];
      return newNode(n.name, fused, MS_DOMAIN, n.inputs, act.outputs, attrs, importDomain(model, n));
    });
    removeNodes(g, dead);
  });
  return changed;
}
