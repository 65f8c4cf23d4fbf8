#!/usr/bin/env node
/**
 * The `onyx` command line. Every command is built only on the public API (src/index.ts).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OnyxError } from '../index.js';
import * as benchCmd from './commands/bench.js';
import * as classifyCmd from './commands/classify.js';
import * as demoCmd from './commands/demo.js';
import * as inspectCmd from './commands/inspect.js';
import * as optimizeCmd from './commands/optimize.js';
import * as runCmd from './commands/run.js';
import * as testCmd from './commands/test.js';
import { EXIT, exitCodeFor, UsageError } from './exit-codes.js';

interface Command {
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Positional arguments: minimum count. */
  minArgs: number;
  main(args: string[], opts: Record<string, unknown>): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  run: {
    help: runCmd.help,
    minArgs: 1,
    options: {
      input: { type: 'string', multiple: true },
      random: { type: 'boolean' },
      dim: { type: 'string', multiple: true },
      runs: { type: 'string' },
      optimization: { type: 'string' },
      head: { type: 'string' },
      seed: { type: 'string' },
    },
    main: (a, o) => runCmd.run(a, o),
  },
  inspect: {
    help: inspectCmd.help,
    minArgs: 1,
    options: { json: { type: 'boolean' } },
    main: (a, o) => inspectCmd.inspect(a, o),
  },
  optimize: {
    help: optimizeCmd.help,
    minArgs: 1,
    options: {
      output: { type: 'string', short: 'o' },
      level: { type: 'string' },
      disable: { type: 'string' },
      json: { type: 'boolean' },
    },
    main: (a, o) => optimizeCmd.optimizeCommand(a, o),
  },
  test: {
    help: testCmd.help,
    minArgs: 1,
    options: { optimization: { type: 'string' }, rtol: { type: 'string' }, atol: { type: 'string' } },
    main: (a, o) => testCmd.test(a, o),
  },
  bench: {
    help: benchCmd.help,
    minArgs: 0,
    options: {
      threads: { type: 'string' },
      runs: { type: 'string' },
      'min-ms': { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      'warmup-ms': { type: 'string' },
      engines: { type: 'string' },
      dim: { type: 'string', multiple: true },
      profile: { type: 'boolean' },
      suite: { type: 'boolean' },
      write: { type: 'string' },
    },
    main: (a, o) => benchCmd.bench(a, o),
  },
  classify: {
    help: classifyCmd.help,
    minArgs: 1,
    options: {
      model: { type: 'string', short: 'm' },
      labels: { type: 'string' },
      top: { type: 'string' },
      preprocess: { type: 'string' },
      size: { type: 'string' },
      scale: { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      layout: { type: 'string' },
      'channel-order': { type: 'string' },
      batch: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      progress: { type: 'boolean' },
    },
    main: (a, o) => classifyCmd.classify(a, o),
  },
  demo: { help: demoCmd.help, minArgs: 0, options: {}, main: () => demoCmd.demo() },
};

const USAGE = `onyx — run ONNX models in Node.js, no native code

usage: onyx <command> [options]

commands:
  run MODEL       run a model on inputs from files or random values
  inspect MODEL   show a model's inputs, outputs, ops, parameters, and support
  optimize MODEL  write the optimized model (-o OUT.onnx) and report what the passes changed
  test DIR...     run ONNX backend-test case folders and report pass/fail
  bench MODEL...  time models against onnxruntime-web and onnxruntime-node
  classify IMAGE... --model M.onnx
                  top-K labels of photos or folders with an image classifier (e.g. ResNet-50)
  demo            classify the bundled handwritten-digit samples (what npm start runs)

onyx <command> --help shows a command's options.
exit codes: 0 ok, 1 checks failed, 2 usage error, 3 model cannot be loaded, 4 run failed`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? EXIT.OK : EXIT.USAGE;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`onyx: unknown command '${name}'\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      console.log(cmd.help);
      return EXIT.OK;
    }
    if (positionals.length < cmd.minArgs) throw new UsageError(`missing argument\n\n${cmd.help}`);
    return await cmd.main(positionals, values);
  } catch (e) {
    const isUsage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const label = e instanceof OnyxError ? `error [${e.code}]` : isUsage ? 'usage error' : 'error';
    console.error(`onyx ${name}: ${label}: ${(e as Error).message}`);
    return isUsage ? EXIT.USAGE : exitCodeFor(e);
  }
}

process.exitCode = await main(process.argv.slice(2));
