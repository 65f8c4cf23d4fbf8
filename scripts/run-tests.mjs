// Runs every *.test.ts under src/ and test/ with Node's test runner (TypeScript through tsx).
// Node 20's `--test` does not expand glob patterns, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['src', 'test'];
const files = roots
  .flatMap((root) => readdirSync(root, { recursive: true }).map((f) => join(root, String(f))))
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
const extra = process.argv.slice(2);
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...extra, ...files],
  {
    stdio: 'inherit',
    // Storage that kernels promise to overwrite whole is filled with NaN bytes, not left as it was
    // (src/core/buffer-pool.ts): a kernel that breaks the promise fails its tests.
    env: { ...process.env, ONYX_POISON_UNINITIALIZED: '1' },
  },
);
process.exit(r.status ?? 1);
