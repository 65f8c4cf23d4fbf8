/**
 * `optimizedModelFilePath` and `onyx optimize`: the optimized model Onyx writes is a valid ONNX file
 * that Onyx and onnxruntime-node both load, and it gives the outputs onnxruntime gives on the original.
 * Also checks that passes can be switched off with onnxruntime's session config key.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { InferenceSession, inspectModel, Tensor } from '../src/index.js';
import { assertClose, randomTensor } from './helpers/optimizer-kit.js';

const ROOT = join(import.meta.dirname, '..');
const DIFF = join(ROOT, 'test', 'models', 'diff');
const OUT = mkdtempSync(join(tmpdir(), 'onyx-optimized-'));

const MODELS: [string, Record<string, number[]>][] = [
  [join(ROOT, 'models', 'digits.onnx'), { image: [2, 1, 8, 8] }],
  [join(DIFF, 'conv_bn_relu.onnx'), { x: [2, 3, 10, 10] }],
  [join(DIFF, 'mobilenet_block.onnx'), {}],
  [join(DIFF, 'gelu_mlp.onnx'), {}],
  [join(DIFF, 'residual_block.onnx'), {}],
  [join(DIFF, 'matmul_gemm.onnx'), {}],
  // A decoder layer: its residual Adds and LayerNorms become SkipLayerNormalization at 'all'.
  [join(DIFF, 'decoder_step_kv.onnx'), {}],
];

/** Input dims from the diff manifest when the table above leaves them out. */
function feedsFor(path: string, dims: Record<string, number[]>): Record<string, Tensor> {
  const manifest = JSON.parse(readFileSync(join(DIFF, 'manifest.json'), 'utf8')) as {
    models: { file: string; cases: { name: string; dims: number[] }[][] }[];
  };
  const entry = manifest.models.find((m) => path.endsWith(`/${m.file}`));
  const specs = Object.keys(dims).length
    ? Object.entries(dims)
    : entry!.cases[0].map((c) => [c.name, c.dims] as const);
  return Object.fromEntries(specs.map(([name, d], i) => [name, randomTensor([...d], 11 + i)]));
}

async function ortRun(
  model: string | Uint8Array,
  feeds: Record<string, Tensor>,
): Promise<Record<string, Tensor>> {
  const s = await ort.InferenceSession.create(model as string, { intraOpNumThreads: 1 });
  const inputs = Object.fromEntries(
    Object.entries(feeds).map(([k, t]) => [
      k,
      new ort.Tensor('float32', (t.data as Float32Array).slice(), t.dims),
    ]),
  );
  const r = await s.run(inputs);
  await s.release();
  return Object.fromEntries(
    s.outputNames.map((n) => [n, new Tensor('float32', r[n].data as Float32Array, r[n].dims)]),
  );
}

describe('optimizedModelFilePath', () => {
  for (const [path, dims] of MODELS) {
    for (const level of ['basic', 'all'] as const) {
      const name = path.split('/').pop()!;
      it(`${name} at '${level}': written, smaller or equal, loads in Onyx and onnxruntime with the same outputs`, async () => {
        const file = join(OUT, `${name}.${level}.onnx`);
        const feeds = feedsFor(path, dims);
        const session = await InferenceSession.create(path, {
          graphOptimizationLevel: level,
          optimizedModelFilePath: file,
        });
        assert.ok(existsSync(file), 'the optimized model is written');
        const want = await ortRun(path, feeds);
        assertClose(await session.run(feeds), want, 1e-4);
        const written = await InferenceSession.create(file, { graphOptimizationLevel: 'disabled' });
        assertClose(await written.run(feeds), want, 1e-4);
        assertClose(await ortRun(file, feeds), want, 1e-4);
        assert.ok(
          (await inspectModel(file)).nodeCount <= (await inspectModel(path)).nodeCount,
          '(await inspectModel(file)).nodeCount <= (await inspectModel(path)).nodeCount',
        );
      });
    }
  }
});

describe('optimizedModelFilePath on the benchmark GPT step', () => {
  // Its two self-attentions with their key/value cache become com.microsoft MultiHeadAttention.
  const path = join(ROOT, 'bench', 'models', 'gpt_decoder_step.onnx');
  const file = join(OUT, 'gpt_decoder_step.all.onnx');
  const feeds = (S: number, P: number) => {
    const f: Record<
      string,
      { type: 'int64' | 'float32'; data: BigInt64Array | Float32Array; dims: number[] }
    > = {
      input_ids: {
        type: 'int64',
        data: BigInt64Array.from({ length: S }, (_, i) => BigInt((i * 37 + 5) % 512)),
        dims: [1, S],
      },
    };
    for (const [i, n] of ['past_key_0', 'past_value_0', 'past_key_1', 'past_value_1'].entries()) {
      f[n] = {
        type: 'float32',
        data: randomTensor([1, 4, P, 64], 21 + i).data as Float32Array,
        dims: [1, 4, P, 64],
      };
    }
    return f;
  };
  for (const [S, P] of [
    [1, 127],
    [3, 5],
    [4, 0],
  ]) {
    it(`${S} new tokens after ${P}: Onyx, and onnxruntime on the written model, give onnxruntime's outputs`, async () => {
      const session = await InferenceSession.create(path, { optimizedModelFilePath: file });
      assert.ok(
        (await inspectModel(file)).ops.some((o) => o.opType === 'MultiHeadAttention'),
        "(await inspectModel(file)).ops.some((o) => o.opType === 'MultiHeadAttention')",
      );
      const f = feeds(S, P);
      const onyxFeeds = Object.fromEntries(
        Object.entries(f).map(([k, t]) => [k, new Tensor(t.type, t.data, t.dims)]),
      );
      const ortFeeds = Object.fromEntries(
        Object.entries(f).map(([k, t]) => [k, new ort.Tensor(t.type, t.data, t.dims)]),
      );
      const outputs = async (model: string) => {
        const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
        const r = await s.run(ortFeeds);
        await s.release();
        return Object.fromEntries(
          s.outputNames.map((n) => [n, new Tensor('float32', r[n].data as Float32Array, r[n].dims)]),
        );
      };
      const want = await outputs(path);
      assertClose(await session.run(onyxFeeds), want, 1e-4);
      assertClose(await outputs(file), want, 1e-4);
      await session.release();
    });
  }
});

describe('switching passes off', () => {
  const path = join(ROOT, 'models', 'digits.onnx');
  const ops = async (extra: Record<string, unknown> | undefined) => {
    const file = join(OUT, `digits.disabled-${Object.keys(extra ?? {}).length}-${Math.random()}.onnx`);
    await InferenceSession.create(path, { optimizedModelFilePath: file, extra });
    return (await inspectModel(file)).ops.map((o) => `${o.domain}.${o.opType}`);
  };

  it("honours extra['optimization.disable_specified_optimizers'] (flat or nested; Onyx or onnxruntime names)", async () => {
    assert.ok(
      (await ops(undefined)).includes('com.microsoft.FusedConv'),
      "(await ops(undefined)).includes('com.microsoft.FusedConv')",
    );
    const flat = await ops({
      'optimization.disable_specified_optimizers': 'conv-activation-fusion,GemmActivationFusion',
    });
    assert.ok(!flat.some((o) => o.startsWith('com.microsoft')), flat.join());
    const nested = await ops({ optimization: { disable_specified_optimizers: 'ConvActivationFusion' } });
    assert.ok(
      !nested.includes('com.microsoft.FusedConv') && nested.includes('com.microsoft.FusedGemm'),
      nested.join(),
    );
  });
});

describe('onyx optimize', () => {
  it('writes the model and prints node counts per op and the passes that fired', () => {
    const out = join(OUT, 'cli.onnx');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src', 'cli', 'main.ts'),
        'optimize',
        join(DIFF, 'conv_bn_relu.onnx'),
        '-o',
        out,
        '--level',
        'all',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /nodes\s+8 → 6 \(-2\)/);
    assert.match(r.stdout, /FusedConv\s+com\.microsoft\s+0\s+2\s+\+2/);
    assert.match(r.stdout, /conv-activation-fusion\s+1\s+2/);
    assert.ok(existsSync(out), 'existsSync(out)');
    const usage = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'optimize', out],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    assert.equal(usage.status, 2, 'no -o is a usage error');
  });
});
