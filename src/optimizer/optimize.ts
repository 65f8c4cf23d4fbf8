/**
 * The graph optimizer, with onnxruntime's level names. Each level runs its portable passes until
 * nothing changes ("declutter"), validating the graph after each pass; every pass is a function
 * over the IR that can be tested alone, and switched off by name.
 *
 *   disabled  nothing
 *   basic     identity/Dropout, Cast and Transpose elimination, Reshape-chain collapsing, constant
 *             folding, common subexpression elimination, Conv+BatchNormalization and Conv+Mul/Add
 *             folding, BatchNormalization+Mul/Add folding, MatMul+Add → Gemm, dead-node elimination
 *   extended  basic + Gelu and LayerNormalization pattern fusion, residual Add + LayerNormalization
 *             → SkipLayerNormalization, Conv + residual Add fusion,
 *             Conv/Gemm + activation fusion, MatMul + Transpose/scale → FusedMatMul, a decoder's
 *             self-attention (with its key/value cache) → MultiHeadAttention
 *             (the fusions emit onnxruntime's com.microsoft contrib ops, see ops/contrib.ts)
 *   all       extended (layout and pre-packing land here)
 *
 * Basic passes run before extended ones in every round, so e.g. Conv → BatchNormalization → Relu
 * folds the BatchNormalization first and then fuses the Relu.
 */
import { forEachSubgraph, type Graph, type Model } from '../ir/graph.js';
import { validateGraph } from '../ir/validate.js';
import { fuseConvActivation, fuseGemmActivation } from './activation-fusion.js';
import { fuseDecoderAttention } from './attention-fusion.js';
import { foldBatchNormMulAdd } from './batchnorm-folding.js';
import { fuseConvAdd } from './conv-add-fusion.js';
import { eliminateCasts } from './cast-elimination.js';
import { foldConstants, type FoldKernel } from './constant-folding.js';
import { foldConvBatchNorm, foldConvMulAdd } from './conv-folding.js';
import { eliminateCommonSubexpressions } from './cse.js';
import { eliminateDeadCode } from './dead-code.js';
import { fuseGelu } from './gelu-fusion.js';
import { eliminateIdentities } from './identity.js';
import { fuseLayerNorm } from './layernorm-fusion.js';
import { fuseSkipLayerNorm } from './skip-layernorm-fusion.js';
import { fuseMatMulAdd } from './matmul-add.js';
import { fuseMatMulTranspose } from './matmul-transpose.js';
import { collapseReshapeChains } from './reshape-chain.js';
import { eliminateTransposes } from './transpose-elimination.js';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface OptimizeContext {
  /** Kernel used to evaluate constant nodes at load time. */
  foldKernel: FoldKernel;
  /** Pass names (Onyx's or onnxruntime's, see PASSES) not to run. */
  disabled?: ReadonlySet<string>;
}

interface Pass {
  name: string;
  /** onnxruntime's name for its equivalent transformer, accepted when disabling. */
  ortName?: string;
  level: 'basic' | 'extended';
  /**
   * Op types (any domain) one of which every rewrite of the pass starts from: the pass is skipped
   * while none is in the model (a pattern pass builds maps of the whole graph before it looks).
   */
  anchors?: readonly string[];
  run: (m: Model, ctx: OptimizeContext) => boolean | Promise<boolean>;
}

export const PASSES: readonly Pass[] = [
  {
    name: 'identity-elimination',
    ortName: 'EliminateIdentity',
    level: 'basic',
    anchors: ['Identity', 'Dropout'],
    run: (m) => eliminateIdentities(m.graph),
  },
  {
    name: 'cast-elimination',
    ortName: 'CastElimination',
    level: 'basic',
    anchors: ['Cast', 'CastLike'],
    run: (m) => eliminateCasts(m.graph),
  },
  {
    name: 'transpose-elimination',
    level: 'basic',
    anchors: ['Transpose'],
    run: (m) => eliminateTransposes(m.graph),
  },
  {
    name: 'reshape-chain-collapsing',
    level: 'basic',
    anchors: ['Reshape'],
    run: (m) => collapseReshapeChains(m.graph),
  },
  {
    name: 'constant-folding',
    ortName: 'ConstantFolding',
    level: 'basic',
    run: (m, ctx) => foldConstants(m.graph, ctx.foldKernel),
  },
  {
    name: 'common-subexpression-elimination',
    ortName: 'CommonSubexpressionElimination',
    level: 'basic',
    run: (m) => eliminateCommonSubexpressions(m.graph),
  },
  // Before the Conv folds: Conv → BatchNormalization → Mul → Add then scales the weights once
  // (the per-channel Mul/Add go into the BatchNormalization first), not twice.
  {
    name: 'batchnorm-mul-add-folding',
    level: 'basic',
    anchors: ['BatchNormalization'],
    run: (m) => foldBatchNormMulAdd(m.graph),
  },
  {
    name: 'conv-bn-folding',
    ortName: 'ConvBNFusion',
    level: 'basic',
    anchors: ['BatchNormalization'],
    run: (m) => foldConvBatchNorm(m.graph),
  },
  { name: 'conv-mul-add-folding', level: 'basic', anchors: ['Conv'], run: (m) => foldConvMulAdd(m.graph) },
  {
    name: 'matmul-add-to-gemm',
    ortName: 'MatMulAddFusion',
    level: 'basic',
    anchors: ['MatMul'],
    run: (m) => fuseMatMulAdd(m.graph),
  },
  { name: 'dead-code-elimination', level: 'basic', run: (m) => eliminateDeadCode(m.graph) },
  {
    name: 'gelu-fusion',
    ortName: 'GeluFusion',
    level: 'extended',
    anchors: ['Erf', 'Tanh'],
    run: (m) => fuseGelu(m),
  },
  {
    name: 'layernorm-fusion',
    ortName: 'LayerNormFusion',
    level: 'extended',
    anchors: ['ReduceMean'],
    run: (m) => fuseLayerNorm(m),
  },
  {
    name: 'skip-layernorm-fusion',
    ortName: 'SkipLayerNormFusion',
    level: 'extended',
    anchors: ['LayerNormalization'],
    run: (m) => fuseSkipLayerNorm(m),
  },
  {
    name: 'matmul-transpose-fusion',
    ortName: 'MatmulTransposeFusion',
    level: 'extended',
    anchors: ['MatMul', 'FusedMatMul'],
    run: (m) => fuseMatMulTranspose(m),
  },
  {
    name: 'decoder-attention-fusion',
    level: 'extended',
    anchors: ['FusedMatMul'],
    run: (m) => fuseDecoderAttention(m),
  },
  {
    name: 'conv-add-fusion',
    ortName: 'ConvAddActivationFusion',
    level: 'extended',
    anchors: ['Conv'],
    run: (m) => fuseConvAdd(m),
  },
  {
    name: 'conv-activation-fusion',
    ortName: 'ConvActivationFusion',
    level: 'extended',
    anchors: ['Conv', 'FusedConv'],
    run: (m) => fuseConvActivation(m),
  },
  {
    name: 'gemm-activation-fusion',
    ortName: 'GemmActivationFusion',
    level: 'extended',
    anchors: ['Gemm', 'FusedGemm'],
    run: (m) => fuseGemmActivation(m),
  },
];

/** Every name a pass can be disabled by. */
export const PASS_NAMES: readonly string[] = PASSES.flatMap((p) =>
  p.ortName ? [p.name, p.ortName] : [p.name],
);

const LEVELS: Record<OptimizationLevel, ReadonlySet<Pass['level']>> = {
  disabled: new Set(),
  basic: new Set(['basic']),
  extended: new Set(['basic', 'extended']),
  all: new Set(['basic', 'extended']),
};

/** What one pass did over a whole optimization: rounds in which it changed the graph, nodes it removed. */
export interface PassRecord {
  name: string;
  rounds: number;
  nodesRemoved: number;
}

/** Upper bound on rounds (each pass once); each round only shrinks the graph, so this is never reached in practice. */
const MAX_ROUNDS = 10;

export async function optimizeModel(
  model: Model,
  level: OptimizationLevel,
  ctx: OptimizeContext,
): Promise<PassRecord[]> {
  const off = ctx.disabled ?? new Set<string>();
  const passes = PASSES.filter(
    (p) => LEVELS[level].has(p.level) && !off.has(p.name) && !(p.ortName && off.has(p.ortName)),
  );
  const records = new Map<string, PassRecord>();
  // Nodes and op types are looked at again only after a pass that changed the graph (most runs of
  // a pass change nothing).
  let { nodes, ops } = census(model);
  // The passes run in turn, round after round, until every one of them has found nothing to do in
  // the graph as it is now: once the last change is a full cycle of passes behind, the rest of a
  // round would only run again passes that changed nothing in this very graph (BERT's encoder was
  // given a third, confirming round of all its passes).
  let unchanged = 0;
  for (let i = 0; unchanged < passes.length && i < MAX_ROUNDS * passes.length; i++) {
    const pass = passes[i % passes.length];
    unchanged++;
    if (pass.anchors && !pass.anchors.some((op) => ops.has(op))) continue;
    if (await pass.run(model, ctx)) {
      unchanged = 0;
      // Not only a check: a fusion may leave its node before a producer of one of its inputs (the
      // GELU, skip-LayerNorm, MatMul-transpose and attention fusions do on the GPT step), and the
      // passes after it rely on topological order (dead-code elimination walks back from the
      // outputs); validation restores the order. Validating only once after the loop lost live
      // nodes of the GPT step's graph (measured in session 15).
      validateGraph(model.graph);
      const r = records.get(pass.name) ?? { name: pass.name, rounds: 0, nodesRemoved: 0 };
      r.rounds++;
      const after = census(model);
      r.nodesRemoved += nodes - after.nodes;
      ({ nodes, ops } = after);
      records.set(pass.name, r);
    }
  }
  return [...records.values()];
}

/** How many nodes the model's graphs hold, subgraphs included, and of which op types. */
function census(model: Model): { nodes: number; ops: Set<string> } {
  let nodes = 0;
  const ops = new Set<string>();
  const visit = (g: Graph) => {
    for (const node of g.nodes) {
      nodes++;
      ops.add(node.opType);
      forEachSubgraph(node, visit);
    }
  };
  visit(model.graph);
  return { nodes, ops };
}
