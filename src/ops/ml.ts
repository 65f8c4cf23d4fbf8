/**
 * Traditional-ML ops of the 'ai.onnx.ml' domain: LabelEncoder (1, 2, 4), ArrayFeatureExtractor,
 * Binarizer, Normalizer, Scaler, OneHotEncoder, ZipMap (1), TreeEnsembleRegressor and
 * TreeEnsembleClassifier (1, 3) and TreeEnsemble (5).
 */
import { dtypeInfo, type TensorType } from '../core/dtype.js';
import { OnyxError, check } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { MapKey, Value } from '../core/value.js';
import type { Attributes } from '../ir/attributes.js';
import type { OpDef } from './kernel.js';
import { unary } from './util/elementwise.js';
import { intsOf, numbersOf, tensorFromNumbers, tensorInput } from './util/numeric.js';

const ML = 'ai.onnx.ml';

/** Numeric input types the classic ML ops accept (converted to JS numbers). */
function numericInput(v: Value | undefined, what: string): Tensor {
  const t = tensorInput(v, what);
  const c = dtypeInfo(t.type).numericClass;
  if (c === 'string' || c === 'complex') {
    throw new OnyxError('TYPE_MISMATCH', `${what} must be a numeric tensor, got ${t.type}`);
  }
  return t;
}

/** Rows × columns view of a [N, C] or [C] input (a 1-D input is one row). */
function rowsCols(t: Tensor, what: string): [number, number] {
  if (t.dims.length === 1) return [1, t.dims[0]];
  if (t.dims.length === 2) return [t.dims[0], t.dims[1]];
  throw new OnyxError('SHAPE_MISMATCH', `${what} must be [N, C] or [C], got [${t.dims.join(', ')}]`);
}

// ------------------------------------------------------------------------------------ LabelEncoder

type Key = number | string;

function keyOf(x: number | bigint | string): Key {
  return typeof x === 'bigint' ? Number(x) : x;
}

/** Elements of a tensor as lookup keys (strings stay strings, all numbers become JS numbers). */
function keysOfTensor(t: Tensor): Key[] {
  const c = dtypeInfo(t.type).numericClass;
  if (c === 'string') return t.data as string[];
  if (c === 'bigint') return Array.from(t.data as BigInt64Array, Number);
  return Array.from(numbersOf(t));
}

interface ValueTable {
  type: TensorType;
  values: Key[];
  fallback: Key;
}

function labelEncoderTable(a: Attributes, version: number): { keys: Key[]; table: ValueTable } {
  if (version < 2) {
    const classes = a.strings('classes_strings', []);
    // v1 maps string → index (int64) or int64 → string, decided by the input type at run time.
    return {
      keys: classes,
      table: { type: 'int64', values: classes.map((_, i) => i), fallback: a.int('default_int64', -1) },
    };
  }
  const keySources: [string, Key[] | undefined][] = [
    ['keys_strings', a.has('keys_strings') ? a.strings('keys_strings') : undefined],
    ['keys_int64s', a.has('keys_int64s') ? a.ints('keys_int64s') : undefined],
    ['keys_floats', a.has('keys_floats') ? a.floats('keys_floats') : undefined],
    ['keys_tensor', version >= 4 && a.has('keys_tensor') ? keysOfTensor(a.tensor('keys_tensor')) : undefined],
  ];
  const givenKeys = keySources.filter(([, v]) => v !== undefined);
  check(
    givenKeys.length === 1,
    () =>
      `LabelEncoder needs exactly one of keys_strings, keys_int64s, keys_floats${version >= 4 ? ', keys_tensor' : ''}; got ${givenKeys.length === 0 ? 'none' : givenKeys.map(([n]) => n).join(', ')}`,
  );
  const defTensor = version >= 4 ? a.tensor('default_tensor', true) : undefined;
  const pickDefault = (type: TensorType, fromAttr: Key): Key => {
    if (!defTensor) return fromAttr;
    check(defTensor.type === type, () => `default_tensor is ${defTensor.type} but the values are ${type}`);
    check(
      defTensor.size === 1,
      () => `default_tensor must hold one value, got dims [${defTensor.dims.join(', ')}]`,
    );
    return keysOfTensor(defTensor)[0];
  };
  const choices: ValueTable[] = [];
  if (a.has('values_strings')) {
    choices.push({
      type: 'string',
      values: a.strings('values_strings'),
      fallback: pickDefault('string', a.string('default_string', '_Unused')),
    });
  }
  if (a.has('values_int64s')) {
    choices.push({
      type: 'int64',
      values: a.ints('values_int64s'),
      fallback: pickDefault('int64', a.int('default_int64', -1)),
    });
  }
  if (a.has('values_floats')) {
    choices.push({
      type: 'float32',
      values: a.floats('values_floats'),
      fallback: pickDefault('float32', a.float('default_float', -0)),
    });
  }
  if (version >= 4 && a.has('values_tensor')) {
    const vt = a.tensor('values_tensor');
    const c = dtypeInfo(vt.type).numericClass;
    const natural: Key = c === 'string' ? '_Unused' : c === 'float' || c === 'minifloat' ? -0 : -1;
    choices.push({ type: vt.type, values: keysOfTensor(vt), fallback: pickDefault(vt.type, natural) });
  }
  check(
    choices.length === 1,
    () =>
      `LabelEncoder needs exactly one of values_strings, values_int64s, values_floats${version >= 4 ? ', values_tensor' : ''}; got ${choices.length}`,
  );
  const table = choices[0];
  const keys = givenKeys[0][1]!;
  check(
    keys.length === table.values.length,
    () => `LabelEncoder has ${keys.length} keys but ${table.values.length} values`,
  );
  return { keys, table };
}

function tensorOfKeys(type: TensorType, values: Key[], dims: readonly number[]): Tensor {
  if (type === 'string') return new Tensor('string', values as string[], dims);
  return tensorFromNumbers(type, values as number[], dims);
}

const labelEncoder: OpDef = {
  domain: ML,
  opType: 'LabelEncoder',
  versions: [1, 2, 4],
  build(node) {
    const a = node.attrs;
    const { keys, table } = labelEncoderTable(a, node.sinceVersion);
    const index = new Map<Key, number>();
    // First occurrence wins for duplicate keys.
    keys.forEach((k, i) => {
      if (!index.has(k)) index.set(k, i);
    });
    if (node.sinceVersion < 2) {
      const classes = keys as string[];
      const defInt = a.int('default_int64', -1);
      const defStr = a.string('default_string', '_Unused');
      return (inputs) => {
        const x = tensorInput(inputs[0], 'X');
        if (x.type === 'string') {
          const out = new BigInt64Array(x.size);
          (x.data as string[]).forEach((s, i) => (out[i] = BigInt(index.get(s) ?? defInt)));
          return [new Tensor('int64', out, x.dims)];
        }
        check(
          x.type === 'int64',
          () => `LabelEncoder-1 takes tensor(string) or tensor(int64), got ${x.type}`,
        );
        const out = Array.from(x.data as BigInt64Array, (v) => {
          const i = Number(v);
          return i >= 0 && i < classes.length ? classes[i] : defStr;
        });
        return [new Tensor('string', out, x.dims)];
      };
    }
    return (inputs) => {
      const x = tensorInput(inputs[0], 'X');
      const xs = keysOfTensor(x);
      const keyIsString = typeof keys[0] === 'string' || (keys.length === 0 && x.type === 'string');
      if ((x.type === 'string') !== keyIsString && keys.length > 0) {
        throw new OnyxError(
          'TYPE_MISMATCH',
          `LabelEncoder keys are ${keyIsString ? 'strings' : 'numbers'} but X is tensor(${x.type})`,
        );
      }
      const out = new Array<Key>(xs.length);
      for (let i = 0; i < xs.length; i++) {
        const j = index.get(keyOf(xs[i]));
        out[i] = j === undefined ? table.fallback : table.values[j];
      }
      return [tensorOfKeys(table.type, out, x.dims)];
    };
  },
};

// --------------------------------------------------------------------------- ArrayFeatureExtractor

const arrayFeatureExtractor: OpDef = {
  domain: ML,
  opType: 'ArrayFeatureExtractor',
  versions: [1],
  build() {
    return (inputs, ctx) => {
      const x = tensorInput(inputs[0], 'X');
      const idx = intsOf(tensorInput(inputs[1], 'Y'), 'Y');
      check(x.dims.length >= 1, 'ArrayFeatureExtractor needs X of rank ≥ 1, got a scalar');
      const last = x.dims[x.dims.length - 1];
      for (const i of idx) {
        if (i < 0 || i >= last) {
          throw new OnyxError(
            'INVALID_ARGUMENT',
            `index ${i} is out of range for the last axis of X (size ${last})`,
          );
        }
      }
      const outer = x.size / Math.max(last, 1);
      const dims = x.dims.length === 1 ? [1, idx.length] : [...x.dims.slice(0, -1), idx.length];
      const out = ctx.alloc(x.type, dims);
      const lanes = dtypeInfo(x.type).lanes;
      const src = x.data as unknown as ArrayLike<unknown> & Record<number, unknown>;
      const dst = out.data as unknown as Record<number, unknown>;
      for (let o = 0; o < (last === 0 ? 0 : outer); o++) {
        for (let k = 0; k < idx.length; k++) {
          for (let l = 0; l < lanes; l++)
            dst[(o * idx.length + k) * lanes + l] = src[(o * last + idx[k]) * lanes + l];
        }
      }
      return [out];
    };
  },
};

// ------------------------------------------------------------------------------------- Binarizer

const binarizer: OpDef = {
  domain: ML,
  opType: 'Binarizer',
  versions: [1],
  build(node) {
    const threshold = node.attrs.float('threshold', 0);
    return (inputs) => {
      const x = numericInput(inputs[0], 'X');
      const big = dtypeInfo(x.type).numericClass === 'bigint';
      return [
        unary(
          x,
          x.type,
          big ? (v: bigint) => (Number(v) > threshold ? 1n : 0n) : (v: number) => (v > threshold ? 1 : 0),
        ),
      ];
    };
  },
};

// ------------------------------------------------------------------------------------ Normalizer

const normalizer: OpDef = {
  domain: ML,
  opType: 'Normalizer',
  versions: [1],
  build(node) {
    const norm = node.attrs.string('norm', 'MAX');
    check(['MAX', 'L1', 'L2'].includes(norm), () => `norm must be MAX, L1 or L2, got '${norm}'`);
    return (inputs) => {
      const x = numericInput(inputs[0], 'X');
      const [rows, cols] = rowsCols(x, 'X');
      const src = numbersOf(x);
      const out = new Float32Array(x.size);
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        let d = 0;
        if (norm === 'MAX') {
          d = -Infinity;
          for (let c = 0; c < cols; c++) d = Math.max(d, src[o + c]);
        } else if (norm === 'L1') {
          for (let c = 0; c < cols; c++) d += Math.abs(src[o + c]);
        } else {
          for (let c = 0; c < cols; c++) d += src[o + c] * src[o + c];
          d = Math.sqrt(d);
        }
        // A zero (or empty) row is left as it is instead of becoming NaN.
        const scale = d !== 0 && Number.isFinite(d) ? 1 / d : 1;
        for (let c = 0; c < cols; c++)
          out[o + c] = norm === 'MAX' && d === 0 ? src[o + c] : src[o + c] * scale;
      }
      return [new Tensor('float32', out, x.dims)];
    };
  },
};

// ---------------------------------------------------------------------------------------- Scaler

const scaler: OpDef = {
  domain: ML,
  opType: 'Scaler',
  versions: [1],
  build(node) {
    const offset = node.attrs.floats('offset', [0]);
    const scale = node.attrs.floats('scale', [1]);
    return (inputs) => {
      const x = numericInput(inputs[0], 'X');
      const cols = x.dims.length === 0 ? 1 : x.dims[x.dims.length - 1];
      for (const [name, v] of [
        ['offset', offset],
        ['scale', scale],
      ] as const) {
        if (v.length !== 1 && v.length !== cols) {
          throw new OnyxError(
            'SHAPE_MISMATCH',
            `${name} has ${v.length} values, expected 1 or ${cols} (the last dim of X)`,
          );
        }
      }
      const src = numbersOf(x);
      const out = new Float32Array(x.size);
      for (let i = 0; i < out.length; i++) {
        const c = cols === 0 ? 0 : i % cols;
        out[i] = (src[i] - offset[offset.length === 1 ? 0 : c]) * scale[scale.length === 1 ? 0 : c];
      }
      return [new Tensor('float32', out, x.dims)];
    };
  },
};

// -------------------------------------------------------------------------------- OneHotEncoder

const oneHotEncoder: OpDef = {
  domain: ML,
  opType: 'OneHotEncoder',
  versions: [1],
  build(node) {
    const a = node.attrs;
    const strings = a.has('cats_strings');
    check(
      strings !== a.has('cats_int64s'),
      'OneHotEncoder needs exactly one of cats_strings and cats_int64s',
    );
    const cats: Key[] = strings ? a.strings('cats_strings') : a.ints('cats_int64s');
    const index = new Map<Key, number>();
    cats.forEach((k, i) => {
      if (!index.has(k)) index.set(k, i);
    });
    const zeros = a.int('zeros', 1) !== 0;
    return (inputs) => {
      const x = tensorInput(inputs[0], 'X');
      if ((x.type === 'string') !== strings) {
        throw new OnyxError(
          'TYPE_MISMATCH',
          `X is tensor(${x.type}) but the categories are ${strings ? 'strings' : 'int64'}`,
        );
      }
      const xs = keysOfTensor(x);
      const n = cats.length;
      const out = new Float32Array(xs.length * n);
      for (let i = 0; i < xs.length; i++) {
        const v = xs[i];
        const j = index.get(typeof v === 'number' ? Math.trunc(v) : v);
        if (j === undefined) {
          if (!zeros) {
            throw new OnyxError(
              'INVALID_ARGUMENT',
              `value '${String(v)}' is not a known category and zeros=0 forbids all-zero rows`,
            );
          }
          continue;
        }
        out[i * n + j] = 1;
      }
      return [new Tensor('float32', out, [...x.dims, n])];
    };
  },
};

// ------------------------------------------------------------------------------------------ ZipMap

const zipMap: OpDef = {
  domain: ML,
  opType: 'ZipMap',
  versions: [1],
  build(node) {
    const a = node.attrs;
    const strings = a.has('classlabels_strings');
    check(
      strings !== a.has('classlabels_int64s'),
      'ZipMap needs exactly one of classlabels_strings and classlabels_int64s',
    );
    const labels: MapKey[] = strings
      ? a.strings('classlabels_strings')
      : a.ints('classlabels_int64s').map((v) => BigInt(v));
    return (inputs) => {
      const x = tensorInput(inputs[0], 'X');
      check(x.type === 'float32', () => `ZipMap takes tensor(float), got ${x.type}`);
      const [rows, cols] = rowsCols(x, 'X');
      if (cols !== labels.length) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `X has ${cols} columns but ZipMap has ${labels.length} class labels`,
        );
      }
      const src = x.data as Float32Array;
      const out: Value[] = [];
      for (let r = 0; r < rows; r++) {
        const m = new Map<MapKey, Value>();
        for (let c = 0; c < cols; c++)
          m.set(labels[c], new Tensor('float32', Float32Array.of(src[r * cols + c]), []));
        out.push(m);
      }
      return [out];
    };
  },
};

// -------------------------------------------------------------------------------- Tree ensembles

type PostTransform = 'NONE' | 'SOFTMAX' | 'LOGISTIC' | 'SOFTMAX_ZERO' | 'PROBIT';
const POST_TRANSFORMS: readonly PostTransform[] = ['NONE', 'SOFTMAX', 'LOGISTIC', 'SOFTMAX_ZERO', 'PROBIT'];

function logistic(v: number): number {
  const e = 1 / (1 + Math.exp(-Math.abs(v)));
  return v < 0 ? 1 - e : e;
}

/** Inverse error function (the approximation onnxruntime and the ONNX reference use for PROBIT). */
function erfInv(x: number): number {
  const sgn = x < 0 ? -1 : 1;
  const t = (1 - x) * (1 + x);
  if (t === 0) return 0;
  const log = Math.log(t);
  const v = 2 / (Math.PI * 0.147) + 0.5 * log;
  const v2 = (1 / 0.147) * log;
  return sgn * Math.sqrt(-v + Math.sqrt(v * v - v2));
}

/** Applies a post transform to one row of scores in place. */
function postTransformRow(
  row: Float64Array | Float32Array,
  off: number,
  n: number,
  kind: PostTransform,
): void {
  switch (kind) {
    case 'NONE':
      return;
    case 'LOGISTIC':
      for (let i = 0; i < n; i++) row[off + i] = logistic(row[off + i]);
      return;
    case 'PROBIT':
      for (let i = 0; i < n; i++) row[off + i] = Math.SQRT2 * erfInv(2 * row[off + i] - 1);
      return;
    case 'SOFTMAX': {
      let max = -Infinity;
      for (let i = 0; i < n; i++) max = Math.max(max, row[off + i]);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        row[off + i] = Math.exp(row[off + i] - max);
        sum += row[off + i];
      }
      for (let i = 0; i < n; i++) row[off + i] /= sum;
      return;
    }
    case 'SOFTMAX_ZERO': {
      // Like softmax, but exact zeros stay (near) zero instead of contributing exp(0).
      let max = -Infinity;
      for (let i = 0; i < n; i++) max = Math.max(max, row[off + i]);
      const expNegMax = Math.exp(-max);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = row[off + i];
        row[off + i] = v > 1e-7 || v < -1e-7 ? Math.exp(v - max) : v * expNegMax;
        sum += row[off + i];
      }
      for (let i = 0; i < n; i++) row[off + i] = sum === 0 ? 0.5 : row[off + i] / sum;
      return;
    }
  }
}

function postTransformAttr(a: Attributes): PostTransform {
  const p = a.string('post_transform', 'NONE') as PostTransform;
  check(
    POST_TRANSFORMS.includes(p),
    () => `post_transform must be one of ${POST_TRANSFORMS.join(', ')}, got '${p}'`,
  );
  return p;
}

/** Float attribute `name`, or its `name_as_tensor` form (v3), or `fallback`. */
function floatsOrTensor(
  a: Attributes,
  name: string,
  version: number,
  fallback?: number[],
): number[] | undefined {
  if (version >= 3 && a.has(`${name}_as_tensor`)) {
    check(!a.has(name), () => `only one of ${name} and ${name}_as_tensor may be given`);
    return Array.from(numbersOf(a.tensor(`${name}_as_tensor`)));
  }
  return a.has(name) ? a.floats(name) : fallback;
}

const enum Mode {
  LEQ = 0,
  LT = 1,
  GTE = 2,
  GT = 3,
  EQ = 4,
  NEQ = 5,
  MEMBER = 6,
  LEAF = 7,
}

const LEGACY_MODES: Record<string, Mode> = {
  BRANCH_LEQ: Mode.LEQ,
  BRANCH_LT: Mode.LT,
  BRANCH_GTE: Mode.GTE,
  BRANCH_GT: Mode.GT,
  BRANCH_EQ: Mode.EQ,
  BRANCH_NEQ: Mode.NEQ,
  LEAF: Mode.LEAF,
};

function compare(mode: Mode, x: number, th: number): boolean {
  switch (mode) {
    case Mode.LEQ:
      return x <= th;
    case Mode.LT:
      return x < th;
    case Mode.GTE:
      return x >= th;
    case Mode.GT:
      return x > th;
    case Mode.EQ:
      return x === th;
    case Mode.NEQ:
      return x !== th;
    default:
      return false;
  }
}

/**
 * The legacy (v1/v3) tree layout flattened to arrays: nodes are addressed by position; `trueNext`
 * and `falseNext` are positions; a leaf's (target or class, weight) pairs are `leafTargets[leaf]`.
 */
interface LegacyForest {
  roots: number[];
  modes: Uint8Array;
  features: Int32Array;
  values: Float64Array;
  trueNext: Int32Array;
  falseNext: Int32Array;
  missingTrue: Uint8Array;
  leafTargets: { ids: number[]; weights: number[] }[];
}

function legacyForest(a: Attributes, version: number, prefix: 'target' | 'class'): LegacyForest {
  const treeIds = a.ints('nodes_treeids');
  const nodeIds = a.ints('nodes_nodeids');
  const n = treeIds.length;
  const modesAttr = a.strings('nodes_modes');
  const features = a.ints('nodes_featureids');
  const values = floatsOrTensor(a, 'nodes_values', version, new Array<number>(n).fill(0))!;
  const trueIds = a.ints('nodes_truenodeids', new Array<number>(n).fill(0));
  const falseIds = a.ints('nodes_falsenodeids', new Array<number>(n).fill(0));
  const missing = a.ints('nodes_missing_value_tracks_true', new Array<number>(n).fill(0));
  for (const [name, len] of [
    ['nodes_nodeids', nodeIds.length],
    ['nodes_modes', modesAttr.length],
    ['nodes_featureids', features.length],
    ['nodes_values', values.length],
    ['nodes_truenodeids', trueIds.length],
    ['nodes_falsenodeids', falseIds.length],
  ] as const) {
    check(len === n, () => `${name} has ${len} entries, expected ${n} (one per node, like nodes_treeids)`);
  }
  const pos = new Map<string, number>();
  const roots: number[] = [];
  const seenTree = new Set<number>();
  for (let i = 0; i < n; i++) {
    pos.set(`${treeIds[i]}:${nodeIds[i]}`, i);
    if (!seenTree.has(treeIds[i])) {
      seenTree.add(treeIds[i]);
      roots.push(i);
    }
  }
  const f: LegacyForest = {
    roots,
    modes: new Uint8Array(n),
    features: Int32Array.from(features),
    values: Float64Array.from(values),
    trueNext: new Int32Array(n).fill(-1),
    falseNext: new Int32Array(n).fill(-1),
    missingTrue: Uint8Array.from(missing.length === n ? missing : new Array<number>(n).fill(0), (v) =>
      v ? 1 : 0,
    ),
    leafTargets: Array.from({ length: n }, () => ({ ids: [], weights: [] })),
  };
  const find = (tree: number, id: number, from: number) => {
    const p = pos.get(`${tree}:${id}`);
    if (p === undefined) {
      throw new OnyxError(
        'INVALID_MODEL',
        `tree ${tree}: node ${nodeIds[from]} points to node ${id}, which does not exist`,
      );
    }
    return p;
  };
  for (let i = 0; i < n; i++) {
    const mode = LEGACY_MODES[modesAttr[i]];
    check(mode !== undefined, () => `nodes_modes entry '${modesAttr[i]}' is not a known mode`);
    f.modes[i] = mode;
    if (mode !== Mode.LEAF) {
      f.trueNext[i] = find(treeIds[i], trueIds[i], i);
      f.falseNext[i] = find(treeIds[i], falseIds[i], i);
    }
  }
  const tTree = a.ints(`${prefix}_treeids`, []);
  const tNode = a.ints(`${prefix}_nodeids`, []);
  const tIds = a.ints(`${prefix}_ids`, []);
  const tWeights = floatsOrTensor(a, `${prefix}_weights`, version, [])!;
  check(
    tTree.length === tNode.length && tNode.length === tIds.length && tIds.length === tWeights.length,
    () => `${prefix}_treeids/_nodeids/_ids/_weights must have the same length`,
  );
  for (let k = 0; k < tTree.length; k++) {
    const p = pos.get(`${tTree[k]}:${tNode[k]}`);
    if (p === undefined) {
      throw new OnyxError(
        'INVALID_MODEL',
        `${prefix} weight ${k} names tree ${tTree[k]} node ${tNode[k]}, which does not exist`,
      );
    }
    f.leafTargets[p].ids.push(tIds[k]);
    f.leafTargets[p].weights.push(tWeights[k]);
  }
  return f;
}

function legacyLeaf(
  f: LegacyForest,
  root: number,
  x: ArrayLike<number>,
  off: number,
  nFeatures: number,
): number {
  let i = root;
  let guard = 0;
  while (f.modes[i] !== Mode.LEAF) {
    const feat = f.features[i];
    if (feat < 0 || feat >= nFeatures) {
      throw new OnyxError(
        'INVALID_ARGUMENT',
        `tree node uses feature ${feat}, but X has ${nFeatures} features`,
      );
    }
    const v = x[off + feat];
    const goTrue = Number.isNaN(v) ? f.missingTrue[i] === 1 : compare(f.modes[i] as Mode, v, f.values[i]);
    i = goTrue ? f.trueNext[i] : f.falseNext[i];
    if (++guard > f.modes.length) throw new OnyxError('INVALID_MODEL', 'a tree of the ensemble has a cycle');
  }
  return i;
}

const treeEnsembleRegressor: OpDef = {
  domain: ML,
  opType: 'TreeEnsembleRegressor',
  versions: [1, 3],
  build(node) {
    const a = node.attrs;
    const forest = legacyForest(a, node.sinceVersion, 'target');
    const nTargets = a.int('n_targets', 1);
    const agg = a.string('aggregate_function', 'SUM');
    check(
      ['SUM', 'AVERAGE', 'MIN', 'MAX'].includes(agg),
      () => `aggregate_function must be SUM, AVERAGE, MIN or MAX, got '${agg}'`,
    );
    const base = floatsOrTensor(a, 'base_values', node.sinceVersion, []) ?? [];
    check(
      base.length === 0 || base.length === nTargets,
      () => `base_values has ${base.length} entries, expected ${nTargets}`,
    );
    const post = postTransformAttr(a);
    return (inputs) => {
      const x = numericInput(inputs[0], 'X');
      const [rows, cols] = rowsCols(x, 'X');
      const xs = numbersOf(x);
      const out = new Float32Array(rows * nTargets);
      const acc = new Float64Array(nTargets);
      const has = new Uint8Array(nTargets);
      for (let r = 0; r < rows; r++) {
        acc.fill(0);
        has.fill(0);
        for (const root of forest.roots) {
          const leaf = forest.leafTargets[legacyLeaf(forest, root, xs, r * cols, cols)];
          for (let k = 0; k < leaf.ids.length; k++) {
            const t = leaf.ids[k];
            check(t >= 0 && t < nTargets, () => `target id ${t} is out of range for n_targets ${nTargets}`);
            const w = leaf.weights[k];
            if (agg === 'MIN') acc[t] = has[t] ? Math.min(acc[t], w) : w;
            else if (agg === 'MAX') acc[t] = has[t] ? Math.max(acc[t], w) : w;
            else acc[t] += w;
            has[t] = 1;
          }
        }
        for (let t = 0; t < nTargets; t++) {
          let v = acc[t];
          if (agg === 'AVERAGE') v /= forest.roots.length;
          acc[t] = v + (base.length ? base[t] : 0);
        }
        postTransformRow(acc, 0, nTargets, post);
        out.set(acc, r * nTargets);
      }
      return [new Tensor('float32', out, [rows, nTargets])];
    };
  },
};

const treeEnsembleClassifier: OpDef = {
  domain: ML,
  opType: 'TreeEnsembleClassifier',
  versions: [1, 3],
  build(node) {
    const a = node.attrs;
    const forest = legacyForest(a, node.sinceVersion, 'class');
    const strings = a.has('classlabels_strings');
    check(
      strings !== a.has('classlabels_int64s'),
      'TreeEnsembleClassifier needs exactly one of classlabels_strings and classlabels_int64s',
    );
    const labels: Key[] = strings ? a.strings('classlabels_strings') : a.ints('classlabels_int64s');
    const nClasses = labels.length;
    const base = floatsOrTensor(a, 'base_values', node.sinceVersion, []) ?? [];
    const post = postTransformAttr(a);
    const classIds = a.ints('class_ids', []);
    // Binary case (as the ONNX reference): every leaf scores the same class; the other is derived.
    const binary = new Set(classIds).size === 1;
    const width = binary && nClasses === 1 ? 2 : nClasses;
    return (inputs) => {
      const x = numericInput(inputs[0], 'X');
      const [rows, cols] = rowsCols(x, 'X');
      const xs = numbersOf(x);
      const scores = new Float64Array(rows * width);
      const outLabels: Key[] = new Array<Key>(rows);
      for (let r = 0; r < rows; r++) {
        const o = r * width;
        for (let c = 0; c < nClasses; c++) scores[o + c] = base.length ? (base[c] ?? 0) : 0;
        for (const root of forest.roots) {
          const leaf = forest.leafTargets[legacyLeaf(forest, root, xs, r * cols, cols)];
          for (let k = 0; k < leaf.ids.length; k++) {
            const c = leaf.ids[k];
            check(c >= 0 && c < nClasses, () => `class id ${c} is out of range for ${nClasses} classes`);
            scores[o + c] += leaf.weights[k];
          }
        }
        if (binary) {
          if (nClasses === 1) {
            scores[o + 1] = scores[o];
          } else {
            scores[o + 1] = scores[o];
          }
          scores[o] = post === 'NONE' || post === 'PROBIT' ? 1 - scores[o + 1] : -scores[o + 1];
        }
        postTransformRow(scores, o, width, post);
        let best = 0;
        for (let c = 1; c < width; c++) if (scores[o + c] > scores[o + best]) best = c;
        outLabels[r] = nClasses === 1 ? (best === 1 ? labels[0] : strings ? '' : 0) : labels[best];
      }
      const y = strings
        ? new Tensor('string', outLabels as string[], [rows])
        : new Tensor(
            'int64',
            BigInt64Array.from(outLabels as number[], (v) => BigInt(v)),
            [rows],
          );
      return [y, new Tensor('float32', Float32Array.from(scores), [rows, width])];
    };
  },
};

/** TreeEnsemble (ai.onnx.ml 5): one op for regression and classification, leaves in their own arrays. */
const treeEnsemble: OpDef = {
  domain: ML,
  opType: 'TreeEnsemble',
  versions: [5],
  build(node) {
    const a = node.attrs;
    const nTargets = a.int('n_targets');
    const agg = a.int('aggregate_function', 1);
    check(
      agg >= 0 && agg <= 3,
      () => `aggregate_function must be 0 (AVERAGE), 1 (SUM), 2 (MIN) or 3 (MAX), got ${agg}`,
    );
    const postCode = a.int('post_transform', 0);
    check(postCode >= 0 && postCode <= 4, () => `post_transform must be in 0..4, got ${postCode}`);
    const post = POST_TRANSFORMS[postCode];
    const modesT = a.tensor('nodes_modes');
    const modes = Uint8Array.from(intsOf(modesT, 'nodes_modes'));
    const n = modes.length;
    const splits = numbersOf(a.tensor('nodes_splits'));
    const features = a.ints('nodes_featureids');
    const trueIds = a.ints('nodes_truenodeids');
    const falseIds = a.ints('nodes_falsenodeids');
    const trueLeafs = a.ints('nodes_trueleafs');
    const falseLeafs = a.ints('nodes_falseleafs');
    const missing = a.ints('nodes_missing_value_tracks_true', new Array<number>(n).fill(0));
    for (const [name, len] of [
      ['nodes_splits', splits.length],
      ['nodes_featureids', features.length],
      ['nodes_truenodeids', trueIds.length],
      ['nodes_falsenodeids', falseIds.length],
      ['nodes_trueleafs', trueLeafs.length],
      ['nodes_falseleafs', falseLeafs.length],
      ['nodes_missing_value_tracks_true', missing.length],
    ] as const) {
      check(len === n, () => `${name} has ${len} entries, expected ${n} (one per node, like nodes_modes)`);
    }
    const leafTargets = a.ints('leaf_targetids');
    const leafWeights = numbersOf(a.tensor('leaf_weights'));
    check(
      leafTargets.length === leafWeights.length,
      'leaf_targetids and leaf_weights must have the same length',
    );
    for (const t of leafTargets)
      check(t >= 0 && t < nTargets, () => `leaf target id ${t} is out of range for n_targets ${nTargets}`);
    const roots = a.ints('tree_roots');
    // Membership sets, one per BRANCH_MEMBER node in node order, each closed by a NaN.
    const members: (Set<number> | undefined)[] = new Array<Set<number> | undefined>(n);
    const memberValues = a.tensor('membership_values', true);
    const nMember = modes.reduce((s, m) => s + (m === Mode.MEMBER ? 1 : 0), 0);
    if (nMember > 0) {
      check(memberValues !== undefined, 'set-membership nodes (mode 6) need membership_values');
      const mv = numbersOf(memberValues);
      let p = 0;
      for (let i = 0; i < n; i++) {
        if (modes[i] !== Mode.MEMBER) continue;
        const s = new Set<number>();
        while (p < mv.length && !Number.isNaN(mv[p])) s.add(mv[p++]);
        check(p < mv.length, 'membership_values must hold one NaN-terminated set per set-membership node');
        p++;
        members[i] = s;
      }
    }
    for (let i = 0; i < n; i++) {
      check(modes[i] <= Mode.MEMBER, () => `nodes_modes entry ${modes[i]} is not a known mode (0..6)`);
      for (const [next, leaf] of [
        [trueIds[i], trueLeafs[i]],
        [falseIds[i], falseLeafs[i]],
      ]) {
        const limit = leaf ? leafWeights.length : n;
        check(
          next >= 0 && next < limit,
          () => `node ${i} points to ${leaf ? 'leaf' : 'node'} ${next}, out of range`,
        );
      }
    }
    const walk = (root: number, x: ArrayLike<number>, off: number, cols: number): number => {
      // Degenerate tree: the root is a leaf (both branches go to the same leaf).
      if (trueLeafs[root] && falseLeafs[root] && trueIds[root] === falseIds[root]) return root;
      let i = root;
      for (let guard = 0; guard <= n; guard++) {
        const feat = features[i];
        if (feat < 0 || feat >= cols) {
          throw new OnyxError(
            'INVALID_ARGUMENT',
            `tree node ${i} uses feature ${feat}, but X has ${cols} features`,
          );
        }
        const v = x[off + feat];
        const m = modes[i] as Mode;
        let goTrue = m === Mode.MEMBER ? members[i]!.has(v) : compare(m, v, splits[i]);
        if (!goTrue && missing[i] && Number.isNaN(v)) goTrue = true;
        const leaf = goTrue ? trueLeafs[i] : falseLeafs[i];
        const next = goTrue ? trueIds[i] : falseIds[i];
        if (leaf) return next;
        i = next;
      }
      throw new OnyxError('INVALID_MODEL', 'a tree of the ensemble has a cycle');
    };
    return (inputs) => {
      const x = numericInput(inputs[0], 'X');
      check(
        dtypeInfo(x.type).numericClass === 'float' || dtypeInfo(x.type).numericClass === 'minifloat',
        () => `TreeEnsemble takes a float tensor, got ${x.type}`,
      );
      const [rows, cols] = rowsCols(x, 'X');
      const xs = numbersOf(x);
      const out = new Float64Array(rows * nTargets);
      const big = x.type === 'float64' ? Number.MAX_VALUE : 3.4028234663852886e38;
      for (let r = 0; r < rows; r++) {
        const o = r * nTargets;
        const init = agg === 2 ? big : agg === 3 ? -big : 0;
        for (let t = 0; t < nTargets; t++) out[o + t] = init;
        for (const root of roots) {
          const leaf = walk(root, xs, r * cols, cols);
          const t = leafTargets[leaf];
          const w = leafWeights[leaf];
          if (agg === 2) out[o + t] = Math.min(out[o + t], w);
          else if (agg === 3) out[o + t] = Math.max(out[o + t], w);
          else out[o + t] += agg === 0 ? w / roots.length : w;
        }
        postTransformRow(out, o, nTargets, post);
      }
      return [tensorFromNumbers(x.type, out, [rows, nTargets])];
    };
  },
};

export const ops: OpDef[] = [
  labelEncoder,
  arrayFeatureExtractor,
  binarizer,
  normalizer,
  scaler,
  oneHotEncoder,
  zipMap,
  treeEnsembleRegressor,
  treeEnsembleClassifier,
  treeEnsemble,
];
