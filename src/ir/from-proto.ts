/**
 * Builds the IR (`Model`, `Graph`, `Node`) from decoded protobuf messages: decodes attributes,
 * materializes initializers (one copy of the weight bytes), converts sparse initializers to dense,
 * and collects model-local functions. Structural validation happens in `validate.ts`.
 */
import { OnyxError } from '../core/errors.js';
import { MAX_GRAPH_NESTING } from '../core/limits.js';
import { Tensor, shapeSize } from '../core/tensor.js';
import type { TypedArray } from '../core/dtype.js';
import { NO_EXTERNAL_DATA, type ExternalDataReader } from '../onnx/external-data.js';
import { toNumber } from '../onnx/proto.js';
import type * as P from '../onnx/proto-types.js';
import { tensorFromProto } from '../onnx/tensor-proto.js';
import { Attributes, decodeAttribute, type AttrValue, type AttributeDecoders } from './attributes.js';
import { functionKey, Graph, normalizeDomain, type FunctionDef, type Model, type Node } from './graph.js';
import { typeFromProto, type ValueType } from './types.js';

/** The oldest and newest IR versions Onyx reads. */
export const MIN_IR_VERSION = 3;
export const MAX_IR_VERSION = 13;

export function opsetMap(imports: P.OperatorSetIdProto[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of imports) m.set(normalizeDomain(o.domain), toNumber(o.version));
  return m;
}

export function modelFromProto(mp: P.ModelProto, external: ExternalDataReader = NO_EXTERNAL_DATA): Model {
  const irVersion = toNumber(mp.irVersion);
  if (irVersion > MAX_IR_VERSION) {
    throw new OnyxError(
      'INVALID_MODEL',
      `model IR version ${irVersion} is newer than the newest supported (${MAX_IR_VERSION})`,
    );
  }
  if (!mp.graph) throw new OnyxError('INVALID_MODEL', 'model has no graph');
  const opsets = opsetMap(mp.opsetImport);
  // IR version 3 and older models may omit opset_import; they mean ai.onnx opset 1.
  if (!opsets.has('')) opsets.set('', mp.opsetImport.length === 0 ? 1 : (opsets.get('') ?? 1));
  const builder = new Builder(external);
  const graph = builder.graph(mp.graph, opsets, 0);
  // Before IR version 4 every initializer had to be listed as a graph input too; those listings do
  // not make it a feedable input (onnxruntime treats them as constants as well), so drop them and let
  // constant folding see the weights.
  if (irVersion < 4) graph.inputs = graph.inputs.filter((i) => !graph.initializers.has(i.name));
  const functions = new Map<string, FunctionDef>();
  for (const f of mp.functions) {
    const def = builder.function(f, opsets);
    functions.set(functionKey(def.domain, def.name, def.overload), def);
  }
  return {
    irVersion,
    opsets,
    producerName: mp.producerName,
    producerVersion: mp.producerVersion,
    domain: mp.domain,
    modelVersion: toNumber(mp.modelVersion),
    docString: mp.docString,
    metadata: new Map(mp.metadataProps.map((e) => [e.key, e.value])),
    graph,
    functions,
  };
}

class Builder {
  constructor(private readonly external: ExternalDataReader) {}

  graph(gp: P.GraphProto, opsets: ReadonlyMap<string, number>, depth: number): Graph {
    if (depth > MAX_GRAPH_NESTING) {
      throw new OnyxError('LIMIT_EXCEEDED', `subgraphs are nested more than ${MAX_GRAPH_NESTING} deep`);
    }
    const where = gp.name ? `graph '${gp.name}'` : 'graph';
    const initializers = new Map<string, Tensor>();
    for (const t of gp.initializer) initializers.set(t.name, tensorFromProto(t, this.external));
    for (const s of gp.sparseInitializer) {
      const dense = this.sparse(s);
      initializers.set(s.values?.name ?? '', dense);
    }
    const info = (v: P.ValueInfoProto) => ({
      name: v.name,
      type: typeFromProto(v.type, `${where} value '${v.name}'`),
    });
    const valueInfo = new Map<string, ValueType | null>();
    for (const v of gp.valueInfo) valueInfo.set(v.name, info(v).type);
    const nodes = gp.node.map((n, i) => this.node(n, i, opsets, depth));
    return new Graph(gp.name, nodes, gp.input.map(info), gp.output.map(info), initializers, valueInfo);
  }

  node(np: P.NodeProto, index: number, opsets: ReadonlyMap<string, number>, depth: number): Node {
    const name = np.name || `${np.opType}_${index}`;
    const where = `node '${name}' (${np.opType})`;
    const decoders: AttributeDecoders = {
      tensor: (t) => tensorFromProto(t, this.external),
      sparse: (s) => this.sparse(s),
      graph: (g) => this.graph(g, opsets, depth + 1),
      type: (t) => typeFromProto(t, where),
    };
    const attrs = new Map<string, AttrValue>();
    for (const a of np.attribute) attrs.set(a.name, decodeAttribute(a, decoders, where));
    return {
      name,
      opType: np.opType,
      domain: normalizeDomain(np.domain),
      overload: np.overload,
      inputs: np.input.slice(),
      outputs: np.output.slice(),
      attrs: new Attributes(attrs, where),
      opsets,
    };
  }

  function(fp: P.FunctionProto, modelOpsets: ReadonlyMap<string, number>): FunctionDef {
    const opsets = new Map(modelOpsets);
    for (const [d, v] of opsetMap(fp.opsetImport)) opsets.set(d, v);
    const where = `function '${fp.name}'`;
    const defaults = new Map<string, AttrValue>();
    const decoders: AttributeDecoders = {
      tensor: (t) => tensorFromProto(t, this.external),
      sparse: (s) => this.sparse(s),
      graph: (g) => this.graph(g, opsets, 1),
      type: (t) => typeFromProto(t, where),
    };
    for (const a of fp.attributeProto) defaults.set(a.name, decodeAttribute(a, decoders, where));
    return {
      domain: normalizeDomain(fp.domain),
      name: fp.name,
      overload: fp.overload,
      inputs: fp.input.slice(),
      outputs: fp.output.slice(),
      attributeNames: [...fp.attribute, ...fp.attributeProto.map((a) => a.name)],
      attributeDefaults: new Attributes(defaults, where),
      nodes: fp.node.map((n, i) => this.node(n, i, opsets, 1)),
      opsets,
    };
  }

  /** Sparse tensors become dense: kernels and the optimizer only deal with dense data. */
  sparse(sp: P.SparseTensorProto): Tensor {
    if (!sp.values) throw new OnyxError('INVALID_MODEL', 'sparse tensor has no values');
    const values = tensorFromProto(sp.values, this.external);
    const dims = sp.dims.map((d) => toNumber(d));
    const dense = Tensor.zeros(values.type, dims);
    const n = values.size;
    const idx = sp.indices ? tensorFromProto(sp.indices, this.external) : undefined;
    const strides = dims.map((_, i) => shapeSize(dims.slice(i + 1)));
    const total = shapeSize(dims);
    const out = dense.data as TypedArray | string[];
    const src = values.data as TypedArray | string[];
    for (let k = 0; k < n; k++) {
      let flat = 0;
      if (!idx) flat = k;
      else if (idx.dims.length === 1) flat = Number((idx.data as BigInt64Array)[k]);
      else
        for (let j = 0; j < dims.length; j++)
          flat += Number((idx.data as BigInt64Array)[k * dims.length + j]) * strides[j];
      if (!(flat >= 0 && flat < total)) {
        throw new OnyxError(
          'INVALID_MODEL',
          `sparse tensor index ${flat} is outside dims [${dims.join(', ')}]`,
        );
      }
      (out as unknown as unknown[])[flat] = (src as unknown as unknown[])[k];
    }
    return dense;
  }
}
