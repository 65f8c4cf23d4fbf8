import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Tensor } from '../core/tensor.js';
import { encodeMessage } from '../onnx/proto.js';
import { loadModelBytes } from '../onnx/load.js';
import { dtypeCode, tensorToProto } from '../onnx/tensor-proto.js';
import { assertClose, randomTensor, run } from '../../test/helpers/optimizer-kit.js';
import { modelToBytes } from './to-proto.js';

const f32 = (xs: number[], dims = [xs.length]) => new Tensor('float32', Float32Array.from(xs), dims);
const utf8 = (s: string) => new TextEncoder().encode(s);
const tensorType = (elem: string, dims: (number | string)[]) => ({
  tensorType: {
    elemType: dtypeCode(elem),
    shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
  },
});
const branch = (name: string, value: number) => ({
  name,
  node: [
    {
      opType: 'Constant',
      output: [`${name}_out`],
      attribute: [{ name: 'value', type: 4, t: tensorToProto(f32([value])) }],
    },
  ],
  output: [{ name: `${name}_out`, type: tensorType('float32', [1]) }],
});

/** A model with every attribute kind, a subgraph, a function, metadata and value_info. */
function everything(): Uint8Array {
  return encodeMessage('ModelProto', {
    irVersion: 9,
    producerName: 'onyx-tests',
    producerVersion: '1.2',
    domain: 'org.test',
    modelVersion: 7,
    docString: 'doc',
    metadataProps: [{ key: 'author', value: 'me' }],
    opsetImport: [
      { domain: '', version: 18 },
      { domain: 'test.custom', version: 2 },
    ],
    graph: {
      name: 'main',
      input: [
        { name: 'x', type: tensorType('float32', ['batch', 3]) },
        { name: 'cond', type: tensorType('bool', []) },
      ],
      output: [
        { name: 'y', type: tensorType('float32', ['batch', 3]) },
        { name: 'k', type: tensorType('float32', [1]) },
        { name: 'z', type: tensorType('float32', ['batch', 3]) },
      ],
      valueInfo: [{ name: 'e', type: tensorType('float32', ['batch', 3]) }],
      initializer: [tensorToProto(f32([1, 2, 3]), 'w')],
      node: [
        { opType: 'Add', input: ['x', 'w'], output: ['e'], name: 'add' },
        {
          opType: 'Everything',
          domain: 'test.custom',
          input: ['e'],
          output: ['y'],
          name: 'all_kinds',
          attribute: [
            { name: 'f', type: 1, f: 0.25 },
            { name: 'i', type: 2, i: '9223372036854775807' },
            { name: 's', type: 3, s: utf8('héllo') },
            {
              name: 't',
              type: 4,
              t: tensorToProto(new Tensor('int64', BigInt64Array.of(-(2n ** 62n), 5n), [2])),
            },
            { name: 'g', type: 5, g: branch('g', 1) },
            { name: 'fs', type: 6, floats: [0.5, -1.5] },
            { name: 'is', type: 7, ints: ['-9223372036854775808', '3'] },
            { name: 'ss', type: 8, strings: [utf8('a'), utf8('')] },
            {
              name: 'ts',
              type: 9,
              tensors: [tensorToProto(f32([1])), tensorToProto(new Tensor('string', ['q'], [1]))],
            },
            { name: 'gs', type: 10, graphs: [branch('g1', 2), branch('g2', 3)] },
            {
              name: 'sp',
              type: 11,
              sparseTensor: {
                dims: [2, 3],
                values: tensorToProto(f32([7, 8])),
                indices: tensorToProto(new Tensor('int64', BigInt64Array.of(1n, 5n), [2])),
              },
            },
            { name: 'tp', type: 13, tp: tensorType('float16', [2, 'n']) },
            { name: 'tps', type: 14, typeProtos: [{ sequenceType: { elemType: tensorType('int32', []) } }] },
          ],
        },
        {
          opType: 'If',
          input: ['cond'],
          output: ['k'],
          name: 'if',
          attribute: [
            { name: 'then_branch', type: 5, g: branch('then', 1) },
            { name: 'else_branch', type: 5, g: branch('else', 2) },
          ],
        },
        {
          opType: 'Scaled',
          domain: 'test.custom',
          input: ['x'],
          output: ['z'],
          name: 'call',
          attribute: [{ name: 'alpha', type: 1, f: 3 }],
        },
      ],
    },
    functions: [
      {
        name: 'Scaled',
        domain: 'test.custom',
        input: ['a'],
        output: ['b'],
        attribute: ['alpha'],
        attributeProto: [{ name: 'beta', type: 1, f: 0.5 }],
        opsetImport: [{ domain: '', version: 18 }],
        node: [
          {
            opType: 'Constant',
            output: ['c'],
            attribute: [{ name: 'value_float', refAttrName: 'alpha', type: 1 }],
          },
          { opType: 'Mul', input: ['a', 'c'], output: ['b'] },
        ],
      },
    ],
  });
}

describe('IR → ModelProto', () => {
  it('round-trips opsets, metadata, value_info, functions, subgraphs and every attribute kind', () => {
    const first = loadModelBytes(everything());
    const second = loadModelBytes(modelToBytes(first));
    // Doc strings are not kept; everything else is.
    assert.deepEqual({ ...second, docString: 'doc' }, first);
    const attrs = second.graph.nodes[1].attrs;
    const big = attrs.raw('i');
    assert.equal(big?.kind === 'int' && big.exact, 2n ** 63n - 1n);
    const sparse = attrs.raw('sp');
    assert.equal(
      sparse?.kind === 'sparse_tensor' && (sparse.value.data as Float32Array).join(),
      '0,7,0,0,0,8',
    );
  });

  it('a written model gives the same outputs (digits CNN, and a Loop/If model)', async () => {
    const digits = readFileSync(new URL('../../models/digits.onnx', import.meta.url));
    const x = randomTensor([2, 1, 8, 8], 3);
    const m = loadModelBytes(digits);
    const name = m.graph.inputs[0].name;
    assertClose(await run(modelToBytes(m), { [name]: x }), await run(digits, { [name]: x }), 0);
    const e = loadModelBytes(everything());
    e.graph.nodes.splice(1, 1);
    e.graph.outputs.shift();
    const feeds = { x: f32([1, 2, 3, 4, 5, 6], [2, 3]), cond: new Tensor('bool', Uint8Array.of(1), []) };
    const out = await run(modelToBytes(e), feeds);
    assert.deepEqual(Array.from(out.k.data as Float32Array), [1]);
    assert.deepEqual(Array.from(out.z.data as Float32Array), [3, 6, 9, 12, 15, 18]);
  });
});
