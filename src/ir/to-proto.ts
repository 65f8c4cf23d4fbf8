/**
 * IR → ModelProto, the inverse of `from-proto.ts`: what `optimizedModelFilePath` and `onyx optimize`
 * write. It lives next to `from-proto.ts` (not in `onnx/`) because it is the IR's knowledge that is
 * serialized — attribute kinds, value types, functions — while `onnx/` stays the codec it calls.
 *
 * Kept: opset imports (plus any domain a rewrite introduced, e.g. com.microsoft), IR version,
 * producer, metadata, graph inputs/outputs/value_info, initializers (inline raw_data), every
 * attribute kind (int64 attributes exactly, attribute references in function bodies), subgraphs,
 * and the model-local functions still called after inlining. Not kept: doc strings, and the
 * external-data layout (weights are written inline, so a model must stay under protobuf's 2 GiB).
 * Sparse initializers were densified at load and are written back dense; sparse *attributes* are
 * written as sparse tensors holding their non-zero elements.
 */
import { Tensor } from '../core/tensor.js';
import type { TypedArray } from '../core/dtype.js';
import { encodeMessage } from '../onnx/proto.js';
import { dtypeCode, tensorToProto } from '../onnx/tensor-proto.js';
import type { AttrValue } from './attributes.js';
import {
  forEachSubgraph,
  functionKey,
  type FunctionDef,
  type Graph,
  type Model,
  type Node,
} from './graph.js';
import type { Dim, ValueType } from './types.js';

type Obj = Record<string, unknown>;

const utf8 = new TextEncoder();

/** The ModelProto bytes of `model`. */
export function modelToBytes(model: Model): Uint8Array {
  return encodeMessage('ModelProto', modelToProto(model));
}

/** A plain-object ModelProto (camelCase fields) for `encodeMessage`. */
export function modelToProto(model: Model): Obj {
  const functions = calledFunctions(model);
  const opsets = new Map(model.opsets);
  const note = (n: Node) => {
    if (!opsets.has(n.domain)) opsets.set(n.domain, n.opsets.get(n.domain) ?? 1);
  };
  forEachNode(model.graph, note);
  for (const f of functions) for (const n of f.nodes) forEachNodeOf(n, note);
  const graph = graphToProto(model.graph);
  // Before IR 4 an initializer had to be a graph input too; the loader dropped those listings.
  if (model.irVersion < 4) {
    const listed = new Set(model.graph.inputs.map((i) => i.name));
    for (const [name, t] of model.graph.initializers) {
      if (!listed.has(name)) (graph.input as Obj[]).push(valueInfo(name, tensorType(t)));
    }
  }
  return {
    irVersion: model.irVersion,
    opsetImport: [...opsets].map(([domain, version]) => ({ domain, version })),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    domain: model.domain,
    modelVersion: model.modelVersion,
    docString: model.docString,
    metadataProps: [...model.metadata].map(([key, value]) => ({ key, value })),
    graph,
    functions: functions.map(functionToProto),
  };
}

function forEachNode(g: Graph, fn: (n: Node) => void): void {
  for (const n of g.nodes) forEachNodeOf(n, fn);
}

function forEachNodeOf(n: Node, fn: (n: Node) => void): void {
  fn(n);
  forEachSubgraph(n, (g) => forEachNode(g, fn));
}

/** Model-local functions some node still calls (directly or through another function). */
function calledFunctions(model: Model): FunctionDef[] {
  const found = new Map<string, FunctionDef>();
  const visit = (n: Node) => {
    const key = functionKey(n.domain, n.opType, n.overload);
    const f = model.functions.get(key);
    if (!f || found.has(key)) return;
    found.set(key, f);
    for (const m of f.nodes) forEachNodeOf(m, visit);
  };
  forEachNode(model.graph, visit);
  return [...found.values()];
}

function graphToProto(g: Graph): Obj {
  const used = new Set<string>();
  for (const n of g.nodes) {
    for (const x of n.inputs) used.add(x);
    for (const x of n.outputs) used.add(x);
  }
  return {
    name: g.name,
    node: g.nodes.map(nodeToProto),
    initializer: [...g.initializers].map(([name, t]) => tensorToProto(t, name)),
    input: g.inputs.map((i) => valueInfo(i.name, i.type)),
    output: g.outputs.map((o) => valueInfo(o.name, o.type)),
    // value_info of values that rewrites removed would only confuse readers of the file.
    valueInfo: [...g.valueInfo]
      .filter(([name, t]) => t !== null && used.has(name))
      .map(([name, t]) => valueInfo(name, t)),
  };
}

function nodeToProto(n: Node): Obj {
  return {
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    overload: n.overload,
    input: n.inputs,
    output: n.outputs,
    attribute: [...n.attrs.map].map(([name, a]) => attributeToProto(name, a)),
  };
}

function functionToProto(f: FunctionDef): Obj {
  const defaults = f.attributeDefaults.map;
  return {
    name: f.name,
    domain: f.domain,
    overload: f.overload,
    input: f.inputs,
    output: f.outputs,
    attribute: f.attributeNames.filter((a) => !defaults.has(a)),
    attributeProto: [...defaults].map(([name, a]) => attributeToProto(name, a)),
    node: f.nodes.map(nodeToProto),
    opsetImport: [...f.opsets].map(([domain, version]) => ({ domain, version })),
  };
}

/** AttributeProto.type codes. */
const ATTR_TYPE: Record<Exclude<AttrValue['kind'], 'ref'>, number> = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  graph: 5,
  floats: 6,
  ints: 7,
  strings: 8,
  tensors: 9,
  graphs: 10,
  sparse_tensor: 11,
  sparse_tensors: 12,
  type: 13,
  types: 14,
};

export function attributeToProto(name: string, a: AttrValue): Obj {
  if (a.kind === 'ref') return { name, refAttrName: a.ref };
  const out: Obj = { name, type: ATTR_TYPE[a.kind] };
  switch (a.kind) {
    case 'float':
      out.f = a.value;
      break;
    case 'int':
      // int64 attributes go through strings so values beyond 2^53 (INT64_MAX in Slice) stay exact.
      out.i = (a.exact ?? BigInt(a.value)).toString();
      break;
    case 'string':
      out.s = a.bytes;
      break;
    case 'tensor':
      out.t = tensorToProto(a.value);
      break;
    case 'graph':
      out.g = graphToProto(a.value);
      break;
    case 'sparse_tensor':
      out.sparseTensor = sparseToProto(a.value);
      break;
    case 'type':
      out.tp = typeToProto(a.value);
      break;
    case 'floats':
      out.floats = a.value;
      break;
    case 'ints':
      out.ints = (a.exact ?? a.value.map((v) => BigInt(v))).map((v) => v.toString());
      break;
    case 'strings':
      out.strings = a.value.map((s) => utf8.encode(s));
      break;
    case 'tensors':
      out.tensors = a.value.map((t) => tensorToProto(t));
      break;
    case 'graphs':
      out.graphs = a.value.map(graphToProto);
      break;
    case 'sparse_tensors':
      out.sparseTensors = a.value.map(sparseToProto);
      break;
    case 'types':
      out.typeProtos = a.value.map(typeToProto);
      break;
  }
  return out;
}

/** A dense tensor as a SparseTensorProto: its non-zero elements and their linear (1-D) indices. */
function sparseToProto(t: Tensor): Obj {
  const data = t.data as TypedArray | string[];
  const keep: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== 0 && v !== 0n && v !== '') keep.push(i);
  }
  const values =
    t.type === 'string'
      ? keep.map((i) => (data as string[])[i])
      : (data.constructor as unknown as { from(x: ArrayLike<unknown>): TypedArray }).from(
          keep.map((i) => (data as TypedArray)[i]),
        );
  const valueTensor = new Tensor(t.type, values, [keep.length]);
  const indexTensor = new Tensor(
    'int64',
    BigInt64Array.from(keep, (i) => BigInt(i)),
    [keep.length],
  );
  return { values: tensorToProto(valueTensor), indices: tensorToProto(indexTensor), dims: [...t.dims] };
}

function tensorType(t: Tensor): ValueType {
  return { kind: 'tensor', elemType: t.type, shape: [...t.dims] };
}

function valueInfo(name: string, type: ValueType | null): Obj {
  return type ? { name, type: typeToProto(type) } : { name };
}

function shapeToProto(shape: Dim[] | null): Obj | undefined {
  if (!shape) return undefined;
  return {
    dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : d === null ? {} : { dimParam: d })),
  };
}

function typeToProto(t: ValueType | null): Obj {
  if (!t) return {};
  switch (t.kind) {
    case 'tensor':
      return { tensorType: { elemType: dtypeCode(t.elemType), shape: shapeToProto(t.shape) } };
    case 'sparse_tensor':
      return { sparseTensorType: { elemType: dtypeCode(t.elemType), shape: shapeToProto(t.shape) } };
    case 'sequence':
      return { sequenceType: { elemType: t.elem ? typeToProto(t.elem) : undefined } };
    case 'map':
      return {
        mapType: { keyType: dtypeCode(t.key), valueType: t.value ? typeToProto(t.value) : undefined },
      };
    case 'optional':
      return { optionalType: { elemType: t.elem ? typeToProto(t.elem) : undefined } };
  }
}
