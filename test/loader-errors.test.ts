/**
 * Broken models, hostile paths and bad feeds each give a clear, typed OnyxError (issue #2).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InferenceSession, OnyxError, Tensor } from '../src/index.js';
import { buildModel } from './helpers/build-model.js';

const relu = buildModel({
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  inputs: [{ name: 'x', type: 'float32', dims: ['batch', 3] }],
  outputs: [{ name: 'y', type: 'float32', dims: ['batch', 3] }],
});

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof OnyxError, `expected OnyxError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('model loading errors', () => {
  it('reports a truncated file as INVALID_PROTOBUF', async () => {
    await rejectsWith(
      InferenceSession.create(relu.subarray(0, relu.length - 7)),
      'INVALID_PROTOBUF',
      /truncated/,
    );
  });

  it('reports an empty file', async () => {
    await rejectsWith(InferenceSession.create(new Uint8Array(0)), 'INVALID_PROTOBUF', /empty/);
  });

  it('reports bytes that are not a model', async () => {
    await rejectsWith(
      InferenceSession.create(new TextEncoder().encode('hello, not a model')),
      'INVALID_PROTOBUF',
      /ONNX/,
    );
  });

  it('reports every unsupported op at once, with node, domain and opset', async () => {
    const bytes = buildModel({
      nodes: [
        { op: 'NoSuchOp', inputs: ['x'], outputs: ['a'], name: 'first' },
        { op: 'Relu', inputs: ['a'], outputs: ['b'] },
        { op: 'AlsoMissing', domain: 'com.example', inputs: ['b'], outputs: ['y'], name: 'second' },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: [2] }],
      outputs: [{ name: 'y', type: 'float32', dims: [2] }],
      extraOpsets: [{ domain: 'com.example', version: 3 }],
    });
    await assert.rejects(InferenceSession.create(bytes), (e: unknown) => {
      assert.ok(e instanceof OnyxError, 'e instanceof OnyxError');
      assert.equal(e.code, 'UNSUPPORTED_OP');
      assert.match(e.message, /NoSuchOp \(domain ai\.onnx, opset 17\) at node 'first'/);
      assert.match(e.message, /AlsoMissing \(domain com\.example, opset 3\) at node 'second'/);
      assert.equal(e.details.length, 2);
      return true;
    });
  });

  it('reports a node input that nothing defines', async () => {
    const bytes = buildModel({
      nodes: [{ op: 'Relu', inputs: ['nowhere'], outputs: ['y'], name: 'r' }],
      inputs: [{ name: 'x', type: 'float32', dims: [2] }],
      outputs: [{ name: 'y', type: 'float32', dims: [2] }],
    });
    await rejectsWith(InferenceSession.create(bytes), 'INVALID_MODEL', /'nowhere' is not defined/);
  });

  it('reports a missing model file', async () => {
    await rejectsWith(
      InferenceSession.create('/nonexistent/model.onnx'),
      'FILE_NOT_FOUND',
      /cannot read model file/,
    );
  });
});

describe('feed validation', () => {
  it('names the input, expected and actual dtype', async () => {
    const s = await InferenceSession.create(relu);
    await rejectsWith(
      s.run({ x: new Tensor('int32', new Int32Array(3), [1, 3]) }),
      'TYPE_MISMATCH',
      /input 'x' expects element type 'float32', got 'int32'/,
    );
  });

  it('names a missing input with its type', async () => {
    const s = await InferenceSession.create(relu);
    await rejectsWith(s.run({}), 'INVALID_FEED', /missing input 'x' \(tensor\(float32\)\[batch,3\]\)/);
  });

  it('rejects an unknown input name and lists the real ones', async () => {
    const s = await InferenceSession.create(relu);
    const x = new Tensor('float32', new Float32Array(3), [1, 3]);
    await rejectsWith(s.run({ x, extra: x }), 'INVALID_FEED', /'extra' is not an input.*'x'/);
  });

  it('rejects a fixed dim of the wrong size and a wrong rank', async () => {
    const s = await InferenceSession.create(relu);
    await rejectsWith(
      s.run({ x: new Tensor('float32', new Float32Array(4), [1, 4]) }),
      'SHAPE_MISMATCH',
      /dim 1 must be 3/,
    );
    await rejectsWith(
      s.run({ x: new Tensor('float32', new Float32Array(3), [3]) }),
      'SHAPE_MISMATCH',
      /expects rank 2/,
    );
  });

  it('rejects a raw typed array where a Tensor is expected', async () => {
    const s = await InferenceSession.create(relu);
    await rejectsWith(s.run({ x: new Float32Array(3) as never }), 'INVALID_FEED', /Float32Array \(wrap it/);
  });
});

describe('external data', () => {
  const weights = new Tensor('float32', new Float32Array([1, 2, 3]), [3]);
  const model = (location: string, offset?: number) =>
    buildModel({
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: 'float32', dims: [3] }],
      outputs: [{ name: 'y', type: 'float32', dims: [3] }],
      initializers: [{ name: 'w', tensor: weights, external: { location, offset, length: 12 } }],
    });
  const folder = () => {
    const root = mkdtempSync(join(tmpdir(), 'onyx-ext-'));
    mkdirSync(join(root, 'model'));
    const bytes = new Uint8Array(16);
    new Float32Array(bytes.buffer, 4, 3).set([1, 2, 3]);
    writeFileSync(join(root, 'model', 'weights.bin'), bytes);
    writeFileSync(join(root, 'secret.bin'), bytes);
    return root;
  };

  it("refuses a location with '..'", async () => {
    const root = folder();
    writeFileSync(join(root, 'model', 'm.onnx'), model('../secret.bin', 4));
    await rejectsWith(
      InferenceSession.create(join(root, 'model', 'm.onnx')),
      'UNSAFE_PATH',
      /'\.\.' would leave the model folder/,
    );
  });

  it('refuses an absolute location', async () => {
    const root = folder();
    writeFileSync(join(root, 'model', 'm.onnx'), model(join(root, 'secret.bin'), 4));
    await rejectsWith(
      InferenceSession.create(join(root, 'model', 'm.onnx')),
      'UNSAFE_PATH',
      /absolute paths/,
    );
  });

  it('refuses a symlink that leads out of the model folder', async () => {
    const root = folder();
    symlinkSync(join(root, 'secret.bin'), join(root, 'model', 'link.bin'));
    writeFileSync(join(root, 'model', 'm.onnx'), model('link.bin', 4));
    await rejectsWith(
      InferenceSession.create(join(root, 'model', 'm.onnx')),
      'UNSAFE_PATH',
      /outside the model folder/,
    );
  });

  it('refuses a range beyond the end of the file', async () => {
    const root = folder();
    writeFileSync(join(root, 'model', 'm.onnx'), model('weights.bin', 8));
    await rejectsWith(
      InferenceSession.create(join(root, 'model', 'm.onnx')),
      'INVALID_MODEL',
      /outside 'weights\.bin'/,
    );
  });

  it('reads data beside the model, and from a map for models given as bytes', async () => {
    const root = folder();
    writeFileSync(join(root, 'model', 'm.onnx'), model('weights.bin', 4));
    const x = new Tensor('float32', new Float32Array([10, 20, 30]), [3]);
    const fromPath = await InferenceSession.create(join(root, 'model', 'm.onnx'));
    assert.deepEqual(Array.from((await fromPath.run({ x })).y.data as Float32Array), [11, 22, 33]);
    const bytes = new Uint8Array(16);
    new Float32Array(bytes.buffer, 4, 3).set([1, 2, 3]);
    const fromBytes = await InferenceSession.create(model('weights.bin', 4), {
      externalData: [{ path: 'weights.bin', data: bytes }],
    });
    assert.deepEqual(Array.from((await fromBytes.run({ x })).y.data as Float32Array), [11, 22, 33]);
    await rejectsWith(
      InferenceSession.create(model('weights.bin', 4)),
      'FILE_NOT_FOUND',
      /loaded from bytes/,
    );
  });
});
