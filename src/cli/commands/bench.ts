/**
 * `onyx bench`: latency, load time, peak memory and output agreement of Onyx against
 * onnxruntime-node (native) and onnxruntime-web (WASM), same inputs, same thread count, each
 * measurement in a fresh process. `--suite` runs the project's benchmark set and can write
 * bench/results.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectModel, type TensorType, type ValueMetadata } from '../../index.js';
import type { FeedSpec, WorkerJob, WorkerResult } from '../bench-worker.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { prng } from '../inputs.js';
import { table } from '../format.js';

export const help = `onyx bench MODEL... [--threads 1,2] [--runs N] [--min-ms MS] [--rounds N] [--warmup N]
                  [--warmup-ms MS] [--engines onyx,ort-web,ort-node] [--dim NAME=N]... [--profile] [--suite]
                  [--write FILE]

Times each model in Onyx and, side by side, onnxruntime-web (WASM) and onnxruntime-node (native): median and
p90 latency, session load time, peak RSS, and the largest output difference from onnxruntime-node.
Every measurement runs in a fresh process with the same seeded inputs and thread count.
  --warmup N     warm-up runs: at least N (default 2), and until --warmup-ms have passed (default 500)
  --runs N       timed runs: at least N (default 10), and more, up to 200, until --min-ms have been
                 timed (default 1000), as onnxruntime_perf_test runs for a duration
  --rounds N     measure every engine N times, taking turns, and pool the runs (default 1)
  --suite        the benchmark set: ../shared light/ models plus bench/models/*.onnx
  --profile      also print Onyx's top ops by time
  --write FILE   write the results as a Markdown report`;

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKER = fileURLToPath(new URL('../bench-worker.js', import.meta.url));

/** Concrete sizes for the benchmark models' symbolic dims. */
const SUITE_DIMS: Record<string, number> = { batch: 1, sequence: 128, past_sequence: 127 };
const SUITE_OVERRIDES: Record<string, Record<string, number>> = {
  'gpt_decoder_step.onnx': { sequence: 1 },
  'lstm.onnx': { sequence: 64 },
};

interface Row {
  model: string;
  threads: number;
  engine: string;
  result?: WorkerResult;
  error?: string;
  maxDiff?: number;
}

function suiteModels(): string[] {
  const light = join(ROOT, '..', 'shared', 'onnx-backend-tests', 'light');
  const models: string[] = [];
  if (existsSync(light)) {
    for (const n of [
      'resnet50',
      'squeezenet',
      'shufflenet',
      'inception_v1',
      'inception_v2',
      'densenet121',
      'bvlc_alexnet',
      'zfnet512',
      'vgg19',
    ]) {
      models.push(join(light, `light_${n}.onnx`));
    }
  }
  for (const n of ['bert_encoder', 'mobilenetv2_050', 'gpt_decoder_step', 'lstm'])
    models.push(join(ROOT, 'bench', 'models', `${n}.onnx`));
  return models;
}

function writeFeeds(metas: readonly ValueMetadata[], dims: Record<string, number>, dir: string): FeedSpec[] {
  const rand = prng(42);
  return metas.map((m) => {
    if (!m.isTensor) throw new UsageError(`input '${m.name}' is not a tensor`);
    const shape = m.shape.map((d) => (typeof d === 'number' ? d : (dims[d] ?? 1)));
    const n = shape.reduce((a, b) => a * b, 1);
    let bytes: Uint8Array;
    const t: TensorType = m.type;
    if (t === 'float32') bytes = new Uint8Array(Float32Array.from({ length: n }, () => rand()).buffer);
    else if (t === 'int64') {
      // Token ids, masks and type ids: small non-negative values valid for every benchmark model.
      const hi = m.name.includes('mask') ? 1 : m.name.includes('type') ? 1 : 500;
      bytes = new Uint8Array(
        BigInt64Array.from({ length: n }, () =>
          BigInt(m.name.includes('mask') ? 1 : Math.floor(rand() * (hi + 1))),
        ).buffer,
      );
    } else throw new UsageError(`bench cannot generate '${t}' input '${m.name}'`);
    const file = join(dir, `${m.name.replace(/[^\w.-]/g, '_')}.bin`);
    writeFileSync(file, bytes);
    return { name: m.name, type: t, dims: shape, file };
  });
}

function runWorker(job: WorkerJob): WorkerResult {
  const r = spawnSync(process.execPath, ['--expose-gc', WORKER, JSON.stringify(job)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{'))
    throw new Error((r.stderr || r.stdout).trim().split('\n').slice(-3).join(' '));
  return JSON.parse(line) as WorkerResult;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];

function readFloat64(file: string): Float64Array {
  const bytes = readFileSync(file); // may be a view into Node's shared buffer pool: copy its own range
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function maxDiff(a: string, b: string): number {
  const x = readFloat64(a);
  const y = readFloat64(b);
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (d > m || Number.isNaN(d))
      m = Number.isNaN(d) ? (Number.isNaN(x[i]) && Number.isNaN(y[i]) ? m : Infinity) : d;
  }
  return m;
}

export async function bench(
  args: string[],
  o: {
    threads?: string;
    runs?: string;
    'min-ms'?: string;
    rounds?: string;
    warmup?: string;
    'warmup-ms'?: string;
    engines?: string;
    dim?: string[];
    profile?: boolean;
    suite?: boolean;
    write?: string;
  },
): Promise<number> {
  const models = o.suite ? suiteModels() : args;
  if (models.length === 0) throw new UsageError('name at least one MODEL, or --suite');
  const threads = (o.threads ?? '1').split(',').map(Number);
  const engines = (o.engines ?? 'onyx,ort-web,ort-node').split(',') as WorkerJob['engine'][];
  const runs = Number(o.runs ?? 10);
  const warmup = Number(o.warmup ?? 2);
  const minMs = Number(o['min-ms'] ?? 1000);
  const warmupMs = Number(o['warmup-ms'] ?? 500);
  for (const [flag, v] of Object.entries({ runs, warmup, 'min-ms': minMs, 'warmup-ms': warmupMs })) {
    if (!Number.isFinite(v) || v < 0)
      throw new UsageError(`--${flag} must be a non-negative number, got ${v}`);
  }
  const userDims = Object.fromEntries((o.dim ?? []).map((d) => d.split('=')).map(([k, v]) => [k, Number(v)]));
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'onyx-bench-'));
  const rounds = Number(o.rounds ?? 1);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new UsageError(`--rounds must be a positive integer, got '${o.rounds}'`);
  const total = models.length * threads.length * engines.length * rounds;
  let step = 0;
  for (const model of models) {
    if (!existsSync(model)) throw new UsageError(`model '${model}' not found`);
    // The inputs' metadata from the model alone: a whole session here (weights folded and packed)
    // left this process freeing hundreds of MB while the first worker measured its load time.
    const { inputs } = await inspectModel(model);
    const dims = { ...SUITE_DIMS, ...(SUITE_OVERRIDES[basename(model)] ?? {}), ...userDims };
    const feeds = writeFeeds(inputs, dims, dir);
    const outFiles: Record<string, string> = {};
    const results = new Map<string, WorkerResult[]>();
    const errors = new Map<string, string>();
    const key = (t: number, engine: string) => `${t}/${engine}`;
    // Engines and thread counts take turns, round after round, so that each samples the same quiet
    // and busy spells of a shared machine (and 2-thread speedups compare like with like); a cell
    // pools the runs of every round.
    for (let round = 1; round <= rounds; round++) {
      for (const t of threads) {
        for (const engine of engines) {
          if (errors.has(key(t, engine))) continue;
          step++;
          const of = rounds > 1 ? ` round ${round}/${rounds}` : '';
          process.stderr.write(`[${step}/${total}] ${basename(model)} ${engine} threads=${t}${of} … `);
          const outFile = join(dir, `${engine}-${t}.out`);
          try {
            const result = runWorker({
              engine,
              model,
              threads: t,
              warmup,
              warmupMs,
              runs,
              minMs,
              feeds,
              outFile,
              profile: !!o.profile && engine === 'onyx' && round === 1,
            });
            results.set(key(t, engine), [...(results.get(key(t, engine)) ?? []), result]);
            outFiles[key(t, engine)] = outFile;
            process.stderr.write(`median ${median(result.timesMs).toFixed(1)} ms\n`);
          } catch (e) {
            errors.set(key(t, engine), (e as Error).message);
            process.stderr.write(`failed: ${(e as Error).message}\n`);
          }
        }
      }
    }
    for (const t of threads) {
      const reference = outFiles[key(t, 'ort-node')];
      for (const engine of engines) {
        const row: Row = { model: basename(model, '.onnx'), threads: t, engine };
        const rs = results.get(key(t, engine));
        if (rs) row.result = pooled(rs);
        else row.error = errors.get(key(t, engine));
        const out = outFiles[key(t, engine)];
        if (row.result && reference && out) row.maxDiff = maxDiff(out, reference);
        rows.push(row);
      }
    }
    if (o.profile) {
      const prof = rows.find((r) => r.model === basename(model, '.onnx') && r.engine === 'onyx')?.result
        ?.profile;
      if (prof)
        console.log(
          `\n${basename(model)} — Onyx top ops (ms per run)\n${table(
            ['op', 'ms', 'nodes'],
            prof.slice(0, 10).map((p) => [p.op, p.ms.toFixed(2), p.count]),
          )}`,
        );
    }
  }
  const report = render(rows, threads, engines);
  console.log(`\n${report}`);
  if (o.write)
    writeFileSync(
      o.write,
      `# Benchmark results\n\n${reportHeader({ runs, minMs, warmup, warmupMs, rounds })}\n\n${report}\n`,
    );
  return rows.some((r) => r.error && r.engine === 'onyx') ? EXIT.FAILED : EXIT.OK;
}

/** Every round's runs in one list; load time and peak RSS, the median round's. */
export function pooled(rs: readonly WorkerResult[]): WorkerResult {
  const mid = <T>(xs: readonly T[], key: (x: T) => number) =>
    [...xs].sort((a, b) => key(a) - key(b))[xs.length >> 1];
  return {
    ...rs[rs.length - 1],
    loadMs: mid(rs, (r) => r.loadMs).loadMs,
    maxRssBytes: mid(rs, (r) => r.maxRssBytes).maxRssBytes,
    timesMs: rs.flatMap((r) => r.timesMs),
    profile: rs[0].profile,
  };
}

function reportHeader(o: {
  runs: number;
  minMs: number;
  warmup: number;
  warmupMs: number;
  rounds: number;
}): string {
  const cpu = (() => {
    try {
      return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
    } catch {
      return 'unknown CPU';
    }
  })();
  return [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu}, Node ${process.version}, by \`npm run bench\``,
    `(\`onyx bench --suite\`). Each cell pools ${o.rounds} round(s), each a fresh process per engine × model × thread`,
    `count that warms up for at least ${o.warmup} run(s) and ${o.warmupMs} ms, then times at least ${o.runs} runs and ${o.minMs} ms`,
    `(at most 200 runs); median and p90 are over all timed runs. Engines and thread counts take turns round by round, with identical seeded`,
    "inputs; load time and peak RSS are the median round's. Ratios are Onyx ÷ the other engine (lower is better",
    'for Onyx); speedup × is an engine’s 1-thread median ÷ its median here. max |Δ| is the largest absolute output',
    'difference from onnxruntime-node.',
  ].join('\n');
}

function render(rows: Row[], threads: number[], engines: string[]): string {
  const lines: string[] = [];
  for (const t of threads) {
    // At more than one thread, each engine's speedup over its own 1-thread median.
    const scaled = t > 1 && threads.includes(1) ? engines : [];
    const header = [
      'model',
      ...engines.flatMap((e) => [`${e} median ms`, `${e} p90`]),
      'onyx/ort-web',
      'onyx/ort-node',
      ...scaled.map((e) => `${e} speedup ×`),
      'load ms (onyx/ort-node)',
      'peak RSS MB (onyx/ort-node)',
      'max |Δ| onyx',
    ];
    const body: string[][] = [];
    for (const model of [...new Set(rows.map((r) => r.model))]) {
      const get = (e: string, at = t) =>
        rows.find((r) => r.model === model && r.threads === at && r.engine === e);
      const med = (e: string, at = t) => (get(e, at)?.result ? median(get(e, at)!.result!.timesMs) : NaN);
      const cell = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
      const onyx = get('onyx');
      body.push([
        model,
        ...engines.flatMap((e) =>
          get(e)?.result
            ? [cell(med(e)), cell(p90(get(e)!.result!.timesMs))]
            : [get(e)?.error ? 'error' : '—', '—'],
        ),
        cell(med('onyx') / med('ort-web'), 2),
        cell(med('onyx') / med('ort-node'), 2),
        ...scaled.map((e) => cell(med(e, 1) / med(e), 2)),
        `${cell(onyx?.result?.loadMs ?? NaN)} / ${cell(get('ort-node')?.result?.loadMs ?? NaN)}`,
        `${cell((onyx?.result?.maxRssBytes ?? NaN) / 2 ** 20)} / ${cell((get('ort-node')?.result?.maxRssBytes ?? NaN) / 2 ** 20)}`,
        onyx?.maxDiff !== undefined ? onyx.maxDiff.toExponential(2) : '—',
      ]);
    }
    lines.push(`### ${t} thread${t > 1 ? 's' : ''}\n`);
    lines.push(
      `| ${header.join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...body.map((r) => `| ${r.join(' | ')} |`),
      '',
    );
  }
  return lines.join('\n');
}
