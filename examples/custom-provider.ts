/**
 * A custom execution provider in ~30 lines: it takes every Relu node (and nothing else) and runs its
 * own kernel; all other nodes fall back to Onyx's CPU provider. Register it once, then name it first
 * in `executionProviders`.
 *
 *   npx tsx examples/custom-provider.ts
 */
import { InferenceSession, registerExecutionProvider, Tensor, type ExecutionProvider } from '../src/index.js';

export function makeCountingReluProvider(): ExecutionProvider & { calls: number } {
  const provider = {
    name: 'counting-relu',
    calls: 0,
    allocator: {
      alloc: (type: 'float32', dims: readonly number[]) => Tensor.zeros(type, dims),
      release: () => {},
    },
    getKernel(node: { opType: string; domain: string }) {
      if (node.opType !== 'Relu' || node.domain !== '') return undefined; // not ours: fall back
      return (inputs: readonly unknown[]) => {
        provider.calls++;
        const x = inputs[0] as Tensor;
        if (x.type !== 'float32') throw new Error('counting-relu handles float32 only');
        const src = x.data as Float32Array;
        return [
          new Tensor(
            'float32',
            src.map((v) => (v > 0 ? v : 0)),
            x.dims,
          ),
        ];
      };
    },
  };
  return provider;
}

async function main(modelPath: string): Promise<void> {
  const ep = makeCountingReluProvider();
  registerExecutionProvider(ep);
  const session = await InferenceSession.create(modelPath, { executionProviders: ['counting-relu', 'cpu'] });
  const [input] = session.inputMetadata;
  if (!input.isTensor) throw new Error('expects a tensor input');
  const dims = input.shape.map((d) => (typeof d === 'number' ? d : 1));
  const x = new Tensor(
    'float32',
    Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i)),
    dims,
  );
  const out = await session.run({ [input.name]: x });
  console.log(
    `ran ${ep.calls} Relu node(s) on '${ep.name}'; output dims [${out[session.outputNames[0]].dims.join(', ')}]`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv[2] ?? 'models/digits.onnx');
