/**
 * The conformance runner: every case of ../shared/onnx-backend-tests/{node,simple,light} through the
 * public API, at each requested graph optimization level. Writes conformance/report.md (summary and
 * one row per case) and conformance/passing.json (the pass list that `npm test` guards).
 *
 *   npm run conformance                      # full run, writes the report
 *   npm run conformance -- --filter relu     # only cases whose name contains 'relu', no files written
 *   npm run conformance -- --levels all      # one level only
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBackendCase, type CaseResult } from '../src/cli/backend-case.js';
import { runLightCase } from '../src/cli/light-case.js';
import { distributionReason } from './distribution-cases.js';
import { toleranceFor } from './tolerances.js';

const SUITE = join(import.meta.dirname, '..', '..', 'shared', 'onnx-backend-tests');
const args = process.argv.slice(2);
const arg = (flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const filter = arg('--filter');
const levels = (arg('--levels') ?? 'disabled,all').split(',') as ('disabled' | 'all')[];
const verbose = args.includes('--verbose');

interface Row {
  suite: string;
  name: string;
  byLevel: Map<string, CaseResult>;
}

async function main(): Promise<void> {
  if (!existsSync(SUITE)) {
    console.log(`conformance: ${SUITE} not found; nothing to run`);
    return;
  }
  const started = performance.now();
  const rows: Row[] = [];
  for (const suite of ['node', 'simple', 'light']) {
    const dir = join(SUITE, suite);
    const entries =
      suite === 'light'
        ? readdirSync(dir).filter((f) => f.endsWith('.onnx'))
        : readdirSync(dir).filter((f) => f.startsWith('test_'));
    for (const entry of entries.sort()) {
      const name = entry.replace(/\.onnx$/, '');
      if (filter && !name.includes(filter)) continue;
      const row: Row = { suite, name, byLevel: new Map() };
      for (const level of levels) {
        const opts = { graphOptimizationLevel: level, tolerance: toleranceFor(name) };
        const r =
          suite === 'light'
            ? await runLightCase(join(dir, entry), opts)
            : await runBackendCase(join(dir, entry), opts);
        row.byLevel.set(level, r);
      }
      rows.push(row);
      const statuses = [...row.byLevel.values()];
      if (verbose || (filter && statuses.some((s) => s.status !== 'pass'))) {
        for (const [level, r] of row.byLevel) {
          console.log(`${r.status.padEnd(11)} ${suite}/${name} [${level}] ${r.detail.split('\n')[0]}`);
        }
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const passed = rows.filter((r) => [...r.byLevel.values()].every((c) => c.status === 'pass'));
  const summary = summarize(rows);
  console.log(summary.text);
  console.log(
    `conformance: ${passed.length}/${rows.length} cases pass at every level (${levels.join(', ')}) in ${seconds.toFixed(1)} s`,
  );
  if (!filter) {
    const outDir = join(import.meta.dirname, '..', 'conformance');
    writeFileSync(
      join(outDir, 'passing.json'),
      JSON.stringify(passed.map((r) => `${r.suite}/${r.name}`).sort(), null, 1) + '\n',
    );
    writeFileSync(join(outDir, 'report.md'), report(rows, summary.table, seconds, levels));
  }
}

/** A row's status: the first non-pass across levels; unmatchable random cases are "distribution". */
function statusOf(row: Row): { status: string; detail: string } {
  const list = [...row.byLevel.values()];
  const worst = list.find((c) => c.status !== 'pass') ?? list[0];
  const why = worst.status === 'fail' ? distributionReason(row.name) : undefined;
  return why ? { status: 'distribution', detail: `checked by distribution: ${why}` } : worst;
}

function summarize(rows: Row[]): { text: string; table: string } {
  const lines: string[] = [
    '| suite | cases | pass | checked by distribution | fail | error | unsupported | pass rate |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const text: string[] = [];
  for (const suite of ['node', 'simple', 'light']) {
    const mine = rows.filter((r) => r.suite === suite);
    if (mine.length === 0) continue;
    const count = (s: string) => mine.filter((r) => statusOf(r).status === s).length;
    const rate = ((100 * count('pass')) / mine.length).toFixed(1);
    lines.push(
      `| ${suite} | ${mine.length} | ${count('pass')} | ${count('distribution')} | ${count('fail')} | ${count('error')} | ${count('unsupported')} | ${rate}% |`,
    );
    text.push(
      `${suite}: ${count('pass')}/${mine.length} pass (${rate}%), ${count('distribution')} checked by distribution, ${count('fail')} fail, ${count('error')} error, ${count('unsupported')} unsupported`,
    );
  }
  return { text: text.join('\n'), table: lines.join('\n') };
}

function report(rows: Row[], table: string, seconds: number, levels: string[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n\s*/g, ' ').slice(0, 300);
  const out = [
    '# Conformance report',
    '',
    'Generated by `npm run conformance` (scripts/conformance.ts) over ONNX 1.23.0 backend test data',
    `(../shared/onnx-backend-tests). A case passes only when it passes at every optimization level: ${levels.join(', ')}.`,
    `Tolerances: rtol 1e-3, atol 1e-7 unless scripts/tolerances.ts lists the case. Whole run: ${seconds.toFixed(1)} s.`,
    '',
    table,
    '',
    '| suite | case | status | detail |',
    '|---|---|---|---|',
  ];
  for (const r of rows) {
    const s = statusOf(r);
    out.push(`| ${r.suite} | ${r.name} | ${s.status} | ${esc(s.detail)} |`);
  }
  return out.join('\n') + '\n';
}

await main();
