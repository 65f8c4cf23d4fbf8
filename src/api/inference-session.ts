/**
 * `InferenceSession`, the public entry point, shaped like onnxruntime-common's: `create` from a path,
 * bytes or an ArrayBuffer, `run(feeds, fetches?, options?)`, input/output names and metadata, and
 * `release`. It turns options into the engine's terms, validates feeds and never exposes internals.
 */
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import { CpuExecutionProvider } from '../ep/cpu/cpu-provider.js';
import { sessionThreadPool } from '../ep/cpu/wasm/parallel-gemm.js';
import { getExecutionProvider, registerExecutionProvider, type ExecutionProvider } from '../ep/provider.js';
import type { ValueInfo } from '../ir/graph.js';
import { MapExternalDataReader, NO_EXTERNAL_DATA, type ExternalDataReader } from '../onnx/external-data.js';
import { loadModelBytes } from '../onnx/load.js';
import { modelToBytes } from '../ir/to-proto.js';
import { PASS_NAMES } from '../optimizer/optimize.js';
import { openModelFile, writeFile } from '../platform/node.js';
import { SessionCore } from '../runtime/session-core.js';
import { env, log } from './env.js';
import { validateFeeds } from './feeds.js';
import { metadataOf, type ValueMetadata } from './metadata.js';
import type { ExecutionProviderConfig, RunOptions, SessionOptions } from './options.js';

registerExecutionProvider(new CpuExecutionProvider());

export type FeedsType = Readonly<Record<string, Value>>;
export type FetchesType = readonly string[] | Readonly<Record<string, Value | null>>;
/**
 * `run()`'s result is typed as onnxruntime-common's (name → Tensor) so existing TypeScript compiles
 * unchanged; `runValues()` returns the same object typed for sequence/map/optional outputs too.
 */
export type ReturnType = Readonly<Record<string, Tensor>>;
export type ValuesReturnType = Readonly<Record<string, Value>>;

const OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  private core: SessionCore | undefined;
  private readonly requiredInputs: ValueInfo[];
  private readonly optionalInputs: ValueInfo[];
  private readonly overrides: Readonly<Record<string, number>>;
  private readonly initializerData: Set<unknown>;

  private constructor(
    core: SessionCore,
    private readonly options: SessionOptions,
  ) {
    this.core = core;
    const g = core.model.graph;
    this.overrides = options.freeDimensionOverrides ?? {};
    this.requiredInputs = g.requiredInputs();
    this.optionalInputs = g.inputs.filter((i) => g.initializers.has(i.name));
    this.inputNames = this.requiredInputs.map((i) => i.name);
    this.outputNames = g.outputs.map((o) => o.name);
    this.inputMetadata = this.requiredInputs.map((i) => metadataOf(i.name, i.type, this.overrides));
    this.outputMetadata = g.outputs.map((o) => metadataOf(o.name, o.type, this.overrides));
    this.initializerData = new Set([...g.initializers.values()].map((t) => t.data));
  }

  /** Loads a model from a file path (Node.js), bytes, or an ArrayBuffer. */
  static async create(
    model: string | Uint8Array | ArrayBufferLike,
    options?: SessionOptions,
  ): Promise<InferenceSession>;
  static async create(
    buffer: ArrayBufferLike,
    byteOffset: number,
    byteLength?: number,
    options?: SessionOptions,
  ): Promise<InferenceSession>;
  static async create(
    model: string | Uint8Array | ArrayBufferLike,
    a?: SessionOptions | number,
    b?: number,
    c?: SessionOptions,
  ): Promise<InferenceSession> {
    const { core, options } = await createCore(model, a, b, c);
    return new InferenceSession(core, options);
  }

  async run(feeds: FeedsType, fetches?: FetchesType | RunOptions, options?: RunOptions): Promise<ReturnType> {
    return (await this.runValues(feeds, fetches, options)) as ReturnType;
  }

  /** `run()` for models whose outputs include sequences (arrays), maps (`Map`) or optionals (`null`). */
  async runValues(
    feeds: FeedsType,
    fetches?: FetchesType | RunOptions,
    options?: RunOptions,
  ): Promise<ValuesReturnType> {
    const core = this.live();
    const wanted = outputsWanted(fetches, this.outputNames);
    void options;
    const values = validateFeeds(feeds, this.requiredInputs, this.optionalInputs, this.overrides);
    const results = await core.run(values);
    const out: Record<string, Value> = {};
    for (const name of wanted) out[name] = this.detach(results.get(name) as Value);
    return out;
  }

  /** Stops profiling and returns the Chrome-trace JSON (also written to `profileFilePrefix` when set). */
  async endProfiling(): Promise<string> {
    const profiler = this.live().profiler;
    if (!profiler)
      throw new OnyxError(
        'INVALID_ARGUMENT',
        'profiling is off: create the session with enableProfiling: true',
      );
    const json = profiler.toJSON();
    if (this.options.profileFilePrefix !== undefined) {
      const file = `${this.options.profileFilePrefix}_${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
      await writeFile(file, new TextEncoder().encode(json));
    }
    return json;
  }

  /** Peak bytes of intermediate values held at once during runs so far. */
  get peakMemoryBytes(): number {
    return this.live().peakBytes;
  }

  async release(): Promise<void> {
    const core = this.core;
    this.core = undefined;
    await core?.close();
  }

  startProfiling(): void {}

  private live(): SessionCore {
    if (!this.core) throw new OnyxError('INVALID_ARGUMENT', 'session was released');
    return this.core;
  }

  /** Outputs that share storage with the model's weights are copied so callers cannot corrupt them. */
  private detach(v: Value): Value {
    if (v instanceof Tensor && this.initializerData.has(v.data)) {
      const d = v.data;
      return new Tensor(v.type, Array.isArray(d) ? d.slice() : d.slice(), v.dims);
    }
    return v;
  }
}

/**
 * Loads, optimizes and plans a model given as `InferenceSession.create` takes it; writes the
 * optimized model to `optimizedModelFilePath` when that is set. Shared with `optimize()`.
 */
export async function createCore(
  model: string | Uint8Array | ArrayBufferLike,
  a?: SessionOptions | number,
  b?: number,
  c?: SessionOptions,
): Promise<{ core: SessionCore; options: SessionOptions }> {
  let options: SessionOptions;
  let bytes: Uint8Array;
  let external: ExternalDataReader = NO_EXTERNAL_DATA;
  if (typeof model === 'string') {
    options = (a as SessionOptions) ?? {};
    ({ bytes, external } = await openModelFile(model));
  } else if (model instanceof Uint8Array) {
    options = (a as SessionOptions) ?? {};
    bytes = model;
  } else if (
    model instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && model instanceof SharedArrayBuffer)
  ) {
    const offset = typeof a === 'number' ? a : 0;
    bytes = new Uint8Array(
      model,
      offset,
      typeof a === 'number' ? (b ?? model.byteLength - offset) : undefined,
    );
    options = (typeof a === 'number' ? c : a) ?? {};
  } else {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      'InferenceSession.create expects a file path, a Uint8Array or an ArrayBuffer',
    );
  }
  if (options.externalData) external = externalReader(options.externalData);
  reportUnimplemented(options);
  const providers = resolveProviders(options.executionProviders);
  const level = options.graphOptimizationLevel ?? 'all';
  if (!OPT_LEVELS.includes(level)) {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      `graphOptimizationLevel must be one of ${OPT_LEVELS.join(', ')}, got '${level}'`,
    );
  }
  // Started before loading: the workers boot while the model is decoded and optimized.
  const threads = await sessionThreadPool(options.intraOpNumThreads, (m) =>
    log(2, options.logSeverityLevel, m),
  );
  let core: SessionCore;
  try {
    const ir = loadModelBytes(bytes, external);
    core = await SessionCore.create(ir, {
      providers,
      optimizationLevel: level,
      disabledOptimizers: disabledOptimizers(options),
      profiling: options.enableProfiling,
      threads,
    });
  } catch (e) {
    await threads?.release();
    throw e;
  }
  if (options.optimizedModelFilePath) {
    await writeFile(options.optimizedModelFilePath, modelToBytes(core.model));
  }
  return { core, options };
}

/** onnxruntime's session config key for optimizers to skip, as a comma-separated list. */
const DISABLE_KEY = 'optimization.disable_specified_optimizers';

/**
 * Optimizer passes to skip, from `extra` as onnxruntime spells it: `{ 'optimization.disable_specified_optimizers':
 * 'A,B' }` or nested (`{ optimization: { disable_specified_optimizers: 'A,B' } }`, the form onnxruntime-web
 * flattens); an array of names is accepted too. Names are Onyx's pass names or onnxruntime's.
 */
function disabledOptimizers(o: SessionOptions): Set<string> {
  const extra = o.extra ?? {};
  const nested = extra.optimization as Record<string, unknown> | undefined;
  const raw = extra[DISABLE_KEY] ?? nested?.disable_specified_optimizers;
  if (raw === undefined) return new Set();
  const list = (Array.isArray(raw) ? raw.map(String) : String(raw).split(','))
    .map((x) => x.trim())
    .filter(Boolean);
  const unknown = list.filter((x) => !PASS_NAMES.includes(x));
  if (unknown.length > 0) {
    log(
      2,
      o.logSeverityLevel,
      `${DISABLE_KEY}: no optimizer pass is named ${unknown.map((x) => `'${x}'`).join(', ')}; known: ${PASS_NAMES.join(', ')}`,
    );
  }
  return new Set(list);
}

function outputsWanted(fetches: FetchesType | RunOptions | undefined, all: readonly string[]): string[] {
  if (fetches === undefined) return [...all];
  const names = Array.isArray(fetches)
    ? [...(fetches as string[])]
    : isFetchRecord(fetches)
      ? Object.keys(fetches)
      : [...all];
  for (const n of names) {
    if (!all.includes(n)) {
      throw new OnyxError(
        'INVALID_ARGUMENT',
        `'${n}' is not an output of this model; its outputs are: ${all.map((x) => `'${x}'`).join(', ')}`,
      );
    }
  }
  return names;
}

function isFetchRecord(x: object): boolean {
  const runOptionKeys = ['logSeverityLevel', 'logVerbosityLevel', 'tag', 'terminate', 'extra'];
  const keys = Object.keys(x);
  return keys.length > 0 && !keys.every((k) => runOptionKeys.includes(k));
}

function resolveProviders(configs: readonly ExecutionProviderConfig[] | undefined): ExecutionProvider[] {
  const list = configs && configs.length > 0 ? configs : ['cpu'];
  const out: ExecutionProvider[] = [];
  for (const c of list) {
    if (typeof c === 'object' && 'getKernel' in c) {
      out.push(c as ExecutionProvider);
      continue;
    }
    const name = typeof c === 'string' ? c : c.name;
    // onnxruntime-web programs name 'wasm'; Onyx's CPU provider is its equivalent.
    const ep = getExecutionProvider(name === 'wasm' ? 'cpu' : name);
    if (!ep) throw new OnyxError('INVALID_ARGUMENT', `execution provider '${name}' is not registered`);
    out.push(ep);
  }
  // The CPU provider always backs the others up, as in onnxruntime.
  if (!out.some((e) => e.name === 'cpu')) out.push(getExecutionProvider('cpu')!);
  return out;
}

function externalReader(files: NonNullable<SessionOptions['externalData']>): ExternalDataReader {
  if (Array.isArray(files)) {
    return new MapExternalDataReader(
      Object.fromEntries(
        files.map((f) => [
          f.path,
          f.data instanceof Uint8Array ? f.data : new Uint8Array(f.data as ArrayBuffer),
        ]),
      ),
    );
  }
  return new MapExternalDataReader(files as Record<string, Uint8Array>);
}

function reportUnimplemented(o: SessionOptions): void {
  const level = o.logSeverityLevel;
  if (o.executionMode === 'parallel')
    log(2, level, "executionMode 'parallel' is not implemented yet: nodes run sequentially");
  void env;
}
