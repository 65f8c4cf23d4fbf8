/**
 * String ops: StringNormalizer (10), StringConcat / StringSplit / RegexFullMatch (20), and the
 * n-gram counter TfIdfVectorizer (9), which reads int or string tokens.
 */
import { OnyxError, check } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { OpDef } from './kernel.js';
import { binary } from './util/elementwise.js';
import { tensorInput } from './util/numeric.js';

function stringInput(v: Parameters<typeof tensorInput>[0], what: string): Tensor {
  const t = tensorInput(v, what);
  if (t.type !== 'string')
    throw new OnyxError('TYPE_MISMATCH', `${what} must be tensor(string), got ${t.type}`);
  return t;
}

// ------------------------------------------------------------------------------- StringNormalizer

/** 'en_US' (POSIX, as ONNX models spell it) → 'en-US' (BCP 47); undefined when JS rejects it. */
function jsLocale(locale: string): string | undefined {
  if (!locale) return undefined;
  const tag = locale.split('.')[0].replace(/_/g, '-');
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

const stringNormalizer: OpDef = {
  opType: 'StringNormalizer',
  versions: [10],
  build(node) {
    const action = node.attrs.string('case_change_action', 'NONE');
    if (!['NONE', 'LOWER', 'UPPER'].includes(action)) {
      throw new OnyxError(
        'INVALID_MODEL',
        `case_change_action must be NONE, LOWER or UPPER, got '${action}'`,
      );
    }
    const caseSensitive = node.attrs.int('is_case_sensitive', 0) !== 0;
    const locale = jsLocale(node.attrs.string('locale', ''));
    const lower = (s: string) => (locale ? s.toLocaleLowerCase(locale) : s.toLowerCase());
    const upper = (s: string) => (locale ? s.toLocaleUpperCase(locale) : s.toUpperCase());
    const stop = new Set(node.attrs.strings('stopwords', []).map((w) => (caseSensitive ? w : lower(w))));
    const change = action === 'LOWER' ? lower : action === 'UPPER' ? upper : (s: string) => s;
    return (inputs) => {
      const x = stringInput(inputs[0], 'X');
      const dims = x.dims;
      const ok = dims.length === 1 || (dims.length === 2 && dims[0] === 1);
      if (!ok) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `StringNormalizer takes dims [C] or [1, C], got [${dims.join(', ')}]`,
        );
      }
      const out: string[] = [];
      for (const s of x.data as string[]) {
        if (stop.size > 0 && stop.has(caseSensitive ? s : lower(s))) continue;
        out.push(change(s));
      }
      // When every word is a stopword the output keeps one empty string (onnxruntime's rule).
      if (out.length === 0 && x.size > 0) out.push('');
      const outDims = dims.length === 1 ? [out.length] : [1, out.length];
      return [new Tensor('string', out, outDims)];
    };
  },
};

// ------------------------------------------------------------------------------------ StringConcat

const stringConcat: OpDef = {
  opType: 'StringConcat',
  versions: [20],
  build() {
    return (inputs) => {
      const x = stringInput(inputs[0], 'X');
      const y = stringInput(inputs[1], 'Y');
      return [binary(x, y, 'string', (a: string, b: string) => a + b)];
    };
  },
};

// ------------------------------------------------------------------------------------- StringSplit

/** Python's str.split(): runs of whitespace separate, leading/trailing whitespace is dropped. */
function splitWhitespace(s: string, maxsplit: number): string[] {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  const ws = /\s/;
  while (i < n) {
    while (i < n && ws.test(s[i])) i++;
    if (i >= n) break;
    if (out.length === maxsplit) {
      // The rest (with its inner whitespace, minus trailing whitespace) is the last piece.
      out.push(s.slice(i).replace(/\s+$/u, ''));
      break;
    }
    let j = i;
    while (j < n && !ws.test(s[j])) j++;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

/** Python's str.split(sep, maxsplit): every separator splits, so empty pieces are kept. */
function splitOn(s: string, sep: string, maxsplit: number): string[] {
  const out: string[] = [];
  let start = 0;
  while (out.length !== maxsplit) {
    const k = s.indexOf(sep, start);
    if (k < 0) break;
    out.push(s.slice(start, k));
    start = k + sep.length;
  }
  out.push(s.slice(start));
  return out;
}

const stringSplit: OpDef = {
  opType: 'StringSplit',
  versions: [20],
  build(node) {
    const delimiter = node.attrs.string('delimiter', '');
    const maxsplitAttr = node.attrs.has('maxsplit') ? node.attrs.int('maxsplit') : -1;
    if (node.attrs.has('maxsplit') && maxsplitAttr < 0) {
      throw new OnyxError('INVALID_MODEL', `maxsplit must be non-negative, got ${maxsplitAttr}`);
    }
    return (inputs) => {
      const x = stringInput(inputs[0], 'X');
      const pieces = (x.data as string[]).map((s) =>
        delimiter === '' ? splitWhitespace(s, maxsplitAttr) : splitOn(s, delimiter, maxsplitAttr),
      );
      const width = pieces.reduce((m, p) => Math.max(m, p.length), 0);
      const out = new Array<string>(x.size * width).fill('');
      const lengths = new BigInt64Array(x.size);
      pieces.forEach((p, i) => {
        lengths[i] = BigInt(p.length);
        for (let k = 0; k < p.length; k++) out[i * width + k] = p[k];
      });
      return [new Tensor('string', out, [...x.dims, width]), new Tensor('int64', lengths, x.dims)];
    };
  },
};

// ---------------------------------------------------------------------------------- RegexFullMatch

/**
 * Compiles an RE2 pattern as a JS RegExp that must match the whole string.
 *
 * RE2 vs JS RegExp differences to keep in mind (we run JS semantics):
 * - RE2 guarantees linear time (no backtracking); JS backtracks, so pathological patterns such as
 *   `(a+)+$` can be slow here, while RE2 rejects backreferences and lookaround that JS accepts.
 * - RE2 inline flags `(?i)`, `(?s)`, `(?m)`, `(?U)` at the start of the pattern are translated to JS
 *   flags where JS has one (`i`, `s`, `m`); `(?U)` (ungreedy) has no JS equivalent and is rejected.
 * - `\C`, `\pN`-style one-letter Unicode classes, `\Q…\E` and POSIX classes `[[:alpha:]]` are RE2
 *   only; JS needs `\p{N}` (we compile with the `u` flag where the pattern allows it).
 * - `\b`/`\w` are ASCII in both; `.` excludes only `\n` in RE2 but also `\r`, U+2028/9 in JS.
 */
function compileFullMatch(pattern: string): RegExp {
  let flags = '';
  let body = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(body);
  if (lead) {
    if (lead[1].includes('U')) {
      throw new OnyxError(
        'NOT_IMPLEMENTED',
        `RegexFullMatch: RE2 flag (?U) (ungreedy) has no JS equivalent in '${pattern}'`,
      );
    }
    flags = [...new Set(lead[1])].join('');
    body = body.slice(lead[0].length);
  }
  const source = `^(?:${body})$`;
  try {
    return new RegExp(source, flags + 'u');
  } catch {
    try {
      return new RegExp(source, flags);
    } catch (e) {
      throw new OnyxError(
        'INVALID_MODEL',
        `RegexFullMatch pattern '${pattern}' is not a valid regular expression: ${(e as Error).message}`,
      );
    }
  }
}

const regexFullMatch: OpDef = {
  opType: 'RegexFullMatch',
  versions: [20],
  build(node) {
    const re = compileFullMatch(node.attrs.string('pattern'));
    return (inputs) => {
      const x = stringInput(inputs[0], 'X');
      const src = x.data as string[];
      const out = new Uint8Array(x.size);
      for (let i = 0; i < src.length; i++) out[i] = re.test(src[i]) ? 1 : 0;
      return [new Tensor('bool', out, x.dims)];
    };
  },
};

// --------------------------------------------------------------------------------- TfIdfVectorizer

type Token = number | string;

interface TrieNode {
  /** Output column of the n-gram that ends here, or −1. */
  column: number;
  next: Map<Token, TrieNode> | null;
}

function buildTrie(
  pool: readonly Token[],
  ngramCounts: readonly number[],
  ngramIndexes: readonly number[],
): TrieNode {
  const root: TrieNode = { column: -1, next: null };
  let k = 0;
  for (let g = 0; g < ngramCounts.length; g++) {
    const n = g + 1;
    const start = ngramCounts[g];
    const end = g + 1 < ngramCounts.length ? ngramCounts[g + 1] : pool.length;
    check(
      start >= 0 && start <= end && end <= pool.length && (end - start) % n === 0,
      () =>
        `ngram_counts [${ngramCounts.join(', ')}] do not split a pool of ${pool.length} into whole ${n}-grams`,
    );
    for (let p = start; p < end; p += n) {
      let cur = root;
      for (let i = 0; i < n; i++) {
        cur.next ??= new Map();
        let child = cur.next.get(pool[p + i]);
        if (!child) {
          child = { column: -1, next: null };
          cur.next.set(pool[p + i], child);
        }
        cur = child;
      }
      check(
        k < ngramIndexes.length,
        () => `ngram_indexes has ${ngramIndexes.length} entries, fewer than the pool's n-grams`,
      );
      cur.column = ngramIndexes[k++];
    }
  }
  check(
    k === ngramIndexes.length,
    () => `ngram_indexes has ${ngramIndexes.length} entries but the pool holds ${k} n-grams`,
  );
  return root;
}

const tfIdfVectorizer: OpDef = {
  opType: 'TfIdfVectorizer',
  versions: [9],
  build(node) {
    const a = node.attrs;
    const minN = a.int('min_gram_length');
    const maxN = a.int('max_gram_length');
    const maxSkip = a.int('max_skip_count');
    const mode = a.string('mode');
    check(['TF', 'IDF', 'TFIDF'].includes(mode), () => `mode must be TF, IDF or TFIDF, got '${mode}'`);
    check(
      minN >= 1 && maxN >= minN,
      () => `need 1 ≤ min_gram_length ≤ max_gram_length, got ${minN} and ${maxN}`,
    );
    check(maxSkip >= 0, () => `max_skip_count must be non-negative, got ${maxSkip}`);
    const ngramCounts = a.ints('ngram_counts');
    const ngramIndexes = a.ints('ngram_indexes');
    const stringPool = a.has('pool_strings');
    const pool: Token[] = stringPool ? a.strings('pool_strings') : a.ints('pool_int64s');
    check(
      !(a.has('pool_strings') && a.has('pool_int64s')),
      'TfIdfVectorizer takes pool_strings or pool_int64s, not both',
    );
    const weights = a.floats('weights', []);
    const width = ngramIndexes.reduce((m, x) => Math.max(m, x + 1), 0);
    check(
      weights.length === 0 || weights.length >= width,
      () => `weights has ${weights.length} entries, expected one per output column (${width})`,
    );
    const trie = buildTrie(pool, ngramCounts, ngramIndexes);
    return (inputs) => {
      const x = tensorInput(inputs[0], 'X');
      let tokens: ArrayLike<Token>;
      if (x.type === 'string') {
        check(stringPool, 'X is tensor(string) but the model has pool_int64s');
        tokens = x.data as string[];
      } else if (x.type === 'int32') {
        tokens = x.data as Int32Array;
      } else if (x.type === 'int64') {
        tokens = Array.from(x.data as BigInt64Array, Number);
      } else {
        throw new OnyxError(
          'TYPE_MISMATCH',
          `X must be tensor(string), tensor(int32) or tensor(int64), got ${x.type}`,
        );
      }
      if (x.type !== 'string') check(!stringPool, 'X holds integers but the model has pool_strings');
      const rank = x.dims.length;
      check(rank === 1 || rank === 2, () => `X must be 1-D [C] or 2-D [N, C], got [${x.dims.join(', ')}]`);
      const rows = rank === 2 ? x.dims[0] : 1;
      const cols = rank === 2 ? x.dims[1] : x.dims[0];
      const counts = new Float32Array(rows * width);
      for (let r = 0; r < rows; r++) {
        const base = r * cols;
        const end = base + cols;
        const row = r * width;
        let startN = minN;
        for (let skip = 1; skip <= maxSkip + 1; skip++) {
          for (let s = base; s < end; s++) {
            // Not enough tokens left for the shortest n-gram at this skip distance.
            if (s + skip * (startN - 1) >= end) break;
            let cur = trie;
            let pos = s;
            for (let n = 1; n <= maxN && pos < end && cur.next; n++, pos += skip) {
              const child = cur.next.get(tokens[pos]);
              if (!child) break;
              if (n >= startN && child.column >= 0) counts[row + child.column]++;
              cur = child;
            }
          }
          // Unigrams do not depend on the skip distance: count them once.
          if (startN === 1) {
            startN = 2;
            if (startN > maxN) break;
          }
        }
      }
      if (mode !== 'TF') {
        for (let i = 0; i < counts.length; i++) {
          const w = weights.length > 0 ? weights[i % width] : 1;
          counts[i] = mode === 'IDF' ? (counts[i] > 0 ? w : 0) : counts[i] * w;
        }
      }
      return [new Tensor('float32', counts, rank === 2 ? [rows, width] : [width])];
    };
  },
};

export const ops: OpDef[] = [stringNormalizer, stringConcat, stringSplit, regexFullMatch, tfIdfVectorizer];
