/**
 * `inspectModel`: what a model is made of, without running it — IR version, producer, opsets,
 * inputs/outputs with symbolic dims, op histogram (subgraphs included), parameter count and bytes.
 * Powers `onyx inspect`; useful on its own to check a model before shipping it.
 */
import { dtypeInfo } from '../core/dtype.js';
import { forEachSubgraph, type Graph } from '../ir/graph.js';
import { formatType } from '../ir/types.js';
import type { ExternalDataReader } from '../onnx/external-data.js';
import { loadModelBytes } from '../onnx/load.js';
import { openModelFile } from '../platform/node.js';
import { metadataOf, type ValueMetadata } from './metadata.js';

export interface ModelInfo {
  irVersion: number;
  producer: string;
  domain: string;
  modelVersion: number;
  docString: string;
  opsets: { domain: string; version: number }[];
  inputs: (ValueMetadata & { onnxTypeText: string })[];
  outputs: (ValueMetadata & { onnxTypeText: string })[];
  ops: { domain: string; opType: string; count: number }[];
  nodeCount: number;
  initializerCount: number;
  parameterCount: number;
  parameterBytes: number;
  functions: string[];
  metadata: Record<string, string>;
}

export async function inspectModel(model: string | Uint8Array): Promise<ModelInfo> {
  let bytes: Uint8Array;
  let external: ExternalDataReader | undefined;
  if (typeof model === 'string') {
    ({ bytes, external } = await openModelFile(model));
  } else bytes = model;
  const m = loadModelBytes(bytes, external);
  const g = m.graph;
  const hist = new Map<string, { domain: string; opType: string; count: number }>();
  let nodeCount = 0;
  let parameterCount = 0;
  let parameterBytes = 0;
  let initializerCount = 0;
  const visit = (graph: Graph) => {
    for (const t of graph.initializers.values()) {
      initializerCount++;
      parameterCount += t.size;
      const info = dtypeInfo(t.type);
      parameterBytes += info.name === 'string' ? 0 : Math.ceil((t.size * info.bits * info.lanes) / 8);
    }
    for (const n of graph.nodes) {
      nodeCount++;
      const key = `${n.domain}::${n.opType}`;
      const e = hist.get(key) ?? { domain: n.domain || 'ai.onnx', opType: n.opType, count: 0 };
      e.count++;
      hist.set(key, e);
      forEachSubgraph(n, visit);
    }
  };
  visit(g);
  const withText = (v: { name: string; type: Parameters<typeof formatType>[0] }) => ({
    ...metadataOf(v.name, v.type),
    onnxTypeText: formatType(v.type),
  });
  return {
    irVersion: m.irVersion,
    producer: [m.producerName, m.producerVersion].filter(Boolean).join(' '),
    domain: m.domain,
    modelVersion: m.modelVersion,
    docString: m.docString,
    opsets: [...m.opsets].map(([domain, version]) => ({ domain: domain || 'ai.onnx', version })),
    inputs: g.requiredInputs().map(withText),
    outputs: g.outputs.map(withText),
    ops: [...hist.values()].sort((a, b) => b.count - a.count || a.opType.localeCompare(b.opType)),
    nodeCount,
    initializerCount,
    parameterCount,
    parameterBytes,
    functions: [...m.functions.values()].map((f) => `${f.domain}.${f.name}`),
    metadata: Object.fromEntries(m.metadata),
  };
}
