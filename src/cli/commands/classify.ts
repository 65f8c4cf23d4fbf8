/**
 * `onyx classify IMAGE… --model M.onnx`: the founding application. Decodes photos, preprocesses them as
 * the model was trained (torchvision's ImageNet transform by default, Pillow-exact), runs them in
 * batches, turns logits into probabilities, and prints the top-K labels, or CSV/JSON for scripts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeImageAsync, InferenceSession, Tensor, type ValueMetadata } from '../../index.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { checkLabelCount, IMAGENET_LABELS, readLabels } from '../labels.js';
import {
  describePreprocess,
  makePreprocess,
  PRESET_NAMES,
  preprocessInto,
  type ChannelOrder,
  type Layout,
  type PresetName,
  type PreprocessOverrides,
} from '../preprocess.js';
import { Progress } from '../progress.js';

export const help = `onyx classify IMAGE|FOLDER... --model M.onnx [options]

Classifies JPEG, PNG, WebP and BMP images with an image classifier (an ImageNet-style model: one float32
input [batch, 3, height, width] or [batch, height, width, 3], one output of class scores) and prints the
top-K labels with their probabilities, and the timing. A folder means every image file directly in it.

  --model M.onnx        the classifier (required), e.g. the ONNX model zoo's resnet50-v1-7.onnx
  --labels FILE         class names: a JSON array, a JSON object index→name, or one label per line
                        (default: the 1000 ImageNet-1k names in data/imagenet-labels.json)
  --top K               how many classes to show per image (default 5)
  --preprocess P        imagenet (default): shorter side to 256, center-crop 224, ImageNet mean/std —
                          torchvision's evaluation transform, what model-zoo ResNets expect
                        seed: resize to 224×224, /255, no normalization (the founding document's recipe)
                        custom: like seed, to be shaped with the flags below
  --size N | HxW        model input size (default: read from the model when fixed, else 224)
  --scale X             multiply 0..255 pixel values by X before normalizing (default 1/255)
  --mean R,G,B          per-channel mean subtracted after scaling (one number for all channels)
  --std R,G,B           per-channel standard deviation divided by after that
  --layout NCHW|NHWC    tensor layout (default: read from the model's input shape)
  --channel-order RGB|BGR   channel order the model expects (default RGB)
  --batch N             images per run when the model's batch dimension is free (default 8)
  --json | --csv        machine-readable results on stdout (CSV: file,rank,class,label,probability)
  --progress            show the progress bar even when stderr is not a terminal

Softmax is applied when the outputs are logits, not when each row already sums to 1.
Exit codes: 0 ok, 2 usage error (bad flag, a model that is not an image classifier, labels that do not
match it), 3 model cannot be loaded, 4 an image cannot be decoded or the run failed.`;

export interface ClassifyOptions {
  model?: string;
  labels?: string;
  top?: string;
  preprocess?: string;
  size?: string;
  scale?: string;
  mean?: string;
  std?: string;
  layout?: string;
  'channel-order'?: string;
  batch?: string;
  json?: boolean;
  csv?: boolean;
  progress?: boolean;
}

/** Extensions picked up from a folder; files named explicitly are read whatever their name. */
const IMAGE_FILE = /\.(jpe?g|png|webp|bmp|tiff?|p[bgpn]m)$/i;
const DEFAULT_SIZE = 224;
const DEFAULT_BATCH = 8;

interface ImageInput {
  name: string;
  shape: readonly (number | string)[];
  layout: Layout;
  /** [height, width] when the model fixes them. */
  size: [number, number] | null;
  /** The batch dimension when the model fixes it. */
  batch: number | null;
}

interface Prediction {
  file: string;
  top: { rank: number; class: number; label: string; probability: number }[];
}

export async function classify(args: string[], opts: ClassifyOptions): Promise<number> {
  if (!opts.model) {
    throw new UsageError(
      '--model M.onnx is required: classify runs an image classifier you provide ' +
        '(for example the ONNX model zoo resnet50-v1-7.onnx); see `onyx classify --help`',
    );
  }
  if (opts.json && opts.csv) throw new UsageError('choose one of --json and --csv');
  const top = positiveInt(opts.top ?? '5', '--top');
  const preset = (opts.preprocess ?? 'imagenet') as PresetName;
  if (!PRESET_NAMES.includes(preset)) {
    throw new UsageError(`--preprocess must be one of ${PRESET_NAMES.join(', ')}, not '${opts.preprocess}'`);
  }
  const overrides = parseOverrides(opts);
  const files = collectImages(args);
  const labelsSource = opts.labels ?? IMAGENET_LABELS;
  const labels = readLabels(labelsSource);

  const t0 = performance.now();
  const session = await InferenceSession.create(opts.model);
  const loadMs = performance.now() - t0;
  try {
    const input = imageInput(session.inputMetadata, opts.model, overrides.layout);
    if (
      overrides.size &&
      input.size &&
      (overrides.size[0] !== input.size[0] || overrides.size[1] !== input.size[1])
    ) {
      throw new UsageError(
        `--size ${overrides.size[0]}x${overrides.size[1]} does not fit the model, whose input '${input.name}' is fixed at ${input.size[0]}x${input.size[1]}`,
      );
    }
    const pre = makePreprocess(preset, input.size ?? overrides.size ?? [DEFAULT_SIZE, DEFAULT_SIZE], {
      ...overrides,
      layout: input.layout,
    });
    const batch = input.batch ?? (opts.batch ? positiveInt(opts.batch, '--batch') : DEFAULT_BATCH);
    if (input.batch && opts.batch && positiveInt(opts.batch, '--batch') !== input.batch) {
      console.error(
        `note: the model fixes its batch size at ${input.batch}; --batch ${opts.batch} is not used`,
      );
    }
    const outputName = session.outputNames[0];
    const classes = fixedClassCount(session.outputMetadata[0]);
    const labelsFor = labelChooser(labels, labelsSource, opts.labels !== undefined);
    if (classes !== null) labelsFor(classes);

    if (!opts.json && !opts.csv) {
      console.log(`model   ${opts.model} (loaded in ${loadMs.toFixed(1)} ms)`);
      console.log(`input   ${input.name} float32[${input.shape.join(',')}]`);
      console.log(`        ${describePreprocess(pre)}`);
    }

    const progress = new Progress(files.length, { force: opts.progress, unit: 'images' });
    progress.advance(0);
    const predictions: Prediction[] = [];
    let prepMs = 0;
    let runMs = 0;
    let runs = 0;
    let softmaxApplied = false;
    const [h, w] = pre.crop ?? (pre.resize as [number, number]);
    const per = 3 * h * w;
    for (let start = 0; start < files.length; start += batch) {
      const chunk = files.slice(start, start + batch);
      // A model with a fixed batch size gets full batches (unused slots stay zero and are ignored).
      const b = input.batch ?? chunk.length;
      const tp = performance.now();
      const data = new Float32Array(b * per);
      // The async decoder loads the WASM codecs (libjpeg-turbo, libwebp, OpenJPEG) on first use, so
      // JPEG pixels match PIL's exactly and WebP/JPEG 2000 work.
      for (let i = 0; i < chunk.length; i++) {
        preprocessInto(await decodeImageAsync(readFileSync(chunk[i]), chunk[i]), pre, data, i * per);
      }
      const dims = pre.layout === 'NCHW' ? [b, 3, h, w] : [b, h, w, 3];
      const tr = performance.now();
      prepMs += tr - tp;
      const out = (await session.run({ [input.name]: new Tensor('float32', data, dims) }))[outputName];
      runMs += performance.now() - tr;
      runs++;
      const numeric = out instanceof Tensor && (out.type === 'float32' || out.type === 'float64');
      if (!numeric || out.dims[0] !== b || out.size % b !== 0) {
        throw new UsageError(
          `output '${outputName}' is ${describeOutput(out)}, not one row of float class scores per image`,
        );
      }
      const n = out.size / b;
      const names = labelsFor(n);
      const scores = out.data as ArrayLike<number>;
      chunk.forEach((file, i) => {
        const { probs, applied } = toProbabilities(scores, i * n, n);
        softmaxApplied ||= applied;
        predictions.push({ file, top: topK(probs, top, names) });
      });
      progress.advance(chunk.length);
    }
    progress.finish();

    const timing = {
      loadMs,
      preprocessMsPerImage: prepMs / files.length,
      inferenceMsPerImage: runMs / files.length,
      inferenceMsPerBatch: runMs / runs,
      batch,
    };
    if (opts.json) {
      console.log(
        JSON.stringify(
          {
            model: opts.model,
            input: { name: input.name, shape: input.shape },
            preprocess: pre,
            softmaxApplied,
            timing,
            results: predictions,
          },
          null,
          2,
        ),
      );
    } else if (opts.csv) {
      printCsv(predictions);
    } else {
      printHuman(predictions, softmaxApplied, timing, files.length, runs);
    }
    return EXIT.OK;
  } finally {
    await session.release();
  }
}

function printHuman(
  predictions: Prediction[],
  softmaxApplied: boolean,
  t: {
    preprocessMsPerImage: number;
    inferenceMsPerImage: number;
    inferenceMsPerBatch: number;
    batch: number;
  },
  images: number,
  runs: number,
): void {
  console.log(`output  ${softmaxApplied ? 'logits → softmax' : 'probabilities (rows already sum to 1)'}\n`);
  for (const p of predictions) {
    console.log(p.file);
    for (const c of p.top) {
      console.log(`  ${String(c.rank).padStart(2)}. ${c.probability.toFixed(4)}  ${c.label} (${c.class})`);
    }
  }
  console.log(
    `\n${images} image${images === 1 ? '' : 's'} in ${runs} run${runs === 1 ? '' : 's'} (batch size ${t.batch}): ` +
      `decode+preprocess ${t.preprocessMsPerImage.toFixed(1)} ms/image, inference ${t.inferenceMsPerImage.toFixed(1)} ms/image ` +
      `(${t.inferenceMsPerBatch.toFixed(1)} ms/run)`,
  );
}

function printCsv(predictions: Prediction[]): void {
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['file,rank,class,label,probability'];
  for (const p of predictions) {
    for (const c of p.top) {
      lines.push([quote(p.file), c.rank, c.class, quote(c.label), c.probability.toPrecision(6)].join(','));
    }
  }
  console.log(lines.join('\n'));
}

/** Files as given; folders expanded to the image files directly inside them, sorted by name. */
export function collectImages(args: string[]): string[] {
  if (!args.length) throw new UsageError('no images given: onyx classify IMAGE|FOLDER... --model M.onnx');
  const files: string[] = [];
  for (const arg of args) {
    let isDir: boolean;
    try {
      isDir = statSync(arg).isDirectory();
    } catch {
      throw new UsageError(`no such image or folder: ${arg}`);
    }
    if (!isDir) {
      files.push(arg);
      continue;
    }
    const inside = readdirSync(arg)
      .filter((f) => IMAGE_FILE.test(f))
      .sort()
      .map((f) => join(arg, f));
    if (!inside.length)
      throw new UsageError(`folder ${arg} has no image files (.jpg, .jpeg, .png, .webp, .bmp, .tif, .ppm…)`);
    files.push(...inside);
  }
  return files;
}

/** The model's image input, or a usage error that says why the model is not an image classifier. */
function imageInput(inputs: readonly ValueMetadata[], model: string, layoutFlag?: Layout): ImageInput {
  if (inputs.length !== 1) {
    throw new UsageError(
      `${basename(model)} has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); classify needs a model with one image input`,
    );
  }
  const m = inputs[0];
  const expected =
    'classify needs a float32 image tensor [batch, 3, height, width] (NCHW) or [batch, height, width, 3] (NHWC)';
  if (!m.isTensor)
    throw new UsageError(`model input '${m.name}' is ${m.onnxType}, not an image: ${expected}`);
  const text = `${m.type}[${m.shape.join(',')}]`;
  if (m.type !== 'float32' || m.shape.length !== 4) {
    throw new UsageError(`model input '${m.name}' is ${text}, not an image: ${expected}`);
  }
  const is3 = (d: number | string) => d === 3 || typeof d === 'string';
  const layout: Layout | undefined =
    layoutFlag ??
    (m.shape[1] === 3 ? 'NCHW' : m.shape[3] === 3 ? 'NHWC' : is3(m.shape[1]) ? 'NCHW' : undefined);
  const [c, hh, ww] =
    layout === 'NHWC' ? [m.shape[3], m.shape[1], m.shape[2]] : [m.shape[1], m.shape[2], m.shape[3]];
  if (!layout || !is3(c)) {
    throw new UsageError(
      `model input '${m.name}' is ${text}, which has no 3-channel (RGB) axis: ${expected}`,
    );
  }
  const fixed = (d: number | string) => typeof d === 'number' && d > 0;
  return {
    name: m.name,
    shape: m.shape,
    layout,
    size: fixed(hh) && fixed(ww) ? [hh as number, ww as number] : null,
    batch: fixed(m.shape[0]) ? (m.shape[0] as number) : null,
  };
}

/** The number of classes when the output's non-batch dims are all fixed, else null (known after a run). */
function fixedClassCount(m: ValueMetadata | undefined): number | null {
  if (!m?.isTensor || m.shape.length < 2) return null;
  const rest = m.shape.slice(1);
  return rest.every((d) => typeof d === 'number')
    ? rest.reduce<number>((a, d) => a * (d as number), 1)
    : null;
}

/**
 * Label lookup by class count. A labels file the user named must match exactly; the bundled ImageNet
 * list on a model with another class count falls back to class numbers, with a note.
 */
function labelChooser(labels: string[], source: string, explicit: boolean): (classes: number) => string[] {
  let noted = false;
  return (classes) => {
    if (labels.length === classes) return labels;
    if (explicit) checkLabelCount(labels, classes, source);
    if (!noted) {
      console.error(
        `note: the model outputs ${classes} classes, not ImageNet's ${labels.length}; showing class numbers (use --labels FILE for names)`,
      );
      noted = true;
    }
    return Array.from({ length: classes }, (_, i) => `class ${i}`);
  };
}

/** Softmax of one row, unless it already is a probability distribution (every value in [0, 1], sum 1). */
export function toProbabilities(
  scores: ArrayLike<number>,
  offset: number,
  n: number,
): { probs: Float64Array; applied: boolean } {
  const probs = new Float64Array(n);
  let sum = 0;
  let inUnit = true;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = Number(scores[offset + i]);
    probs[i] = v;
    sum += v;
    if (!(v >= 0 && v <= 1)) inUnit = false;
    if (v > max) max = v;
  }
  if (inUnit && Math.abs(sum - 1) < 1e-3) return { probs, applied: false };
  let total = 0;
  for (let i = 0; i < n; i++) total += probs[i] = Math.exp(probs[i] - max);
  for (let i = 0; i < n; i++) probs[i] /= total;
  return { probs, applied: true };
}

function topK(probs: Float64Array, k: number, labels: string[]): Prediction['top'] {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  return order
    .slice(0, k)
    .map((c, i) => ({ rank: i + 1, class: c, label: labels[c], probability: probs[c] }));
}

function describeOutput(v: unknown): string {
  return v instanceof Tensor ? `${v.type}[${v.dims.join(',')}]` : 'not a tensor';
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, not '${v}'`);
  return n;
}

function parseOverrides(o: ClassifyOptions): PreprocessOverrides {
  const out: PreprocessOverrides = {};
  if (o.size !== undefined) {
    const m = /^(\d+)(?:[x×](\d+))?$/.exec(o.size);
    if (!m) throw new UsageError(`--size must be N or HxW, not '${o.size}'`);
    out.size = [positiveInt(m[1], '--size'), positiveInt(m[2] ?? m[1], '--size')];
  }
  if (o.scale !== undefined) {
    const m = /^([^/]+)(?:\/(.+))?$/.exec(o.scale);
    const v = m ? Number(m[1]) / Number(m[2] ?? 1) : NaN;
    if (!Number.isFinite(v) || v <= 0)
      throw new UsageError(`--scale must be a positive number or a/b, not '${o.scale}'`);
    out.scale = v;
  }
  if (o.mean !== undefined) out.mean = triple(o.mean, '--mean');
  if (o.std !== undefined) {
    out.std = triple(o.std, '--std');
    if (out.std.some((s) => s === 0)) throw new UsageError('--std values must not be 0');
  }
  if (o.layout !== undefined) {
    const l = o.layout.toUpperCase();
    if (l !== 'NCHW' && l !== 'NHWC')
      throw new UsageError(`--layout must be NCHW or NHWC, not '${o.layout}'`);
    out.layout = l;
  }
  if (o['channel-order'] !== undefined) {
    const c = o['channel-order'].toUpperCase();
    if (c !== 'RGB' && c !== 'BGR') {
      throw new UsageError(`--channel-order must be RGB or BGR, not '${o['channel-order']}'`);
    }
    out.channelOrder = c as ChannelOrder;
  }
  return out;
}

function triple(v: string, flag: string): [number, number, number] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if ((xs.length !== 1 && xs.length !== 3) || xs.some((x) => !Number.isFinite(x))) {
    throw new UsageError(`${flag} must be one number or three comma-separated numbers (R,G,B), not '${v}'`);
  }
  return xs.length === 1 ? [xs[0], xs[0], xs[0]] : [xs[0], xs[1], xs[2]];
}
