/**
 * `onyx bench`: latency, load time, peak memory and output agreement of Onyx against
 * onnxruntime-node (native) and onnxruntime-web (WASM), same inputs, same thread count. Each engine
 * and thread count of a model runs in a fresh process of its own (bench-worker.ts); once all are
 * loaded and warm, they time short slices of runs in turn, so that every engine samples the same
 * quiet and busy spells of a shared machine. `--suite` runs the project's benchmark set and can
 * write bench/results.md.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectModel, type TensorType, type ValueMetadata } from '../../index.js';
import { createInterface } from 'node:readline';
import { PROTOCOL_PREFIX } from '../bench-timing.js';
import type { FeedSpec, WorkerDone, WorkerJob, WorkerReady, WorkerResult } from '../bench-worker.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { prng } from '../inputs.js';
import { formatMs, table } from '../format.js';

/** Slices of timed runs each engine takes per round, in turn with the others. */
const SLICES = 8;
/**
 * Quiet before each slice (ms). onnxruntime's idle threads keep spinning after a run — measured from
 * /proc: onnxruntime-node's burn ~50 ms of CPU in the first 50 ms, onnxruntime-web's ~60 ms over
 * ~100 ms — and a slice that starts meanwhile shares the cores with them (ResNet-50's 2-thread
 * speedup read 1.50 with 50 ms, 1.76 with 300).
 */
const SLICE_PAUSE_MS = 150;

export const help = `onyx bench MODEL... [--threads 1,2] [--runs N] [--min-ms MS] [--rounds N] [--warmup N]
                  [--warmup-ms MS] [--engines onyx,ort-web,ort-node] [--dim NAME=N]... [--profile] [--suite]
                  [--write FILE]

Times each model in Onyx and, side by side, onnxruntime-web (WASM) and onnxruntime-node (native): median and
p90 latency, session load time, peak RSS, and the largest output difference from onnxruntime-node.
Every engine and thread count runs in a fresh process, with the same seeded inputs; once all are loaded
and warm, they take turns timing slices of runs (${SLICES} slices each, more if needed for --runs).
  --warmup N     warm-up runs: at least N (default 2), and until --warmup-ms have passed (default 500)
  --runs N       timed runs: at least N (default 10), and more until --min-ms have been timed
                 (default 1000), as onnxruntime_perf_test runs for a duration
  --rounds N     repeat with fresh processes N times and pool the runs (default 1)
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

/**
 * One engine's worker process (bench-worker.ts, or `script` with the job as its argument), spoken
 * to line by line.
 */
export class BenchWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private readonly exited: Promise<void>;
  private stderr = '';

  constructor(job: WorkerJob, script = WORKER) {
    this.child = spawn(process.execPath, ['--expose-gc', script, JSON.stringify(job)]);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4096);
    });
    this.child.stdin.on('error', () => {}); // a worker that died: its next reply reports it
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** Sends a command and returns the worker's reply (or its first reply, for `undefined`). */
  async ask<T>(command?: object): Promise<T> {
    if (command) this.child.stdin.write(JSON.stringify(command) + '\n');
    for (;;) {
      const line = await this.lines.next();
      if (line.done) {
        throw new Error(this.stderr.trim().split('\n').slice(-3).join(' ') || 'the worker exited');
      }
      if (line.value.startsWith(PROTOCOL_PREFIX))
        return JSON.parse(line.value.slice(PROTOCOL_PREFIX.length)) as T;
    }
  }

  /**
   * Kills the worker and resolves once it has exited. A round's workers each hold a model's
   * memory (VGG-19's: ~1.3 GB), and the process freeing it takes CPU time: when the workers were
   * only signalled, the next round's first load (always Onyx at 1 thread) ran beside that teardown
   * (run X read Onyx's MobileNetV2 load 54 ms at 1 thread, 38 at 2).
   */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    await this.exited;
  }
}

/** One engine at one thread count in a round: its worker and the runs it timed. */
interface Cell {
  t: number;
  engine: WorkerJob['engine'];
  worker: BenchWorker;
  loadMs: number;
  timesMs: number[];
  outFile: string;
}

/**
 * The engines in the order round `round` (from 1) loads them: rotated by one per round, so that no
 * engine is always the first to load after the previous round's workers went.
 */
export function loadOrder<T>(engines: readonly T[], round: number): T[] {
  const k = (round - 1) % Math.max(1, engines.length);
  return [...engines.slice(k), ...engines.slice(0, k)];
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
  const total = models.length * rounds;
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
    for (let round = 1; round <= rounds; round++) {
      step++;
      const of = rounds > 1 ? ` round ${round}/${rounds}` : '';
      const cells: Cell[] = [];
      const fail = (c: { t: number; engine: string }, e: unknown) => {
        errors.set(key(c.t, c.engine), (e as Error).message);
        process.stderr.write(`  ${c.engine} threads=${c.t} failed: ${(e as Error).message}\n`);
      };
      try {
        // Loaded one at a time, each alone on the machine (load time is measured).
        for (const t of threads) {
          for (const engine of loadOrder(engines, round)) {
            if (errors.has(key(t, engine))) continue;
            process.stderr.write(
              `[${step}/${total}] ${basename(model)}${of}: ${engine} threads=${t} loading … `,
            );
            const outFile = join(dir, `${engine}-${t}.out`);
            const profile = !!o.profile && engine === 'onyx' && round === 1;
            const worker = new BenchWorker({
              engine,
              model,
              threads: t,
              warmup,
              warmupMs,
              feeds,
              outFile,
              profile,
            });
            try {
              const { loadMs } = await worker.ask<WorkerReady>();
              cells.push({ t, engine, worker, loadMs, timesMs: [], outFile });
              process.stderr.write(`loaded in ${loadMs.toFixed(0)} ms\n`);
            } catch (e) {
              await worker.stop();
              fail({ t, engine }, e);
            }
          }
        }
        // Slices in turn, the order rotating, until each has SLICES slices and --runs runs.
        const live = () => cells.filter((c) => !errors.has(key(c.t, c.engine)));
        for (let slice = 0; ; slice++) {
          const due = live().filter((c) => slice < SLICES || c.timesMs.length < runs);
          if (due.length === 0) break;
          for (let i = 0; i < due.length; i++) {
            const c = due[(i + slice) % due.length];
            // Idle engines' threads may spin a while after their last run: let them settle first.
            await new Promise((resolve) => setTimeout(resolve, SLICE_PAUSE_MS));
            try {
              c.timesMs.push(...(await c.worker.ask<{ times: number[] }>({ slice: minMs / SLICES })).times);
            } catch (e) {
              fail(c, e);
            }
          }
        }
        for (const c of live()) {
          try {
            const done = await c.worker.ask<WorkerDone>({ end: true });
            const result: WorkerResult = { loadMs: c.loadMs, timesMs: c.timesMs, ...done };
            results.set(key(c.t, c.engine), [...(results.get(key(c.t, c.engine)) ?? []), result]);
            outFiles[key(c.t, c.engine)] = c.outFile;
          } catch (e) {
            fail(c, e);
          }
        }
        process.stderr.write(
          `  ${live()
            .map((c) => `${c.engine} threads=${c.t} median ${formatMs(median(c.timesMs))} ms`)
            .join(', ')}\n`,
        );
      } finally {
        // Each load of the next round alone on the machine, these workers' teardown included.
        await Promise.all(cells.map((c) => c.worker.stop()));
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
    `(\`onyx bench --suite\`). Each cell pools ${o.rounds} round(s). In a round every engine × thread count runs in a fresh`,
    `process of its own, with identical seeded inputs: each loads alone and warms up for at least ${o.warmup} run(s) and ${o.warmupMs} ms; then`,
    `they take turns timing slices of runs (${SLICES} slices of ${o.minMs / SLICES} ms each, at least ${o.runs} runs in all, ${SLICE_PAUSE_MS} ms of quiet before`,
    'each slice, which starts with an untimed run when runs are short), so that all sample the same quiet and busy spells of',
    "the machine. Median and p90 are over all timed runs; load time (session creation alone, every engine's",
    "module imported before it) and peak RSS are the median round's.",
    'Ratios are Onyx ÷ the other engine (lower is better for Onyx); speedup × is an engine’s 1-thread median ÷ its',
    'median here. max |Δ| is the largest absolute output difference from onnxruntime-node.',
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
      const msCell = (x: number) => (Number.isFinite(x) ? formatMs(x) : '—');
      const onyx = get('onyx');
      body.push([
        model,
        ...engines.flatMap((e) =>
          get(e)?.result
            ? [msCell(med(e)), msCell(p90(get(e)!.result!.timesMs))]
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
