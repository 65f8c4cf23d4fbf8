/**
 * `onyx classify`: parity with torchvision + torch on committed photos, batching/progress/CSV on a
 * folder of 50 images, the light ResNet-50 end to end, label files, and the errors a user can cause.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { encode as encodePng } from 'fast-png';
import { decodeImage, Tensor } from '../src/index.js';
import { classify, type ClassifyOptions } from '../src/cli/commands/classify.js';
import { EXIT, exitCodeFor } from '../src/cli/exit-codes.js';
import { parseLabels } from '../src/cli/labels.js';
import { makePreprocess, preprocessInto } from '../src/cli/preprocess.js';
import { buildModel } from './helpers/build-model.js';

const ROOT = join(import.meta.dirname, '..');
const FIXTURE = join(ROOT, 'test', 'models', 'classify');
const PARITY_MODEL = join(FIXTURE, 'tiny_imagenet_cnn.onnx');
const LIGHT_RESNET50 = join(ROOT, '..', 'shared', 'onnx-backend-tests', 'light', 'light_resnet50.onnx');

interface Golden {
  images: {
    file: string;
    inputMean: number;
    inputSha256: string;
    top5: number[];
    top5Probabilities: number[];
    probabilities: number[];
  }[];
}
const golden = JSON.parse(readFileSync(join(FIXTURE, 'golden.json'), 'utf8')) as Golden;

interface JsonReport {
  input: { name: string; shape: (number | string)[] };
  softmaxApplied: boolean;
  timing: { loadMs: number; inferenceMsPerImage: number; batch: number };
  results: { file: string; top: { rank: number; class: number; label: string; probability: number }[] }[];
}

/** Runs the command in-process, capturing stdout/stderr lines and mapping errors to exit codes as main.ts does. */
async function onyxClassify(
  args: string[],
  opts: ClassifyOptions,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  const error = mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await classify(args, opts);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    err.push((e as Error).message);
    return { code: exitCodeFor(e), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'onyx-classify-'));
}

describe('onyx classify', () => {
  it('imagenet preprocessing gives the very tensor torchvision does (Resize 256, CenterCrop 224, Normalize)', () => {
    const pre = makePreprocess('imagenet', [224, 224]);
    for (const g of golden.images) {
      const x = new Float32Array(3 * 224 * 224);
      preprocessInto(decodeImage(readFileSync(join(FIXTURE, g.file)), g.file), pre, x, 0);
      const sha = createHash('sha256').update(new Uint8Array(x.buffer)).digest('hex');
      let sum = 0;
      for (const v of x) sum += v;
      assert.equal(
        sha,
        g.inputSha256,
        `${g.file}: tensor differs (mean ${sum / x.length} vs ${g.inputMean})`,
      );
    }
  });

  it('matches torchvision + torch: identical top-5, every probability within 1e-4', async (t) => {
    const r = await onyxClassify([FIXTURE], { model: PARITY_MODEL, json: true, top: '1000' });
    assert.equal(r.code, EXIT.OK, r.err);
    const report = JSON.parse(r.out) as JsonReport;
    assert.equal(report.softmaxApplied, true);
    assert.equal(report.results.length, golden.images.length);
    for (const g of golden.images) {
      const res = report.results.find((x) => basename(x.file) === g.file);
      assert.ok(res, `no result for ${g.file}`);
      assert.deepEqual(
        res.top.slice(0, 5).map((c) => c.class),
        g.top5,
        `${g.file}: top-5 differs`,
      );
      let maxDiff = 0;
      for (const c of res.top)
        maxDiff = Math.max(maxDiff, Math.abs(c.probability - g.probabilities[c.class]));
      assert.ok(maxDiff < 1e-4, `${g.file}: probabilities differ by up to ${maxDiff}`);
      t.diagnostic(
        `${g.file}: top-5 ${g.top5.join(',')} identical; max |Δp| over 1000 classes ${maxDiff.toExponential(2)}`,
      );
    }
  });

  it('classifies a folder of 50 images in batches, with progress on stderr and CSV on stdout', () => {
    const dir = tempDir();
    const colors = [
      [230, 20, 30],
      [25, 210, 40],
      [20, 30, 220],
    ];
    for (let i = 0; i < 50; i++) {
      const [r, g, b] = colors[i % 3];
      const w = 40 + (i % 7);
      const h = 36 + (i % 5);
      const data = new Uint8Array(w * h * 3);
      for (let p = 0; p < w * h; p++)
        data.set(
          [r, g, b].map((v) => (v + ((p * 7 + i) % 23)) & 255),
          p * 3,
        );
      writeFileSync(
        join(dir, `img-${String(i).padStart(2, '0')}.png`),
        encodePng({ width: w, height: h, data, channels: 3, depth: 8 }),
      );
    }
    // Mean colour per channel → 3 logits: a model that sees only colour, fast enough for 50 images.
    const model = join(dir, 'color.onnx');
    writeFileSync(
      model,
      buildModel({
        nodes: [
          { op: 'GlobalAveragePool', inputs: ['image'], outputs: ['pooled'] },
          { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
          { op: 'Gemm', inputs: ['flat', 'w'], outputs: ['scores'] },
        ],
        inputs: [{ name: 'image', type: 'float32', dims: ['batch', 3, 32, 32] }],
        outputs: [{ name: 'scores', type: 'float32', dims: ['batch', 3] }],
        initializers: [
          { name: 'w', tensor: new Tensor('float32', new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), [3, 3]) },
        ],
      }),
    );
    const labels = join(dir, 'colors.txt');
    writeFileSync(labels, 'red\r\ngreen\r\nblue\r\n');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src', 'cli', 'main.ts'),
        'classify',
        dir,
        '--model',
        model,
        '--labels',
        labels,
        '--batch',
        '16',
        '--top',
        '2',
        '--csv',
        '--progress',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, EXIT.OK, r.stderr);
    const rows = r.stdout.trim().split('\n');
    assert.equal(rows[0], 'file,rank,class,label,probability');
    assert.equal(rows.length, 1 + 50 * 2);
    const firsts = rows.slice(1).filter((row) => row.split(',')[1] === '1');
    assert.equal(firsts.length, 50);
    firsts.forEach((row, i) => {
      const [file, , cls, label, p] = row.split(',');
      assert.equal(basename(file), `img-${String(i).padStart(2, '0')}.png`);
      assert.equal(Number(cls), i % 3, row);
      assert.equal(label, ['red', 'green', 'blue'][i % 3]);
      assert.ok(Number(p) > 0.5 && Number(p) <= 1, row);
    });
    // stderr is a pipe here, so --progress prints a plain line per tenth of the work; 4 runs of ≤16.
    const progress = r.stderr.trim().split('\n');
    assert.match(progress.at(-1) ?? '', /^\[#+\] 50\/50 images \(/);
    assert.ok(progress.length >= 3 && progress.length <= 11, r.stderr);
  });

  it('runs the light ResNet-50 end to end (model outputs probabilities: no second softmax)', async (t) => {
    if (!existsSync(LIGHT_RESNET50)) {
      t.skip(`needs ../shared/onnx-backend-tests/light/light_resnet50.onnx, which is absent`);
      return;
    }
    const r = await onyxClassify([join(FIXTURE, 'china.png')], { model: LIGHT_RESNET50, json: true });
    assert.equal(r.code, EXIT.OK, r.err);
    const report = JSON.parse(r.out) as JsonReport;
    assert.deepEqual(report.input.shape, [1, 3, 224, 224]);
    assert.equal(report.softmaxApplied, false);
    assert.equal(report.timing.batch, 1);
    assert.ok(report.timing.inferenceMsPerImage > 0, 'report.timing.inferenceMsPerImage > 0');
    assert.equal(report.results[0].top.length, 5);
    assert.equal(report.results[0].top[0].label, 'tench'); // constant weights: uniform output, lowest index first
    t.diagnostic(`light_resnet50: ${report.timing.inferenceMsPerImage.toFixed(0)} ms/image`);
  });

  it('prints labels, probabilities and timing for people', async () => {
    const r = await onyxClassify([join(FIXTURE, 'astronaut.png')], { model: PARITY_MODEL, top: '3' });
    assert.equal(r.code, EXIT.OK, r.err);
    assert.match(r.out, /imagenet: resize shorter side to 256, center-crop 224×224/);
    assert.match(r.out, /^ {3}1\. 0\.1591 {2}fiddler crab \(120\)$/m);
    assert.match(
      r.out,
      /1 image in 1 run \(batch size 8\): decode\+preprocess [\d.]+ ms\/image, inference [\d.]+ ms\/image/,
    );
  });

  it('reads labels as a JSON array, a JSON object index→name, or one per line', () => {
    assert.deepEqual(parseLabels('["a", "b"]', 'x'), ['a', 'b']);
    assert.deepEqual(parseLabels('{"1": "b", "0": "a"}', 'x'), ['a', 'b']);
    assert.deepEqual(parseLabels('{"0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"]}', 'x'), [
      'tench',
      'goldfish',
    ]);
    assert.deepEqual(parseLabels('a\r\nb c\n', 'x'), ['a', 'b c']);
    assert.throws(() => parseLabels('{"0": "a", "2": "c"}', 'x'), /key '2' is not a class index 0\.\.1/);
    const imagenet = JSON.parse(readFileSync(join(ROOT, 'data', 'imagenet-labels.json'), 'utf8')) as string[];
    assert.equal(imagenet.length, 1000);
    assert.equal(imagenet[254], 'pug');
  });

  describe('errors', () => {
    const dir = tempDir();
    const photo = join(FIXTURE, 'china.png');

    it('a corrupt image', async () => {
      const bad = join(dir, 'broken.png');
      const png = readFileSync(photo);
      writeFileSync(bad, png.subarray(0, 200)); // a valid header, then the file ends
      const r = await onyxClassify([bad], { model: PARITY_MODEL });
      assert.equal(r.code, EXIT.RUNTIME);
      assert.match(r.err, /broken\.png could not be decoded as PNG/);
    });

    it('an unsupported format', async () => {
      const gif = join(dir, 'anim.gif');
      writeFileSync(gif, Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
      let r = await onyxClassify([gif], { model: PARITY_MODEL });
      assert.equal(r.code, EXIT.RUNTIME);
      assert.match(r.err, /anim\.gif is GIF, which is not supported/);
      const txt = join(dir, 'notes.txt');
      writeFileSync(txt, 'not a picture');
      r = await onyxClassify([txt], { model: PARITY_MODEL });
      assert.equal(r.code, EXIT.RUNTIME);
      assert.match(r.err, /notes\.txt is not an image Onyx can read/);
    });

    it('a model whose input is not an image', async () => {
      // The digits model takes [batch, 1, 8, 8]: no RGB axis.
      let r = await onyxClassify([photo], { model: join(ROOT, 'models', 'digits.onnx') });
      assert.equal(r.code, EXIT.USAGE);
      assert.match(r.err, /input 'image' is float32\[batch,1,8,8\], which has no 3-channel \(RGB\) axis/);
      const vec = join(dir, 'vector.onnx');
      writeFileSync(
        vec,
        buildModel({
          nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
          inputs: [{ name: 'x', type: 'float32', dims: [1, 10] }],
          outputs: [{ name: 'y', type: 'float32', dims: [1, 10] }],
        }),
      );
      r = await onyxClassify([photo], { model: vec });
      assert.equal(r.code, EXIT.USAGE);
      assert.match(
        r.err,
        /input 'x' is float32\[1,10\], not an image: classify needs a float32 image tensor/,
      );
      const ints = join(dir, 'ints.onnx');
      writeFileSync(
        ints,
        buildModel({
          nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['y'] }],
          inputs: [{ name: 'x', type: 'int64', dims: [1, 3, 224, 224] }],
          outputs: [{ name: 'y', type: 'int64', dims: [1, 3, 224, 224] }],
        }),
      );
      r = await onyxClassify([photo], { model: ints });
      assert.equal(r.code, EXIT.USAGE);
      assert.match(r.err, /input 'x' is int64\[1,3,224,224\], not an image/);
    });

    it('a labels file whose length does not match the model', async () => {
      const labels = join(dir, 'ten.txt');
      writeFileSync(labels, Array.from({ length: 10 }, (_, i) => `label ${i}`).join('\n'));
      const r = await onyxClassify([photo], { model: PARITY_MODEL, labels });
      assert.equal(r.code, EXIT.USAGE);
      assert.match(r.err, /ten\.txt has 10 labels but the model outputs 1000 classes/);
    });

    it('usage mistakes', async () => {
      assert.match((await onyxClassify([photo], {})).err, /--model M\.onnx is required/);
      assert.equal((await onyxClassify([photo], {})).code, EXIT.USAGE);
      assert.equal(
        (await onyxClassify([join(dir, 'missing.png')], { model: PARITY_MODEL })).code,
        EXIT.USAGE,
      );
      assert.equal(
        (await onyxClassify([photo], { model: PARITY_MODEL, preprocess: 'fancy' })).code,
        EXIT.USAGE,
      );
      assert.equal((await onyxClassify([photo], { model: PARITY_MODEL, mean: '1,2' })).code, EXIT.USAGE);
      assert.match(
        (await onyxClassify([photo], { model: PARITY_MODEL, size: '300' })).err,
        /fixed at 224x224/,
      );
    });
  });

  it('the examples run: the founding program and the Node basics', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, encoding: 'utf8' });
    const seed = run(join(ROOT, 'examples', 'classify-seed.ts'), PARITY_MODEL, join(FIXTURE, 'china.png'));
    assert.equal(seed.status, 0, seed.stderr);
    assert.match(seed.stdout, /china\.png: .+ \(class \d+, p=0\.\d{4}\)/);
    const basics = run(join(ROOT, 'examples', 'node-basics.ts'));
    assert.equal(basics.status, 0, basics.stderr);
    assert.match(basics.stdout, /logits: float32\[2, 10\] \(Float32Array\)/);
    assert.match(basics.stdout, /same result from bytes: true/);
    assert.match(basics.stdout, /TYPE_MISMATCH: input 'image' expects element type 'float32'/);
  });

  it('seed and custom presets: plain resize, NHWC and BGR lay out the same pixels', () => {
    const img = decodeImage(readFileSync(join(FIXTURE, 'china.png')));
    const seed = makePreprocess('seed', [224, 224]);
    assert.equal(seed.crop, null);
    const nchw = new Float32Array(3 * 224 * 224);
    preprocessInto(img, seed, nchw, 0);
    assert.ok(
      nchw.every((v) => v >= 0 && v <= 1),
      'nchw.every((v) => v >= 0 && v <= 1)',
    );
    const nhwc = new Float32Array(3 * 224 * 224);
    preprocessInto(
      img,
      makePreprocess('custom', [224, 224], { layout: 'NHWC', channelOrder: 'BGR', scale: 1 }),
      nhwc,
      0,
    );
    const plane = 224 * 224;
    for (const i of [0, 1234, plane - 1]) {
      for (let c = 0; c < 3; c++) assert.equal(nhwc[i * 3 + (2 - c)], Math.round(nchw[c * plane + i] * 255));
    }
  });
});
