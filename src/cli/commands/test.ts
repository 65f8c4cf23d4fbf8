/**
 * `onyx test DIR...`: runs ONNX backend-test-style folders and prints pass/fail per case.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runBackendCase, type CaseResult } from '../backend-case.js';
import { EXIT, UsageError } from '../exit-codes.js';

export const help = `onyx test DIR... [--optimization disabled|basic|extended|all] [--rtol X] [--atol X]

Each DIR is a case folder (model.onnx + test_data_set_*/input_*.pb, output_*.pb) or a folder of such
case folders. Prints pass / fail (with the first mismatch) / unsupported / error per case.
Exit code 0 when every case passes, 1 otherwise.`;

function caseDirs(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`'${dir}' is not a folder`);
  if (existsSync(join(dir, 'model.onnx'))) return [dir];
  return readdirSync(dir)
    .map((f) => join(dir, f))
    .filter((d) => existsSync(join(d, 'model.onnx')))
    .sort();
}

export async function test(
  args: string[],
  o: { optimization?: string; rtol?: string; atol?: string },
): Promise<number> {
  const dirs = args.flatMap(caseDirs);
  if (dirs.length === 0) throw new UsageError('no test cases found (a case folder holds model.onnx)');
  const tolerance = { rtol: Number(o.rtol ?? 1e-3), atol: Number(o.atol ?? 1e-7) };
  const results: CaseResult[] = [];
  for (const dir of dirs) {
    const r = await runBackendCase(dir, {
      graphOptimizationLevel: (o.optimization ?? 'all') as 'all',
      tolerance,
    });
    results.push(r);
    const detail = r.detail ? `  ${r.detail.split('\n').slice(0, 3).join(' ')}` : '';
    console.log(`${r.status.toUpperCase().padEnd(11)} ${r.name} (${r.ms.toFixed(0)} ms)${detail}`);
  }
  const passed = results.filter((r) => r.status === 'pass').length;
  console.log(`\n${passed} passed, ${results.length - passed} failed`);
  return passed === results.length ? EXIT.OK : EXIT.FAILED;
}
