/**
 * `onyx run MODEL`: runs a model once (or several times) on inputs from files or random values and
 * prints each output's dtype, shape, first values and the timing.
 */
import { InferenceSession } from '../../index.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { describeValue } from '../format.js';
import { buildFeeds, parseAssignments } from '../inputs.js';

export const help = `onyx run MODEL [--input NAME=FILE]... [--random] [--dim NAME=N]... [--runs N]
                [--optimization disabled|basic|extended|all] [--head N] [--seed N]

Runs MODEL and prints each output's type, shape and first values, plus load and run time.
  --input NAME=FILE   value for input NAME from a .pb (TensorProto etc.), .npy or .json file
  --random            random values for inputs not given by --input
  --dim NAME=N        size of symbolic dim NAME for --random (default 1)
  --runs N            run N times and report the median (default 1)
  --head N            values shown per output (default 8)`;

export interface RunOptions {
  input?: string[];
  random?: boolean;
  dim?: string[];
  runs?: string;
  optimization?: string;
  head?: string;
  seed?: string;
}

export async function run(args: string[], o: RunOptions): Promise<number> {
  const [path] = args;
  const runs = Number(o.runs ?? 1);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs must be a positive integer');
  const t0 = performance.now();
  const session = await InferenceSession.create(path, {
    graphOptimizationLevel: (o.optimization ?? 'all') as 'all',
  });
  const loadMs = performance.now() - t0;
  const feeds = buildFeeds(
    session.inputMetadata,
    parseAssignments(o.input, '--input'),
    !!o.random,
    parseAssignments(o.dim, '--dim'),
    Number(o.seed ?? 1),
  );
  const times: number[] = [];
  let outputs: Awaited<ReturnType<InferenceSession['runValues']>> = {};
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    outputs = await session.runValues(feeds);
    times.push(performance.now() - start);
  }
  const head = Number(o.head ?? 8);
  for (const name of session.outputNames) console.log(`${name}: ${describeValue(outputs[name], head)}`);
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `load ${loadMs.toFixed(1)} ms, run ${runs > 1 ? 'median ' : ''}${median.toFixed(2)} ms${runs > 1 ? ` over ${runs} runs` : ''}`,
  );
  return EXIT.OK;
}
