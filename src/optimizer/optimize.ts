/**
 * The graph optimizer, with onnxruntime's level names. Each level runs its portable passes until
 * nothing changes ("declutter"), validating the graph after each pass; every pass is a function
 * over the IR that can be tested alone.
 *
 *   disabled  nothing
 *   basic     identity elimination, constant folding, dead-node elimination
 *   extended  basic (fusions land here)
 *   all       extended (layout and pre-packing land here)
 */
import type { Model } from '../ir/graph.js';
import { validateGraph } from '../ir/validate.js';
import { foldConstants, type FoldKernel } from './constant-folding.js';
import { eliminateDeadCode } from './dead-code.js';
import { eliminateIdentities } from './identity.js';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface OptimizeContext {
  /** Kernel used to evaluate constant nodes at load time. */
  foldKernel: FoldKernel;
}

type Pass = { name: string; run: (m: Model, ctx: OptimizeContext) => boolean | Promise<boolean> };

const BASIC: Pass[] = [
  { name: 'identity-elimination', run: (m) => eliminateIdentities(m.graph) },
  { name: 'constant-folding', run: (m, ctx) => foldConstants(m.graph, ctx.foldKernel) },
  { name: 'dead-code-elimination', run: (m) => eliminateDeadCode(m.graph) },
];

const PASSES: Record<OptimizationLevel, Pass[]> = {
  disabled: [],
  basic: BASIC,
  extended: BASIC,
  all: BASIC,
};

/** Upper bound on declutter rounds; each round only shrinks the graph, so this is never reached in practice. */
const MAX_ROUNDS = 10;

export async function optimizeModel(
  model: Model,
  level: OptimizationLevel,
  ctx: OptimizeContext,
): Promise<string[]> {
  const applied: string[] = [];
  const passes = PASSES[level];
  for (let round = 0; round < MAX_ROUNDS && passes.length > 0; round++) {
    let changed = false;
    for (const pass of passes) {
      if (await pass.run(model, ctx)) {
        changed = true;
        applied.push(pass.name);
        validateGraph(model.graph);
      }
    }
    if (!changed) break;
  }
  return applied;
}
