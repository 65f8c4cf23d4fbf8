/**
 * Builds feeds for `onyx run`/`onyx bench` from files (.pb, .npy, .json) or random values that
 * follow the model's input metadata (symbolic dims from --dim, else 1).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import {
  OnyxError,
  readValueProto,
  Tensor,
  type TensorType,
  type Value,
  type ValueMetadata,
} from '../index.js';
import { kindOf } from './backend-case.js';
import { readNpy } from './npy.js';
import { UsageError } from './exit-codes.js';

export function parseAssignments(list: readonly string[] | undefined, what: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} must look like name=value, got '${item}'`);
    out.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

export function readInputFile(path: string, meta: ValueMetadata | undefined): Value {
  const bytes = readFileSync(path);
  switch (extname(path).toLowerCase()) {
    case '.pb':
      return readValueProto(bytes, meta ? kindOf(meta) : 'tensor');
    case '.npy':
      return readNpy(bytes, path);
    case '.json':
      return tensorFromJson(JSON.parse(new TextDecoder().decode(bytes)), meta, path);
    default:
      throw new UsageError(`input file '${path}' must be .pb, .npy or .json`);
  }
}

/** JSON input: a nested array, or {"type"?, "dims"?, "data"}. */
function tensorFromJson(json: unknown, meta: ValueMetadata | undefined, path: string): Tensor {
  const obj = (Array.isArray(json) ? { data: json } : json) as {
    type?: TensorType;
    dims?: number[];
    data?: unknown;
  };
  if (!obj || !Array.isArray(obj.data))
    throw new UsageError(`${path}: expected a nested array or {"dims", "data"}`);
  const dims = obj.dims ?? nestedDims(obj.data);
  const flat = (obj.data as unknown[]).flat(Infinity) as (number | string | boolean)[];
  const type = obj.type ?? (meta?.isTensor ? meta.type : 'float32');
  return new Tensor(type, flat as number[], dims);
}

function nestedDims(a: unknown): number[] {
  const dims: number[] = [];
  for (let x = a; Array.isArray(x); x = x[0]) dims.push(x.length);
  return dims;
}

/** A small deterministic PRNG (mulberry32), so `--random` runs are repeatable with --seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInput(
  meta: ValueMetadata,
  dimValues: ReadonlyMap<string, string>,
  rand: () => number,
): Tensor {
  if (!meta.isTensor) {
    throw new OnyxError(
      'INVALID_ARGUMENT',
      `--random cannot make a value for non-tensor input '${meta.name}' (${meta.onnxType})`,
    );
  }
  const dims = meta.shape.map((d) => (typeof d === 'number' ? d : Number(dimValues.get(d) ?? 1)));
  const n = dims.reduce((a, b) => a * b, 1);
  const t = meta.type;
  if (t === 'string')
    return new Tensor(
      'string',
      Array.from({ length: n }, (_, i) => `s${i}`),
      dims,
    );
  if (t === 'bool')
    return new Tensor(
      'bool',
      Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0)),
      dims,
    );
  if (t === 'float32' || t === 'float64') {
    return new Tensor(
      t,
      Array.from({ length: n }, () => rand() * 2 - 1),
      dims,
    );
  }
  if (t === 'int64' || t === 'uint64')
    return new Tensor(
      t,
      Array.from({ length: n }, () => BigInt(Math.floor(rand() * 10))),
      dims,
    );
  if (t.startsWith('int') || t.startsWith('uint'))
    return new Tensor(
      t,
      Array.from({ length: n }, () => Math.floor(rand() * 10)),
      dims,
    );
  throw new OnyxError(
    'INVALID_ARGUMENT',
    `--random does not generate '${t}' inputs yet (input '${meta.name}')`,
  );
}

export function buildFeeds(
  metas: readonly ValueMetadata[],
  inputFiles: ReadonlyMap<string, string>,
  random: boolean,
  dimValues: ReadonlyMap<string, string>,
  seed = 1,
): Record<string, Value> {
  const feeds: Record<string, Value> = {};
  const rand = prng(seed);
  for (const name of inputFiles.keys()) {
    if (!metas.some((m) => m.name === name)) {
      throw new UsageError(
        `--input ${name}: the model has no input '${name}' (inputs: ${metas.map((m) => m.name).join(', ')})`,
      );
    }
  }
  for (const meta of metas) {
    const file = inputFiles.get(meta.name);
    if (file) feeds[meta.name] = readInputFile(file, meta);
    else if (random) feeds[meta.name] = randomInput(meta, dimValues, rand);
    else
      throw new UsageError(`no value for input '${meta.name}': pass --input ${meta.name}=FILE or --random`);
  }
  return feeds;
}
