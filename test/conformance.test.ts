/**
 * Guards the committed pass list (conformance/passing.json): every case that passed when the report
 * was generated must still pass, at both optimization levels. Needs ../shared/onnx-backend-tests;
 * skipped (and says so) when that folder is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBackendCase } from '../src/cli/backend-case.js';
import { runLightCase } from '../src/cli/light-case.js';
import { toleranceFor } from '../scripts/tolerances.js';

const ROOT = join(import.meta.dirname, '..');
const SUITE = join(ROOT, '..', 'shared', 'onnx-backend-tests');
const passing: string[] = JSON.parse(readFileSync(join(ROOT, 'conformance', 'passing.json'), 'utf8'));
const present = existsSync(SUITE);

describe('conformance pass list does not regress', () => {
  if (!present) {
    it(
      'SKIPPED: ../shared/onnx-backend-tests not found, conformance regression check not run',
      { skip: true },
      () => {},
    );
    return;
  }
  for (const suite of ['node', 'simple', 'light']) {
    const cases = passing.filter((c) => c.startsWith(`${suite}/`));
    for (const level of ['disabled', 'all'] as const) {
      it(`${suite}: ${cases.length} cases at optimization '${level}'`, async () => {
        const failures: string[] = [];
        for (const c of cases) {
          const name = c.slice(suite.length + 1);
          const opts = { graphOptimizationLevel: level, tolerance: toleranceFor(name) };
          const r =
            suite === 'light'
              ? await runLightCase(join(SUITE, suite, `${name}.onnx`), opts)
              : await runBackendCase(join(SUITE, suite, name), opts);
          if (r.status !== 'pass') failures.push(`${c}: ${r.status} ${r.detail.split('\n')[0]}`);
        }
        assert.deepEqual(failures, [], `${failures.length} previously passing case(s) regressed`);
      });
    }
  }
});
