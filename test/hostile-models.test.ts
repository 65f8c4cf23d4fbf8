/**
 * Hostile or broken models get a typed error, never a crash, a hang or an out-of-memory abort.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InferenceSession, OnyxError, Tensor } from '../src/index.js';
import { encodeMessage } from '../src/onnx/proto.js';
import { buildModel } from './helpers/build-model.js';

async function rejectsCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof OnyxError, `expected OnyxError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

it('a tensor shape beyond the element limit is LIMIT_EXCEEDED, not an allocation abort', async () => {
  const model = buildModel({
    nodes: [{ op: 'ConstantOfShape', inputs: ['shape'], outputs: ['y'] }],
    inputs: [{ name: 'shape', type: 'int64', dims: [2] }],
    outputs: [{ name: 'y', type: 'float32' }],
  });
  const s = await InferenceSession.create(model);
  await rejectsCode(s.run({ shape: new Tensor('int64', [100000n, 100000n], [2]) }), 'LIMIT_EXCEEDED');
});

it('a declared initializer larger than its bytes is INVALID_MODEL', async () => {
  const bytes = encodeMessage('ModelProto', {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      node: [{ opType: 'Identity', input: ['w'], output: ['y'] }],
      initializer: [{ name: 'w', dims: [1000000, 1000000], dataType: 1, rawData: new Uint8Array(16) }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
    },
  });
  await assert.rejects(InferenceSession.create(bytes), (e: unknown) => e instanceof OnyxError);
});

it('a function that calls itself is stopped at the nesting limit', async () => {
  const call = { opType: 'Loopy', domain: 'local', input: ['x'], output: ['y'] };
  const bytes = encodeMessage('ModelProto', {
    irVersion: 8,
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'local', version: 1 },
    ],
    functions: [
      {
        name: 'Loopy',
        domain: 'local',
        input: ['x'],
        output: ['y'],
        node: [call],
        opsetImport: [{ domain: 'local', version: 1 }],
      },
    ],
    graph: {
      node: [call],
      input: [{ name: 'x', type: { tensorType: { elemType: 1 } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
    },
  });
  await rejectsCode(InferenceSession.create(bytes), 'LIMIT_EXCEEDED');
});

it('deeply nested types decode to an error, not a stack overflow crash', async () => {
  let type: object = { tensorType: { elemType: 1 } };
  for (let i = 0; i < 20000; i++) type = { sequenceType: { elemType: type } };
  let bytes: Uint8Array;
  try {
    bytes = encodeMessage('ModelProto', {
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: { node: [], input: [{ name: 'x', type }], output: [{ name: 'x', type }] },
    });
  } catch {
    return; // the encoder itself refuses such depth: nothing hostile can reach the decoder this way
  }
  await assert.rejects(InferenceSession.create(bytes), (e: unknown) => e instanceof OnyxError);
});

it('garbage bytes with a valid-looking prefix are INVALID_PROTOBUF', async () => {
  const good = buildModel({
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    inputs: [{ name: 'x', type: 'float32', dims: [2] }],
    outputs: [{ name: 'y', type: 'float32', dims: [2] }],
  });
  const bad = new Uint8Array(good.length + 64);
  bad.set(good);
  for (let i = good.length; i < bad.length; i++) bad[i] = (i * 197) & 0xff;
  await assert.rejects(InferenceSession.create(bad), (e: unknown) => e instanceof OnyxError);
});
