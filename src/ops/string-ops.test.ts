import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ops as stringOps } from './string-ops.js';
import { runNode } from './util/graph-harness.js';
import { f32, i64, plain, strs, type AttrInit } from './util/op-test-kit.js';

const run = (
  opType: string,
  inputs: Parameters<typeof runNode>[2],
  attrs: Record<string, AttrInit> = {},
  outputs = 1,
) => runNode(stringOps, opType, inputs, attrs, { opset: 20, outputCount: outputs });

describe('StringNormalizer', () => {
  it('removes stopwords case-insensitively and changes case', async () => {
    const [y] = await run('StringNormalizer', [strs(['Monday', 'tuesday', 'MONDAY', 'Wed'])], {
      stopwords: ['monday'],
      case_change_action: 'LOWER',
    });
    assert.deepEqual(plain(y), { dims: [2], data: ['tuesday', 'wed'] });
  });

  it('case-sensitive stopwords only match exactly', async () => {
    const [y] = await run('StringNormalizer', [strs(['Monday', 'monday'])], {
      stopwords: ['monday'],
      is_case_sensitive: 1,
    });
    assert.deepEqual(plain(y).data, ['Monday']);
  });

  it('keeps one empty string when everything is filtered; [1, C] stays 2-D', async () => {
    const [y] = await run('StringNormalizer', [strs(['a', 'A'], [1, 2])], { stopwords: ['a'] });
    assert.deepEqual(plain(y), { dims: [1, 1], data: [''] });
    const [z] = await run('StringNormalizer', [strs([])], {});
    assert.deepEqual(plain(z).dims, [0]);
  });

  it('accepts POSIX locales and rejects bad inputs', async () => {
    const [y] = await run('StringNormalizer', [strs(['straße'])], {
      case_change_action: 'UPPER',
      locale: 'de_DE',
    });
    assert.deepEqual(plain(y).data, ['STRASSE']);
    await assert.rejects(run('StringNormalizer', [strs(['a', 'b'], [2, 1])]), /\[C\] or \[1, C\]/);
    await assert.rejects(run('StringNormalizer', [strs(['a'])], { case_change_action: 'TITLE' }), /TITLE/);
    await assert.rejects(run('StringNormalizer', [f32([1])]), /tensor\(string\)/);
  });
});

describe('StringConcat / StringSplit / RegexFullMatch', () => {
  it('StringConcat broadcasts', async () => {
    const [y] = await run('StringConcat', [strs(['a', 'b'], [2, 1]), strs(['x', 'y', 'z'])]);
    assert.deepEqual(plain(y), { dims: [2, 3], data: ['ax', 'ay', 'az', 'bx', 'by', 'bz'] });
  });

  it('StringSplit pads to the longest split and counts pieces', async () => {
    const [y, n] = await run('StringSplit', [strs(['a::b', '', 'c'])], { delimiter: '::' }, 2);
    assert.deepEqual(plain(y), { dims: [3, 2], data: ['a', 'b', '', '', 'c', ''] });
    assert.deepEqual(plain(n).data, [2, 1, 1]);
  });

  it('StringSplit on whitespace drops empty pieces; maxsplit keeps the rest whole', async () => {
    const [y, n] = await run('StringSplit', [strs(['  a  b c ', '   '])], { maxsplit: 1 }, 2);
    assert.deepEqual(plain(y), { dims: [2, 2], data: ['a', 'b c', '', ''] });
    assert.deepEqual(plain(n).data, [2, 0]);
    await assert.rejects(
      run('StringSplit', [strs(['a'])], { maxsplit: -2 }, 2),
      /maxsplit must be non-negative/,
    );
  });

  it('RegexFullMatch needs the whole string to match; translates (?i)', async () => {
    const [y] = await run('RegexFullMatch', [strs(['abc', 'xabc', 'ABC'], [1, 3])], { pattern: 'a.c' });
    assert.deepEqual(plain(y), { dims: [1, 3], data: [1, 0, 0] });
    const [z] = await run('RegexFullMatch', [strs(['ABC'])], { pattern: '(?i)abc' });
    assert.deepEqual(plain(z).data, [1]);
    const [alt] = await run('RegexFullMatch', [strs(['ab', 'abc'])], { pattern: 'ab|abc' });
    assert.deepEqual(plain(alt).data, [1, 1]);
    await assert.rejects(
      run('RegexFullMatch', [strs(['a'])], { pattern: '(' }),
      /not a valid regular expression/,
    );
  });
});

describe('TfIdfVectorizer', () => {
  const base = {
    min_gram_length: 1,
    max_gram_length: 2,
    max_skip_count: 0,
    ngram_counts: [0, 2],
    ngram_indexes: [0, 1, 2],
  };

  it('counts string uni- and bigrams per row (TF)', async () => {
    const x = strs(['a', 'b', 'a', 'b', 'b', 'x'], [2, 3]);
    const [y] = await run('TfIdfVectorizer', [x], {
      ...base,
      mode: 'TF',
      pool_strings: ['a', 'b', 'a', 'b'],
    });
    assert.deepEqual(plain(y), { dims: [2, 3], data: [2, 1, 1, 0, 2, 0] });
  });

  it('IDF and TFIDF apply weights; int64 input works', async () => {
    const x = i64([5, 6, 5]);
    const attrs = { ...base, pool_int64s: [5, 6, 5, 6], weights: { floats: [0.5, 2, 10] } };
    const [idf] = await run('TfIdfVectorizer', [x], { ...attrs, mode: 'IDF' });
    assert.deepEqual(plain(idf), { dims: [3], data: [0.5, 2, 10] });
    const [tfidf] = await run('TfIdfVectorizer', [x], { ...attrs, mode: 'TFIDF' });
    assert.deepEqual(plain(tfidf).data, [1, 2, 10]);
  });

  it('skips tokens between bigram items up to max_skip_count', async () => {
    const x = i64([1, 9, 2]);
    const attrs = { ...base, min_gram_length: 2, pool_int64s: [1, 2, 1, 2], mode: 'TF' };
    assert.deepEqual(plain((await run('TfIdfVectorizer', [x], attrs))[0]).data, [0, 0, 0]);
    assert.deepEqual(
      plain((await run('TfIdfVectorizer', [x], { ...attrs, max_skip_count: 1 }))[0]).data,
      [0, 0, 1],
    );
  });

  it('rejects inconsistent pools and input types', async () => {
    await assert.rejects(
      run('TfIdfVectorizer', [i64([1])], { ...base, mode: 'TF', pool_int64s: [1, 2, 3] }),
      /whole 2-grams/,
    );
    await assert.rejects(
      run('TfIdfVectorizer', [strs(['a'])], { ...base, mode: 'TF', pool_int64s: [1, 2, 1, 2] }),
      /pool_int64s/,
    );
  });
});
