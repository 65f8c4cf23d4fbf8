/**
 * One engine's side of a benchmark, in a fresh process (so load time and peak RSS belong to one
 * engine and one model): loads the model in the named engine and warms up, then answers the bench
 * line by line on stdin/stdout — a JSON `{ "slice": ms }` times a slice of runs (bench-timing.ts) and
 * replies `{ "times": [...] }`; `{ "end": true }` writes the last outputs as float64 to a file for
 * cross-engine comparison, replies with the peak RSS (and profile) and exits. Started by
 * `onyx bench`; not a user command. Engines other than Onyx are the devDependencies
 * onnxruntime-node and onnxruntime-web, loaded only here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { InferenceSession, Tensor, type TensorType } from '../index.js';
import { PROTOCOL_PREFIX, timeSlice, warmUp } from './bench-timing.js';
import { tensorValues } from './format.js';

export interface FeedSpec {
  name: string;
  type: TensorType;
  dims: number[];
  file: string;
}

export interface WorkerJob {
  engine: 'onyx' | 'ort-node' | 'ort-web';
  model: string;
  threads: number;
  /** As bench-timing.ts's WarmUpPlan. */
  warmup: number;
  warmupMs: number;
  feeds: FeedSpec[];
  outFile: string;
  profile: boolean;
}

/** The worker's first line: loaded and warmed up. */
export interface WorkerReady {
  loadMs: number;
}

/** The worker's last line. */
export interface WorkerDone {
  maxRssBytes: number;
  outputs: { name: string; count: number }[];
  profile?: { op: string; ms: number; count: number }[];
}

/** What the bench keeps of one engine in one round. */
export interface WorkerResult extends WorkerReady, WorkerDone {
  timesMs: number[];
}

const ARRAYS: Partial<Record<TensorType, { new (b: ArrayBuffer): ArrayLike<unknown> }>> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
  uint8: Uint8Array,
  int8: Int8Array,
};

interface AnyTensorCtor {
  new (type: string, data: unknown, dims: readonly number[]): unknown;
}
interface AnySession {
  run(
    feeds: Record<string, unknown>,
  ): Promise<Record<string, { data: unknown; dims: readonly number[]; type: string }>>;
  release(): Promise<void>;
  endProfiling?(): Promise<string> | void;
}

/** An engine's module, imported: its Tensor class and how it makes a session for a job. */
interface Engine {
  Tensor: AnyTensorCtor;
  create(job: WorkerJob): Promise<AnySession>;
}

/**
 * Imports the engine of `job` — before the load is timed, for every engine alike: importing a
 * module is a once-per-process cost, not a session's (onnxruntime-node's import alone took ~50 ms,
 * Onyx's, imported statically by this worker, ~220 ms; the load time once counted the former).
 */
async function importEngine(job: WorkerJob): Promise<Engine> {
  if (job.engine === 'onyx') {
    return {
      Tensor: Tensor as unknown as AnyTensorCtor,
      create: async (j) =>
        (await InferenceSession.create(j.model, {
          intraOpNumThreads: j.threads,
          enableProfiling: j.profile,
          logSeverityLevel: 3,
        })) as unknown as AnySession,
    };
  }
  if (job.engine === 'ort-node') {
    const ort = await import('onnxruntime-node');
    return {
      Tensor: ort.Tensor as unknown as AnyTensorCtor,
      create: async (j) =>
        (await ort.InferenceSession.create(j.model, {
          intraOpNumThreads: j.threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        })) as unknown as AnySession,
    };
  }
  const ort = await import('onnxruntime-web');
  return {
    Tensor: ort.Tensor as unknown as AnyTensorCtor,
    create: async (j) => {
      ort.env.wasm.numThreads = j.threads;
      return (await ort.InferenceSession.create(readFileSync(j.model), {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      })) as unknown as AnySession;
    },
  };
}

/** Writes one JSON line for the bench. */
function reply(message: unknown): void {
  process.stdout.write(PROTOCOL_PREFIX + JSON.stringify(message) + '\n');
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as WorkerJob;
  const { Tensor: T, create } = await importEngine(job);
  const t0 = performance.now();
  const session = await create(job);
  const loadMs = performance.now() - t0;
  const feeds: Record<string, unknown> = {};
  for (const f of job.feeds) {
    const bytes = readFileSync(f.file);
    const Ctor = ARRAYS[f.type];
    if (!Ctor) throw new Error(`bench inputs of type ${f.type} are not supported`);
    feeds[f.name] = new T(
      f.type,
      new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
      f.dims,
    );
  }
  let runs = 0;
  const run = () => {
    runs++;
    return session.run(feeds);
  };
  let { lastMs, last: outputs } = await warmUp(run, job);
  reply({ loadMs } satisfies WorkerReady);
  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line) as { slice?: number; end?: boolean };
    if (command.slice !== undefined) {
      const slice = await timeSlice(run, command.slice, lastMs);
      outputs = slice.last;
      lastMs = slice.timesMs[slice.timesMs.length - 1];
      reply({ times: slice.timesMs });
    }
    if (command.end) break;
  }
  const names = Object.keys(outputs).sort();
  const flat: number[] = [];
  const summary = names.map((name) => {
    const o = outputs[name];
    const vals = tensorValues(new Tensor(o.type as TensorType, o.data as Float32Array, o.dims));
    for (let i = 0; i < vals.length; i++) flat.push(Number(vals[i]));
    return { name, count: vals.length };
  });
  writeFileSync(job.outFile, new Uint8Array(Float64Array.from(flat).buffer));
  let profile: WorkerDone['profile'];
  if (job.profile && job.engine === 'onyx') {
    const events = JSON.parse((await session.endProfiling?.()) as string) as {
      dur: number;
      args: { op_name: string };
    }[];
    const byOp = new Map<string, { ms: number; count: number }>();
    for (const e of events) {
      const s = byOp.get(e.args.op_name) ?? { ms: 0, count: 0 };
      s.ms += e.dur / 1000 / runs;
      s.count++;
      byOp.set(e.args.op_name, s);
    }
    // Per run: each run records one event per node.
    profile = [...byOp]
      .map(([op, s]) => ({ op, ms: s.ms, count: Math.round(s.count / runs) }))
      .sort((a, b) => b.ms - a.ms);
  }
  reply({
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    outputs: summary,
    profile,
  } satisfies WorkerDone);
  await session.release();
}

await main();
