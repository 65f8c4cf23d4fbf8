/**
 * `onyx optimize MODEL -o OUT.onnx`: writes the model as Onyx's optimizer leaves it and reports what
 * changed — node counts per op type before and after, and which passes fired.
 */
import { writeFileSync } from 'node:fs';
import { inspectModel, optimize, type ModelInfo } from '../../index.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatBytes, table } from '../format.js';

export const help = `onyx optimize MODEL -o OUT.onnx [--level LEVEL] [--disable NAME,...] [--json]

Optimizes MODEL as an InferenceSession with graphOptimizationLevel LEVEL would (disabled, basic,
extended, all; default all), writes the result to OUT.onnx (a valid ONNX model, which onnxruntime
loads too; 'extended' and 'all' may use onnxruntime's com.microsoft contrib ops), and prints node
counts per op type before and after, and the passes that changed the graph. --disable skips passes
by Onyx's or onnxruntime's name (as extra['optimization.disable_specified_optimizers'] does).`;

const LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

export async function optimizeCommand(
  args: string[],
  opts: { output?: string; level?: string; disable?: string; json?: boolean },
): Promise<number> {
  const [path] = args;
  if (!opts.output) throw new UsageError(`missing -o OUT.onnx\n\n${help}`);
  const level = (opts.level ?? 'all') as (typeof LEVELS)[number];
  if (!LEVELS.includes(level)) throw new UsageError(`--level must be one of ${LEVELS.join(', ')}`);
  const before = await inspectModel(path);
  const result = await optimize(path, {
    graphOptimizationLevel: level,
    logSeverityLevel: 3,
    extra: opts.disable ? { 'optimization.disable_specified_optimizers': opts.disable } : undefined,
  });
  writeFileSync(opts.output, result.model);
  const after = await inspectModel(result.model);
  const rows = opRows(before, after);
  if (opts.json) {
    console.log(
      JSON.stringify(
        {
          level,
          nodesBefore: before.nodeCount,
          nodesAfter: after.nodeCount,
          ops: rows,
          passes: result.passes,
        },
        null,
        2,
      ),
    );
    return EXIT.OK;
  }
  console.log(`model  ${path} → ${opts.output} (${formatBytes(result.model.length)}), level ${level}`);
  console.log(
    `nodes  ${before.nodeCount} → ${after.nodeCount} (${signed(after.nodeCount - before.nodeCount)})\n`,
  );
  console.log(
    table(
      ['op', 'domain', 'before', 'after', 'change'],
      rows.map((r) => [r.opType, r.domain, r.before, r.after, signed(r.after - r.before)]),
    ),
  );
  console.log('\npasses that changed the graph');
  console.log(
    result.passes.length
      ? table(
          ['pass', 'rounds', 'nodes removed'],
          result.passes.map((p) => [p.name, p.rounds, p.nodesRemoved]),
        )
      : '  (none)',
  );
  return EXIT.OK;
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

function opRows(before: ModelInfo, after: ModelInfo) {
  const rows = new Map<string, { opType: string; domain: string; before: number; after: number }>();
  const row = (o: { opType: string; domain: string }) => {
    const key = `${o.domain}::${o.opType}`;
    if (!rows.has(key)) rows.set(key, { opType: o.opType, domain: o.domain, before: 0, after: 0 });
    return rows.get(key)!;
  };
  for (const o of before.ops) row(o).before += o.count;
  for (const o of after.ops) row(o).after += o.count;
  return [...rows.values()].sort(
    (a, b) => b.before - a.before || b.after - a.after || a.opType.localeCompare(b.opType),
  );
}
