/**
 * An onnxruntime-node sample program (create, inspect metadata, run, read outputs) runs unchanged on
 * Onyx except for its import line, and prints exactly what it prints on onnxruntime-node.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { it } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const SAMPLE = join(ROOT, 'examples', 'ort-node-sample.mjs');
const MODEL = join(ROOT, 'models', 'digits.onnx');

it('the onnxruntime-node sample prints the same on Onyx with only the import changed', () => {
  const original = readFileSync(SAMPLE, 'utf8');
  const importLine = "import * as ort from 'onnxruntime-node';";
  assert.ok(original.includes(importLine), 'original.includes(importLine)');
  const onyxImport = `import * as ort from '${pathToFileURL(join(ROOT, 'dist', 'index.js')).href}';`;
  const dir = mkdtempSync(join(tmpdir(), 'onyx-sample-'));
  const ported = join(dir, 'sample-onyx.mjs');
  writeFileSync(ported, original.replace(importLine, onyxImport));
  assert.equal(
    original
      .replace(importLine, onyxImport)
      .split('\n')
      .filter((l, i) => l !== original.split('\n')[i]).length,
    1,
  );

  const run = (file: string) =>
    execFileSync(process.execPath, [file, MODEL], { cwd: ROOT, encoding: 'utf8' });
  const withOrt = run(SAMPLE);
  const withOnyx = run(ported);
  assert.match(withOrt, /output type=float32 dims=\[3, 10\]/);
  assert.equal(withOnyx, withOrt);
});
