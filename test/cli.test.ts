/**
 * The `onyx` command end to end (the built dist/, as users run it): run, inspect, test, exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Tensor, writeTensorProto } from '../src/index.js';
import { buildModel } from './helpers/build-model.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const DIGITS = join(ROOT, 'models', 'digits.onnx');
const LIGHT = join(ROOT, '..', 'shared', 'onnx-backend-tests', 'light');

function onyx(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A backend-test-style case folder made on the spot: y = relu(x). */
function reluCase(expected: number[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'onyx-case-'));
  writeFileSync(
    join(dir, 'model.onnx'),
    buildModel({
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: 'float32', dims: [3] }],
      outputs: [{ name: 'y', type: 'float32', dims: [3] }],
    }),
  );
  mkdirSync(join(dir, 'test_data_set_0'));
  writeFileSync(
    join(dir, 'test_data_set_0', 'input_0.pb'),
    writeTensorProto(new Tensor('float32', new Float32Array([-1, 0, 2]), [3])),
  );
  writeFileSync(
    join(dir, 'test_data_set_0', 'output_0.pb'),
    writeTensorProto(new Tensor('float32', new Float32Array(expected), [3])),
  );
  return dir;
}

describe('onyx CLI', () => {
  it('prints help and exits 2 on unknown commands or bad flags', () => {
    assert.equal(onyx('--help').code, 0);
    assert.match(onyx('run', '--help').out, /--input NAME=FILE/);
    assert.equal(onyx('frobnicate').code, 2);
    assert.equal(onyx('run', DIGITS, '--no-such-flag').code, 2);
    assert.equal(onyx('run').code, 2);
  });

  it('bench times engines in turn in their own processes and reports each', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'onyx-bench-')), 'results.md');
    const r = onyx(
      'bench',
      DIGITS,
      '--engines',
      'onyx,ort-node',
      '--threads',
      '1',
      '--runs',
      '3',
      '--min-ms',
      '80',
      '--warmup-ms',
      '0',
      '--write',
      out,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /onyx threads=1 loading … loaded in \d+ ms/);
    assert.match(r.err, /onyx threads=1 median [\d.]+ ms, ort-node threads=1 median [\d.]+ ms/);
    // One row: Onyx and ort-node medians, their ratio, load times, the outputs' agreement.
    const row = r.out.split('\n').find((l) => l.startsWith('| digits |'));
    assert.ok(row, r.out);
    const cells = row.split('|').map((c) => c.trim());
    assert.ok(Number(cells[2]) > 0 && Number(cells[4]) > 0, row);
    assert.ok(Number(cells.at(-2)) < 1e-5, `outputs agree: ${row}`);
    assert.match(readFileSync(out, 'utf8'), /take turns timing slices of runs/);
  });

  it('inspect describes a model and confirms support', () => {
    const r = onyx('inspect', DIGITS);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /IR version 8/);
    assert.match(r.out, /image\s+tensor\(float32\)\[batch,1,8,8\]/);
    assert.match(r.out, /Conv\s+ai\.onnx\s+2/);
    assert.match(r.out, /parameters 38,282/);
    assert.match(r.out, /supported: yes/);
  });

  it('run executes on random inputs and on a .json input file', () => {
    const r = onyx('run', DIGITS, '--random', '--dim', 'batch=2');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /logits: float32 \[2, 10\]/);
    assert.match(r.out, /load .* ms, run .* ms/);
    const dir = mkdtempSync(join(tmpdir(), 'onyx-in-'));
    writeFileSync(join(dir, 'x.json'), JSON.stringify({ dims: [1, 1, 8, 8], data: new Array(64).fill(0.5) }));
    const r2 = onyx('run', DIGITS, '--input', `image=${join(dir, 'x.json')}`);
    assert.equal(r2.code, 0, r2.err);
    assert.match(r2.out, /logits: float32 \[1, 10\]/);
  });

  it('run names a missing input and a missing model with distinct exit codes', () => {
    const r = onyx('run', DIGITS);
    assert.equal(r.code, 2);
    assert.match(r.err, /no value for input 'image'/);
    const missing = onyx('run', '/nonexistent.onnx', '--random');
    assert.equal(missing.code, 3);
    assert.match(missing.err, /FILE_NOT_FOUND/);
  });

  it('test reports pass and fail per case, with the exit code scripts need', () => {
    const good = onyx('test', reluCase([0, 0, 2]));
    assert.equal(good.code, 0, good.out + good.err);
    assert.match(good.out, /PASS/);
    assert.match(good.out, /1 passed, 0 failed/);
    const bad = onyx('test', reluCase([0, 0, 3]));
    assert.equal(bad.code, 1);
    assert.match(bad.out, /FAIL.*element 2 is 2, expected 3/);
  });

  it(
    'inspect works on every light/ model, run on the smallest',
    { skip: !existsSync(LIGHT) && 'SKIPPED: ../shared/onnx-backend-tests not found' },
    () => {
      for (const name of [
        'bvlc_alexnet',
        'densenet121',
        'inception_v1',
        'inception_v2',
        'resnet50',
        'shufflenet',
        'squeezenet',
        'vgg19',
        'zfnet512',
      ]) {
        const r = onyx('inspect', join(LIGHT, `light_${name}.onnx`));
        assert.equal(r.code, 0, `${name}: ${r.out.split('supported:')[1] ?? r.err}`);
      }
      const r = onyx('run', join(LIGHT, 'light_squeezenet.onnx'), '--random');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /float32 \[1, 1000, 1, 1\]/);
    },
  );
});
