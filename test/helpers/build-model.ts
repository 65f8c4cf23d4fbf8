/**
 * Builds small ONNX models in tests without Python: plain objects in the shape of the protobuf
 * messages, encoded with the project's own protobuf schema.
 */
import { encodeMessage } from '../../src/onnx/proto.js';
import { dtypeCode, tensorToProto } from '../../src/onnx/tensor-proto.js';
import type { Tensor } from '../../src/core/tensor.js';

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, number | number[] | string | Tensor>;
}

export interface ValueSpec {
  name: string;
  type: string;
  dims?: (number | string)[];
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: {
    name: string;
    tensor: Tensor;
    external?: { location: string; offset?: number; length?: number };
  }[];
  opset?: number;
  irVersion?: number;
  extraOpsets?: { domain: string; version: number }[];
}

function valueInfo(v: ValueSpec): object {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: dtypeCode(v.type),
        shape: v.dims
          ? { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }
          : undefined,
      },
    },
  };
}

function attribute(name: string, v: number | number[] | string | Tensor): object {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  return { name, type: 4, t: tensorToProto(v) };
}

export function modelObject(spec: ModelSpec): object {
  return {
    irVersion: spec.irVersion ?? 8,
    producerName: 'onyx-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }, ...(spec.extraOpsets ?? [])],
    graph: {
      name: 'g',
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `${n.op}_${i}`,
        opType: n.op,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map(({ name, tensor, external }) => {
        const proto = tensorToProto(tensor, name);
        if (!external) return proto;
        const entries = [{ key: 'location', value: external.location }];
        if (external.offset !== undefined) entries.push({ key: 'offset', value: String(external.offset) });
        if (external.length !== undefined) entries.push({ key: 'length', value: String(external.length) });
        return { ...proto, rawData: undefined, dataLocation: 1, externalData: entries };
      }),
    },
  };
}

export function buildModel(spec: ModelSpec): Uint8Array {
  return encodeMessage('ModelProto', modelObject(spec));
}
